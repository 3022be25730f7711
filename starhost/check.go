package starhost

import (
	"log/slog"
	"slices"
)

// Declared is one integration a module declares, as found by Check.
type Declared struct {
	// Name is the integration's name, as given to integration().
	Name string `json:"name"`
	// Priority is its dispatch priority (NORMAL when not given).
	Priority Priority `json:"priority"`
	// Events are the events it subscribes to, sorted ("*" for every
	// event); never empty.
	Events []string `json:"events"`
	// Pos is the "file:line:col" of the integration() call.
	Pos string `json:"pos"`
}

// Check loads the module at path exactly as a reload by a Manager with
// opts would (read, compile, execute the top level in the sandbox,
// validate the declarations) without running handlers or keeping
// anything. It returns what the module declares, in declaration order, or
// the error with file:line:col (see Diagnose). A relative path is relative
// to the working directory. Check needs no Manager.
func Check(opts Options, path string) ([]Declared, error) {
	limits := opts.Limits.WithDefaults()
	src, err := newSources(opts.Roots, opts.Defaults, limits.MaxSourceBytes)
	if err != nil {
		return nil, err
	}
	p, err := canonical(path)
	if err != nil {
		return nil, err
	}
	bm, err := buildModule(src, newSandbox(limits, slog.New(slog.DiscardHandler)), p)
	if err != nil {
		return nil, err
	}
	out := make([]Declared, len(bm.decls))
	for i, d := range bm.decls {
		out[i] = Declared{Name: d.name, Priority: d.priority, Events: slices.Clone(d.events), Pos: d.pos.String()}
	}
	return out, nil
}
