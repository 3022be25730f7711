package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	fynetest "fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// counterSource counts its events in ctx.state["n"] and returns the count.
const counterSource = `def on_tick(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    ctx.state["log"] = (ctx.state.get("log", []) + [event.data["i"]])[-50:]
    return ctx.state["n"]

integration(name = "counter", handlers = {"tick": on_tick})
`

// TestStateSurvivesKill kills a real headless host (SIGKILL) in the middle
// of a stream of events and starts it again on the same state folder: the
// state it restores is complete (valid, with the last 50 event numbers in
// order, ending at the count), never more than what was handled, and no
// older than what the host had handled 300 ms before the kill: the loss
// bound is --flush (50 ms here) plus one write, and the other 250 ms are
// room for a loaded machine (the times are those at which this test read
// the results, after the host handled them).
func TestStateSurvivesKill(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	bin := buildBinary(t)
	dir := hosttest.TempDir(t, map[string]string{"counter.star": counterSource})
	data := t.TempDir()
	args := []string{"--no-defaults", "--no-watch", "--dir", dir, "--data", data, "--flush", "50ms"}
	p := startHost(t, bin, nil, args...)

	type seen struct {
		at time.Time
		n  int
	}
	counts := make(chan seen, 100000)
	go func() {
		for l := range p.lines {
			if l.m["kind"] == "result" && l.m["integration"] == "counter" {
				r := l.m["result"].(map[string]any)
				counts <- seen{time.Now(), int(r["result"].(float64))}
			}
		}
		close(counts)
	}()
	stopFeeding := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stopFeeding:
				return
			default:
			}
			if _, err := fmt.Fprintf(p.stdin, `{"event": "tick", "data": {"i": %d}}`+"\n", i); err != nil {
				return // killed
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var history []seen
	deadline := time.After(20 * time.Second)
	for len(history) < 2 || history[len(history)-1].at.Sub(history[0].at) < 2*time.Second {
		select {
		case s := <-counts:
			history = append(history, s)
		case <-deadline:
			t.Fatalf("%d results in 20 s:\n%s", len(history), p.log())
		}
	}
	killedAt := time.Now()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stopFeeding)
	for s := range counts {
		history = append(history, s)
	}
	handled := history[len(history)-1].n
	mustHave := 0 // the count the host had reached 300 ms before the kill
	for _, s := range history {
		if killedAt.Sub(s.at) >= 300*time.Millisecond {
			mustHave = s.n
		}
	}

	out, err := exec.Command(bin, "state", "list", "--json", "--data", data).Output()
	if err != nil {
		t.Fatalf("state list after the kill: %v", err)
	}
	var row struct {
		Name  string
		State struct {
			N   int
			Log []int
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("a stored record is not whole JSON: %v\n%s", err, sc.Text())
		}
	}
	st := row.State
	if row.Name != "counter" || st.N < mustHave || st.N > handled || len(st.Log) != min(50, st.N) || st.Log[len(st.Log)-1] != st.N-1 {
		t.Fatalf("stored after the kill: %s; the host had handled %d events, %d of them 300 ms before the kill", out, handled, mustHave)
	}
	for i := 1; i < len(st.Log); i++ {
		if st.Log[i] != st.Log[i-1]+1 {
			t.Fatalf("the stored state is torn: %v", st.Log)
		}
	}

	// The restarted host goes on from the stored count.
	p2 := startHost(t, bin, nil, args...)
	fmt.Fprintf(p2.stdin, `{"event": "tick", "data": {"i": %d}}`+"\n", st.N)
	r := p2.waitFor(t, "the first result after the restart", func(l map[string]any) bool {
		return l["kind"] == "result" && l["integration"] == "counter"
	})
	if got := resultOf(t, r)["result"]; got != float64(st.N+1) {
		t.Fatalf("after the restart the count went on from %v, want %d", got, st.N+1)
	}
	t.Logf("handled %d events; %d stored at the kill (at least %d were required); lost %d (%.0f ms of events)",
		handled, st.N, mustHave, handled-st.N, float64(handled-st.N)*float64(killedAt.Sub(history[0].at).Milliseconds())/float64(len(history)))
}

