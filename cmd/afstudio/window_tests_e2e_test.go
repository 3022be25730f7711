package main

import (
	"fmt"
	"path/filepath"
	"testing"
)

// meterWindowTests are tests of meter (meterWindowSrc): four, the last
// expecting p50 to be want (its assert.eq at line 15, column 14).
func meterWindowTests(want int) string {
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

// TestWindowTestsOnSave: saving an integration's test file runs its
// tests in the studio, and the details show the failure with its test
// and file:line:col; saving the module so that they pass shows them
// passed.
func TestWindowTestsOnSave(t *testing.T) {
	st := startStudioTest(t)
	meter := filepath.Join(st.dir, "meter.star")
	st.write(meter, meterWindowSrc(35, 1))
	st.start("--no-defaults", "--dir", st.dir, "--data", filepath.Join(st.home, "data"))
	st.waitFor("meter live and selected", st.shows(on{"meter", "g1"}, on{"Class", "meter"}))

	st.write(filepath.Join(st.dir, "tests", "meter_test.star"), meterWindowTests(36))
	st.waitFor("the failed test with its position", st.shows(
		on{"Tests:", "1 of 4 failed"}, on{"test_p50", "meter_test.star:15:14"}, on{"Open in editor"}))

	st.write(meter, meterWindowSrc(36, 1))
	st.waitFor("the tests passed after the module's save", st.shows(on{"meter", "g2"}, on{"Tests:", "4 passed"}))
}
