package starhost

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	starlarkjson "go.starlark.net/lib/json"
	starlarkmath "go.starlark.net/lib/math"
	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// fileOptions is the dialect every module is compiled with: Starlark's
// strict defaults (no while, no top-level if/for, no global reassignment,
// no recursion), with the set builtin allowed.
var fileOptions = &syntax.FileOptions{Set: true}

// sandbox runs Starlark code under the host's limits.
type sandbox struct {
	limits      Limits
	predeclared starlark.StringDict // frozen; shared by every module
	log         *slog.Logger
}

func newSandbox(l Limits, log *slog.Logger) *sandbox {
	sb := &sandbox{limits: l, log: log}
	sb.predeclared = starlark.StringDict{
		"json":        sb.boundedJSON(),
		"math":        starlarkmath.Module,
		"time":        starlarktime.Module,
		"struct":      starlark.NewBuiltin("struct", starlarkstruct.Make),
		"integration": starlark.NewBuiltin("integration", declare),
		"CRITICAL":    starlark.String("CRITICAL"),
		"HIGH":        starlark.String("HIGH"),
		"NORMAL":      starlark.String("NORMAL"),
		"LOW":         starlark.String("LOW"),
	}
	sb.predeclared.Freeze()
	return sb
}

// guard runs fn, which executes Starlark code on thread, under the step
// budget and the timeout, and turns a panic into an error. kind and
// subject name the execution for messages ("handler", "on_start of x");
// they are joined only when a message is needed.
func (sb *sandbox) guard(thread *starlark.Thread, kind, subject string, fn func() error) (err error) {
	return sb.guardWith(thread, kind, subject, sb.limits.Steps, sb.limits.Timeout, fn)
}

// The reasons with which guardWith cancels a thread; Diagnose classifies
// errors that carry them as ErrorLimit.
const (
	reasonSteps   = "exceeded the step budget"
	reasonTimeout = "timed out after"
)

// guardWith is guard with an explicit budget, for executions that share
// one budget (a module and the libraries it loads).
func (sb *sandbox) guardWith(thread *starlark.Thread, kind, subject string, steps uint64, timeout time.Duration, fn func() error) (err error) {
	what := func() string { return kind + " " + subject }
	thread.SetMaxExecutionSteps(steps)
	thread.OnMaxSteps = func(t *starlark.Thread) {
		t.Cancel(fmt.Sprintf("%s %s of %d steps (an endless loop?)", what(), reasonSteps, steps))
	}
	timer := time.AfterFunc(timeout, func() {
		thread.Cancel(fmt.Sprintf("%s %s %s", what(), reasonTimeout, timeout))
	})
	defer timer.Stop()
	defer func() {
		if r := recover(); r != nil {
			sb.log.Error("recovered panic in Starlark execution", "what", what(), "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("%s: internal error (recovered): %v", what(), r)
		}
	}()
	return fn()
}

// boundedJSON wraps the json module so that encode refuses values nested
// deeper than the limits (the stock encoder recurses without bound and can
// overflow the Go stack) and decode refuses deeply nested documents.
func (sb *sandbox) boundedJSON() *starlarkstruct.Module {
	members := starlark.StringDict{}
	for name, v := range starlarkjson.Module.Members {
		members[name] = v
	}
	wrap := func(name string, check func(args starlark.Tuple) error) {
		inner := starlarkjson.Module.Members[name].(*starlark.Builtin)
		members[name] = starlark.NewBuiltin("json."+name, func(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if len(args) > 0 {
				if err := check(args); err != nil {
					return nil, fmt.Errorf("json.%s: %w", name, err)
				}
			}
			return inner.CallInternal(t, args, kwargs)
		})
	}
	measureArg := func(args starlark.Tuple) error { return newConverter(sb.limits).measure(args[0], 0) }
	textDepth := func(args starlark.Tuple) error {
		if s, ok := args[0].(starlark.String); ok {
			if d := jsonTextDepth(string(s)); d > sb.limits.MaxDepth {
				return fmt.Errorf("document nested deeper than %d levels", sb.limits.MaxDepth)
			}
		}
		return nil
	}
	wrap("encode", measureArg)
	wrap("encode_indent", measureArg)
	wrap("decode", textDepth)
	wrap("indent", textDepth)
	return &starlarkstruct.Module{Name: "json", Members: members}
}

// jsonTextDepth returns the deepest nesting of arrays and objects in a
// JSON text, ignoring brackets inside strings.
func jsonTextDepth(s string) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}
