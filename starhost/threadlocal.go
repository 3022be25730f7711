package starhost

import "go.starlark.net/starlark"

// Builtins reach the host's Go state through the locals of the Starlark
// thread they run on, never through Starlark globals (Tilt's starkit does
// the same). Each local is a threadLocal[T]: its key and the Go type of its
// value are declared once, below, so a setter and a reader cannot disagree
// about either.

// A threadLocal names one thread-local value of type T.
type threadLocal[T any] struct{ key string }

// set stores v on thread.
func (l threadLocal[T]) set(thread *starlark.Thread, v T) { thread.SetLocal(l.key, v) }

// get returns the value stored on thread, or false when the thread carries
// none (a builtin called where it is not available).
func (l threadLocal[T]) get(thread *starlark.Thread) (T, bool) {
	v, ok := thread.Local(l.key).(T)
	return v, ok
}

// The thread-locals: who sets each one, and who reads it.
var (
	// moduleLocal is the path of the module a load thread executes. Set
	// by builder.exec on every module and library; read by builder.load,
	// which resolves and reports load statements relative to it.
	moduleLocal = threadLocal[string]{"starhost.module"}

	// declarationsLocal collects the integration() calls of a module's
	// top level. Set by builder.exec on the integration module only (not
	// on its libraries, nor on handler threads); read by the integration
	// builtin, which fails where it is absent.
	declarationsLocal = threadLocal[*[]*declaration]{"starhost.declarations"}

	// callLocal is the handler call in progress. Set by Manager.call on
	// every handler thread; read by ctx.log and ctx.emit, which fail
	// where it is absent (a module's top level, migrate).
	callLocal = threadLocal[*call]{"starhost.call"}
)
