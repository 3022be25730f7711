package startest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"
)

// A testRun is one running test: what its harnesses and its reporter
// need, reached from its thread (testLocal).
type testRun struct {
	r         *runner
	file      *testFile
	name      string
	failures  []Failure
	logs      []string
	harnesses []*harness
}

// testLocal is the thread-local key of a test's testRun.
const testLocal = "startest.test"

// runOf returns the test running on thread; ok is false outside a test
// (at a test file's top level).
func runOf(thread *starlark.Thread) (*testRun, bool) {
	t, ok := thread.Local(testLocal).(*testRun)
	return t, ok
}

// runJob runs one test, or reports a file that failed to load.
func (r *runner) runJob(j job) TestResult {
	if j.fn == nil {
		return TestResult{File: j.file.path, Failures: j.file.err, Logs: j.file.logs}
	}
	t := &testRun{r: r, file: j.file, name: j.fn.Name()}
	start := time.Now()
	err := t.run(j.fn)
	for _, h := range t.harnesses {
		h.close()
	}
	res := TestResult{File: j.file.path, Name: t.name, Logs: t.logs, Duration: starhost.Duration(time.Since(start))}
	var skip *skipped
	switch {
	case errors.As(err, &skip):
		if skip.reason != "" {
			res.Logs = append(res.Logs, "skipped: "+skip.reason)
		}
		res.Skipped = len(t.failures) == 0
	case err != nil:
		t.failures = append(t.failures, failuresOf(err, j.file.path)...)
	}
	res.Failures = t.failures
	res.Passed = len(res.Failures) == 0 && !res.Skipped
	return res
}

// run calls the test function on a thread of its own, under the limits.
func (t *testRun) run(fn *starlark.Function) error {
	if n := fn.NumParams(); n > 0 {
		pos := fn.Position()
		t.failures = append(t.failures, Failure{File: t.file.path, Line: int(pos.Line), Col: int(pos.Col),
			Message: fmt.Sprintf("%s takes %d parameter(s); a test function takes none", t.name, n)})
		return nil
	}
	if err := t.r.ctx.Err(); err != nil {
		return fmt.Errorf("%s not run: %w", t.name, err)
	}
	thread := &starlark.Thread{Name: "test " + t.name, Print: func(_ *starlark.Thread, msg string) { t.logs = append(t.logs, msg) }}
	thread.SetLocal(testLocal, t)
	starlarktest.SetReporter(thread, &reporter{t: t, thread: thread})
	return t.r.guard(thread, t.name, func() error {
		_, err := starlark.Call(thread, fn, nil, nil)
		return err
	})
}

// A reporter receives the failed assertions of one test (starlarktest's
// assert module calls Error) and positions each at the innermost line of
// the test file on the call stack: the assertion's call.
type reporter struct {
	t      *testRun
	thread *starlark.Thread
}

// Error records a failed assertion. starlarktest's error builtin calls it
// with the call stack (less itself) and "Error: " before the message; the
// stack is left out, and the assertion's name put in front.
func (r *reporter) Error(args ...any) {
	msg := fmt.Sprint(args...)
	stack := r.thread.CallStack()
	stack.Pop() // the error builtin
	msg = strings.TrimPrefix(msg, stack.String()+"Error: ")
	f := Failure{File: r.t.file.path, Message: msg}
	if n := len(stack); n > 0 {
		caller := stack[n-1]
		if caller.Pos.Filename() == "assert.star" {
			f.Message = "assert." + strings.TrimPrefix(caller.Name, "_") + ": " + msg
		} else {
			f.Message = "assert.fail: " + msg
		}
	}
	for i := len(stack) - 1; i >= 0; i-- {
		if pos := stack[i].Pos; pos.Filename() == r.t.file.path {
			f.Line, f.Col = int(pos.Line), int(pos.Col)
			break
		}
	}
	r.t.failures = append(r.t.failures, f)
}

// skipped is the error with which skip() ends a test.
type skipped struct{ reason string }

// Error returns the reason.
func (s *skipped) Error() string { return "skipped: " + s.reason }

// skipBuiltin implements skip(reason = ""): it ends the test, which is
// reported as skipped (unless an assertion failed before).
func skipBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var reason string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "reason?", &reason); err != nil {
		return nil, err
	}
	if _, ok := runOf(thread); !ok {
		return nil, errors.New("skip() can only be called inside a test function (test_*)")
	}
	return nil, &skipped{reason: reason}
}
