package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

// resultOf returns the handler result nested in a result notice line,
// checking that the notice repeats its integration, event and generation.
func resultOf(t *testing.T, l map[string]any) map[string]any {
	t.Helper()
	r, ok := l["result"].(map[string]any)
	if l["kind"] != "result" || !ok {
		t.Fatalf("not a result notice with the result under \"result\": %v", l)
	}
	checkResultLine(t, r)
	for _, k := range []string{"integration", "event", "generation"} {
		if l[k] != r[k] {
			t.Errorf("result notice %s = %v, its result's = %v", k, l[k], r[k])
		}
	}
	return r
}

// TestRunHeadless runs `afstudio run --headless` in-process on the
// defaults: every output line is a notice, in the order things happened
// (the protocol itself is tested in package headless).
func TestRunHeadless(t *testing.T) {
	input := strings.Join([]string{
		`{"event": "mission_started", "data": {"mission_id": "m1"}}`,
		`this is not json`,
		``,
		`{"event": "response_received", "data": {"mission_id": "m1", "latency_ms": 7000, "response": "late"}}`,
		`{"event": "mission_completed", "data": {"mission_id": "m1"}}`,
	}, "\n") + "\n"
	r := runCLI(t, strings.NewReader(input), "run", "--headless")
	if r.code != 0 {
		t.Fatalf("run --headless must return 0 at end of input:\n%v", r)
	}
	var got []string
	for _, l := range jsonLines(t, r.stdout) {
		switch l["kind"] {
		case "loaded":
			if l["module"] != "builtin:"+l["integration"].(string)+".star" || l["generation"] != 1.0 {
				t.Errorf("loaded notice %v", l)
			}
			got = append(got, "loaded")
		case "result":
			res := resultOf(t, l)
			got = append(got, "result "+l["integration"].(string)+" "+l["event"].(string))
			if l["integration"] == "afterimage" && l["event"] == "mission_completed" &&
				!reflect.DeepEqual(res["result"], map[string]any{"last_response": "late", "remembered": 1.0}) {
				t.Errorf("afterimage result for mission_completed = %v", res["result"])
			}
		case "input_error":
			e, _ := l["error"].(map[string]any)
			got = append(got, "input_error "+e["file"].(string)+" line "+strconv.Itoa(int(e["line"].(float64))))
		case "log":
			got = append(got, "log "+l["integration"].(string)+": "+l["message"].(string))
		default:
			t.Errorf("unexpected line %v", l)
		}
	}
	want := []string{"loaded", "loaded", "loaded", "loaded",
		"result analytics mission_started", "result audit mission_started",
		"input_error stdin line 2",
		"log alerts: alert: slow_response: 7000 ms for mission m1",
		"result analytics response_received", "result alerts response_received", "result afterimage response_received",
		"result audit response_received", "result audit alert_raised",
		"result analytics mission_completed", "result afterimage mission_completed", "result audit mission_completed",
	}
	if !slices.Equal(got, want) {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(r.stderr, "end of input, shutting down") {
		t.Errorf("stderr lacks the shutdown log:\n%s", r.stderr)
	}
}

func TestRunHeadlessUserFolder(t *testing.T) {
	dir := hosttest.TempDir(t, goodTree)
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
				res := resultOf(t, l)["result"].(map[string]any)
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

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{{"run"}, {"run", "--no-watch"}, {"run", "--headless", "extra"}} {
		r := runCLI(t, nil, args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "needs --headless") || !strings.Contains(r.stderr, "run afstudio without a command") {
			t.Errorf("%q: want exit 2 and what to do instead:\n%v", args, r)
		}
		if strings.Contains(r.stderr, "not part of this build") {
			t.Errorf("%q: the stale message is back:\n%v", args, r)
		}
	}
}

// hostProc is a running `afstudio run --headless ...` (the real binary):
// its stdout decoded line by line, its stderr kept, and the address of
// the control API when it serves one. It is the tests' one way to start
// the headless host as a process.
type hostProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser // kept open: the host reads events there
	addr   chan string
	lines  chan stdoutLine
	stderr hosttest.Buffer
	exited chan struct{} // closed when the host exited and its output is read
	err    error         // how it exited (cmd.Wait), set before exited closes
}

// stdoutLine is one line the host wrote on stdout, as written and
// decoded.
type stdoutLine struct {
	raw []byte
	m   map[string]any
}

// servingLine is the log line of a control API starting.
var servingLine = regexp.MustCompile(`msg="control API serving" addr=(http://127\.0\.0\.1:[0-9]+)`)

// startHost starts `bin run --headless args...` with env (nil: this
// process's) and a state folder of its own (unless args give --data); the
// test's cleanup kills it.
func startHost(t *testing.T, bin string, env []string, args ...string) *hostProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--headless"}, args...)...)
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(slices.Clip(env), "XDG_DATA_HOME="+t.TempDir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &hostProc{cmd: cmd, stdin: stdin, addr: make(chan string, 1), lines: make(chan stdoutLine, 4096), exited: make(chan struct{})}
	var readers sync.WaitGroup
	readers.Go(func() { p.readStderr(stderr) })
	readers.Go(func() { p.readStdout(t, stdout) })
	go func() {
		readers.Wait() // cmd.Wait closes the pipes: read them to the end first
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		<-p.exited
	})
	return p
}