// runBin runs bin with args and returns its exit code and output.
func runBin(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// feed runs `run --headless` on the counter folder with the data folder and
// extra args, sends n tick events and returns its stdout and stderr.
func feed(t *testing.T, bin, dir, data string, n int, extra ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--headless", "--no-defaults", "--no-watch", "--dir", dir, "--data", data}, extra...)...)
	cmd.Stdin = strings.NewReader(strings.Repeat(`{"event": "tick", "data": {"i": 0}}`+"\n", n))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("run --headless: %v\n%s", err, errOut.String())
	}
	return out.String(), errOut.String()
}

// storedCount returns counter's stored count (state export).
func storedCount(t *testing.T, bin, data string) int {
	t.Helper()
	code, out, errOut := runBin(t, bin, "state", "export", "counter", "--data", data)
	var exp struct {
		Integrations map[string]struct{ State struct{ N int } }
	}
	if code != 0 || json.Unmarshal([]byte(out), &exp) != nil {
		t.Fatalf("state export: %d %s %s", code, out, errOut)
	}
	return exp.Integrations["counter"].State.N
}

// TestStateCommands: export, then an import of a broken file (nothing
// changes, the error names the field), then of the export (the state is
// back); purge forgets it; --disable is remembered.
func TestStateCommands(t *testing.T) {
	bin := buildBinary(t)
	dir := hosttest.TempDir(t, map[string]string{"counter.star": counterSource})
	data := t.TempDir()
	feed(t, bin, dir, data, 3)
	_, exported, _ := runBin(t, bin, "state", "export", "--data", data)
	file := filepath.Join(t.TempDir(), "state.json")
	hosttest.WriteFile(t, file, exported)
	feed(t, bin, dir, data, 2)
	if n := storedCount(t, bin, data); n != 5 {
		t.Fatalf("count %d, want 5", n)
	}
	broken := filepath.Join(t.TempDir(), "broken.json")
	hosttest.WriteFile(t, broken, strings.Replace(exported, `"n": 3`, `"n": NaN`, 1))
	if code, _, errOut := runBin(t, bin, "state", "import", broken, "--data", data); code == 0 || !strings.Contains(errOut, "nothing was imported") {
		t.Fatalf("import of a broken file: exit %d, %s", code, errOut)
	}
	badState := filepath.Join(t.TempDir(), "bad.json")
	hosttest.WriteFile(t, badState, strings.Replace(exported, `"n": 3`, `"n": 1e999`, 1))
	if code, _, errOut := runBin(t, bin, "state", "import", badState, "--data", data); code == 0 || !strings.Contains(errOut, `integrations["counter"].state`) {
		t.Fatalf("import of a bad state: exit %d, %s", code, errOut)
	}
	if n := storedCount(t, bin, data); n != 5 {
		t.Fatalf("a failed import changed the count to %d", n)
	}
	if code, _, errOut := runBin(t, bin, "state", "import", file, "--data", data); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	if n := storedCount(t, bin, data); n != 3 {
		t.Fatalf("count after the import %d, want 3", n)
	}
	out, _ := feed(t, bin, dir, data, 1)
	if !strings.Contains(out, `"result":4`) {
		t.Fatalf("the host did not go on from the imported count:\n%s", out)
	}

	out, _ = feed(t, bin, dir, data, 1, "--disable", "counter")
	if strings.Contains(out, `"kind":"result"`) {
		t.Fatalf("a disabled integration handled an event:\n%s", out)
	}
	if out, _ = feed(t, bin, dir, data, 1); strings.Contains(out, `"kind":"result"`) {
		t.Fatalf("the switch was not remembered:\n%s", out)
	}
	if code, out, _ := runBin(t, bin, "state", "list", "--data", data); code != 0 || !regexp.MustCompile(`counter +off`).MatchString(out) {
		t.Fatalf("state list: %s", out)
	}
	if code, _, errOut := runBin(t, bin, "state", "purge", "counter", "--data", data); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := runBin(t, bin, "state", "purge", "counter", "--data", data); code == 0 || !strings.Contains(errOut, "counter") {
		t.Fatalf("purge of what is gone: %d %s", code, errOut)
	}
	if out, _ = feed(t, bin, dir, data, 1); !strings.Contains(out, `"result":1`) {
		t.Fatalf("after purge the integration is on again and starts empty:\n%s", out)
	}
}

