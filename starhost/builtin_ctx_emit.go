package starhost

import (
	"fmt"

	"go.starlark.net/starlark"
)

// ctxEmit implements ctx.emit:
//
//	ctx.emit(event, data=None)
//
// It queues a follow-up event (data a dict, or None for {}) that the
// dispatcher delivers after the current event, breadth first. The data is
// converted to Go at once, under the limits, so a later change to the dict
// does not reach the event. A call may queue at most
// Limits.MaxEmitsPerCall events, and a chain of follow-ups may be at most
// Limits.MaxEmitDepth deep. Follow-ups of a call that then fails are
// dropped. It is only available inside a handler.
var ctxEmit = starlark.NewBuiltin("emit", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var data starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "event", &name, "data?", &data); err != nil {
		return nil, err
	}
	c, ok := callLocal.get(thread)
	if !ok {
		return nil, fmt.Errorf("emit: only available inside a handler")
	}
	limits := c.m.limits
	if err := checkEventName(name); err != nil {
		return nil, fmt.Errorf("emit: %w", err)
	}
	if c.depth+1 > limits.MaxEmitDepth {
		return nil, fmt.Errorf("emit(%q): follow-up events are limited to a depth of %d (is an event loop emitting itself?)", name, limits.MaxEmitDepth)
	}
	if len(c.emits) >= limits.MaxEmitsPerCall {
		return nil, fmt.Errorf("emit(%q): one handler call may emit at most %d events", name, limits.MaxEmitsPerCall)
	}
	goData, err := emitData(limits, name, data)
	if err != nil {
		return nil, err
	}
	c.emits = append(c.emits, pendingEvent{name: name, data: goData, depth: c.depth + 1, source: c.slot.name})
	return starlark.None, nil
})

// emitData converts the data argument of ctx.emit(name, data) to Go data
// under the limits: an empty map for None, a map for a dict, an error for
// anything else.
func emitData(limits Limits, name string, data starlark.Value) (any, error) {
	if data == starlark.None {
		return map[string]any{}, nil
	}
	if _, ok := data.(*starlark.Dict); !ok {
		return nil, fmt.Errorf("emit(%q): data must be a dict, got %s", name, data.Type())
	}
	v, err := newConverter(limits).fromStarlark(data, 0)
	if err != nil {
		return nil, fmt.Errorf("emit(%q): data: %w", name, err)
	}
	return v, nil
}