func (p *hostProc) readStderr(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.stderr.Write([]byte(sc.Text() + "\n"))
		if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
			select {
			case p.addr <- m[1]:
			default: // a second API start: the first address is kept
			}
		}
	}
}

func (p *hostProc) readStdout(t *testing.T, r io.Reader) {
	defer close(p.lines)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("stdout line is not JSON: %q", sc.Text())
			continue
		}
		select {
		case p.lines <- stdoutLine{raw: slices.Clone(sc.Bytes()), m: m}:
		default: // nobody is reading: drop
		}
	}
}

// log returns what the host wrote on stderr so far.
func (p *hostProc) log() string { return p.stderr.String() }

// waitAddr returns the URL of the control API once it serves.
func (p *hostProc) waitAddr(t *testing.T) string {
	t.Helper()
	select {
	case a := <-p.addr:
		return a
	case <-time.After(20 * time.Second):
		t.Fatalf("no \"control API serving\" line on stderr within 20s:\n%s", p.log())
		return ""
	}
}

// waitFor returns the first stdout line for which match is true.
func (p *hostProc) waitFor(t *testing.T, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	return p.waitForLine(t, what, match).m
}

// waitForLine is waitFor, returning the line as written too.
func (p *hostProc) waitForLine(t *testing.T, what string, match func(map[string]any) bool) stdoutLine {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("output ended before %s:\n%s", what, p.log())
			}
			if match(l.m) {
				return l
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// wait waits up to 10s for the host to exit after what (e.g. "end of
// input") and returns how it exited (cmd.Wait's error; nil for status 0).
// Its stderr is read to the end by then.
func (p *hostProc) wait(t *testing.T, what string) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(10 * time.Second):
		t.Fatalf("the host did not exit after %s:\n%s", what, p.log())
		return nil
	}
}

// waitExit waits up to 10s for the host to exit with status 0 after
// what.
func (p *hostProc) waitExit(t *testing.T, what string) {
	t.Helper()
	if err := p.wait(t, what); err != nil {
		t.Fatalf("exit after %s: %v\n%s", what, err, p.log())
	}
}

func kindIs(kind, integration string) func(map[string]any) bool {
	return func(l map[string]any) bool { return l["kind"] == kind && l["integration"] == integration }
}

// greeterV1 is greeter.star for the host processes: it answers "ping"
// with "v1"; a test replaces "v1" to save a new version.
const greeterV1 = "def h(event, ctx):\n    return \"v1\"\n\nintegration(name = \"greeter\", handlers = {\"ping\": h})\n"

// TestHeadlessProcessReloadsOnSave runs the real binary: it loads a
// folder, reloads a file saved on disk, answers events on stdin with the
// new version, reports an invalid save with file:line:col while the old
// version serves, and exits 0 at end of input.
func TestHeadlessProcessReloadsOnSave(t *testing.T) {
	bin := buildBinary(t)
	root := t.TempDir()
	path := filepath.Join(root, "greeter.star")
	hosttest.WriteFile(t, path, greeterV1)
	p := startHost(t, bin, nil, "--no-defaults", "--dir", root)
	p.waitFor(t, "loaded notice", kindIs("loaded", "greeter"))

	hosttest.WriteFile(t, path, strings.Replace(greeterV1, "v1", "v2", 1))
	l := p.waitFor(t, "reloaded notice", kindIs("reloaded", "greeter"))
	if l["generation"] != 2.0 {
		t.Fatalf("reloaded line: %v", l)
	}
	io.WriteString(p.stdin, `{"event": "ping", "data": {}}`+"\n")
	l = p.waitFor(t, "result", kindIs("result", "greeter"))
	if r := resultOf(t, l); r["result"] != "v2" || r["ok"] != true || r["generation"] != 2.0 {
		t.Fatalf("result line: %v", l)
	}

	hosttest.WriteFile(t, path, "def h(event, ctx)\n")
	l = p.waitFor(t, "reload_failed notice", kindIs("reload_failed", "greeter"))
	if e, _ := l["error"].(map[string]any); e["file"] != path || e["line"] != 2.0 || e["col"] != 1.0 {
		t.Fatalf("reload_failed error lacks file, line and col: %v", l)
	}
	io.WriteString(p.stdin, "not json\n")
	l = p.waitFor(t, "input_error", func(l map[string]any) bool { return l["kind"] == "input_error" })
	if e, _ := l["error"].(map[string]any); e["file"] != "stdin" || e["line"] != 2.0 {
		t.Fatalf("input_error does not name stdin line 2: %v", l)
	}
	io.WriteString(p.stdin, `{"event": "ping"}`+"\n")
	l = p.waitFor(t, "result from the old version", kindIs("result", "greeter"))
	if resultOf(t, l)["result"] != "v2" {
		t.Fatalf("after a failed reload the old version must answer: %v", l)
	}

	p.stdin.Close()
	p.waitExit(t, "end of input")
}

func TestHeadlessProcessStopsOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	p := startHost(t, bin, nil)
	p.waitFor(t, "defaults loaded", kindIs("loaded", "audit"))
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitExit(t, "SIGTERM")
}
