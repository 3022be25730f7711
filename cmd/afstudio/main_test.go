package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost/hosttest"
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
	t.Setenv("XDG_DATA_HOME", t.TempDir()) // a state folder of its own: no state from another run
	code := run(context.Background(), args, stdio{stdin, &stdout, &stderr})
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (r cliResult) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// goodTreeWith returns goodTree with extra files added.
func goodTreeWith(extra map[string]string) map[string]string {
	files := maps.Clone(goodTree)
	maps.Copy(files, extra)
	return files
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
	for _, arg := range []string{"help", "-h", "--help"} {
		r = runCLI(t, nil, arg)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "afstudio check PATH...") {
			t.Errorf("%s:\n%v", arg, r)
		}
	}
}

// TestUsageListsEveryFlag: `afstudio -h` lists, under each command, every
// flag that command accepts.
func TestUsageListsEveryFlag(t *testing.T) {
	usage := runCLI(t, nil, "-h").stdout
	// The usage text, cut at each "  afstudio COMMAND" line.
	sections := map[string]string{}
	for _, part := range strings.Split(usage, "\n  afstudio ")[1:] {
		synopsis, _, _ := strings.Cut(part, "\n")
		name, _, _ := strings.Cut(synopsis, " ")
		if strings.HasPrefix(name, "[") {
			name = "" // the studio window
		}
		sections[name] = part
	}
	want := map[string][]string{ // the flags users asked for by name
		"":    {"--dir DIR", "--no-defaults", "--no-watch", "--listen ADDR", "--allow-remote", "--tab TAB", "--select NAME"},
		"run": {"--headless", "--quiet DURATION", "--listen ADDR", "--allow-remote", "--no-watch"},
	}
	for _, c := range commands() {
		section, ok := sections[c.name]
		if !ok {
			t.Errorf("the usage text lacks the command %q:\n%s", c.name, usage)
			continue
		}
		if c.flags != nil {
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			c.flags(fs)
			fs.VisitAll(func(f *flag.Flag) {
				if !strings.HasPrefix(f.Usage, internalFlag) {
					want[c.name] = append(want[c.name], "--"+f.Name)
				}
			})
		}
		for _, f := range want[c.name] {
			if !strings.Contains(section, "\n        "+f+" ") {
				t.Errorf("the usage of %q does not list %s:\n%s", c.name, f, section)
			}
		}
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

// buildBinary builds the real afstudio binary once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "afstudio")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinary builds the real afstudio binary and runs it as a process.
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
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
	dir := hosttest.TempDir(t, map[string]string{
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

// TestMemoryLimitSources: --memory-limit reads sizes with units and
// refuses bad ones; the Settings tab's value is used when the flag is not
// given, and a bad one there is ignored (logged), keeping the default.
func TestMemoryLimitSources(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		setting string
		want    int64
		bad     bool
	}{
		{nil, "", defaultMemoryLimit, false},
		{[]string{"--memory-limit", "512MiB"}, "", 512 << 20, false},
		{[]string{"--memory-limit", "2G"}, "768MiB", 2 << 30, false},
		{nil, "768MiB", 768 << 20, false},
		{nil, "tiny", defaultMemoryLimit, false},
		{[]string{"--memory-limit", "0"}, "", 0, false},
		{[]string{"--memory-limit", "10"}, "", 0, true},
		{[]string{"--memory-limit", "lots"}, "", 0, true},
	} {
		var w workerFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		w.registerLimit(fs)
		err := fs.Parse(tc.args)
		if tc.bad {
			if err == nil {
				t.Errorf("%v: accepted", tc.args)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if !flagGiven(fs, "memory-limit") {
			w.limitFromSetting(tc.setting, slog.New(slog.DiscardHandler))
		}
		if int64(w.memoryLimit) != tc.want {
			t.Errorf("%v with setting %q: limit %d, want %d", tc.args, tc.setting, w.memoryLimit, tc.want)
		}
	}
}
