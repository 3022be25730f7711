package starhost

import (
	"fmt"
	"strings"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// eventValue is the event a handler receives: event.name, event.data (a
// frozen dict), event.time, event.depth (0 for an event from the engine,
// n for the n-th follow-up) and event.source (the integration that emitted
// it, or None).
type eventValue struct {
	name   string
	data   *starlark.Dict
	time   time.Time
	depth  int
	source string
}

var (
	_ starlark.HasAttrs = (*eventValue)(nil)
	_ starlark.HasAttrs = (*handlerContext)(nil)
)

func (e *eventValue) String() string        { return fmt.Sprintf("event(%q)", e.name) }
func (e *eventValue) Type() string          { return "event" }
func (e *eventValue) Freeze()               {}
func (e *eventValue) Truth() starlark.Bool  { return true }
func (e *eventValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: event") }
func (e *eventValue) AttrNames() []string   { return []string{"data", "depth", "name", "source", "time"} }
func (e *eventValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(e.name), nil
	case "data":
		return e.data, nil
	case "time":
		return starlarktime.Time(e.time), nil
	case "depth":
		return starlark.MakeInt(e.depth), nil
	case "source":
		if e.source == "" {
			return starlark.None, nil
		}
		return starlark.String(e.source), nil
	}
	return nil, nil
}

// handlerContext is the ctx a handler receives. ctx.state is the slot's
// state; ctx.log and ctx.emit act on the call in progress, found through
// the thread's local call record.
type handlerContext struct{ slot *slot }

func (c *handlerContext) String() string        { return fmt.Sprintf("ctx(%q)", c.slot.name) }
func (c *handlerContext) Type() string          { return "ctx" }
func (c *handlerContext) Freeze()               {}
func (c *handlerContext) Truth() starlark.Bool  { return true }
func (c *handlerContext) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: ctx") }
func (c *handlerContext) AttrNames() []string {
	return []string{"emit", "generation", "log", "name", "state"}
}
func (c *handlerContext) Attr(name string) (starlark.Value, error) {
	switch name {
	case "state":
		return c.slot.state, nil
	case "name":
		return starlark.String(c.slot.name), nil
	case "generation":
		return starlark.MakeInt(c.slot.current.Load().generation), nil
	case "log":
		return ctxLog, nil
	case "emit":
		return ctxEmit, nil
	}
	return nil, nil
}

// A call records what one handler call (or migrate) did besides
// returning: the follow-up events it queued.
type call struct {
	m      *Manager
	slot   *slot
	depth  int
	emits  []pendingEvent
	module string
}

const callKey = "starhost.call"

// pendingEvent is an event waiting to be dispatched.
type pendingEvent struct {
	name   string
	data   any // Go data, already bounded
	depth  int
	source string
}

// The log levels ctx.log accepts.
var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}

var ctxLog = starlark.NewBuiltin("log", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	level := "info"
	for _, kv := range kwargs {
		k, _ := starlark.AsString(kv[0])
		if k != "level" {
			return nil, fmt.Errorf("log: unexpected keyword argument %s", k)
		}
		s, ok := starlark.AsString(kv[1])
		if !ok || !logLevels[s] {
			return nil, fmt.Errorf("log: level must be one of \"debug\", \"info\", \"warn\", \"error\", got %s", kv[1])
		}
		level = s
	}
	parts := make([]string, len(args))
	for i, a := range args {
		if s, ok := starlark.AsString(a); ok {
			parts[i] = s
		} else {
			parts[i] = a.String()
		}
	}
	c, ok := thread.Local(callKey).(*call)
	if !ok {
		return nil, fmt.Errorf("log: only available inside a handler")
	}
	c.m.logLine(c.slot.name, level, strings.Join(parts, " "))
	return starlark.None, nil
})

var ctxEmit = starlark.NewBuiltin("emit", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var data starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "event", &name, "data?", &data); err != nil {
		return nil, err
	}
	c, ok := thread.Local(callKey).(*call)
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
	var goData any = map[string]any{}
	if data != starlark.None {
		if _, ok := data.(*starlark.Dict); !ok {
			return nil, fmt.Errorf("emit(%q): data must be a dict, got %s", name, data.Type())
		}
		v, err := newConverter(limits).fromStarlark(data, 0)
		if err != nil {
			return nil, fmt.Errorf("emit(%q): data: %w", name, err)
		}
		goData = v
	}
	c.emits = append(c.emits, pendingEvent{name: name, data: goData, depth: c.depth + 1, source: c.slot.name})
	return starlark.None, nil
})

func checkEventName(name string) error {
	if name == "" || name == Wildcard || len(name) > 200 || strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("invalid event name %q: use a non-empty name without spaces, like \"mission_started\"", name)
	}
	return nil
}
