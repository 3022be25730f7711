package starhost

import (
	"fmt"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// eventValue is the event a handler receives as its first argument:
//
//	event.name    the event's name, a string
//	event.data    its payload, a frozen dict (read-only)
//	event.time    when it was dispatched, a time.time
//	event.depth   0 for an event from the engine, n for the n-th follow-up
//	event.source  the integration whose ctx.emit queued it, or None
//
// The dispatcher builds one per event and passes the same value to every
// handler of it.
type eventValue struct {
	name   string
	nameV  starlark.Value // name as a Starlark string, boxed once per event, not per read
	data   *starlark.Dict
	time   time.Time
	depth  int
	source string
}

var _ starlark.HasAttrs = (*eventValue)(nil)

// newEventValue returns the event value of pe, whose data is the frozen
// dict data.
func newEventValue(pe pendingEvent, data *starlark.Dict) *eventValue {
	return &eventValue{name: pe.name, nameV: starlark.String(pe.name), data: data, time: time.Now(), depth: pe.depth, source: pe.source}
}

// String returns event("NAME"), the value's form in messages and print.
func (e *eventValue) String() string { return fmt.Sprintf("event(%q)", e.name) }

// Type returns "event", the value's type(event) in Starlark.
func (e *eventValue) Type() string { return "event" }

// Freeze does nothing: the event's fields cannot be set and its data is
// frozen when the event is built.
func (e *eventValue) Freeze() {}

// Truth returns True: an event is always truthy.
func (e *eventValue) Truth() starlark.Bool { return true }

// Hash fails: an event cannot be a dict key or a set element.
func (e *eventValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: event") }

// AttrNames returns the attribute names, sorted, for dir(event).
func (e *eventValue) AttrNames() []string {
	return []string{"data", "depth", "name", "source", "time"}
}

// Attr returns one attribute; nil, nil for an unknown name (Starlark then
// reports the missing attribute).
func (e *eventValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return e.nameV, nil
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
