package startest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"
)

// TestPrefix starts the name of every test function in a test file.
const TestPrefix = "test_"

// A testFile is a loaded test file: its tests, or why it failed to load.
type testFile struct {
	path   string // as found; the name in its positions
	folder string // its integration folder, absolute
	tests  []*starlark.Function
	err    []Failure // why it failed to load; nil when it loaded
	logs   []string  // printed by its top level
}

// predeclared returns the names a test file sees: the modules' builtins,
// harness, assert and skip.
func (r *runner) predeclared() (starlark.StringDict, error) {
	assert, err := starlarktest.LoadAssertModule()
	if err != nil {
		return nil, fmt.Errorf("load the assert module: %w", err)
	}
	d := starhost.ModuleBuiltins(r.limits)
	d["assert"] = assert["assert"]
	d["harness"] = starlark.NewBuiltin("harness", harnessBuiltin)
	d["skip"] = starlark.NewBuiltin("skip", skipBuiltin)
	return d, nil
}

// loadFile reads, compiles and executes the top level of a test file
// under the limits, and lists its tests in the order they are defined.
func (r *runner) loadFile(p string) (tf *testFile) {
	tf = &testFile{path: p}
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	tf.folder = integrationFolder(abs)
	defer func() {
		if v := recover(); v != nil {
			tf.err = []Failure{{File: p, Message: fmt.Sprintf("internal error (recovered) while loading the test file: %v", v)}}
		}
	}()
	src, err := r.readSource(p)
	if err != nil {
		tf.err = []Failure{{File: p, Message: err.Error()}}
		return tf
	}
	pre, err := r.predeclared()
	if err != nil {
		tf.err = []Failure{{File: p, Message: err.Error()}}
		return tf
	}
	l := &loader{r: r, folder: tf.folder, pre: pre, cache: map[string]*loadEntry{}}
	thread := &starlark.Thread{Name: "load " + p, Load: l.load, Print: func(_ *starlark.Thread, msg string) { tf.logs = append(tf.logs, msg) }}
	var globals starlark.StringDict
	err = r.guard(thread, "the top level of "+p, func() error {
		_, prog, err := starlark.SourceProgramOptions(starhost.ModuleFileOptions(), p, src, pre.Has)
		if err != nil {
			return err
		}
		globals, err = prog.Init(thread, pre)
		return err
	})
	if err != nil {
		tf.err = failuresOf(err, p)
		return tf
	}
	globals.Freeze() // tests run in parallel: none may change what they share
	for name, v := range globals {
		if fn, ok := v.(*starlark.Function); ok && strings.HasPrefix(name, TestPrefix) {
			tf.tests = append(tf.tests, fn)
		}
	}
	slices.SortFunc(tf.tests, func(a, b *starlark.Function) int {
		pa, pb := a.Position(), b.Position()
		if pa.Line != pb.Line {
			return int(pa.Line) - int(pb.Line)
		}
		return int(pa.Col) - int(pb.Col)
	})
	return tf
}

// readSource reads a test file or library of at most Limits.MaxSourceBytes.
func (r *runner) readSource(p string) ([]byte, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if st.Size() > r.limits.MaxSourceBytes {
		return nil, fmt.Errorf("file is larger than %d bytes (Limits.MaxSourceBytes); split it", r.limits.MaxSourceBytes)
	}
	return os.ReadFile(p)
}

// failuresOf turns an error of loading or running test code into
// failures: a runtime error at the innermost frame of file it passed
// through, a syntax error where it is.
func failuresOf(err error, file string) []Failure {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return []Failure{evalFailure(ee, file)}
	}
	var out []Failure
	for _, d := range starhost.Diagnose(err, file) {
		out = append(out, Failure{File: d.File, Line: d.Line, Col: d.Col, Message: d.Msg})
	}
	return out
}

