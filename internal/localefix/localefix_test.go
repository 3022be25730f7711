package localefix

import (
	"maps"
	"testing"
)

func TestApply(t *testing.T) {
	cases := []struct {
		env, want map[string]string
	}{
		{map[string]string{"LANG": "C"}, map[string]string{"LANG": Fallback}},
		{map[string]string{"LANG": "C.UTF-8"}, map[string]string{"LANG": Fallback}},
		{map[string]string{"LC_ALL": "POSIX", "LANG": "de_DE.UTF-8"}, map[string]string{"LC_ALL": Fallback, "LANG": "de_DE.UTF-8"}},
		{map[string]string{"LC_ALL": "fr_FR.UTF-8", "LANG": "C"}, map[string]string{"LC_ALL": "fr_FR.UTF-8", "LANG": "C"}},
		{map[string]string{}, map[string]string{}},
	}
	for _, c := range cases {
		env := maps.Clone(c.env)
		Apply(func(k string) string { return env[k] }, func(k, v string) error { env[k] = v; return nil })
		if !maps.Equal(env, c.want) {
			t.Errorf("Apply(%v) = %v, want %v", c.env, env, c.want)
		}
	}
}
