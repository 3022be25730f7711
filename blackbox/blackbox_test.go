package blackbox_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/afstudio/afstudio/blackbox"
)

// childEnv makes the test binary a recording child (see TestMain): its
// value is the scenario, the file to record into is in childFile.
const (
	childEnv  = "BLACKBOX_TEST_CHILD"
	childFile = "BLACKBOX_TEST_FILE"
)

// TestMain makes the test binary a worker that records and dies, when
// childEnv is set; otherwise it runs the tests.
func TestMain(m *testing.M) {
	if scenario := os.Getenv(childEnv); scenario != "" {
		child(scenario, os.Getenv(childFile))
		return // child exits itself; not reached
	}
	os.Exit(m.Run())
}

// child records what a worker does: two calls that end, one module
// loading, one handler running, line 7 begun after 6 handled; then it
// dies: "exit" exits 2 at once, "kill" says "ready" on stdout and waits
// for its SIGKILL, "reason" sets an exit reason and exits 3.
func child(scenario, path string) {
	rec, err := blackbox.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(100)
	}
	done := rec.Track("/i/done.star")
	done.Begin(blackbox.Handle, "done", "tick")
	done.End()
	migrated := rec.Track("/i/migrated.star")
	migrated.Begin(blackbox.Migrate, "migrated", "")
	migrated.End()
	for n := int64(1); n <= 6; n++ {
		rec.LineProgress(n, false)
		rec.LineProgress(n, true)
	}
	rec.LineProgress(7, false)
	rec.Track("/i/loading.star").Begin(blackbox.Load, "", "")
	time.Sleep(2 * time.Millisecond) // the handler began later: it sorts second
	bomb := rec.Track("/i/bomb.star")
	bomb.Begin(blackbox.Handle, "bomb", "boom")
	// The same module again: a second integration of it, which ended.
	again := rec.Track("/i/bomb.star")
	again.Begin(blackbox.Handle, "bomb2", "boom")
	again.End()
	// again's Begin wrote its names over bomb's: the lane keeps the last.
	switch scenario {
	case "exit":
		os.Exit(2)
	case "reason":
		rec.SetExitReason("stayed in one built-in for 10s (past 10s)")
		os.Exit(3)
	case "kill":
		fmt.Println("ready")
		time.Sleep(time.Minute)
		os.Exit(101) // the parent did not kill us
	}
	os.Exit(102)
}

// runChild starts the test binary as a child recording into path in
// scenario, makes it die, and returns its exit error.
func runChild(t *testing.T, scenario, path string) *exec.ExitError {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+scenario, childFile+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if scenario == "kill" {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "ready\n" {
			t.Fatalf("child did not get ready: %q %v\n%s", line, err, stderr.String())
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child %s: %v, want it to die\n%s", scenario, err, stderr.String())
	}
	return ee
}

// TestReadAfterDeath: a child records and dies, by exiting or by
// SIGKILL; Read shows the calls that were in progress at the death and
// only them, the line counters, its pid and its exit reason.
func TestReadAfterDeath(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		code     int // exit code; -1: killed
		reason   string
	}{
		{"exit", 2, ""},
		{"kill", -1, ""},
		{"reason", 3, "stayed in one built-in for 10s (past 10s)"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "blackbox")
			if err := blackbox.Create(path); err != nil {
				t.Fatal(err)
			}
			ee := runChild(t, tc.scenario, path)
			if tc.code >= 0 && ee.ExitCode() != tc.code {
				t.Fatalf("child exit code %d, want %d", ee.ExitCode(), tc.code)
			}
			if tc.code < 0 {
				if ws, ok := ee.Sys().(syscall.WaitStatus); runtime.GOOS != "windows" && (!ok || ws.Signal() != syscall.SIGKILL) {
					t.Fatalf("child was not killed by SIGKILL: %v", ee)
				}
			}
			rep, err := blackbox.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Pid != ee.Pid() {
				t.Errorf("Pid %d, want the child's %d", rep.Pid, ee.Pid())
			}
			if rep.LineStarted != 7 || rep.LinesHandled != 6 {
				t.Errorf("lines started %d handled %d, want 7 and 6", rep.LineStarted, rep.LinesHandled)
			}
			if rep.ExitReason != tc.reason {
				t.Errorf("ExitReason %q, want %q", rep.ExitReason, tc.reason)
			}
			type call struct {
				module, integration, event string
				phase                      blackbox.Phase
			}
			var got []call
			for _, c := range rep.Active {
				got = append(got, call{c.Module, c.Integration, c.Event, c.Phase})
				if c.Since.IsZero() || time.Since(c.Since) > time.Minute || time.Since(c.Since) < 0 {
					t.Errorf("%s began at %v", c.Module, c.Since)
				}
			}
			want := []call{
				{"/i/loading.star", "", "", blackbox.Load},
				// The lane keeps what the last call into the module was:
				// bomb2's, which ended; bomb's call is still counted.
				{"/i/bomb.star", "bomb2", "boom", blackbox.Handle},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("active calls %+v, want %+v", got, want)
			}
			if w := rep.Active[1].What(); w != "handling boom" {
				t.Errorf("What() = %q", w)
			}
			if w := rep.Active[0].What(); w != "loading" {
				t.Errorf("What() = %q", w)
			}

			// Create again, for the next worker: nothing of this one is left.
			if err := blackbox.Create(path); err != nil {
				t.Fatal(err)
			}
			if rep, err := blackbox.Read(path); err != nil || rep.Pid != 0 || len(rep.Active) != 0 || rep.LineStarted != 0 || rep.LinesHandled != 0 || rep.ExitReason != "" {
				t.Fatalf("after Create again: %+v %v", rep, err)
			}
		})
	}
}