// evalFailure positions a runtime error at the innermost frame in file;
// when it was raised deeper (in a library), the message says where.
func evalFailure(e *starlark.EvalError, file string) Failure {
	f := Failure{File: file, Message: strings.TrimPrefix(e.Msg, "Starlark computation cancelled: ")}
	raised := ""
	for i := len(e.CallStack) - 1; i >= 0; i-- {
		pos := e.CallStack[i].Pos
		if pos.Filename() == "<builtin>" || pos.Line == 0 {
			continue
		}
		if pos.Filename() != file {
			if raised == "" {
				raised = pos.String()
			}
			continue
		}
		f.Line, f.Col = int(pos.Line), int(pos.Col)
		if raised != "" {
			f.Message += " (raised at " + raised + ")"
		}
		return f
	}
	if raised != "" {
		f.Message += " (raised at " + raised + ")"
	}
	return f
}

// A loader resolves the load statements of one test file (and of the
// libraries it loads): a path relative to the integration folder, or else
// to the defaults. Each library is executed once per test file.
type loader struct {
	r      *runner
	folder string
	pre    starlark.StringDict

	mu    sync.Mutex
	cache map[string]*loadEntry
}

// loadEntry is a library being loaded (globals nil, err nil) or loaded.
type loadEntry struct {
	globals starlark.StringDict
	err     error
}

// load implements starlark.Thread.Load for test files.
func (l *loader) load(_ *starlark.Thread, name string) (starlark.StringDict, error) {
	clean := path.Clean(name)
	if name == "" || path.IsAbs(name) || filepath.IsAbs(name) || strings.ContainsRune(name, '\\') || clean == ".." || strings.HasPrefix(clean, "../") || !strings.HasSuffix(name, ".star") {
		return nil, fmt.Errorf("load(%q): a load path is a .star path relative to the integration folder, like \"lib/stats.star\"", name)
	}
	l.mu.Lock()
	e, ok := l.cache[clean]
	if ok {
		l.mu.Unlock()
		if e.globals == nil && e.err == nil {
			return nil, fmt.Errorf("load(%q): load cycle", name)
		}
		return e.globals, e.err
	}
	e = &loadEntry{}
	l.cache[clean] = e
	l.mu.Unlock()
	g, err := l.exec(clean)
	l.mu.Lock()
	e.globals, e.err = g, err
	l.mu.Unlock()
	return g, err
}

// exec reads and executes one library, from the integration folder or
// the defaults.
func (l *loader) exec(name string) (starlark.StringDict, error) {
	file := filepath.Join(l.folder, filepath.FromSlash(name))
	src, err := l.r.readSource(file)
	if errors.Is(err, fs.ErrNotExist) && l.r.opts.Defaults != nil {
		file = starhost.BuiltinPrefix + name
		src, err = fs.ReadFile(l.r.opts.Defaults, name)
	}
	if err != nil {
		return nil, fmt.Errorf("load(%q): not found in %s or the defaults: %w", name, l.folder, err)
	}
	thread := &starlark.Thread{Name: "load " + file, Load: l.load}
	var g starlark.StringDict
	err = l.r.guard(thread, "library "+file, func() error {
		var err error
		g, err = starlark.ExecFileOptions(starhost.ModuleFileOptions(), thread, file, src, l.pre)
		return err
	})
	return g, err
}

// guard runs fn, which executes Starlark code on thread, under the step
// budget and the timeout of the limits and ctx, and turns a panic into an
// error. what names the execution in the messages.
func (r *runner) guard(thread *starlark.Thread, what string, fn func() error) (err error) {
	thread.SetMaxExecutionSteps(r.limits.Steps)
	thread.OnMaxSteps = func(t *starlark.Thread) {
		t.Cancel(fmt.Sprintf("%s exceeded the step budget of %d steps (an endless loop?)", what, r.limits.Steps))
	}
	timer := time.AfterFunc(r.limits.Timeout, func() { thread.Cancel(fmt.Sprintf("%s timed out after %s", what, r.limits.Timeout)) })
	defer timer.Stop()
	stop := context.AfterFunc(r.ctx, func() { thread.Cancel(what + " was cancelled") })
	defer stop()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s: internal error (recovered): %v", what, v)
		}
	}()
	return fn()
}
