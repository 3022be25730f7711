package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cliResult is what one call of run produced.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI calls run in-process with args and stdin (empty if nil).
func runCLI(t *testing.T, stdin io.Reader, args ...string) cliResult {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, stdin, &stdout, &stderr)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (r cliResult) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// writeTree writes name -> content into a fresh folder and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// jsonLines decodes every line of s as one JSON object.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line is not one JSON object: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// diagLine is a PATH:LINE:COL: message line.
var diagLine = regexp.MustCompile(`^(.+\.star):([1-9][0-9]*):([1-9][0-9]*): (\S.*)$`)

// goodTree is an integration folder with a local library and a load of
// the defaults' lib/stats.star.
var goodTree = map[string]string{
	"greeter.star": `load("lib/words.star", "greet")
load("lib/stats.star", "mean")

def on_ping(event, ctx):
    ctx.state["pings"] = ctx.state.get("pings", 0) + 1
    return {"greeting": greet(event.data.get("who", "world")), "pings": ctx.state["pings"], "mean": mean(event.data.get("values", []))}

def on_fail(event, ctx):
    return event.data["missing"]

integration(name = "greeter", priority = HIGH, handlers = {"ping": on_ping, "explode": on_fail})
`,
	"lib/words.star": "def greet(who):\n    return \"hello \" + who\n",
	// Not integration modules: a broken library nobody loads is not
	// checked, nor are hidden folders.
	"lib/unused.star":      "def broken(\n",
	".hidden/broken.star":  "def broken(\n",
	"sub/second.star":      "integration(name = \"second\", handlers = {\"ping\": lambda event, ctx: \"second\"})\n",
	"sub/notes.txt":        "not a module",
	"sub/.#greeter.star":   "editor lock file",
	"sub/x.star___jb_tmp_": "editor temporary",
}

