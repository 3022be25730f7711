package watch_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/starhost/watch"
)

// module is an integration named name whose handler returns rev.
func module(name string, rev int) string {
	return fmt.Sprintf(`REV = %d

def on_ping(event, ctx):
    return REV

integration(name = %q, handlers = {"ping": on_ping})
`, rev, name)
}

// harness runs a host and a watcher on a temporary root and counts what
// happens.
type harness struct {
	t    *testing.T
	root string
	m    *starhost.Manager
	sub  *starhost.Subscription

	mu       sync.Mutex
	batches  []watch.Batch
	problems []*watch.Problem
	notices  []starhost.Notice

	stop func()
	done chan struct{}
}

func newHarness(t *testing.T, files map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, done: make(chan struct{})}
	m, root := hosttest.NewRoot(t, files)
	h.m, h.root = m, root
	h.sub = m.Subscribe(1024)
	go func() {
		for n := range h.sub.C {
			if n.Kind == starhost.NoticeEvent {
				continue
			}
			h.mu.Lock()
			h.notices = append(h.notices, n)
			h.mu.Unlock()
		}
	}()
	w := watch.New(watch.Options{Roots: []string{h.root}, Quiet: 25 * time.Millisecond, Poll: 40 * time.Millisecond, MissingGrace: 300 * time.Millisecond},
		func(ctx context.Context, b watch.Batch) {
			h.mu.Lock()
			h.batches = append(h.batches, b)
			h.mu.Unlock()
			m.ReloadFiles(ctx, append(b.Changed, b.Removed...))
		},
		func(p *watch.Problem) {
			h.mu.Lock()
			h.problems = append(h.problems, p)
			h.mu.Unlock()
		})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(h.done)
		if err := w.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	h.stop = cancel
	t.Cleanup(h.close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("notices: %v", h.kinds())
		}
	})
	time.Sleep(50 * time.Millisecond) // let the watches be placed
	return h
}

func (h *harness) close() {
	h.stop()
	<-h.done
	h.sub.Close()
}

func (h *harness) path(name string) string { return filepath.Join(h.root, filepath.FromSlash(name)) }

func (h *harness) write(files map[string]string) {
	h.t.Helper()
	hosttest.WriteFiles(h.t, h.root, files)
}

// revOf emits ping and returns what name answered (-1 if it did not).
func (h *harness) revOf(name string) int64 {
	rs, err := h.m.Emit(context.Background(), "ping", nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range rs {
		if r.Integration == name {
			if v, ok := r.Value.(int64); ok {
				return v
			}
		}
	}
	return -1
}

// waitRev waits until name answers want, failing after 5s; it also fails
// if any answer on the way is neither want nor one of allowed.
func (h *harness) waitRev(name string, want int64, allowed ...int64) {
	h.t.Helper()
	hosttest.Eventually(h.t, 5*time.Second, func() bool {
		got := h.revOf(name)
		if got != want && !slices.Contains(allowed, got) {
			h.t.Fatalf("%s answered %d; only %v or %d may ever be live", name, got, allowed, want)
		}
		return got == want
	}, fmt.Sprintf("%s answers %d", name, want))
}

// settle waits long enough for any further (unwanted) batch to arrive.
func (h *harness) settle() { time.Sleep(250 * time.Millisecond) }

func (h *harness) count(kind starhost.NoticeKind) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, x := range h.notices {
		if x.Kind == kind {
			n++
		}
	}
	return n
}

func (h *harness) kinds() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, n := range h.notices {
		out = append(out, string(n.Kind)+" "+n.Integration+" "+n.Message)
	}
	return out
}

func (h *harness) batchCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.batches)
}

// expectOneReload checks that exactly one reload happened and none failed.
func (h *harness) expectOneReload() {
	h.t.Helper()
	h.settle()
	if r, f := h.count(starhost.NoticeReloaded), h.count(starhost.NoticeReloadFailed); r != 1 || f != 0 {
		h.t.Fatalf("%d reloads and %d failures, want exactly 1 reload: %v", r, f, h.kinds())
	}
}