// newRecorder returns a recorder on a fresh file, and the file's path.
func newRecorder(t *testing.T) (*blackbox.Recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "blackbox")
	if err := blackbox.Create(path); err != nil {
		t.Fatal(err)
	}
	rec, err := blackbox.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec, path
}

// TestReadLive: Read and ReadProgress of a live recorder (this process)
// see each Begin and End and each line's progress as they happen; long
// names are cut; a nil recorder records nothing.
func TestReadLive(t *testing.T) {
	rec, path := newRecorder(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	active := func() []string {
		t.Helper()
		rep, err := blackbox.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range rep.Active {
			out = append(out, fmt.Sprintf("%s %d %s %s", c.Module, c.Phase, c.Integration, c.Event))
		}
		return out
	}
	a := rec.Track("a.star")
	if rec.Track("a.star") != a {
		t.Fatal("the same module got another lane")
	}
	steps := []struct {
		do   func()
		want string
	}{
		{func() {}, "[]"},
		{func() { a.Begin(blackbox.Handle, "alpha", "tick") }, "[a.star 3 alpha tick]"},
		{func() { a.Begin(blackbox.Handle, "alpha", "tock") }, "[a.star 3 alpha tock]"},
		{func() { a.End() }, "[a.star 3 alpha tock]"}, // one of the two calls is still running
		{func() { a.End() }, "[]"},
		{func() { rec.Track("b.star").Begin(blackbox.Migrate, "beta", "") }, "[b.star 2 beta ]"},
		{func() { rec.Track("b.star").End() }, "[]"},
	}
	for i, s := range steps {
		s.do()
		if got := fmt.Sprint(active()); got != s.want {
			t.Fatalf("step %d: active %s, want %s", i, got, s.want)
		}
	}

	for _, p := range []struct {
		n       int64
		handled bool
		started int64
		done    int64
	}{{1, false, 1, 0}, {1, true, 1, 1}, {2, false, 2, 1}, {2, true, 2, 2}} {
		rec.LineProgress(p.n, p.handled)
		started, handled, err := blackbox.ReadProgress(f)
		if err != nil || started != p.started || handled != p.done {
			t.Fatalf("after LineProgress(%d, %v): ReadProgress %d %d %v, want %d %d", p.n, p.handled, started, handled, err, p.started, p.done)
		}
	}

	long := strings.Repeat("e", 100)
	longModule := "/" + strings.Repeat("m", 1000)
	l := rec.Track(longModule)
	l.Begin(blackbox.Handle, long, long)
	rep, _ := blackbox.Read(path)
	if len(rep.Active) != 1 || rep.Active[0].Event != long[:60] || rep.Active[0].Integration != long[:60] ||
		!strings.HasPrefix(longModule, rep.Active[0].Module) || len(rep.Active[0].Module) < 300 {
		t.Fatalf("long names: %+v", rep.Active)
	}
	l.End()

	var none *blackbox.Recorder
	nl := none.Track("x.star")
	nl.Begin(blackbox.Handle, "x", "y") // does nothing, does not panic
	nl.End()
	if nl != nil {
		t.Fatal("a nil recorder gave a lane")
	}
}

// TestMoreModulesThanLanes: modules past Lanes share the last lane,
// named after its first module "(and others)"; a call in any of them
// shows there.
func TestMoreModulesThanLanes(t *testing.T) {
	rec, path := newRecorder(t)
	name := func(i int) string { return fmt.Sprintf("/m/%04d.star", i) }
	lanes := make([]*blackbox.Lane, blackbox.Lanes+3)
	for i := range lanes {
		lanes[i] = rec.Track(name(i))
	}
	lanes[5].Begin(blackbox.Handle, "five", "tick")
	lanes[blackbox.Lanes+2].Begin(blackbox.Handle, "late", "tick")
	lanes[blackbox.Lanes].Begin(blackbox.Load, "", "")
	rep, err := blackbox.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Active) != 2 || rep.Active[0].Module != name(5) || rep.Active[0].Integration != "five" {
		t.Fatalf("active %+v", rep.Active)
	}
	shared := rep.Active[1]
	want := name(blackbox.Lanes-1) + " (and others)"
	if shared.Module != want {
		t.Fatalf("shared lane's module %q, want %q", shared.Module, want)
	}
	if shared.Phase != blackbox.Load {
		t.Errorf("shared lane keeps the last call's phase: %v", shared.Phase)
	}
	lanes[blackbox.Lanes+2].End()
	lanes[blackbox.Lanes].End()
	rep, _ = blackbox.Read(path)
	if len(rep.Active) != 1 {
		t.Fatalf("after the shared lane's calls ended: %+v", rep.Active)
	}
}