func TestCheckGoodFolder(t *testing.T) {
	dir := writeTree(t, goodTree)
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
	dir := writeTree(t, map[string]string{
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
	files := map[string]string{"testdata/broken.star": "def h(event, ctx)\n"}
	for k, v := range goodTree {
		files[k] = v
	}
	dir := writeTree(t, files)
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

func TestEmitDefaults(t *testing.T) {
	r := runCLI(t, nil, "emit", "mission_started", `{"mission_id":"m1"}`)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("emit mission_started:\n%v", r)
	}
	lines := jsonLines(t, r.stdout)
	want := []handled{{"analytics", "mission_started", 0}, {"audit", "mission_started", 0}}
	if got := handledBy(lines); !reflect.DeepEqual(got, want) {
		t.Fatalf("handled by %v, want %v", got, want)
	}
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
	r = runCLI(t, nil, "emit", "mission_failed", `{"mission_id":"m1","error":"timeout"}`)
	if r.code != 0 {
		t.Fatalf("emit mission_failed:\n%v", r)
	}
	lines = jsonLines(t, r.stdout)
	want = []handled{
		{"analytics", "mission_failed", 0}, {"alerts", "mission_failed", 0}, {"afterimage", "mission_failed", 0},
		{"audit", "mission_failed", 0}, {"audit", "alert_raised", 1},
	}
	if got := handledBy(lines); !reflect.DeepEqual(got, want) {
		t.Fatalf("handled by %v, want %v", got, want)
	}
	for _, l := range lines {
		checkResultLine(t, l)
	}
	if !reflect.DeepEqual(lines[1]["result"], map[string]any{"alerted": true}) {
		t.Errorf("alerts result = %v", lines[1]["result"])
	}

	// The payload may be left out.
	r = runCLI(t, nil, "emit", "mission_completed")
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
	dir := writeTree(t, goodTree)
	r := runCLI(t, nil, "emit", "--no-defaults", "--dir", dir, "ping", `{"who":"ada","values":[1,2,3,4]}`)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("emit ping:\n%v", r)
	}
	lines := jsonLines(t, r.stdout)
	want := []handled{{"greeter", "ping", 0}, {"second", "ping", 0}}
	if got := handledBy(lines); !reflect.DeepEqual(got, want) {
		t.Fatalf("handled by %v, want %v (no defaults)", got, want)
	}
	checkResultLine(t, lines[0])
	if want := map[string]any{"greeting": "hello ada", "pings": 1.0, "mean": 2.5}; !reflect.DeepEqual(lines[0]["result"], want) {
		t.Errorf("greeter result = %v, want %v", lines[0]["result"], want)
	}

	// Without --no-defaults the defaults are there too (none handles ping).
	r = runCLI(t, nil, "emit", "--dir", dir, "mission_started", `{"mission_id":"m1"}`)
	if got := handledBy(jsonLines(t, r.stdout)); r.code != 0 || len(got) != 2 || got[0].integration != "analytics" {
		t.Errorf("emit with defaults and --dir:\n%v", r)
	}

	// No handler: exit 0 with a note.
	r = runCLI(t, nil, "emit", "--no-defaults", "--dir", dir, "mission_started")
	if r.code != 0 || r.stdout != "" || r.stderr != "no integration handles \"mission_started\"\n" {
		t.Errorf("emit nobody handles:\n%v", r)
	}

	// A failing handler: exit 1, ok false, result null, error PATH:LINE:COL: message.
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
	errText, _ := l["error"].(string)
	m := diagLine.FindStringSubmatch(errText)
	if l["ok"] != false || l["result"] != nil || m == nil {
		t.Fatalf("failed handler line %v: want ok false, result null, error PATH:LINE:COL: message", l)
	}
	if m[1] != filepath.Join(dir, "greeter.star") || m[2] != "9" || !strings.Contains(m[4], `key "missing" not in dict`) {
		t.Errorf("error = %q, want %s:9:...: key \"missing\" not in dict", errText, filepath.Join(dir, "greeter.star"))
	}
}

func TestEmitReportsLoadProblems(t *testing.T) {
	files := map[string]string{"broken.star": "def h(event, ctx)\n"}
	for k, v := range goodTree {
		files[k] = v
	}
	dir := writeTree(t, files)
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

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-v"} {
		r := runCLI(t, nil, arg)
		if r.code != 0 || r.stderr != "" || !regexp.MustCompile(`^afstudio \S+ \(commit \S+, built \S+\)\n$`).MatchString(r.stdout) {
			t.Errorf("%s:\n%v", arg, r)
		}
		if !strings.HasPrefix(r.stdout, "afstudio "+version+" ") {
			t.Errorf("%s: %q lacks the version %s", arg, r.stdout, version)
		}
	}
}

func TestUnknownCommandAndUsage(t *testing.T) {
	r := runCLI(t, nil, "frobnicate")
	if r.code != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, `afstudio: unknown command "frobnicate"`) || !strings.Contains(r.stderr, "Usage:") {
		t.Errorf("unknown command:\n%v", r)
	}
	// (No command at all opens the studio window, so it is not run here.)
	r = runCLI(t, nil, "help")
	if r.code != 0 || !strings.Contains(r.stdout, "afstudio check PATH...") {
		t.Errorf("help:\n%v", r)
	}
}

func TestRunRequiresHeadless(t *testing.T) {
	r := runCLI(t, nil, "run")
	if r.code != 2 || !strings.Contains(r.stderr, "--headless") {
		t.Errorf("run without --headless:\n%v", r)
	}
}

// TestStudioWithoutDisplay: without a display the studio says what to do
// instead of panicking inside the window system.
func TestStudioWithoutDisplay(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("always has a display")
	}
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	r := runCLI(t, nil, "--dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stderr, "no display") || !strings.Contains(r.stderr, "afstudio run --headless") {
		t.Fatalf("the studio without a display:\n%v", r)
	}
}

