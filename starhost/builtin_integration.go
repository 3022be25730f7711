package starhost

import (
	"fmt"
	"github.com/afstudio/afstudio/internal/plural"
	"sort"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Wildcard is the event name that subscribes a handler to every event:
// handlers = {"*": fn}. An integration's handler for an event's own name
// wins over its wildcard handler. Wildcard is not a valid event name for
// Emit or ctx.emit.
const Wildcard = "*"

// A declaration is one call of integration() in a module's top level,
// validated: a valid name, a known priority, at least one handler, and
// callables that take the right arguments.
type declaration struct {
	name        string
	description string
	priority    Priority
	handlers    map[string]starlark.Callable // by event name, Wildcard included
	events      []string                     // sorted keys of handlers
	migrate     starlark.Callable            // nil when the integration has no migrate
	pos         syntax.Position              // of the integration() call
}

// integrationBuiltins are the predeclared names of the integration
// capability: the integration builtin and the priority constants.
func integrationBuiltins() starlark.StringDict {
	d := starlark.StringDict{"integration": starlark.NewBuiltin("integration", declare)}
	for _, name := range priorityNames {
		d[name] = starlark.String(name)
	}
	return d
}

// declare implements the integration builtin:
//
//	integration(name, priority="NORMAL", description="", handlers={}, migrate=None)
//
// It validates the call and appends a declaration to the module's list
// (declarationsLocal), so it works only in an integration module's top
// level; a second declaration of the same name in one module fails.
func declare(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	decls, ok := declarationsLocal.get(thread)
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
	if err := d.setHandlers(handlers); err != nil {
		return nil, err
	}
	if migrate != starlark.None {
		fn, err := checkCallable(migrate, func() string { return "migrate" }, 1, "(old_state)")
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

// setHandlers checks the handlers argument of integration() (a non-empty
// dict from event names to functions taking (event, ctx)) and records it
// in d.
func (d *declaration) setHandlers(handlers *starlark.Dict) error {
	if handlers == nil || handlers.Len() == 0 {
		return fmt.Errorf("integration %q has no handlers; pass handlers = {\"event_name\": function}", d.name)
	}
	for _, item := range handlers.Items() {
		ev, ok := item[0].(starlark.String)
		if !ok || ev == "" {
			return fmt.Errorf("integration %q: handler key %s must be a non-empty event name string (or \"*\" for every event)", d.name, item[0])
		}
		fn, err := checkCallable(item[1], func() string { return fmt.Sprintf("handler for %q", string(ev)) }, 2, "(event, ctx)")
		if err != nil {
			return fmt.Errorf("integration %q: %w", d.name, err)
		}
		d.handlers[string(ev)] = fn
		d.events = append(d.events, string(ev))
	}
	sort.Strings(d.events)
	return nil
}

// checkName checks an integration name: non-empty, only ASCII letters,
// digits, '_', '-' and '.'.
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
// arguments; for Starlark functions it checks the parameters. what and
// sig describe the callable and the expected signature in messages; what
// is called only for a message (every reload checks every handler).
func checkCallable(v starlark.Value, what func() string, nargs int, sig string) (starlark.Callable, error) {
	c, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s is a %s, not a function; pass a function taking %s", what(), v.Type(), sig)
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
		return nil, fmt.Errorf("%s %s at %s takes %s; it must take %s", what(), fn.Name(), fn.Position(), plural.Count(required, "required parameter"), sig)
	case positional < nargs && !fn.HasVarargs():
		return nil, fmt.Errorf("%s %s at %s takes %s; it must take %s", what(), fn.Name(), fn.Position(), plural.Count(positional, "parameter"), sig)
	}
	for i := positional; i < fn.NumParams(); i++ {
		if name, _ := fn.Param(i); i < fn.NumParams()-boolInt(fn.HasVarargs())-boolInt(fn.HasKwargs()) && fn.ParamDefault(i) == nil {
			return nil, fmt.Errorf("%s %s at %s has a required keyword-only parameter %s; it must take %s", what(), fn.Name(), fn.Position(), name, sig)
		}
	}
	return fn, nil
}

// boolInt returns 1 for true, 0 for false.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
