//go:build linux

package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

// supCounter counts its ticks in its state and returns the count.
const supCounter = `def h(e, c):
    c.state["n"] = c.state.get("n", 0) + 1
    return c.state["n"]

integration(name = "counter", handlers = {"tick": h})
`

// A supervised is a supervised `run --headless` (the real binary) and
// the folder it watches.
type supervised struct {
	t    *testing.T
	p    *hostProc
	dir  string
	seen []string // the stdout lines read so far, for failure messages
}

// startSupervised writes files into a fresh folder and runs the binary on
// it, supervised, with a 256 MiB memory limit, synchronous state writes
// (a worker's death loses no state) and the default file watch.
func startSupervised(t *testing.T, bin string, files map[string]string, extra ...string) *supervised {
	t.Helper()
	dir := hosttest.TempDir(t, files)
	args := append([]string{"--no-defaults", "--dir", dir, "--data", t.TempDir(), "--memory-limit", "256MiB", "--durable", "sync"}, extra...)
	return &supervised{t: t, p: startHost(t, bin, nil, args...), dir: dir}
}

// send writes an event line to the supervisor's stdin.
func (s *supervised) send(event string) {
	s.t.Helper()
	if _, err := fmt.Fprintf(s.p.stdin, `{"event": %q}`+"\n", event); err != nil {
		s.t.Fatalf("send %s: %v", event, err)
	}
}

// wait returns the first stdout line for which match is true, within
// timeout.
func (s *supervised) wait(what string, timeout time.Duration, match func(map[string]any) bool) map[string]any {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-s.p.lines:
			if !ok {
				s.t.Fatalf("output ended before %s:\n%s\nstderr:\n%s", what, strings.Join(s.seen, "\n"), tailOf(s.p.log(), 3000))
			}
			s.seen = append(s.seen, string(l.raw))
			if match(l.m) {
				return l.m
			}
		case <-deadline:
			s.t.Fatalf("no %s within %v; stdout:\n%s\nstderr:\n%s", what, timeout, strings.Join(s.seen, "\n"), tailOf(s.p.log(), 3000))
		}
	}
}

// tailOf returns the last n bytes of s.
func tailOf(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// result waits for integration's result to event and returns it.
func (s *supervised) result(integration, event string, timeout time.Duration) map[string]any {
	s.t.Helper()
	l := s.wait(integration+"'s result to "+event, timeout, func(l map[string]any) bool {
		return l["kind"] == "result" && l["integration"] == integration && l["event"] == event
	})
	return resultOf(s.t, l)
}

// tick sends a tick and checks that the counter answers want: its state
// survived whatever happened.
func (s *supervised) tick(want int) {
	s.t.Helper()
	s.send("tick")
	if r := s.result("counter", "tick", 20*time.Second); r["ok"] != true || r["result"] != float64(want) {
		s.t.Fatalf("counter answered %v, want %d (its state intact)", r, want)
	}
}

// alive fails the test if the supervisor has exited.
func (s *supervised) alive() {
	s.t.Helper()
	select {
	case <-s.p.exited:
		s.t.Fatalf("the supervisor exited: %v\n%s", s.p.err, tailOf(s.p.log(), 3000))
	default:
	}
}

// quarantined waits for the notices of a worker's death blamed on module
// (path relative to the folder), doing what ("handling boom",
// "loading"...): the worker_restarted notice, then the new worker's
// reload_failed notice of the quarantine. With lostEvent, the input line
// in flight is answered with a failed result naming the module first.
func (s *supervised) quarantined(module, what, cause, lostEvent string, timeout time.Duration) {
	s.t.Helper()
	path := filepath.Join(s.dir, module)
	if lostEvent != "" {
		l := s.wait("the failed result of the lost line", timeout, func(l map[string]any) bool {
			return l["kind"] == "result" && l["event"] == lostEvent && l["module"] == path
		})
		if r := l["result"].(map[string]any); r["ok"] != false || !strings.Contains(fmt.Sprint(r["error"]), cause) {
			s.t.Fatalf("lost line's result: %v", l)
		}
	}
	l := s.wait("worker_restarted naming "+module, timeout, func(l map[string]any) bool { return l["kind"] == "worker_restarted" })
	if msg, _ := l["message"].(string); l["module"] != path || !strings.Contains(msg, cause) || !strings.Contains(msg, "was "+what) || !strings.Contains(msg, path+" is quarantined") {
		s.t.Fatalf("worker_restarted %v, want %s blamed for %q while %q", l, path, cause, what)
	}
	l = s.wait("the quarantine of "+module, timeout, func(l map[string]any) bool {
		return l["kind"] == "reload_failed" && l["module"] == path
	})
	want := "not loaded: " + cause
	if msg, _ := l["message"].(string); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "while "+what+"; fix the file and save it to load it again") {
		s.t.Fatalf("quarantine notice %v, want %q ... while %s", l, want, what)
	}
	if e, _ := l["error"].(map[string]any); e["kind"] != "quarantined" {
		s.t.Fatalf("quarantine notice's error kind: %v", l)
	}
	s.alive()
}

