package hosttest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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
	for name, want := range map[string]string{"a.star": "A", "lib/deep/b.star": "B"} {
		if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", name, b, err)
		}
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
