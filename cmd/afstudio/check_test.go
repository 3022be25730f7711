package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

func TestCheckGoodFolder(t *testing.T) {
	dir := hosttest.TempDir(t, goodTree)
	r := runCLI(t, nil, "check", dir)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("check of a good folder:\n%v", r)
	}
	if want := "ok: 2 file(s), 2 integration(s)\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
}

func TestCheckDefaultIntegrations(t *testing.T) {
	r := runCLI(t, nil, "check", filepath.Join("..", "..", "integrations"))
	if r.code != 0 || r.stdout != "" || r.stderr != "ok: 4 file(s), 4 integration(s)\n" {
		t.Fatalf("check of the embedded defaults' folder:\n%v", r)
	}
}

func TestCheckBadFiles(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{
		"syntax.star":  "def on_ping(event, ctx)\n    return 1\n",
		"undef.star":   "def h(event, ctx):\n    return undefined_a + undefined_b\n\nintegration(name = \"u\", handlers = {\"e\": h})\n",
		"runtime.star": "integration(name = \"r\", handlers = {\"e\": 1})\n",
		"dup_a.star":   "integration(name = \"twin\", handlers = {\"e\": lambda event, ctx: 1})\n",
		"dup_b.star":   "\n\nintegration(name = \"twin\", handlers = {\"e\": lambda event, ctx: 2})\n",
	})
	type diag struct {
		file      string
		line, col string
		msg       string
	}
	parse := func(t *testing.T, out string) []diag {
		t.Helper()
		var ds []diag
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			m := diagLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("output line %q is not PATH:LINE:COL: message", line)
			}
			ds = append(ds, diag{m[1], m[2], m[3], m[4]})
		}
		return ds
	}

	t.Run("one file", func(t *testing.T) {
		path := filepath.Join(dir, "syntax.star")
		r := runCLI(t, nil, "check", path)
		if r.code != 1 {
			t.Fatalf("want exit 1:\n%v", r)
		}
		ds := parse(t, r.stdout)
		// Starlark positions an unexpected newline at the start of the next line.
		want := []diag{{path, "2", "1", "got newline, want ':'"}}
		if !reflect.DeepEqual(ds, want) {
			t.Errorf("diagnostics = %+v, want %+v", ds, want)
		}
		if strings.Contains(r.stderr, "ok:") {
			t.Errorf("stderr reports ok for an invalid file: %q", r.stderr)
		}
	})

	t.Run("folder", func(t *testing.T) {
		r := runCLI(t, nil, "check", dir)
		if r.code != 1 {
			t.Fatalf("want exit 1:\n%v", r)
		}
		ds := parse(t, r.stdout)
		p := func(name string) string { return filepath.Join(dir, name) }
		want := []diag{
			{p("dup_b.star"), "3", "12", `duplicate integration name "twin": already declared at ` + p("dup_a.star") + `:1:12; rename one of them`},
			{p("runtime.star"), "1", "12", `integration "r": handler for "e" is a int, not a function; pass a function taking (event, ctx)`},
			{p("syntax.star"), "2", "1", "got newline, want ':'"},
			{p("undef.star"), "2", "12", "undefined: undefined_a"},
			{p("undef.star"), "2", "26", "undefined: undefined_b (did you mean undefined_a?)"},
		}
		if !reflect.DeepEqual(ds, want) {
			t.Errorf("diagnostics:\n got %+v\nwant %+v", ds, want)
		}
	})
}

func TestCheckSkipsTestdataLikeTheHost(t *testing.T) {
	// The host never loads modules under testdata/ (nor lib/ or hidden
	// folders); check, which validates what the host would load, must not
	// fail a folder because of a fixture kept there.
	dir := hosttest.TempDir(t, goodTreeWith(map[string]string{"testdata/broken.star": "def h(event, ctx)\n"}))
	r := runCLI(t, nil, "emit", "--no-defaults", "--dir", dir, "ping")
	if r.code != 0 || strings.Contains(r.stderr, "broken.star") {
		t.Fatalf("the host loads the folder without looking at testdata/:\n%v", r)
	}
	r = runCLI(t, nil, "check", dir)
	if r.code != 0 {
		t.Errorf("check reports a file the host never loads:\n%v", r)
	}
}

func TestCheckMissingPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.star")
	r := runCLI(t, nil, "check", missing)
	if r.code != 1 {
		t.Fatalf("want exit 1:\n%v", r)
	}
	if !strings.HasPrefix(r.stdout, missing+": cannot read: ") || !strings.Contains(r.stdout, "no such file or directory") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("stdout = %q, want one line %q", r.stdout, missing+": cannot read: ... no such file or directory")
	}
}

func TestCheckUsage(t *testing.T) {
	r := runCLI(t, nil, "check")
	if r.code != 2 || !strings.Contains(r.stderr, "Usage: afstudio check PATH...") {
		t.Fatalf("check without paths:\n%v", r)
	}
}

// TestCheckSkipsTestFiles: a test file named on the command line is not
// an integration: check skips it and says how to run it, and checks the
// rest.
func TestCheckSkipsTestFiles(t *testing.T) {
	dir := hosttest.TempDir(t, goodTreeWith(map[string]string{"x_test.star": "def test_x():\n    pass\n"}))
	test := filepath.Join(dir, "x_test.star")
	r := runCLI(t, nil, "check", test, dir)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, test+": skipped: a test file, not an integration; run it with afstudio test "+test) || !strings.Contains(r.stderr, "ok: 2 file(s)") {
		t.Fatalf("check of a test file and its folder:\n%v", r)
	}
}