// back waits for integration to be loaded again after its file was
// fixed.
func (s *supervised) back(integration string) {
	s.t.Helper()
	s.wait(integration+" loaded again", 20*time.Second, func(l map[string]any) bool {
		k := l["kind"]
		return (k == "loaded" || k == "added" || k == "reloaded") && l["integration"] == integration
	})
}

const oom = "ran out of memory (limit 256 MiB)"

// bombHandler is a module whose "boom" handler runs body, and whose
// "hello" handler answers "bomb".
func bombHandler(body string) string {
	return "def boom(e, c):\n" + body + "\n    return None\n\n" +
		"integration(name = \"bomb\", handlers = {\"boom\": boom, \"hello\": lambda e, c: \"bomb\"})\n"
}

const fixedBomb = "integration(name = \"bomb\", handlers = {\"boom\": lambda e, c: \"fixed\", \"hello\": lambda e, c: \"bomb\"})\n"

// TestSupervisedMemoryBombs runs a handler that takes more memory than
// the worker's limit, one way per subtest: the supervisor survives, names
// the integration and its module, answers the event in flight with a
// failed result, quarantines the module; the counter beside it answers
// the next tick with its state intact; a fixed file (saved, the watcher
// reloads it) comes back and answers.
func TestSupervisedMemoryBombs(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct{ name, body string }{
		{"list repeat", "    x = [0] * 1000000000"},
		{"list of range", "    x = list(range(300000000))"},
		{"string doubling", "    s = \"x\"\n    for _ in range(40):\n        s = s + s"},
		// Dict growth within the step budget (1M steps, 1 s): with small
		// values a dict stays far below the limit (~200k entries fit in
		// the budget); each entry holds 8 KiB, so ~33k entries exceed it.
		{"dict growth", "    d = {}\n    for i in range(200000):\n        d[i] = str(i) * 2048"},
		{"wide nested", "    x = [[i] * 100000 for i in range(100000)]"},
		{"deep nested", "    x = {}\n    for i in range(100000):\n        x = {\"up\": x, \"pad\": [i] * 10000}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSupervised(t, bin, map[string]string{"counter.star": supCounter, "bomb.star": bombHandler(tc.body)})
			s.tick(1)
			s.send("boom")
			s.quarantined("bomb.star", "handling boom", oom, "boom", 30*time.Second)
			s.tick(2)
			hosttest.WriteFile(t, filepath.Join(s.dir, "bomb.star"), fixedBomb)
			s.back("bomb")
			s.send("boom")
			if r := s.result("bomb", "boom", 10*time.Second); r["result"] != "fixed" {
				t.Fatalf("the fixed bomb answered %v", r)
			}
			s.tick(3)
			s.alive()
		})
	}
}