func TestRunHeadless(t *testing.T) {
	input := strings.Join([]string{
		`{"event": "mission_started", "data": {"mission_id": "m1"}}`,
		`this is not json`,
		``,
		`{"event": "response_received", "data": {"mission_id": "m1", "latency_ms": 7000, "response": "late"}}`,
		`{"event": "mission_completed", "data": {"mission_id": "m1"}, "extra": true}`,
		`{"event": "", "data": {}}`,
		`{"event": "mission_completed", "data": [1]}`,
		`{"event": "mission_completed", "data": {"mission_id": "m1"}}`,
	}, "\n") + "\n"
	r := runCLI(t, strings.NewReader(input), "run", "--headless")
	if r.code != 0 {
		t.Fatalf("run --headless must return 0 at end of input:\n%v", r)
	}
	lines := jsonLines(t, r.stdout)
	var loaded []string
	var results []map[string]any
	inputErrors := map[float64]string{}
	var logs []string
	for _, l := range lines {
		switch l["kind"] {
		case "loaded":
			loaded = append(loaded, l["integration"].(string))
			if l["module"] != "builtin:"+l["integration"].(string)+".star" || l["generation"] != 1.0 {
				t.Errorf("loaded notice %v", l)
			}
		case "result":
			checkResultLine(t, l)
			results = append(results, l)
		case "input_error":
			n, _ := l["line"].(float64)
			inputErrors[n], _ = l["error"].(string)
		case "log":
			logs = append(logs, l["integration"].(string)+" "+l["level"].(string)+": "+l["message"].(string))
		case "event":
			t.Errorf("event notices are not written: %v", l)
		}
	}
	slices.Sort(loaded)
	if want := []string{"afterimage", "alerts", "analytics", "audit"}; !reflect.DeepEqual(loaded, want) {
		t.Errorf("loaded notices for %v, want %v", loaded, want)
	}
	want := []handled{
		{"analytics", "mission_started", 0}, {"audit", "mission_started", 0},
		{"analytics", "response_received", 0}, {"alerts", "response_received", 0}, {"afterimage", "response_received", 0},
		{"audit", "response_received", 0}, {"audit", "alert_raised", 1},
		{"analytics", "mission_completed", 0}, {"afterimage", "mission_completed", 0}, {"audit", "mission_completed", 0},
	}
	if got := handledBy(results); !reflect.DeepEqual(got, want) {
		t.Fatalf("results:\n got %v\nwant %v", got, want)
	}
	if got := results[7]["result"].(map[string]any); got["status"] != "completed" || got["p50"] != 7000.0 || got["responses"] != 1.0 {
		t.Errorf("analytics result for mission_completed = %v", got)
	}
	if got := results[8]["result"]; !reflect.DeepEqual(got, map[string]any{"last_response": "late", "remembered": 1.0}) {
		t.Errorf("afterimage result for mission_completed = %v", got)
	}
	wantErrs := map[float64]string{
		2: "stdin line 2: invalid character",
		5: `stdin line 5: json: unknown field "extra"`,
		6: `stdin line 6: invalid event name ""`,
		7: "stdin line 7: event data must be a JSON object",
	}
	if len(inputErrors) != len(wantErrs) {
		t.Errorf("input errors = %v, want lines 2, 5, 6, 7", inputErrors)
	}
	for n, prefix := range wantErrs {
		if !strings.HasPrefix(inputErrors[n], prefix) {
			t.Errorf("input error of line %v = %q, want it to start with %q", n, inputErrors[n], prefix)
		}
	}
	if want := []string{"alerts warn: alert: slow_response: 7000 ms for mission m1"}; !reflect.DeepEqual(logs, want) {
		t.Errorf("log notices = %v, want %v", logs, want)
	}
	if !strings.Contains(r.stderr, "end of input, shutting down") {
		t.Errorf("stderr lacks the shutdown log:\n%s", r.stderr)
	}
}