func TestSavePatterns(t *testing.T) {
	patterns := []struct {
		name string
		save func(h *harness, content string)
	}{
		{"write in place", func(h *harness, c string) {
			if err := os.WriteFile(h.path("w.star"), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncate then write in two steps", func(h *harness, c string) {
			f, err := os.OpenFile(h.path("w.star"), os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			half := len(c) / 2
			f.WriteString(c[:half])
			time.Sleep(5 * time.Millisecond)
			f.WriteString(c[half:])
			f.Close()
		}},
		{"temporary file renamed over (VS Code, sed -i)", func(h *harness, c string) {
			tmp := h.path(".w.star.tmp.1234")
			os.WriteFile(tmp, []byte(c), 0o644)
			if err := os.Rename(tmp, h.path("w.star")); err != nil {
				t.Fatal(err)
			}
		}},
		{"original renamed to backup, new file written (vim backupcopy=no)", func(h *harness, c string) {
			os.Rename(h.path("w.star"), h.path("w.star~"))
			os.WriteFile(h.path("4913"), nil, 0o644) // vim's probe file
			os.Remove(h.path("4913"))
			os.WriteFile(h.path("w.star"), []byte(c), 0o644)
			os.Remove(h.path("w.star~"))
		}},
		{"JetBrains safe write", func(h *harness, c string) {
			os.WriteFile(h.path("w.star___jb_tmp___"), []byte(c), 0o644)
			os.Rename(h.path("w.star"), h.path("w.star___jb_old___"))
			os.Rename(h.path("w.star___jb_tmp___"), h.path("w.star"))
			os.Remove(h.path("w.star___jb_old___"))
		}},
		{"JetBrains safe write, delete variant", func(h *harness, c string) {
			os.WriteFile(h.path("w.star___jb_tmp___"), []byte(c), 0o644)
			os.Remove(h.path("w.star"))
			os.Rename(h.path("w.star___jb_tmp___"), h.path("w.star"))
		}},
		{"cp over", func(h *harness, c string) {
			src := filepath.Join(t.TempDir(), "src.star")
			os.WriteFile(src, []byte(c), 0o644)
			if out, err := exec.Command("cp", src, h.path("w.star")).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
		}},
	}
	for _, p := range patterns {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t, map[string]string{"w.star": module("w", 1)})
			h.waitRev("w", 1)
			p.save(h, module("w", 2))
			h.waitRev("w", 2, 1)
			h.expectOneReload()
		})
	}
}

func TestTruncatedSaveThenGoodSave(t *testing.T) {
	h := newHarness(t, map[string]string{"w.star": module("w", 1)})
	good := module("w", 2)
	h.write(map[string]string{"w.star": good[:len(good)/2]}) // a half-written file
	time.Sleep(150 * time.Millisecond)                       // long enough to be reloaded on its own
	if got := h.revOf("w"); got != 1 {
		t.Fatalf("the half-written file must never be live: w answered %d", got)
	}
	h.write(map[string]string{"w.star": good})
	h.waitRev("w", 2, 1)
	h.settle()
	if r, f := h.count(starhost.NoticeReloaded), h.count(starhost.NoticeReloadFailed); r != 1 || f != 1 {
		t.Fatalf("want one failed reload (half file) then one reload: %v", h.kinds())
	}
}

func TestUnchangedContentAndChmodDoNotReload(t *testing.T) {
	h := newHarness(t, map[string]string{"w.star": module("w", 1)})
	os.Chmod(h.path("w.star"), 0o600)
	os.WriteFile(h.path("w.star"), []byte(module("w", 1)), 0o600) // save without changes
	now := time.Now()
	os.Chtimes(h.path("w.star"), now, now)
	h.settle()
	if n := h.count(starhost.NoticeReloaded); n != 0 {
		t.Fatalf("%d reloads for unchanged content: %v", n, h.kinds())
	}
}

func TestEditorTemporariesAreIgnored(t *testing.T) {
	h := newHarness(t, map[string]string{"w.star": module("w", 1)})
	for _, name := range []string{".w.star.swp", ".w.star.swx", "w.star~", "4913", ".#w.star", "w.star___jb_tmp___", "w.star___jb_old___", "notes.txt"} {
		os.WriteFile(h.path(name), []byte("garbage ((("), 0o644)
	}
	h.settle()
	if b := h.batchCount(); b != 0 {
		t.Fatalf("%d batches for editor temporaries: %v", b, h.batches)
	}
}

