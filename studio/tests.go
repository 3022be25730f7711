package studio

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/startest"
)

// Tests on save: when an integration's module file or one of its test
// files (startest.TestFiles) is saved, the studio runs the module's tests
// (Options.RunTests, off the UI goroutine: test harnesses of their own,
// not the host) and the details of its integrations say how they went,
// with the first failure's file:line:col, its line and Open in editor.

// testOutcome is what the last run of a module's tests found.
type testOutcome struct {
	running bool
	report  startest.Report
	err     error                // the run itself failed (a file that cannot be read)
	first   *startest.TestResult // the first failed test, nil when none
	line    string               // the source line of its first failure
}

// summary is the outcome's one line: "Tests: 4 passed", "Tests: 1 of 4
// failed", …
func (o testOutcome) summary() string {
	r := o.report
	total := r.Passed + r.Failed + r.Skipped
	switch {
	case o.running:
		return "Tests: running…"
	case o.err != nil:
		return "Tests: could not run: " + o.err.Error()
	case r.Failed > 0:
		return fmt.Sprintf("Tests: %d of %d failed", r.Failed, total)
	case r.Skipped > 0:
		return fmt.Sprintf("Tests: %d passed, %d skipped", r.Passed, r.Skipped)
	default:
		return fmt.Sprintf("Tests: %d passed", r.Passed)
	}
}

// moduleOfTest returns the module a saved file's tests belong to: the
// file itself for a module, NAME.star beside NAME_test.star or above its
// tests folder for a test file; "" for neither.
func moduleOfTest(path string) string {
	base := filepath.Base(path)
	if starhost.IsModuleFile(base) {
		return path
	}
	if !starhost.IsTestFile(base) {
		return ""
	}
	name := strings.TrimSuffix(base, starhost.TestFileSuffix) + ".star"
	dir := filepath.Dir(path)
	candidates := []string{filepath.Join(dir, name)}
	if filepath.Base(dir) == starhost.TestsDir {
		candidates = append([]string{filepath.Join(filepath.Dir(dir), name)}, candidates...)
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	return ""
}

// FilesSaved runs the tests of the modules of paths, saved module and
// test files (the watcher's batch), that have tests; a module without
// test files runs none. It may be called from any goroutine; without
// Options.RunTests it does nothing.
func (s *Studio) FilesSaved(paths []string) {
	if s.opts.RunTests == nil {
		return
	}
	s.log.Debug("files saved", "paths", paths)
	seen := map[string]bool{}
	for _, p := range paths {
		module := moduleOfTest(p)
		if module == "" || seen[module] || len(startest.TestFiles(module)) == 0 {
			continue
		}
		seen[module] = true
		s.runTests(module)
	}
}

// runTests runs module's tests on a goroutine and shows the outcome. A
// later run's outcome replaces an earlier one's, whichever ends first.
func (s *Studio) runTests(module string) {
	seq := s.testSeq.Add(1)
	s.do(func() { s.details.setTests(module, testOutcome{running: true}, seq) })
	s.wg.Go(func() {
		ctx, cancel := context.WithTimeout(s.ctx, sendTimeout)
		defer cancel()
		rep, err := s.opts.RunTests(ctx, module)
		o := testOutcome{report: rep, err: err}
		s.log.Info("tests on save", "module", module, "passed", rep.Passed, "failed", rep.Failed, "skipped", rep.Skipped, "error", err)
		for i := range rep.Tests {
			if t := &rep.Tests[i]; t.Failed() {
				o.first = t
				if len(t.Failures) > 0 {
					o.line = sourceLine(t.Failures[0].File, t.Failures[0].Line)
				}
				break
			}
		}
		s.do(func() { s.details.setTests(module, o, seq) })
	})
}

// testsView is the details' line of tests: the summary, the first
// failure and Open in editor. It runs on the UI goroutine.
type testsView struct {
	open func(*starhost.Diagnostic)
	// relayout lays the details out again after the line changed size.
	relayout func()
	current  testOutcome

	summary *widget.Label
	failure *widget.Label // the failed test, its position and message
	line    *widget.Label // the source line of the failure
	openBtn *widget.Button
	root    *fyne.Container
}

// newTestsView builds the line, hidden; open opens the editor at a
// failure.
func newTestsView(open func(*starhost.Diagnostic)) *testsView {
	v := &testsView{open: open, relayout: func() {}}
	v.summary = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.failure = widget.NewLabel("")
	v.failure.Wrapping = fyne.TextWrapWord
	v.failure.Selectable = true
	v.line = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	v.openBtn = widget.NewButtonWithIcon("Open in editor", theme.DocumentCreateIcon(), func() { v.open(v.failureAt()) })
	v.root = container.NewVBox(container.NewHBox(v.summary, v.openBtn), v.failure, v.line)
	v.root.Hide()
	return v
}

// failureAt is where the first failure is, for the editor.
func (v *testsView) failureAt() *starhost.Diagnostic {
	t := v.current.first
	if t == nil {
		return nil
	}
	if len(t.Failures) == 0 {
		return &starhost.Diagnostic{File: t.File}
	}
	f := t.Failures[0]
	return &starhost.Diagnostic{File: f.File, Line: f.Line, Col: f.Col, Msg: f.Message}
}

// show shows an outcome; ok false hides the line (no tests run yet).
func (v *testsView) show(o testOutcome, ok bool) {
	if !ok {
		if v.root.Visible() {
			v.root.Hide()
			v.relayout()
		}
		return
	}
	if v.root.Visible() && reflect.DeepEqual(o, v.current) {
		return // the details' refresh: nothing new
	}
	defer v.relayout()
	v.current = o
	v.summary.SetText(o.summary())
	switch {
	case o.running:
		v.summary.Importance = widget.MediumImportance
	case o.err != nil || o.report.Failed > 0:
		v.summary.Importance = widget.DangerImportance
	default:
		v.summary.Importance = widget.SuccessImportance
	}
	v.summary.Refresh()
	v.failure.Hidden, v.line.Hidden, v.openBtn.Hidden = true, true, true
	if t := o.first; t != nil {
		v.failure.SetText(failureText(*t))
		v.line.SetText(strings.TrimSpace(o.line))
		v.failure.Hidden, v.line.Hidden, v.openBtn.Hidden = false, o.line == "", false
	}
	v.root.Show()
}

// failureText names a failed test and its first failure.
func failureText(t startest.TestResult) string {
	name := t.Name
	if name == "" {
		name = filepath.Base(t.File) + " does not load"
	}
	if len(t.Failures) == 0 {
		return name + " failed"
	}
	return fmt.Sprintf("%s failed at %s", name, t.Failures[0].Error())
}