func TestRunHeadlessUserFolder(t *testing.T) {
	dir := writeTree(t, goodTree)
	input := `{"event": "ping", "data": {"who": "a"}}` + "\n" + `{"event": "ping", "data": {"who": "b"}}` + "\n"
	// The folder is watched (no --no-watch); end of input still stops the host.
	r := runCLI(t, strings.NewReader(input), "run", "--headless", "--no-defaults", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("run --headless:\n%v", r)
	}
	var loaded, greetings []string
	for _, l := range jsonLines(t, r.stdout) {
		switch l["kind"] {
		case "loaded":
			loaded = append(loaded, l["integration"].(string))
		case "result":
			if l["integration"] == "greeter" {
				res := l["result"].(map[string]any)
				greetings = append(greetings, res["greeting"].(string))
			}
		}
	}
	slices.Sort(loaded)
	if !reflect.DeepEqual(loaded, []string{"greeter", "second"}) {
		t.Errorf("loaded = %v, want greeter and second only", loaded)
	}
	if !reflect.DeepEqual(greetings, []string{"hello a", "hello b"}) {
		t.Errorf("greetings = %v", greetings)
	}
}

// TestBinary builds the real afstudio binary and runs it as a process.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "afstudio")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	exitCode := func(err error) int {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("running %s: %v", bin, err)
		}
		return 0
	}
	dir := writeTree(t, map[string]string{
		"good/greeter.star":   goodTree["greeter.star"],
		"good/lib/words.star": goodTree["lib/words.star"],
		"bad.star":            "def h(event, ctx)\n",
	})

	t.Run("check", func(t *testing.T) {
		cmd := exec.Command(bin, "check", "good")
		cmd.Dir = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if code := exitCode(cmd.Run()); code != 0 || stdout.Len() != 0 || !strings.HasSuffix(stderr.String(), "ok: 1 file(s), 1 integration(s)\n") {
			t.Errorf("afstudio check good: exit %d\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
		}
		// Paths inside the working folder are shown as the user typed them.
		cmd = exec.Command(bin, "check", "bad.star")
		cmd.Dir = dir
		out, err := cmd.Output()
		if code := exitCode(err); code != 1 || string(out) != "bad.star:2:1: got newline, want ':'\n" {
			t.Errorf("afstudio check bad.star: exit %d, stdout %q", code, out)
		}
	})

	t.Run("quiet stderr in the C locale", func(t *testing.T) {
		// A command-line command prints nothing but its own messages,
		// also in the C locale that containers and CI often run with.
		cmd := exec.Command(bin, "check", "good")
		cmd.Dir = dir
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LC_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "LANG=C.UTF-8")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if code := exitCode(cmd.Run()); code != 0 || stderr.String() != "ok: 1 file(s), 1 integration(s)\n" {
			t.Errorf("LANG=C.UTF-8 afstudio check good: exit %d, stderr %q, want only the ok line", code, &stderr)
		}
	})

	t.Run("emit", func(t *testing.T) {
		cmd := exec.Command(bin, "emit", "mission_started", `{"mission_id":"m1"}`)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if code := exitCode(err); code != 0 {
			t.Fatalf("afstudio emit: exit %d\nstderr: %s", code, &stderr)
		}
		lines := jsonLines(t, string(out))
		want := []handled{{"analytics", "mission_started", 0}, {"audit", "mission_started", 0}}
		if got := handledBy(lines); !reflect.DeepEqual(got, want) {
			t.Fatalf("handled by %v, want %v", got, want)
		}
		for _, l := range lines {
			checkResultLine(t, l)
		}
		if !reflect.DeepEqual(lines[0]["result"], map[string]any{"missions": 1.0}) {
			t.Errorf("analytics result = %v", lines[0]["result"])
		}

		cmd = exec.Command(bin, "emit", "mission_started", "{not json")
		if code := exitCode(cmd.Run()); code != 2 {
			t.Errorf("afstudio emit with invalid JSON: exit %d, want 2", code)
		}
	})
}