// TestSupervisedGenerationSurvivesCrash: the counter, saved twice
// (generation 3), comes back at generation 3 with its state after a
// bomb kills the worker, rather than at generation 1.
func TestSupervisedGenerationSurvivesCrash(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	s := startSupervised(t, bin, map[string]string{"counter.star": supCounter, "bomb.star": bombHandler("    x = [0] * 1000000000")})
	s.tick(1)
	for g := 2; g <= 3; g++ {
		hosttest.WriteFile(t, filepath.Join(s.dir, "counter.star"), supCounter+strings.Repeat("\n", g))
		s.wait(fmt.Sprintf("the counter reloaded at generation %d", g), 20*time.Second, func(l map[string]any) bool {
			return l["kind"] == "reloaded" && l["integration"] == "counter" && l["generation"] == float64(g)
		})
	}
	s.tick(2)
	s.send("boom")
	s.quarantined("bomb.star", "handling boom", oom, "boom", 30*time.Second)
	s.send("tick")
	if r := s.result("counter", "tick", 20*time.Second); r["result"] != float64(3) || r["generation"] != float64(3) {
		t.Fatalf("after the worker's death the counter answered %v, want 3 from generation 3", r)
	}
	s.alive()
}

// TestSupervisedLibraryBomb: a library function that takes all the
// memory, called by two integrations: each death blames the integration
// whose handler called it (the first, then the second on the next
// event); the counter keeps its state; fixing the library and saving the
// two modules brings them back.
func TestSupervisedLibraryBomb(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	user := func(name string) string {
		return "load(\"lib/boom.star\", \"explode\")\n\ndef h(e, c):\n    return explode()\n\n" +
			"integration(name = \"" + name + "\", handlers = {\"boom\": h})\n"
	}
	s := startSupervised(t, bin, map[string]string{
		"counter.star":  supCounter,
		"a.star":        user("a"),
		"b.star":        user("b"),
		"lib/boom.star": "def explode():\n    x = [0] * 1000000000\n    return len(x)\n",
	})
	s.tick(1)
	s.send("boom")
	s.quarantined("a.star", "handling boom", oom, "boom", 30*time.Second)
	s.tick(2)
	s.send("boom")
	s.quarantined("b.star", "handling boom", oom, "boom", 30*time.Second)
	s.tick(3)

	hosttest.WriteFile(t, filepath.Join(s.dir, "lib/boom.star"), "def explode():\n    return \"defused\"\n")
	// Fixing the library is fixing the file at fault: it brings both
	// back (a changed library retries the quarantined modules).
	s.send("tick")
	backByLib := 0
	s.wait("the counter's result after the library's fix", 20*time.Second, func(l map[string]any) bool {
		k := l["kind"]
		if (k == "loaded" || k == "added" || k == "reloaded") && (l["integration"] == "a" || l["integration"] == "b") {
			backByLib++
		}
		return l["kind"] == "result" && l["integration"] == "counter"
	})
	if backByLib < 2 {
		time.Sleep(time.Second) // the watcher's quiet time and the reload, had they come
		for len(s.p.lines) > 0 {
			l := <-s.p.lines
			s.seen = append(s.seen, string(l.raw))
			if k := l.m["kind"]; (k == "loaded" || k == "added" || k == "reloaded") && (l.m["integration"] == "a" || l.m["integration"] == "b") {
				backByLib++
			}
		}
	}
	if backByLib < 2 {
		t.Fatalf("saving the fixed library brought back %d of the 2 quarantined integrations", backByLib)
	}
	s.send("boom")
	for _, m := range []string{"a", "b"} {
		if r := s.result(m, "boom", 10*time.Second); r["result"] != "defused" {
			t.Fatalf("%s answered %v", m, r)
		}
	}
	s.tick(5)
	s.alive()
}

// TestSupervisedMigrateBomb: a saved version whose migrate takes all the
// memory kills the worker while it migrates; the module is quarantined
// (no input line was in flight: no lost result), the counter keeps its
// state, and the next good save brings the integration back.
func TestSupervisedMigrateBomb(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	version := func(v, migrate string) string {
		return "def mig(old):\n" + migrate + "\n    return old\n\n" +
			"def poke(e, c):\n    c.state[\"pokes\"] = c.state.get(\"pokes\", 0) + 1\n    return \"" + v + "\"\n\n" +
			"integration(name = \"mover\", handlers = {\"poke\": poke}, migrate = mig)\n"
	}
	s := startSupervised(t, bin, map[string]string{"counter.star": supCounter, "mover.star": version("v1", "    pass")})
	s.tick(1)
	s.send("poke")
	if r := s.result("mover", "poke", 10*time.Second); r["result"] != "v1" {
		t.Fatalf("poke: %v", r)
	}
	path := filepath.Join(s.dir, "mover.star")
	hosttest.WriteFile(t, path, version("v2", "    x = [0] * 1000000000"))
	s.quarantined("mover.star", "migrating its state", oom, "", 30*time.Second)
	s.tick(2)
	hosttest.WriteFile(t, path, version("v3", "    pass"))
	s.back("mover")
	s.send("poke")
	if r := s.result("mover", "poke", 10*time.Second); r["result"] != "v3" {
		t.Fatalf("poke after the fix: %v", r)
	}
	s.tick(3)
	s.alive()
}

