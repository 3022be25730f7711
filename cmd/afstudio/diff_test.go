package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

// counterV1 counts pings and keeps the last payload; counterV2 changes
// the count on some events; counterFails fails on one.
const (
	counterV1 = `load("lib/stats.star", "mean")

def on_ping(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return {"n": ctx.state["n"], "mean": mean(event.data.get("values", [0]))}

integration(name = "counter", handlers = {"ping": on_ping})
`
	counterV2 = `load("lib/stats.star", "mean")

def on_ping(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + (2 if event.data.get("big") else 1)
    return {"n": ctx.state["n"], "mean": mean(event.data.get("values", [0]))}

integration(name = "counter", handlers = {"ping": on_ping})
`
	counterBroken = `load("lib/stats.star", "mean")

def on_ping(event, ctx)
    return 1
`
)

func TestDiff(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"v1.star": counterV1, "v1copy.star": counterV1, "v2.star": counterV2, "broken.star": counterBroken,
		"rec.jsonl": `{"event":"ping","data":{"values":[1,2]}}
{"event":"mission_started","data":{}}
{"event":"ping","data":{"big":true},"id":"e2"}
{"event":"ping","data":{}}
`,
		"bad.jsonl": "{\"event\":\"ping\"}\n{\"event\":\"ping\",\"data\":{}\n"}
	hosttest.WriteFiles(t, dir, files)
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings, in order
		stderr string
	}{
		{"equal", []string{"--recording", p("rec.jsonl"), p("v1.star"), p("v1copy.star")}, 0,
			[]string{"4 events from " + p("rec.jsonl") + ": 4 equal, 0 different; handler failures: OLD 0, NEW 0; final states: 0 integrations differ"}, ""},
		{"changed", []string{"--recording", p("rec.jsonl"), p("v1.star"), p("v2.star")}, 1,
			[]string{"line 3 ping (id e2):\n  counter: $.result.n: 2 → 3\n", "line 4 ping:\n  counter: $.result.n: 3 → 4\n",
				"final state of counter:\n  $.n: 3 → 4\n", "4 events from", "2 equal, 2 different;", "final states: 1 integrations differ"}, ""},
		{"at most one shown", []string{"--recording", p("rec.jsonl"), "--max", "1", p("v1.star"), p("v2.star")}, 1,
			[]string{"line 3 ping (id e2):", "2 different (the first 1 shown; --max N shows more)"}, ""},
		{"json", []string{"--recording", p("rec.jsonl"), "--json", p("v1.star"), p("v2.star")}, 1,
			[]string{`{"kind":"event","line":3,"event":"ping","id":"e2","calls":[{"integration":"counter","event":"ping","depth":0,"differences":[{"path":"$.result.n","old":2,"new":3}],"total":1}]}`,
				`{"kind":"state","integration":"counter","differences":[{"path":"$.n","old":3,"new":4}],"total":1}`,
				`"equal":2,"different":2,"shown":2,"old_failures":0,"new_failures":0,"state_differences":1}`}, ""},
		{"broken new", []string{"--recording", p("rec.jsonl"), p("v1.star"), p("broken.star")}, 2, nil,
			p("broken.star") + " does not load; fix it and run diff again:\n" + p("broken.star") + ":4:1: got newline, want ':'"},
		{"bad recording", []string{"--recording", p("bad.jsonl"), p("v1.star"), p("v2.star")}, 2, nil, p("bad.jsonl") + ":2:"},
		{"no recording", []string{p("v1.star"), p("v2.star")}, 2, nil, "Usage: afstudio diff"},
		{"not an integration", []string{"--recording", p("rec.jsonl"), p("v1.star"), p("rec.jsonl")}, 2, nil, "rec.jsonl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"diff"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("want exit %d, stderr with %q:\n%v", tc.code, tc.stderr, r)
			}
			hasInOrder(t, r.stdout, tc.stdout...)
		})
	}
}

// TestDiffGit: with one file, diff compares it with its committed
// version (--rev), which loads its libraries from the same revision.
func TestDiffGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo := t.TempDir()
	hosttest.WriteFiles(t, repo, map[string]string{
		"integrations/counter.star":   strings.Replace(counterV1, `load("lib/stats.star", "mean")`, `load("lib/local.star", "mean")`, 1),
		"integrations/lib/local.star": "def mean(xs):\n    return 0\n",
		"rec.jsonl":                   `{"event":"ping","data":{"values":[1,2]}}` + "\n",
	})
	gitRun := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gitRun("init", "-q")
	gitRun("add", ".")
	gitRun("commit", "-qm", "v1")
	rec, mod := filepath.Join(repo, "rec.jsonl"), filepath.Join(repo, "integrations", "counter.star")

	r := runCLI(t, nil, "diff", "--recording", rec, mod)
	if r.code != 0 || !strings.Contains(r.stdout, "1 equal, 0 different") {
		t.Fatalf("unchanged file against HEAD: want exit 0:\n%v", r)
	}
	// The working copy's library changes: the committed one is used for OLD.
	hosttest.WriteFile(t, filepath.Join(repo, "integrations", "lib", "local.star"), "def mean(xs):\n    return 1\n")
	r = runCLI(t, nil, "diff", "--recording", rec, mod)
	if r.code != 1 || !strings.Contains(r.stdout, "counter: $.result.mean: 0 → 1") {
		t.Fatalf("changed library against HEAD: want exit 1 and the path:\n%v", r)
	}
	for _, tc := range []struct{ name, rev, file, stderr string }{
		{"unknown revision", "nope", mod, "--rev nope: "},
		{"a file not committed", "HEAD", filepath.Join(repo, "integrations", "new.star"), "is not in git at HEAD"},
		{"not in a repository", "HEAD", filepath.Join(t.TempDir(), "x.star"), "has no committed version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.HasPrefix(tc.file, repo) {
				os.WriteFile(tc.file, []byte(counterV1), 0o644)
			} else if _, err := os.Stat(tc.file); err != nil {
				os.WriteFile(tc.file, []byte(counterV1), 0o644)
			}
			r := runCLI(t, nil, "diff", "--recording", rec, "--rev", tc.rev, tc.file)
			if r.code != 2 || !strings.Contains(r.stderr, tc.stderr) || !strings.Contains(r.stderr, "OLD.star NEW.star") {
				t.Errorf("want exit 2 with %q and the two-file form:\n%v", tc.stderr, r)
			}
		})
	}
}