// TestStuck: Stuck lists the calls in progress that began at least
// `after` before now, the earliest first; ended calls never.
func TestStuck(t *testing.T) {
	rec, _ := newRecorder(t)
	old, young, ended := rec.Track("old.star"), rec.Track("young.star"), rec.Track("ended.star")
	ended.Begin(blackbox.Handle, "ended", "tick")
	ended.End()
	old.Begin(blackbox.Handle, "old", "boom")
	time.Sleep(20 * time.Millisecond)
	young.Begin(blackbox.Migrate, "young", "")
	began := time.Now()
	for _, tc := range []struct {
		name  string
		now   time.Time
		after time.Duration
		want  string
	}{
		{"none yet", began, time.Hour, "[]"},
		{"both", began.Add(2 * time.Hour), time.Hour, "[old.star young.star]"},
		{"only the old one", began.Add(10 * time.Millisecond), 25 * time.Millisecond, "[old.star]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range rec.Stuck(tc.now, tc.after) {
				got = append(got, c.Module)
			}
			if fmt.Sprint(got) != tc.want {
				t.Fatalf("Stuck = %v, want %s", got, tc.want)
			}
		})
	}
	old.End()
	young.End()
	if s := rec.Stuck(began.Add(2*time.Hour), 0); len(s) != 0 {
		t.Fatalf("ended calls are stuck: %+v", s)
	}
}

// TestNotARecorder: Read and Open refuse a file Create did not make;
// Read's error is ErrNotRecorder; a missing file is another error.
func TestNotARecorder(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := blackbox.Create(good); err != nil {
		t.Fatal(err)
	}
	size, _ := os.Stat(good)
	wrongMagic, _ := os.ReadFile(good)
	wrongMagic[0] = 'X'
	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"text", []byte("this is not a recorder\n")},
		{"right size, zeros", make([]byte, size.Size())},
		{"right size, wrong magic", wrongMagic},
		{"magic, short", append([]byte("AFBBOX01"), make([]byte, 100)...)},
		{"one byte too long", append(append([]byte{}, wrongMagic[:1]...), make([]byte, size.Size())...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := blackbox.Read(path); !errors.Is(err, blackbox.ErrNotRecorder) {
				t.Errorf("Read: %v, want ErrNotRecorder", err)
			}
			if rec, err := blackbox.Open(path); err == nil {
				rec.Close()
				t.Errorf("Open of a file not made by Create succeeded")
			}
		})
	}
	missing := filepath.Join(dir, "missing")
	if _, err := blackbox.Read(missing); err == nil || errors.Is(err, blackbox.ErrNotRecorder) {
		t.Errorf("Read of a missing file: %v", err)
	}
	if _, err := blackbox.Read(good); err != nil {
		t.Errorf("Read of a created file: %v", err)
	}
}