// TestSupervisedDroppedBomb: a file dropped into the watched folder whose
// top level takes all the memory kills the worker while it loads; it is
// quarantined and the good version of it, saved, loads.
func TestSupervisedDroppedBomb(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	s := startSupervised(t, bin, map[string]string{"counter.star": supCounter})
	s.tick(1)
	path := filepath.Join(s.dir, "dropped.star")
	hosttest.WriteFile(t, path, "x = [0] * 1000000000\n"+fixedBomb)
	s.quarantined("dropped.star", "loading", oom, "", 30*time.Second)
	s.tick(2)
	hosttest.WriteFile(t, path, fixedBomb)
	s.back("bomb")
	s.send("boom")
	if r := s.result("bomb", "boom", 10*time.Second); r["result"] != "fixed" {
		t.Fatalf("the dropped file, fixed, answered %v", r)
	}
	s.tick(3)
	s.alive()
}

// TestSupervisedStuckBuiltin: a handler stuck in one built-in (int() of a
// 8-million-digit string, quadratic in Go's math/big: tens of seconds,
// a few MB) cannot be stopped by the step budget or the 1 s timeout; the
// worker's watchdog exits after 10 s in it, and the supervisor
// quarantines the module with the watchdog's reason.
func TestSupervisedStuckBuiltin(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	s := startSupervised(t, bin, map[string]string{
		"counter.star": supCounter,
		"bomb.star":    bombHandler("    x = int(\"7\" * 8000000)"),
	})
	s.tick(1)
	s.send("boom")
	sent := time.Now()
	s.quarantined("bomb.star", "handling boom", "stayed in one built-in", "boom", 40*time.Second)
	t.Logf("the worker stuck in a built-in was replaced %v after the event", time.Since(sent).Round(100*time.Millisecond))
	s.tick(2)
	hosttest.WriteFile(t, filepath.Join(s.dir, "bomb.star"), fixedBomb)
	s.back("bomb")
	s.send("boom")
	if r := s.result("bomb", "boom", 10*time.Second); r["result"] != "fixed" {
		t.Fatalf("the fixed bomb answered %v", r)
	}
}

// childrenOf returns the pids of pid's children (Linux).
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// processGone reports whether pid has exited (no such process, or a
// zombie nobody reaped yet).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// workerOf waits for the supervisor p's one worker process and returns
// its pid.
func workerOf(t *testing.T, p *hostProc) int {
	t.Helper()
	var kids []int
	hosttest.Eventually(t, 10*time.Second, func() bool {
		kids = childrenOf(t, p.cmd.Process.Pid)
		return len(kids) == 1
	}, "the supervisor's worker process")
	return kids[0]
}

// TestSupervisorKilledTakesTheWorker: kill -9 of the supervisor ends its
// worker too, within a few seconds (the parent-death signal, and the
// lifeline pipe). The worker is busy in one long built-in at the time,
// so that it neither reads the end of its input nor writes to a closed
// pipe (either of which would end it without the guards), and its
// watchdog would end it only 10 s after the event.
func TestSupervisorKilledTakesTheWorker(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	s := startSupervised(t, bin, map[string]string{
		"counter.star": supCounter,
		"bomb.star":    bombHandler("    x = int(\"7\" * 8000000)"),
	})
	s.tick(1)
	worker := workerOf(t, s.p)
	s.send("boom")
	time.Sleep(time.Second) // in int()
	if processGone(worker) {
		t.Fatalf("worker %d is not running", worker)
	}
	if err := s.p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	hosttest.Eventually(t, 5*time.Second, func() bool { return processGone(worker) }, "the worker gone after kill -9 of its supervisor")
}

