package startest

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"runtime"
	"sync"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"go.starlark.net/starlark"
)

// Options say which tests Run runs and how. The zero value runs every test
// under the current folder, without defaults, GOMAXPROCS at a time, under
// the default limits.
type Options struct {
	// Paths are test files, integration modules (whose TestFiles run) or
	// folders (every test file under them, in tests folders too, but not
	// in lib, hidden or testdata folders). None: the current folder.
	Paths []string
	// Run selects the tests whose name it matches (like go test -run);
	// nil runs every test.
	Run *regexp.Regexp
	// Defaults holds the embedded default integrations (package
	// integrations' FS), so that a test can load their libraries
	// (load("lib/stats.star")) and harness a default that its folder does
	// not override. nil: none.
	Defaults fs.FS
	// Parallel is how many tests run at once; 0 means GOMAXPROCS.
	Parallel int
	// Limits bound each test (its step budget and timeout, for the test's
	// own code) and each harnessed integration, as in the host; zero
	// fields take their defaults.
	Limits starhost.Limits
}

// A Report is what Run found: every test's result and the counts.
type Report struct {
	// Tests are the results, by file (in the order the files were found)
	// and, within a file, in the order the tests are defined.
	Tests []TestResult `json:"tests"`
	// Passed, Failed and Skipped count Tests by outcome.
	Passed int `json:"passed"`
	// Failed counts the tests that failed, files that failed to load
	// included.
	Failed int `json:"failed"`
	// Skipped counts the tests that called skip().
	Skipped int `json:"skipped"`
	// Duration is how long Run took. JSON: microseconds.
	Duration starhost.Duration `json:"duration_us"`
}

// OK reports whether no test failed.
func (r Report) OK() bool { return r.Failed == 0 }

// A TestResult is the outcome of one test, or of a test file that failed
// to load.
type TestResult struct {
	// File is the test file, as found from Options.Paths.
	File string `json:"file"`
	// Name is the test function's name; "" when the file itself failed to
	// load (a syntax error, an error at its top level), which Failures
	// then describe.
	Name string `json:"name"`
	// Passed is true when the test ran to the end without a failure.
	Passed bool `json:"passed"`
	// Skipped is true when the test called skip(); Failures are then
	// empty, and Passed false.
	Skipped bool `json:"skipped,omitempty"`
	// Failures are the failed assertions and the error that ended the
	// test, if any, in order; empty when it passed or was skipped.
	Failures []Failure `json:"failures,omitempty"`
	// Logs are the lines the test printed (print) and those its harnessed
	// integrations logged ("NAME: LEVEL: text"), in order; the skip
	// reason of a skipped test.
	Logs []string `json:"logs,omitempty"`
	// Duration is how long the test ran. JSON: microseconds.
	Duration starhost.Duration `json:"duration_us"`
}

// Failed reports whether the test failed (it neither passed nor was
// skipped).
func (t TestResult) Failed() bool { return !t.Passed && !t.Skipped }

// A Failure is one failed assertion or the error that ended a test, at the
// line of the test file where it happened.
type Failure struct {
	// File is the test file (or, for an error in a library it loads, that
	// library).
	File string `json:"file"`
	// Line and Col are 1-based; 0 when the position is unknown.
	Line int `json:"line"`
	// Col is the 1-based column; 0 when unknown.
	Col int `json:"col"`
	// Message says what failed: "assert.eq: 3 != 4", or the error.
	Message string `json:"message"`
}

// Error returns "file:line:col: message" ("file: message" without a
// position).
func (f Failure) Error() string {
	if f.Line == 0 {
		return f.File + ": " + f.Message
	}
	return fmt.Sprintf("%s:%d:%d: %s", f.File, f.Line, f.Col, f.Message)
}

// Run finds the test files of opts.Paths, loads them and runs their tests
// (those opts.Run selects), opts.Parallel at a time. A failing test, or a
// test file that fails to load, is a failed TestResult, never an error.
// The error is for a path that cannot be read (it names the path), or a
// cancelled ctx (the report then holds the tests that ran).
func Run(ctx context.Context, opts Options) (Report, error) {
	start := time.Now()
	files, err := findTestFiles(opts.Paths)
	if err != nil {
		return Report{}, err
	}
	r := newRunner(ctx, opts)
	loaded := make([]*testFile, len(files))
	r.each(len(files), func(i int) { loaded[i] = r.loadFile(files[i]) })
	var jobs []job
	for _, tf := range loaded {
		if tf.err != nil {
			jobs = append(jobs, job{file: tf})
			continue
		}
		for _, fn := range tf.tests {
			if opts.Run == nil || opts.Run.MatchString(fn.Name()) {
				jobs = append(jobs, job{file: tf, fn: fn})
			}
		}
	}
	results := make([]TestResult, len(jobs))
	r.each(len(jobs), func(i int) { results[i] = r.runJob(jobs[i]) })
	rep := Report{Tests: results}
	for _, t := range results {
		switch {
		case t.Passed:
			rep.Passed++
		case t.Skipped:
			rep.Skipped++
		default:
			rep.Failed++
		}
	}
	rep.Duration = starhost.Duration(time.Since(start))
	return rep, ctx.Err()
}

// each calls fn(0..n-1), opts.Parallel at a time, and waits for them.
func (r *runner) each(n int, fn func(i int)) {
	sem := make(chan struct{}, r.parallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// runner holds what one Run shares between its tests: the options and the
// integration folders' module indexes.
type runner struct {
	ctx      context.Context
	opts     Options
	limits   starhost.Limits
	parallel int

	mu      sync.Mutex
	indexes map[string]*moduleIndex // by integration folder
}

// newRunner returns the runner of one Run.
func newRunner(ctx context.Context, opts Options) *runner {
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	limits := opts.Limits.WithDefaults()
	return &runner{ctx: ctx, opts: opts, limits: limits, parallel: parallel, indexes: map[string]*moduleIndex{}}
}

// job is one test to run, or a file that failed to load (fn nil).
type job struct {
	file *testFile
	fn   *starlark.Function
}
