package starhost

import (
	"fmt"

	"go.starlark.net/starlark"
)

// handlerContext is the ctx a handler receives as its second argument:
//
//	ctx.state       the integration's own mutable dict, owned by the host
//	                and carried across reloads (see migrate)
//	ctx.name        the integration's name
//	ctx.generation  the version serving the call (1 after the first load)
//	ctx.log(...)    write a line to the integration's log (builtin_ctx_log.go)
//	ctx.emit(...)   queue a follow-up event (builtin_ctx_emit.go)
//
// One handlerContext lives as long as its slot; ctx.log and ctx.emit act
// on the call in progress, which they find through callLocal.
type handlerContext struct{ slot *slot }

var _ starlark.HasAttrs = (*handlerContext)(nil)

// String returns ctx("NAME"), the value's form in messages and print.
func (c *handlerContext) String() string { return fmt.Sprintf("ctx(%q)", c.slot.name) }

// Type returns "ctx", the value's type(ctx) in Starlark.
func (c *handlerContext) Type() string { return "ctx" }

// Freeze does nothing: ctx has no fields to set, and ctx.state must stay
// mutable.
func (c *handlerContext) Freeze() {}

// Truth returns True: a ctx is always truthy.
func (c *handlerContext) Truth() starlark.Bool { return true }

// Hash fails: a ctx cannot be a dict key or a set element.
func (c *handlerContext) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: ctx") }

// AttrNames returns the attribute names, sorted, for dir(ctx).
func (c *handlerContext) AttrNames() []string {
	return []string{"emit", "generation", "log", "name", "state"}
}

// Attr returns one attribute; nil, nil for an unknown name (Starlark then
// reports the missing attribute). The slot's callMu is held by the call
// in progress, so reading the state here is safe.
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

// A call records what one handler call did besides returning (the
// follow-up events it queued) and what ctx.log and ctx.emit need to know
// about it. Manager.call makes one per call and sets it as callLocal.
type call struct {
	m      *Manager
	slot   *slot
	depth  int            // the depth of the event being handled
	emits  []pendingEvent // follow-ups queued by ctx.emit, in order
	module string
}
