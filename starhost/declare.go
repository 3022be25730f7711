package starhost

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Priority orders the integrations that handle one event: CRITICAL first,
// LOW last; ties are broken by name.
type Priority int

// The priorities, most urgent first.
const (
	Critical Priority = iota
	High
	Normal
	Low
)

var priorityNames = [...]string{"CRITICAL", "HIGH", "NORMAL", "LOW"}

// String returns the priority's name as written in integrations.
func (p Priority) String() string {
	if p < Critical || p > Low {
		return fmt.Sprintf("Priority(%d)", int(p))
	}
	return priorityNames[p]
}

// MarshalText encodes the priority as its name.
func (p Priority) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes a priority name.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	*p = v
	return err
}

// ParsePriority parses "CRITICAL", "HIGH", "NORMAL" or "LOW".
func ParsePriority(s string) (Priority, error) {
	for i, n := range priorityNames {
		if s == n {
			return Priority(i), nil
		}
	}
	return Normal, fmt.Errorf("unknown priority %q; use one of %s", s, strings.Join(priorityNames[:], ", "))
}

// Wildcard is the event name that subscribes a handler to every event.
const Wildcard = "*"

// A declaration is one call of integration() in a module's top level.
type declaration struct {
	name        string
	description string
	priority    Priority
	handlers    map[string]starlark.Callable
	events      []string // sorted keys of handlers
	migrate     starlark.Callable
	pos         syntax.Position
}

const declarationsKey = "starhost.declarations"

// declare implements the integration builtin:
//
//	integration(name, priority="NORMAL", description="", handlers={}, migrate=None)
func declare(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	decls, ok := thread.Local(declarationsKey).(*[]*declaration)
	if !ok {
		return nil, fmt.Errorf("integration() may only be called at the top level of an integration file, not in a handler or a loaded library")
	}
	var (
		name, priority, description string = "", "NORMAL", ""
		handlers                    *starlark.Dict
		migrate                     starlark.Value = starlark.None
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"name", &name, "priority?", &priority, "description?", &description,
		"handlers?", &handlers, "migrate?", &migrate); err != nil {
		return nil, err
	}
	d := &declaration{name: name, description: description, handlers: map[string]starlark.Callable{}, pos: thread.CallFrame(1).Pos}
	if err := checkName(name); err != nil {
		return nil, err
	}
	p, err := ParsePriority(priority)
	if err != nil {
		return nil, fmt.Errorf("integration %q: %w", name, err)
	}
	d.priority = p
	if handlers == nil || handlers.Len() == 0 {
		return nil, fmt.Errorf("integration %q has no handlers; pass handlers = {\"event_name\": function}", name)
	}
	for _, item := range handlers.Items() {
		ev, ok := item[0].(starlark.String)
		if !ok || ev == "" {
			return nil, fmt.Errorf("integration %q: handler key %s must be a non-empty event name string (or \"*\" for every event)", name, item[0])
		}
		fn, err := checkCallable(item[1], fmt.Sprintf("handler for %q", string(ev)), 2, "(event, ctx)")
		if err != nil {
			return nil, fmt.Errorf("integration %q: %w", name, err)
		}
		d.handlers[string(ev)] = fn
		d.events = append(d.events, string(ev))
	}
	sort.Strings(d.events)
	if migrate != starlark.None {
		fn, err := checkCallable(migrate, "migrate", 1, "(old_state)")
		if err != nil {
			return nil, fmt.Errorf("integration %q: %w", name, err)
		}
		d.migrate = fn
	}
	for _, other := range *decls {
		if other.name == name {
			return nil, fmt.Errorf("integration %q is already declared in this file at %s", name, other.pos)
		}
	}
	*decls = append(*decls, d)
	return starlark.None, nil
}

func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("integration name must not be empty")
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("integration name %q may only hold letters, digits, '_', '-' and '.'", name)
		}
	}
	return nil
}

// checkCallable checks that v can be called with nargs positional
// arguments; for Starlark functions it checks the parameters.
func checkCallable(v starlark.Value, what string, nargs int, sig string) (starlark.Callable, error) {
	c, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s is a %s, not a function; pass a function taking %s", what, v.Type(), sig)
	}
	fn, ok := c.(*starlark.Function)
	if !ok {
		return c, nil
	}
	positional := fn.NumParams() - fn.NumKwonlyParams()
	if fn.HasVarargs() {
		positional--
	}
	if fn.HasKwargs() {
		positional--
	}
	required := 0
	for i := range positional {
		if fn.ParamDefault(i) == nil {
			required++
		}
	}
	switch {
	case required > nargs:
		return nil, fmt.Errorf("%s %s at %s takes %s; it must take %s", what, fn.Name(), fn.Position(), plural(required, "required parameter"), sig)
	case positional < nargs && !fn.HasVarargs():
		return nil, fmt.Errorf("%s %s at %s takes %s; it must take %s", what, fn.Name(), fn.Position(), plural(positional, "parameter"), sig)
	}
	for i := positional; i < fn.NumParams(); i++ {
		if name, _ := fn.Param(i); i < fn.NumParams()-boolInt(fn.HasVarargs())-boolInt(fn.HasKwargs()) && fn.ParamDefault(i) == nil {
			return nil, fmt.Errorf("%s %s at %s has a required keyword-only parameter %s; it must take %s", what, fn.Name(), fn.Position(), name, sig)
		}
	}
	return fn, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