// TestStateFileProblems: a second host on the same folder fails at once
// with the file and the process that holds it; a damaged file is kept
// aside, reported as a notice, and the host starts empty.
func TestStateFileProblems(t *testing.T) {
	bin := buildBinary(t)
	dir := hosttest.TempDir(t, map[string]string{"counter.star": counterSource})
	data := t.TempDir()
	first := startHost(t, bin, nil, "--no-defaults", "--no-watch", "--dir", dir, "--data", data)
	first.waitFor(t, "the first host loaded", func(l map[string]any) bool { return l["kind"] == "loaded" })
	code, _, errOut := runBin(t, bin, "run", "--headless", "--no-defaults", "--dir", dir, "--data", data)
	// The state file is held by the first host's worker process (or by
	// the host itself where it runs in-process).
	pids := append([]string{strconv.Itoa(first.cmd.Process.Pid)}, childProcesses(first.cmd.Process.Pid)...)
	if code == 0 || !strings.Contains(errOut, filepath.Join(data, "state.db")) || !slices.ContainsFunc(pids, func(pid string) bool { return strings.Contains(errOut, "pid "+pid+")") }) {
		t.Fatalf("second host: exit %d, want an error naming the file and one of the processes %v:\n%s", code, pids, errOut)
	}
	first.cmd.Process.Kill()
	<-first.exited

	hosttest.WriteFile(t, filepath.Join(data, "state.db"), "this is not a database, it is a sentence that is long enough to look like a file header")
	out, _ := feed(t, bin, dir, data, 1)
	if !strings.Contains(out, `"result":1`) || !strings.Contains(out, "could not be read; it was kept as ") {
		t.Fatalf("a damaged state file:\n%s", out)
	}
	kept, _ := filepath.Glob(filepath.Join(data, "state.db.corrupt-*"))
	if len(kept) != 1 {
		t.Fatalf("the damaged file was not kept aside: %v", kept)
	}
	if out, _ = feed(t, bin, dir, data, 1); !strings.Contains(out, `"result":2`) || strings.Contains(out, "could not be read") {
		t.Fatalf("the next start:\n%s", out)
	}
}

// TestStudioHostKeepsState starts the studio's host as the window does
// (its flags, startHost, the stop it returns) twice on one state folder:
// the state an integration had when the studio closed is there when it
// opens again, and the studio's flags choose the folder.
func TestStudioHostKeepsState(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"counter.star": counterSource})
	data := t.TempDir()
	open := func() (*starhost.Manager, func()) {
		var o studioOptions
		fs := flag.NewFlagSet("studio", flag.ContinueOnError)
		o.register(fs)
		if err := fs.Parse([]string{"--dir", dir, "--data", data, "--no-watch", "--no-defaults"}); err != nil {
			t.Fatal(err)
		}
		m, _, stop, err := o.startHost(context.Background(), fynetest.NewTempApp(t).Preferences(), io.Discard, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return m, stop
	}
	m, stop := open()
	for i := range 3 {
		hosttest.Emit(t, m, "tick", map[string]any{"i": i})
	}
	stop()
	m, stop = open()
	defer stop()
	if got, err := m.StateJSON("counter"); err != nil || string(got) != `{"n":3,"log":[0,1,2]}` {
		t.Fatalf("state when the studio opened again: %s %v", got, err)
	}
}

// childProcesses returns the pids of pid's child processes (Linux's
// /proc; none elsewhere).
func childProcesses(pid int) []string {
	var out []string
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}