// TestSupervisedAPIWorkerKilled: kill -9 of the worker in the middle of
// a stream of control API events: every request ends (a success or an
// error, never a hang), and the API answers again on the same address
// once the next worker serves, from the same listening socket.
func TestSupervisedAPIWorkerKilled(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	env, _ := apiEnv(t)
	dir := hosttest.TempDir(t, map[string]string{"counter.star": supCounter})
	p := startHost(t, bin, env, "--no-defaults", "--dir", dir, "--data", t.TempDir(), "--listen", "127.0.0.1:0")
	addr := p.waitAddr(t)
	tok := apiToken(t, bin, env)
	client := &http.Client{Timeout: 15 * time.Second}
	emit := func() (int, error) {
		req, _ := http.NewRequest("POST", addr+"/v1/events/tick", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	if code, err := emit(); err != nil || code != 200 {
		t.Fatalf("first event: %d %v", code, err)
	}
	worker := workerOf(t, p)

	var ok, failed, hung atomic.Int64
	var okAfterKill atomic.Int64
	var killed atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var errMu sync.Mutex
	errs := map[string]int{}
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, err := emit()
				switch {
				case err != nil && os.IsTimeout(err):
					hung.Add(1)
				case err != nil || code != 200:
					failed.Add(1)
					errMu.Lock()
					errs[fmt.Sprint(code, " ", err)]++
					errMu.Unlock()
					time.Sleep(10 * time.Millisecond)
				default:
					ok.Add(1)
					if killed.Load() {
						okAfterKill.Add(1)
					}
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	killed.Store(true)
	if err := syscall.Kill(worker, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	hosttest.Eventually(t, 20*time.Second, func() bool { return okAfterKill.Load() >= 20 }, "events served again after the worker's death")
	close(stop)
	wg.Wait()
	if hung.Load() > 0 {
		t.Fatalf("%d requests hung (client timeout); %d ok, %d failed", hung.Load(), ok.Load(), failed.Load())
	}
	if next := workerOf(t, p); next == worker {
		t.Fatalf("the worker %d was not replaced", worker)
	}
	if code, err := emit(); err != nil || code != 200 {
		t.Fatalf("the API on %s after the restart: %d %v", addr, code, err)
	}
	t.Logf("%d events ok (%d after the kill), %d failed: %v", ok.Load(), okAfterKill.Load(), failed.Load(), errs)
}

// TestMeasureRestart100 measures (does not assert) the time from a
// worker's kill -9 to every one of 100 integrations answering an event
// sent right after the kill; the median of 5. Set AFSTUDIO_MEASURE=1 to
// run it (about 40 s: it waits 5 s between kills so that no restart
// backoff applies).
func TestMeasureRestart100(t *testing.T) {
	if os.Getenv("AFSTUDIO_MEASURE") == "" {
		t.Skip("a measurement: set AFSTUDIO_MEASURE=1")
	}
	bin := buildBinary(t)
	files := map[string]string{}
	for i := range 100 {
		files[fmt.Sprintf("c%03d.star", i)] = strings.Replace(supCounter, `"counter"`, fmt.Sprintf(`"c%03d"`, i), 1)
	}
	s := startSupervised(t, bin, files)
	answered := func(want int) {
		got := map[any]bool{}
		s.wait(fmt.Sprintf("100 results (%d)", want), 30*time.Second, func(l map[string]any) bool {
			if l["kind"] == "result" && l["event"] == "tick" {
				if r := l["result"].(map[string]any); r["ok"] == true && r["result"] == float64(want) {
					got[l["integration"]] = true
				}
			}
			return len(got) == 100
		})
	}
	s.send("tick")
	answered(1)
	var took []time.Duration
	for i := range 5 {
		time.Sleep(5500 * time.Millisecond) // past the backoff window
		worker := workerOf(t, s.p)
		start := time.Now()
		if err := syscall.Kill(worker, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		s.send("tick")
		answered(i + 2)
		took = append(took, time.Since(start))
	}
	sorted := slices.Clone(took)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	t.Logf("kill -9 of the worker to 100 integrations answering: %v; median %v", took, sorted[2])
}
