package startest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/startest"
)

// counter is an integration module: "count" counts pings in its state,
// logs and emits; "other" (same module) answers pings too; "bad" fails.
const counter = `def on_ping(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    ctx.log("ping", ctx.state["n"], level = "warn")
    ctx.emit("pong", {"n": ctx.state["n"]})
    return {"n": ctx.state["n"], "half": ctx.state["n"] / 2}

def on_boom(event, ctx):
    return 1 // 0

def on_pong(event, ctx):  # a held follow-up never reaches it
    ctx.state["pongs"] = ctx.state.get("pongs", 0) + 1

integration(name = "count", handlers = {"ping": on_ping, "boom": on_boom, "pong": on_pong})
integration(name = "other", handlers = {"ping": lambda event, ctx: "other", "only_other": lambda event, ctx: 1})
`

// want is what one test (or load failure) must report: its name, whether
// it passed, and each failure as "line:col: message" (a regexp).
type want struct {
	name     string
	passed   bool
	skipped  bool
	failures []string
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		what  string
		test  string // the content of count_test.star
		run   string
		limit starhost.Limits
		want  []want
	}{
		{what: "pass", test: `
def test_ping():
    h = harness("count")
    assert.eq(h.emit("ping"), {"n": 1, "half": 0.5})
    assert.eq(h.emit("ping", {"x": 1})["n"], 2)
    assert.eq(type(h.state["n"]), "int")
    assert.eq(h.state, {"n": 2})
    assert.eq(h.emitted, [{"event": "pong", "data": {"n": 1}}, {"event": "pong", "data": {"n": 2}}])
    assert.eq(h.logs, ["warn: ping 1", "warn: ping 2"])
    assert.eq(h.name, "count")

def test_state_given_and_copied():
    h = harness("count", state = {"n": 40})
    h.state["n"] = 0  # a copy: the instance keeps its own
    assert.eq(h.emit("ping")["n"], 41)
`, want: []want{{name: "test_ping", passed: true}, {name: "test_state_given_and_copied", passed: true}}},

		{what: "failing assert.eq shows both values", test: `
def test_eq():
    h = harness("count")
    assert.eq(h.emit("ping")["n"], 3)
    assert.eq("a", "a")
    assert.true(False, "must be true")
`, want: []want{{name: "test_eq", failures: []string{`^4:14: assert\.eq: 1 != 3$`, `^6:16: assert\.true: must be true$`}}}},

		{what: "assert.fails", test: `
def test_fails_matches():
    h = harness("count")
    assert.fails(lambda: h.emit("boom"), "count.star:8:14: .*division by zero")
    assert.fails(lambda: h.emit("only_other"), "count does not handle \"only_other\"")

def test_fails_does_not_match():
    h = harness("count")
    assert.fails(lambda: h.emit("boom"), "no such words")
    assert.fails(lambda: h.emit("ping"), "anything")
`, want: []want{
			{name: "test_fails_matches", passed: true},
			{name: "test_fails_does_not_match", failures: []string{`^9:17: assert\.fails: regular expression \(no such words\) did not match error \(.*division by zero\)$`, `^10:17: assert\.fails: evaluation succeeded unexpectedly`}},
		}},

		{what: "an error ends the test at its line", test: `
def test_emit_error():
    h = harness("count")
    h.emit("boom")
    fail("not reached")
`, want: []want{{name: "test_emit_error", failures: []string{`^4:11: harness\("count"\)\.emit\("boom"\): the handler failed: .*count\.star:8:14: .*division by zero$`}}}},

		{what: "--run selects tests", run: "^test_b", test: `
def test_a():
    fail("a must not run")

def test_b():
    pass

def test_bb():
    skip("not today")
`, want: []want{{name: "test_b", passed: true}, {name: "test_bb", skipped: true}}},

		{what: "syntax error in the test file", test: `
def test_a():
    pass

def test_b(:
    pass
`, want: []want{{name: "", failures: []string{`^5:13: got ':', want '\)'$`}}}},

		{what: "unknown integration", test: `
def test_unknown():
    harness("nope")
`, want: []want{{name: "test_unknown", failures: []string{`^3:12: harness\("nope"\): no integration "nope" in .* \(it declares count, other\)`}}}},

		{what: "endless loop: step budget", test: `
def test_loop():
    for i in range(1 << 40):
        pass
`, want: []want{{name: "test_loop", failures: []string{`^3:5: test_loop exceeded the step budget of 1000000 steps`}}}},

		{what: "endless loop: timeout", limit: starhost.Limits{Steps: 1 << 60, Timeout: 50 * time.Millisecond}, test: `
def test_loop():
    for i in range(1 << 40):
        pass
`, want: []want{{name: "test_loop", failures: []string{`^3:5: test_loop timed out after 50ms`}}}},

		{what: "harness at the top level", test: `
H = harness("count")
`, want: []want{{name: "", failures: []string{`^2:12: harness\(\) can only be called inside a test function`}}}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			dir := hosttest.TempDir(t, map[string]string{"count.star": counter, "count_test.star": tc.test})
			opts := startest.Options{Paths: []string{dir}, Limits: tc.limit}
			if tc.run != "" {
				opts.Run = regexp.MustCompile(tc.run)
			}
			rep, err := startest.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			check(t, rep, filepath.Join(dir, "count_test.star"), tc.want)
			if tc.limit.Timeout > 0 && rep.Duration.Std() > 20*tc.limit.Timeout {
				t.Errorf("took %s with a timeout of %s", rep.Duration, tc.limit.Timeout)
			}
		})
	}
}

