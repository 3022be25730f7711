package starhost

import (
	"log/slog"
	"maps"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// ModuleBuiltins returns the predeclared names every module sees, less
// integration() and the priorities: json (bounded by l, whose zero fields
// take their defaults), math, time, struct, sorted and sum. It is for
// tools that run Starlark beside integrations in the same dialect, such
// as the tests of package startest. The dict is the caller's; its values
// are frozen.
func ModuleBuiltins(l Limits) starlark.StringDict {
	all := newSandbox(l.WithDefaults(), slog.New(slog.DiscardHandler)).predeclared
	out := maps.Clone(all)
	for name := range integrationBuiltins() {
		delete(out, name)
	}
	return out
}

// ModuleFileOptions returns the dialect every module is compiled with:
// Starlark's strict defaults (no while, no top-level if or for, no global
// reassignment, no recursion) with the set builtin allowed. The options
// are the caller's.
func ModuleFileOptions() *syntax.FileOptions {
	o := *fileOptions
	return &o
}
