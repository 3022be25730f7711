package studio

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/startest"
)

// meterTests are meter's tests: four, of which the last expects p50 to
// be want.
func meterTests(want int) string {
	return fmt.Sprintf(`def test_answers():
    h = harness("meter")
    assert.true(h.emit("ping") != None)

def test_counts():
    h = harness("meter")
    h.emit("ping")
    assert.eq(h.state["n"], 1)

def test_name():
    assert.eq(harness("meter").name, "meter")

def test_p50():
    h = harness("meter")
    assert.eq(h.emit("ping")["p50"], %d)
`, want)
}

// TestTestsOnSave: a saved module or test file runs the module's tests
// (through Options.RunTests) and the details say how they went; a
// failure shows its test, file:line:col, its line, and Open in editor
// opens the editor there.
func TestTestsOnSave(t *testing.T) {
	s, _, save, _ := shadowStudio(t)
	module := filepath.Join(s.opts.Dirs[0], "meter.star")
	testFile := filepath.Join(filepath.Dir(module), "tests", "meter_test.star")
	var runs []string
	var opened []string
	runOnUI(func() {
		s.opts.RunTests = func(ctx context.Context, m string) (startest.Report, error) {
			runOnUI(func() { runs = append(runs, m) })
			return startest.Run(ctx, startest.Options{Paths: []string{m}})
		}
		s.opts.OpenEditor = func(path string, line int) error {
			opened = append(opened, fmt.Sprintf("%s:%d", path, line))
			return nil
		}
	})
	s.FilesSaved([]string{module}) // no test file yet: nothing runs
	if s.details.tests.root.Visible() {
		t.Fatal("the tests line shows for a module without tests")
	}

	hosttest.WriteFile(t, testFile, meterTests(35))
	s.FilesSaved([]string{testFile})
	eventually(t, "the tests passed", func() bool {
		return s.details.tests.root.Visible() && s.details.tests.summary.Text == "Tests: 4 passed" && !s.details.tests.failure.Visible()
	})

	save(meterSrc(36, 1, "")) // the host reloads it; the watcher's batch names it
	s.FilesSaved([]string{module})
	defer func() {
		if t.Failed() {
			t.Logf("shown: %q %q %q", s.details.tests.summary.Text, s.details.tests.failure.Text, s.details.tests.line.Text)
		}
	}()
	eventually(t, "the failure", func() bool {
		return s.details.tests.summary.Text == "Tests: 1 of 4 failed" &&
			s.details.tests.failure.Text == "test_p50 failed at "+testFile+":15:14: assert.eq: 36 != 35" &&
			s.details.tests.line.Text == `assert.eq(h.emit("ping")["p50"], 35)` && s.details.tests.openBtn.Visible()
	})
	runOnUI(func() { test.Tap(s.details.tests.openBtn) })
	eventually(t, "the editor at the failure", func() bool { return len(opened) == 1 && opened[0] == testFile+":15" })
	runOnUI(func() {
		if strings.Join(runs, ",") != module+","+module {
			t.Errorf("tests ran for %v; want meter.star twice", runs)
		}
	})
}
