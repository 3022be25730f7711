package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

var resultKeys = []string{"integration", "event", "generation", "depth", "ok", "result", "error", "duration_us"}

// checkResultLine checks that l has the keys of a handler result line.
func checkResultLine(t *testing.T, l map[string]any) {
	t.Helper()
	for _, k := range resultKeys {
		if _, ok := l[k]; !ok {
			t.Errorf("result line lacks %q: %v", k, l)
		}
	}
	if _, ok := l["duration_us"].(float64); !ok {
		t.Errorf("duration_us is %T, want a number: %v", l["duration_us"], l)
	}
}

type handled struct {
	integration, event string
	depth              float64
}

func handledBy(lines []map[string]any) []handled {
	var out []handled
	for _, l := range lines {
		d, _ := l["depth"].(float64)
		out = append(out, handled{l["integration"].(string), l["event"].(string), d})
	}
	return out
}

// emitHandledBy runs afstudio with args, wants exit 0, nothing on stderr
// and results from the handlers want, and returns the result lines.
func emitHandledBy(t *testing.T, want []handled, args ...string) []map[string]any {
	t.Helper()
	r := runCLI(t, nil, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%q:\n%v", args, r)
	}
	lines := jsonLines(t, r.stdout)
	if got := handledBy(lines); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: handled by %v, want %v", args, got, want)
	}
	return lines
}

func TestEmitDefaults(t *testing.T) {
	lines := emitHandledBy(t, []handled{{"analytics", "mission_started", 0}, {"audit", "mission_started", 0}},
		"emit", "mission_started", `{"mission_id":"m1"}`)
	for _, l := range lines {
		checkResultLine(t, l)
		if l["ok"] != true || l["error"] != nil || l["generation"] != 1.0 {
			t.Errorf("line %v: want ok, no error, generation 1", l)
		}
	}
	if !reflect.DeepEqual(lines[0]["result"], map[string]any{"missions": 1.0}) {
		t.Errorf("analytics result = %v", lines[0]["result"])
	}
	if !reflect.DeepEqual(lines[1]["result"], map[string]any{"kept": 1.0, "total": 1.0}) {
		t.Errorf("audit result = %v", lines[1]["result"])
	}

	// A failed mission: every default in priority order, then the
	// follow-up alert at depth 1.
	lines = emitHandledBy(t, []handled{
		{"analytics", "mission_failed", 0}, {"alerts", "mission_failed", 0}, {"afterimage", "mission_failed", 0},
		{"audit", "mission_failed", 0}, {"audit", "alert_raised", 1},
	}, "emit", "mission_failed", `{"mission_id":"m1","error":"timeout"}`)
	for _, l := range lines {
		checkResultLine(t, l)
	}
	if !reflect.DeepEqual(lines[1]["result"], map[string]any{"alerted": true}) {
		t.Errorf("alerts result = %v", lines[1]["result"])
	}

	// The payload may be left out.
	r := runCLI(t, nil, "emit", "mission_completed")
	if r.code != 0 || len(jsonLines(t, r.stdout)) != 3 {
		t.Errorf("emit mission_completed without a payload:\n%v", r)
	}
}

func TestEmitBadInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"invalid JSON", []string{"emit", "mission_started", `{"mission_id": m1}`}, "afstudio: JSON argument: event data is not valid JSON"},
		{"not an object", []string{"emit", "mission_started", `["m1"]`}, "afstudio: JSON argument: event data must be a JSON object"},
		{"trailing content", []string{"emit", "mission_started", `{} {}`}, "afstudio: JSON argument: event data has trailing content"},
		{"bad event name", []string{"emit", "mission started"}, `afstudio: invalid event name "mission started"`},
		{"no event", []string{"emit"}, "Usage: afstudio emit"},
		{"too many arguments", []string{"emit", "a", "{}", "extra"}, "Usage: afstudio emit"},
		{"unknown flag", []string{"emit", "--frobnicate", "a"}, "flag provided but not defined: -frobnicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("want exit 2, no output, stderr containing %q; got\n%v", tc.stderr, r)
			}
		})
	}
}

func TestEmitNoDefaultsDir(t *testing.T) {
	dir := hosttest.TempDir(t, goodTree)
	lines := emitHandledBy(t, []handled{{"greeter", "ping", 0}, {"second", "ping", 0}},
		"emit", "--no-defaults", "--dir", dir, "ping", `{"who":"ada","values":[1,2,3,4]}`)
	checkResultLine(t, lines[0])
	if want := map[string]any{"greeting": "hello ada", "pings": 1.0, "mean": 2.5}; !reflect.DeepEqual(lines[0]["result"], want) {
		t.Errorf("greeter result = %v, want %v", lines[0]["result"], want)
	}

	// Without --no-defaults the defaults are there too (none handles ping).
	r := runCLI(t, nil, "emit", "--dir", dir, "mission_started", `{"mission_id":"m1"}`)
	if got := handledBy(jsonLines(t, r.stdout)); r.code != 0 || len(got) != 2 || got[0].integration != "analytics" {
		t.Errorf("emit with defaults and --dir:\n%v", r)
	}

	// No handler: exit 0 with a note.
	r = runCLI(t, nil, "emit", "--no-defaults", "--dir", dir, "mission_started")
	if r.code != 0 || r.stdout != "" || r.stderr != "no integration handles \"mission_started\"\n" {
		t.Errorf("emit nobody handles:\n%v", r)
	}

	// A failing handler: exit 1, ok false, result null, error the
	// diagnostic (file, line, col, message, kind).
	r = runCLI(t, nil, "emit", "--no-defaults", "--dir", dir, "explode", "{}")
	if r.code != 1 {
		t.Fatalf("emit explode: want exit 1:\n%v", r)
	}
	lines = jsonLines(t, r.stdout)
	if len(lines) != 1 {
		t.Fatalf("want one line:\n%v", r)
	}
	l := lines[0]
	checkResultLine(t, l)
	if l["ok"] != false || l["result"] != nil {
		t.Fatalf("failed handler line %v: want ok false, result null", l)
	}
	wantErr := map[string]any{"file": filepath.Join(dir, "greeter.star"), "line": 9.0, "col": 22.0, "message": `key "missing" not in dict`, "kind": "runtime"}
	if !reflect.DeepEqual(l["error"], wantErr) {
		t.Errorf("error = %v, want %v", l["error"], wantErr)
	}
}

func TestEmitReportsLoadProblems(t *testing.T) {
	dir := hosttest.TempDir(t, goodTreeWith(map[string]string{"broken.star": "def h(event, ctx)\n"}))
	r := runCLI(t, nil, "emit", "--no-defaults", "--dir", dir, "ping")
	// What loaded still serves; the problem is on stderr as PATH:LINE:COL: message.
	if r.code != 0 || len(jsonLines(t, r.stdout)) != 2 {
		t.Fatalf("emit with one broken module:\n%v", r)
	}
	want := filepath.Join(dir, "broken.star") + ":2:1: got newline, want ':'\n"
	if r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
}