// TestTestFilesAreIgnored checks that saving an integration test file
// (NAME_test.star, or anything in a tests folder) hands nothing to the
// host to load: a test file is never loaded as an integration; it is
// reported in the batch's Tests, for a front end to run.
func TestTestFilesAreIgnored(t *testing.T) {
	h := newHarness(t, map[string]string{"w.star": module("w", 1), "tests/w_test.star": "def test_a():\n    pass\n"})
	h.write(map[string]string{"w_test.star": module("t", 1), "tests/w_test.star": module("t2", 1)})
	h.settle()
	h.mu.Lock()
	batches := slices.Clone(h.batches)
	h.mu.Unlock()
	var tests []string
	for _, b := range batches {
		for _, p := range append(append(b.Changed, b.Removed...), b.Missing...) {
			if starhost.IsTestFile(filepath.Base(p)) {
				t.Errorf("the watcher reported test file %s as a module: %+v", p, b)
			}
		}
		tests = append(tests, b.Tests...)
	}
	slices.Sort(tests)
	if want := []string{filepath.Join(h.root, "tests", "w_test.star"), filepath.Join(h.root, "w_test.star")}; !slices.Equal(tests, want) {
		t.Errorf("test files reported %v, want %v", tests, want)
	}
	if n := h.count(starhost.NoticeReloaded) + h.count(starhost.NoticeLoaded) + h.count(starhost.NoticeAdded) + h.count(starhost.NoticeReloadFailed); n != 0 {
		t.Errorf("saving test files loaded or reloaded something: %v", h.kinds())
	}
	if got := h.m.Names(); !slices.Equal(got, []string{"w"}) {
		t.Errorf("loaded %v, want [w]", got)
	}
}

func TestGitCheckoutIsOneBatch(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	h := newHarness(t, map[string]string{
		"lib/shared.star": "BASE = 10\n",
		"a.star":          "load(\"lib/shared.star\", \"BASE\")\n" + module("a", 1),
		"b.star":          "load(\"lib/shared.star\", \"BASE\")\n" + module("b", 1),
		"c.star":          module("c", 1),
	})
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
		cmd.Dir = h.root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "v1")
	git("checkout", "-qb", "v2")
	h.write(map[string]string{
		"lib/shared.star": "BASE = 20\n",
		"a.star":          "load(\"lib/shared.star\", \"BASE\")\n" + module("a", 2),
		"b.star":          "load(\"lib/shared.star\", \"BASE\")\n" + module("b", 2),
		"c.star":          module("c", 2),
	})
	git("commit", "-qam", "v2")
	h.waitRev("c", 2, 1)
	h.settle()
	before, reloadsBefore := h.batchCount(), h.count(starhost.NoticeReloaded)
	git("checkout", "-q", "master")
	for _, name := range []string{"a", "b", "c"} {
		h.waitRev(name, 1, 2)
	}
	h.settle()
	if got := h.batchCount() - before; got != 1 {
		t.Fatalf("git checkout gave %d batches, want 1: %+v", got, h.batches[before:])
	}
	if got := h.count(starhost.NoticeReloaded) - reloadsBefore; got != 3 {
		t.Fatalf("%d reloads for 3 integrations: %v", got, h.kinds())
	}
}

func TestLibraryChangeReloadsDependents(t *testing.T) {
	h := newHarness(t, map[string]string{
		"lib/shared.star": "def bump(x):\n    return x + 100\n",
		"a.star":          "load(\"lib/shared.star\", \"bump\")\nintegration(name = \"a\", handlers = {\"ping\": lambda e, c: bump(1)})\n",
		"b.star":          "load(\"lib/shared.star\", \"bump\")\nintegration(name = \"b\", handlers = {\"ping\": lambda e, c: bump(2)})\n",
	})
	h.write(map[string]string{"lib/shared.star": "def bump(x):\n    return x + 200\n"})
	h.waitRev("a", 201, 101)
	h.waitRev("b", 202, 102)
	h.settle()
	if n := h.count(starhost.NoticeReloaded); n != 2 {
		t.Fatalf("%d reloads, want 2 (a and b): %v", n, h.kinds())
	}
	// Deleting the library: the dependents report the missing load and
	// keep serving.
	os.Remove(h.path("lib/shared.star"))
	hosttest.Eventually(t, 5*time.Second, func() bool {
		in, _ := h.m.IntegrationInfo("a")
		if in.LastError != nil && (in.LastError.Line != 1 || !h.m.IsAvailable("a") || h.revOf("a") != 201) {
			t.Fatalf("after deleting the library: %+v", in.LastError)
		}
		return in.LastError != nil
	}, "a reports the missing library")
}

func TestAddRemoveAndNewFolders(t *testing.T) {
	h := newHarness(t, map[string]string{"w.star": module("w", 1)})
	// A new folder created later, with a file in it.
	h.write(map[string]string{"team/x.star": module("x", 7)})
	h.waitRev("x", 7, -1)
	// A file written into that folder afterwards.
	h.write(map[string]string{"team/y.star": module("y", 8)})
	h.waitRev("y", 8, -1)
	// A deleted file that stays gone is removed after the grace period.
	os.Remove(h.path("team/x.star"))
	time.Sleep(100 * time.Millisecond)
	if !h.m.IsAvailable("x") {
		t.Fatal("a vanished file must first be marked missing, not dropped")
	}
	h.waitRev("x", -1, 7)
	h.settle() // the notice reaches the harness after the swap
	if h.count(starhost.NoticeRemoved) != 1 {
		t.Fatalf("want one removal: %v", h.kinds())
	}
	// A rename is a remove plus an add.
	os.Rename(h.path("w.star"), h.path("renamed.star"))
	h.waitRev("w", 1, 1)
	h.settle()
	in, ok := h.m.IntegrationInfo("w")
	if !ok || in.Module != h.path("renamed.star") {
		t.Fatalf("after rename: %+v %v", in, h.kinds())
	}
}

