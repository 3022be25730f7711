// Package localefix gives Fyne a locale it can parse. Imported (blank) by
// the afstudio command, its init runs before Fyne's packages are
// initialized: Go initializes packages in import-path order among those
// ready, and this package, which imports only the standard library, sorts
// before the locale library Fyne's lang package needs. Without it, Fyne
// logs "Error parsing user locale C" at start under LANG=C.UTF-8, LANG=C
// or LC_ALL=POSIX, the defaults of many servers, containers and CI
// machines.
package localefix

import (
	"os"
	"strings"
)

// Fallback is the locale used instead of "C" and "POSIX".
const Fallback = "en_US.UTF-8"

func init() { Apply(os.Getenv, os.Setenv) }

// Apply replaces a C or POSIX locale in LC_ALL, LC_MESSAGES and LANG
// (the variables a locale is looked up in, in order) with Fallback, up to
// the first variable that holds a real locale.
func Apply(getenv func(string) string, setenv func(string, string) error) {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(k)
		base, _, _ := strings.Cut(v, ".")
		switch {
		case v == "":
		case base == "C" || base == "POSIX":
			_ = setenv(k, Fallback)
		default:
			return // a real locale decides
		}
	}
}
