package starhost

import (
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"time"

	"github.com/afstudio/afstudio/blackbox"
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

// sandbox runs Starlark code under the host's limits, with the
// predeclared names every module sees.
type sandbox struct {
	limits      Limits
	predeclared starlark.StringDict // frozen; shared by every module
	log         *slog.Logger
	// progs caches the programs compiled against predeclared's names,
	// so that a reload executes an unchanged file without compiling it
	// again (see programCache).
	progs *programCache
	// recorder records which module runs code, for a supervisor to blame
	// when the process dies (Options.Recorder); nil records nothing.
	recorder *blackbox.Recorder
}

// newSandbox returns a sandbox that enforces l (defaults filled in) and
// logs recovered panics to log. Its predeclared names, one capability per
// file, are:
//
//	integration, CRITICAL, HIGH, NORMAL, LOW   builtin_integration.go
//	json (bounded)                             builtin_json.go
//	sorted (Starlark's, with a fast path)      builtin_sorted.go
//	sum (Python's, which Starlark lacks)       builtin_sum.go
//	math, time, struct                         go.starlark.net, as they are
//
// A handler's two arguments are not predeclared: the event value
// (builtin_event.go) and ctx with ctx.log and ctx.emit (builtin_ctx*.go).
func newSandbox(l Limits, log *slog.Logger) *sandbox {
	sb := &sandbox{limits: l, log: log, progs: newProgramCache()}
	sb.predeclared = starlark.StringDict{
		"json":   boundedJSON(l),
		"math":   starlarkmath.Module,
		"time":   starlarktime.Module,
		"struct": starlark.NewBuiltin("struct", starlarkstruct.Make),
		// Shadows the universal sorted: the resolver looks up
		// predeclared names before universal ones.
		"sorted": starlark.NewBuiltin("sorted", sortedBuiltin),
		"sum":    starlark.NewBuiltin("sum", sumBuiltin),
	}
	maps.Copy(sb.predeclared, integrationBuiltins())
	sb.predeclared.Freeze()
	return sb
}

// guard runs fn, which executes Starlark code on thread, under the step
// budget and the timeout of the limits, and turns a panic into an error.
// kind and subject name the execution for messages ("handler of",
// "greeter"); they are joined only when a message is needed.
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
// one budget (a module and the libraries it loads): steps and timeout are
// what is left of it. The cancellation messages quote the whole budget
// that applied (Limits.Steps, Limits.Timeout, as the user configured
// them), and say when it was shared.
func (sb *sandbox) guardWith(thread *starlark.Thread, kind, subject string, steps uint64, timeout time.Duration, fn func() error) (err error) {
	what := func() string { return kind + " " + subject }
	shared := ""
	if steps != sb.limits.Steps || timeout != sb.limits.Timeout {
		shared = ", shared by the module and the libraries it loads"
	}
	thread.SetMaxExecutionSteps(steps)
	thread.OnMaxSteps = func(t *starlark.Thread) { t.Cancel(sb.stepsExceeded(what(), shared)) }
	timer := time.AfterFunc(timeout, func() { thread.Cancel(sb.timedOut(what(), shared)) })
	defer timer.Stop()
	defer func() {
		if r := recover(); r != nil {
			err = sb.recovered(what(), r)
		}
	}()
	return fn()
}

// stepsExceeded is the reason a thread running what is cancelled with
// when it spends the step budget; shared is "" or says the budget was
// shared.
func (sb *sandbox) stepsExceeded(what, shared string) string {
	return fmt.Sprintf("%s %s of %d steps%s (an endless loop?)", what, reasonSteps, sb.limits.Steps, shared)
}

// timedOut is the reason a thread running what is cancelled with when its
// time is up; shared as for stepsExceeded.
func (sb *sandbox) timedOut(what, shared string) string {
	return fmt.Sprintf("%s %s %s%s", what, reasonTimeout, sb.limits.Timeout, shared)
}

// recovered logs a panic p recovered while running what, with its stack,
// and returns the error the caller reports instead.
func (sb *sandbox) recovered(what string, p any) error {
	sb.log.Error("recovered panic in Starlark execution", "what", what, "panic", p, "stack", string(debug.Stack()))
	return fmt.Errorf("%s: internal error (recovered): %v", what, p)
}