func TestRootDeletedAndRecreated(t *testing.T) {
	h := newHarness(t, map[string]string{"w.star": module("w", 1)})
	if err := os.RemoveAll(h.root); err != nil {
		t.Fatal(err)
	}
	hosttest.Eventually(t, 5*time.Second, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.problems) > 0
	}, "a problem reported for the deleted root")
	h.write(map[string]string{"w.star": module("w", 3)})
	h.waitRev("w", 3, 1, -1)
	h.write(map[string]string{"w.star": module("w", 4)})
	h.waitRev("w", 4, 3)
}

func TestPauseDefersAndResumeDelivers(t *testing.T) {
	h := newHarness(t, map[string]string{"w.star": module("w", 1)})
	_ = h
	// Pausing is exercised through its own watcher, since the harness
	// does not expose its own.
	root := t.TempDir()
	got := make(chan watch.Batch, 4)
	w := watch.New(watch.Options{Roots: []string{root}, Poll: 20 * time.Millisecond}, func(_ context.Context, b watch.Batch) { got <- b }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond)
	w.SetPaused(true)
	os.WriteFile(filepath.Join(root, "p.star"), []byte("x = 1\n"), 0o644)
	select {
	case b := <-got:
		t.Fatalf("batch while paused: %+v", b)
	case <-time.After(200 * time.Millisecond):
	}
	w.SetPaused(false)
	select {
	case b := <-got:
		if len(b.Changed) != 1 {
			t.Fatalf("after resume: %+v", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no batch after resume")
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		root := t.TempDir()
		os.WriteFile(filepath.Join(root, "a.star"), []byte("x = 1\n"), 0o644)
		w := watch.New(watch.Options{Roots: []string{root}}, func(context.Context, watch.Batch) {}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		time.Sleep(30 * time.Millisecond)
		cancel()
		<-done
	}
	defer func() {
		if t.Failed() {
			buf := make([]byte, 1<<16)
			t.Logf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
	}()
	hosttest.Eventually(t, 5*time.Second, func() bool { return runtime.NumGoroutine() <= before }, "goroutines back to the number before")
}

// TestForHostAfterBatch: ForHost's watcher applies a batch to the host,
// then hands it to AfterBatch: a saved module and a saved test file both
// reach it, and only the module is reloaded.
func TestForHostAfterBatch(t *testing.T) {
	m, root := hosttest.NewRoot(t, map[string]string{"w.star": module("w", 1), "w_test.star": "def test_a():\n    pass\n"})
	got := make(chan watch.Batch, 8)
	w := watch.ForHost(m, watch.Options{Roots: []string{root}, Quiet: 25 * time.Millisecond, AfterBatch: func(_ context.Context, b watch.Batch) { got <- b }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	// waitFor saves again every half second (the first save may come
	// before the watch is set up) until a batch matches.
	waitFor := func(what string, save func(i int), match func(watch.Batch) bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for i := 0; ; i++ {
			save(i)
			select {
			case b := <-got:
				if match(b) {
					return
				}
			case <-time.After(500 * time.Millisecond):
			case <-deadline:
				t.Fatalf("no batch with %s", what)
			}
		}
	}
	testFile := filepath.Join(root, "w_test.star")
	waitFor("the test file", func(i int) { hosttest.WriteFile(t, testFile, fmt.Sprintf("def test_%d():\n    pass\n", i)) },
		func(b watch.Batch) bool { return slices.Contains(b.Tests, testFile) })
	if in, _ := m.IntegrationInfo("w"); in.Generation != 1 {
		t.Fatalf("saving a test file reloaded w: generation %d", in.Generation)
	}
	saved := false
	waitFor("the module", func(int) {
		if !saved {
			saved = true
			hosttest.WriteFile(t, filepath.Join(root, "w.star"), module("w", 2))
		}
	}, func(b watch.Batch) bool { return slices.Contains(b.Changed, filepath.Join(root, "w.star")) })
	if in, _ := m.IntegrationInfo("w"); in.Generation != 2 {
		t.Fatalf("after the module's batch: generation %d, want 2 (AfterBatch runs after the reload)", in.Generation)
	}
}
