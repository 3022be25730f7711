package supervise

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/blackbox"
)

// helperEnv names the helper a re-run of this test binary acts as (a
// worker, a process to put in a job); helperSpecEnv is a worker helper's
// spec file.
const (
	helperEnv     = "AFSTUDIO_SUPERVISE_HELPER"
	helperSpecEnv = "AFSTUDIO_SUPERVISE_SPEC"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		os.Exit(runHelper(name))
	}
	os.Exit(m.Run())
}

// runHelper runs this process as the helper name and returns its exit code.
func runHelper(name string) int {
	switch name {
	case "worker":
		return workerHelper()
	case "serve-worker":
		return serveWorkerHelper()
	}
	if code, ok := platformHelper(name); ok {
		return code
	}
	fmt.Fprintf(os.Stderr, "unknown helper %q\n", name)
	return 2
}

// workerHelper is a worker: StartWorker with the spec in helperSpecEnv;
// it prints "ready", greets the one connection it accepts on the
// listener handed over, and prints "supervisor gone" when the lifeline
// ends.
func workerHelper() int {
	ctx, w, err := StartWorker(context.Background(), os.Getenv(helperSpecEnv), time.Minute, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println("error:", err)
		return 2
	}
	defer w.Close()
	fmt.Println("ready")
	if w.Listener != nil {
		c, err := w.Listener.Accept()
		if err != nil {
			fmt.Println("accept:", err)
			return 2
		}
		fmt.Fprintln(c, "hello from the worker")
		c.Close()
	}
	<-ctx.Done()
	fmt.Println("supervisor gone")
	return 0
}

// listenerFile returns a listening socket's file as superviseWorker
// makes it, and its address.
func listenerFile(t *testing.T) (string, *os.File) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return wineListenerFile(t, err)
	}
	return ln.Addr().String(), f
}

// helperCmd returns a command that runs this test binary as the helper
// name.
func helperCmd(t *testing.T, name string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+name), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// lines returns the lines of r, one at a time, on a channel closed at
// the end.
func lines(r io.Reader) <-chan string {
	ch := make(chan string, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

// nextLine waits for the next line on ch.
func nextLine(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatalf("waiting for %s: the helper's output ended", what)
		}
		return l
	case <-time.After(20 * time.Second):
		t.Fatalf("waiting for %s: nothing in 20 s", what)
	}
	return ""
}

// TestHandOver hands a worker the lifeline and a listening socket the
// way runWorker does (ExtraFiles on Unix; inherited handles on Windows):
// the worker accepts a connection on the socket, and sees the lifeline
// end when the supervisor's end is closed.
func TestHandOver(t *testing.T) {
	t.Run("lifeline", func(t *testing.T) { testHandOver(t, false) })
	t.Run("lifeline and listener", func(t *testing.T) { testHandOver(t, true) })
}

func testHandOver(t *testing.T, withListener bool) {
	// Not t.TempDir: under Wine 8 os.RemoveAll fails (see wineGap).
	dir, err := os.MkdirTemp("", "supervise-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	bb := filepath.Join(dir, "blackbox")
	if err := blackbox.Create(bb); err != nil {
		t.Fatal(err)
	}
	var addr string
	var lf *os.File
	if withListener {
		addr, lf = listenerFile(t)
		defer lf.Close()
	}
	life, keep, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	specPath := filepath.Join(dir, "worker.json")
	cmd := helperCmd(t, "worker", helperSpecEnv+"="+specPath)
	cmd.SysProcAttr = sysProcAttr()
	spec := Spec{Blackbox: bb}
	var done func()
	var nums []int
	spec.LifelineFD, nums, done, err = handOver(cmd, life, lf)
	if err == nil {
		spec.ListenerFD = nums[0]
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.write(specPath); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	release, err := afterStart(cmd.Process)
	if err != nil {
		t.Errorf("afterStart: %v", err)
	}
	defer release()
	life.Close()
	done()
	done() // twice: nothing more
	ch := lines(out)
	if l := nextLine(t, ch, "ready"); l != "ready" {
		if withListener && strings.Contains(l, "control API socket") {
			wineGap(t, "a socket handed over by inheritance", l)
		}
		t.Fatalf("the worker says %q, want ready", l)
	}
	if withListener {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("dial the socket handed over: %v", err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		greeting, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.TrimSpace(greeting) != "hello from the worker" {
			t.Errorf("through the socket handed over: %q, %v", greeting, err)
		}
	}
	keep.Close() // the supervisor is gone, as far as the lifeline tells
	if l := nextLine(t, ch, "the lifeline's end"); l != "supervisor gone" {
		t.Errorf("the worker says %q, want supervisor gone", l)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the worker: %v", err)
	}
}