// check compares a report with what its tests must report.
func check(t *testing.T, rep startest.Report, file string, want []want) {
	t.Helper()
	if len(rep.Tests) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(rep.Tests), len(want), rep.Tests)
	}
	failed := 0
	for i, w := range want {
		got := rep.Tests[i]
		if got.Name != w.name || got.Passed != w.passed || got.Skipped != w.skipped || got.File != file {
			t.Errorf("result %d = %s %s passed=%v skipped=%v, want %s %s passed=%v skipped=%v (failures: %v)", i, got.File, got.Name, got.Passed, got.Skipped, file, w.name, w.passed, w.skipped, got.Failures)
		}
		if got.Failed() {
			failed++
		}
		if len(got.Failures) != len(w.failures) {
			t.Errorf("%s: failures %v, want %d", w.name, got.Failures, len(w.failures))
			continue
		}
		for j, f := range got.Failures {
			line := fmt.Sprintf("%d:%d: %s", f.Line, f.Col, f.Message)
			if f.File != file || !regexp.MustCompile(w.failures[j]).MatchString(line) {
				t.Errorf("%s: failure %d = %s, want %s:%s", w.name, j, f.Error(), file, w.failures[j])
			}
		}
	}
	if rep.Failed != failed || rep.OK() != (failed == 0) {
		t.Errorf("Failed = %d, OK = %v; want %d failed", rep.Failed, rep.OK(), failed)
	}
}

// TestIsolation checks that tests share nothing (each harness is fresh,
// also when they run at once) and that a harness does not touch a host
// that runs the same integration from the same folder.
func TestIsolation(t *testing.T) {
	var tests strings.Builder
	const n = 40
	for i := range n {
		fmt.Fprintf(&tests, "def test_%d():\n    h = harness(\"count\")\n    for i in range(5):\n        h.emit(\"ping\")\n    assert.eq(h.state, {\"n\": 5})\n    assert.eq(len(h.emitted), 5)\n    assert.eq(len(h.logs), 5)\n\n", i)
	}
	m, dir := hosttest.NewRoot(t, map[string]string{"count.star": counter, "tests/count_test.star": tests.String()})
	hosttest.Emit(t, m, "ping", nil)
	sub := m.Subscribe(1024)
	defer sub.Close()

	rep, err := startest.Run(context.Background(), startest.Options{Paths: []string{dir}, Parallel: 8})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed != n || len(rep.Tests) != n {
		for _, tr := range rep.Tests {
			if !tr.Passed {
				t.Errorf("%s: %v", tr.Name, tr.Failures)
			}
		}
		t.Fatalf("%d of %d tests passed", rep.Passed, n)
	}
	for i, tr := range rep.Tests { // in definition order, whatever order they ran in
		if want := fmt.Sprintf("test_%d", i); tr.Name != want {
			t.Errorf("result %d is %s, want %s", i, tr.Name, want)
		}
	}
	st, err := m.State("count")
	if err != nil {
		t.Fatal(err)
	}
	if st["n"] != int64(1) {
		t.Errorf("the running host's state = %v, want n = 1: the tests changed it", st)
	}
	if k := len(sub.C); k != 0 {
		t.Errorf("the running host published %d notices while the tests ran (first: %v)", k, <-sub.C)
	}
}

// TestLoadAndDefaults checks that a test file loads libraries of the
// defaults and harnesses a default its folder does not declare.
func TestLoadAndDefaults(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"count.star": counter, "stats_test.star": `
load("lib/stats.star", "percentile")

def test_library():
    assert.eq(percentile([3, 1, 2], 50), 2)

def test_default():
    h = harness("analytics")
    assert.eq(h.emit("mission_started", {"mission_id": "m1"}), {"missions": 1})
`})
	rep, err := startest.Run(context.Background(), startest.Options{Paths: []string{dir}, Defaults: integrations.FS})
	if err != nil {
		t.Fatal(err)
	}
	check(t, rep, filepath.Join(dir, "stats_test.star"), []want{{name: "test_library", passed: true}, {name: "test_default", passed: true}})
}

func TestTestFiles(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{
		"a.star": counter, "a_test.star": "", "tests/a_test.star": "",
		"b.star": counter, "tests/b_test.star": "", "c.star": counter,
	})
	p := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	for _, tc := range []struct {
		module string
		want   []string
	}{
		{p("a.star"), []string{p("a_test.star"), p("tests/a_test.star")}},
		{p("b.star"), []string{p("tests/b_test.star")}},
		{p("c.star"), nil},
		{p("a_test.star"), []string{p("a_test.star")}},
		{p("tests/b_test.star"), []string{p("tests/b_test.star")}},
		{p("gone_test.star"), nil},
	} {
		if got := startest.TestFiles(tc.module); !slices.Equal(got, tc.want) {
			t.Errorf("TestFiles(%s) = %v, want %v", tc.module, got, tc.want)
		}
	}
}

func TestRunBadPath(t *testing.T) {
	_, err := startest.Run(context.Background(), startest.Options{Paths: []string{filepath.Join(t.TempDir(), "missing")}})
	if err == nil || !strings.Contains(err.Error(), "missing: no such file or folder") {
		t.Errorf("Run of a missing path: %v, want an error naming it", err)
	}
}
