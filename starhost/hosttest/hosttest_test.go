package hosttest_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// fatalTB records the first Fatal of a fixture and stops its goroutine,
// as the testing package does.
type fatalTB struct {
	testing.TB
	fatal string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) {
	f.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}

// fatalOf runs fn with a fatalTB and returns what it failed with ("" if
// it did not).
func fatalOf(t *testing.T, fn func(tb testing.TB)) string {
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.fatal
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	hosttest.WriteFiles(t, dir, map[string]string{"a.star": "A", "lib/deep/b.star": "B"})
	checkFiles(t, dir, map[string]string{"a.star": "A", "lib/deep/b.star": "B"})
}

func TestTempDir(t *testing.T) {
	one := hosttest.TempDir(t, map[string]string{"a.star": "A", "lib/deep/b.star": "B"})
	checkFiles(t, one, map[string]string{"a.star": "A", "lib/deep/b.star": "B"})
	two := hosttest.TempDir(t, nil)
	if entries, err := os.ReadDir(two); err != nil || len(entries) != 0 || two == one {
		t.Fatalf("TempDir(nil) = %s (first %s): %d entries, %v; want a fresh empty folder", two, one, len(entries), err)
	}
}

// checkFiles checks that dir holds each name -> content of files.
func checkFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, want := range files {
		if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", name, b, err)
		}
	}
}

func TestWriteFileReplacesAndCreatesFolders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "deeper", "a.star")
	hosttest.WriteFile(t, path, "one")
	hosttest.WriteFile(t, path, "two")
	if b, err := os.ReadFile(path); err != nil || string(b) != "two" {
		t.Fatalf("%s: %q, %v; want the second write", path, b, err)
	}
	blocker := filepath.Join(t.TempDir(), "file")
	hosttest.WriteFile(t, blocker, "")
	if msg := fatalOf(t, func(tb testing.TB) { hosttest.WriteFile(tb, filepath.Join(blocker, "a.star"), "x") }); msg == "" {
		t.Fatal("a write under a file (not a folder) must fail the test")
	}
}

// TestUnloadedThenLoad: with Unloaded nothing is live until Load, and a
// subscriber sees the load's notices; Load fails the test on a load error.
func TestUnloadedThenLoad(t *testing.T) {
	ok := map[string]string{"ok.star": "integration(name = \"ok\", handlers = {\"e\": lambda e, c: 1})\n"}
	m, _ := hosttest.NewRoot(t, ok, hosttest.Unloaded())
	if m.IsAvailable("ok") || len(m.Snapshot().Integrations) != 0 {
		t.Fatal("an Unloaded host has integrations before Load")
	}
	sub := m.Subscribe(16)
	defer sub.Close()
	hosttest.Load(t, m)
	if !m.IsAvailable("ok") {
		t.Fatal("ok is not live after Load")
	}
	if n := <-sub.C; n.Kind != starhost.NoticeLoaded || n.Integration != "ok" {
		t.Fatalf("first notice after Load: %+v, want ok loaded", n)
	}

	bad, _ := hosttest.NewRoot(t, map[string]string{"bad.star": "def h(:\n"}, hosttest.Unloaded())
	if msg := fatalOf(t, func(tb testing.TB) { hosttest.Load(tb, bad) }); !strings.Contains(msg, "bad.star") {
		t.Fatalf("Load of a broken module must fail the test, naming the file: %q", msg)
	}
}

func TestLogger(t *testing.T) {
	var logs hosttest.Buffer
	hosttest.NewRoot(t, map[string]string{"ok.star": "integration(name = \"ok\", handlers = {\"e\": lambda e, c: 1})\n"},
		hosttest.Logger(slog.New(slog.NewTextHandler(&logs, nil))))
	if !strings.Contains(logs.String(), `msg="loaded integration" name=ok`) {
		t.Fatalf("the host's log does not reach the Logger:\n%s", logs.String())
	}
}

// TestBuffer writes from several goroutines while reading (run with
// -race): every write lands whole.
func TestBuffer(t *testing.T) {
	var b hosttest.Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				if n, err := b.Write([]byte("abc\n")); n != 4 || err != nil {
					t.Errorf("Write = %d, %v", n, err)
				}
			}
		})
	}
	for range 10 {
		_ = b.String()
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("abc\n", 400) {
		t.Fatalf("%d bytes, want 400 whole lines", len(got))
	}
}

func TestNewRootLoadErrors(t *testing.T) {
	files := map[string]string{"ok.star": "integration(name = \"ok\", handlers = {\"e\": lambda e, c: 1})\n", "bad.star": "def h(:\n"}
	if msg := fatalOf(t, func(tb testing.TB) { hosttest.NewRoot(tb, files) }); !strings.Contains(msg, "bad.star") {
		t.Fatalf("a load error must fail the test, naming the file: %q", msg)
	}
	var err error
	m, _ := hosttest.NewRoot(t, files, hosttest.LoadError(&err))
	if err == nil || !m.IsAvailable("ok") {
		t.Fatalf("with LoadError: %v, ok available %v", err, m.IsAvailable("ok"))
	}
}

func TestEventually(t *testing.T) {
	calls := 0
	hosttest.Eventually(t, time.Second, func() bool { calls++; return calls == 3 }, "the third call")
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3", calls)
	}
	start := time.Now()
	msg := fatalOf(t, func(tb testing.TB) {
		hosttest.Eventually(tb, 30*time.Millisecond, func() bool { return false }, "never")
	})
	if msg != "never: not within 30ms" || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("failure %q after %v", msg, time.Since(start))
	}
}
