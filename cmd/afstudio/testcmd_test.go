package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/startest"
)

// times matches the times afstudio test prints, to compare its output.
var times = regexp.MustCompile(`\(\d+\.\d\ds\)|\t\d+\.\d{3}s`)

func TestTestCommand(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"n.star":      "def on_ping(event, ctx):\n    return 3\n\nintegration(name = \"n\", handlers = {\"ping\": on_ping})\n",
		"n_test.star": "def test_ok():\n    assert.eq(harness(\"n\").emit(\"ping\"), 3)\n\ndef test_bad():\n    assert.eq(harness(\"n\").emit(\"ping\"), 4)\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"test"}, 1, "--- FAIL: n_test.star: test_bad (0.00s)\n    n_test.star:5:14: assert.eq: 3 != 4\nFAIL\t.\t0.000s\n"},
		{[]string{"test", "-v", "--run", "ok"}, 0, "--- PASS: n_test.star: test_ok (0.00s)\nok  \t.\t0.000s\n"},
		{[]string{"test", "n.star", "-run", "ok"}, 0, "ok  \tn.star\t0.000s\n"},
		{[]string{"test", "--run", "nothing", "."}, 0, "?   \t.\t[no tests to run]\n"},
		{[]string{"test", "missing"}, 2, ""},
		{[]string{"test", "--run", "("}, 2, ""},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.code != tc.code || times.ReplaceAllStringFunc(r.stdout, zeroTime) != tc.stdout {
			t.Errorf("afstudio %s: exit %d, stdout:\n%s\nwant exit %d, stdout:\n%s\nstderr: %s", strings.Join(tc.args, " "), r.code, r.stdout, tc.code, tc.stdout, r.stderr)
		}
		if tc.code == 2 && !strings.Contains(r.stderr, tc.args[len(tc.args)-1]) {
			t.Errorf("afstudio %s: stderr %q does not name the mistake", strings.Join(tc.args, " "), r.stderr)
		}
	}

	r := runCLI(t, nil, "test", "--json")
	var rep startest.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 {
		t.Fatalf("test --json: exit %d, %v:\n%s", r.code, err, r.stdout)
	}
	if rep.Passed != 1 || rep.Failed != 1 || len(rep.Tests) != 2 || rep.Tests[1].Failures[0].Line != 5 || !strings.Contains(r.stdout, `"duration_us":`) {
		t.Errorf("test --json report: %s", r.stdout)
	}
}

// zeroTime replaces a time afstudio test printed by zeros.
func zeroTime(s string) string {
	if strings.HasPrefix(s, "(") {
		return "(0.00s)"
	}
	return "\t0.000s"
}

// TestReadmeTestExample: the README's test file for slow_missions.star
// passes, and afstudio test prints what the README shows, but for times;
// with the threshold changed it fails as the README shows.
func TestReadmeTestExample(t *testing.T) {
	dir := t.TempDir()
	module := readmeExample(t, "# slow_missions.star: warns about slow missions and keeps a per-mission summary.")
	tests := readmeExample(t, "# slow_missions_test.star: the tests of slow_missions.star, beside it.")
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("slow_missions_test.star", tests)
	cases := []struct {
		first string
		edit  func(string) string
		code  int
		shown string
	}{
		{"$ afstudio test -v", func(s string) string { return s }, 0, ""},
		{"$ afstudio test", func(s string) string { return strings.Replace(s, "THRESHOLD_MS = 2000", "THRESHOLD_MS = 3000", 1) }, 1, ""},
	}
	for i := range cases {
		cases[i].shown = readmeExample(t, cases[i].first) // before the Chdir: the README is found from here
	}
	t.Chdir(dir)
	for _, tc := range cases {
		write("slow_missions.star", tc.edit(module))
		_, want, _ := strings.Cut(tc.shown, "\n")
		r := runCLI(t, nil, strings.Fields(tc.first)[2:]...)
		zero := func(s string) string { return times.ReplaceAllStringFunc(s, zeroTime) }
		if r.code != tc.code || zero(r.stdout) != zero(want) {
			t.Errorf("%s: exit %d, want %d; output:\n%s\nthe README shows:\n%s", tc.first, r.code, tc.code, r.stdout, want)
		}
	}
}
