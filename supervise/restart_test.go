package supervise

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// serveWorkerHelper is a worker started by Run (its spec is the last
// argument): it answers every request on the user's socket with its pid
// until SIGTERM, then exits 0 as a clean stop does.
func serveWorkerHelper() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ctx, w, err := StartWorker(ctx, os.Args[len(os.Args)-1], time.Minute, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer w.Close()
	w.Ready()
	if w.UserListener != nil {
		srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { fmt.Fprint(rw, os.Getpid()) })}
		go srv.Serve(w.UserListener)
		defer srv.Close()
	}
	<-ctx.Done()
	return 0
}

// TestRestartWithNewUserListener: Options.Restart stops the worker
// cleanly and starts the next at once with the socket UserListener gives
// then: a studio turning its API on, moving it, or off.
func TestRestartWithNewUserListener(t *testing.T) {
	t.Setenv(helperEnv, "serve-worker")
	open := func() (*net.TCPListener, string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln.(*net.TCPListener), "http://" + ln.Addr().String()
	}
	if runtime.GOOS == "windows" {
		t.Skip("the socket hand-over is not tested on Windows here (see job_windows_test.go)")
	}
	first, firstURL := open()
	var current atomic.Pointer[net.TCPListener]
	current.Store(first)
	copyOf := func() *os.File { // a copy for each start, the supervisor's to close
		ln := current.Load()
		if ln == nil {
			return nil
		}
		f, err := ln.File()
		if err != nil {
			t.Error(err)
			return nil
		}
		return f
	}
	restart := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Path: os.Args[0], SpecFlag: "--spec", Dir: t.TempDir(), Logger: nil,
			UserListener: copyOf, Restart: restart})
	}()
	get := func(url string) (string, error) {
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b)), err
	}
	waitAnswer := func(url, not string) string {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if pid, err := get(url); err == nil && pid != "" && pid != not {
				return pid
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no worker answered on %s (other than pid %q)", url, not)
		return ""
	}
	pid1 := waitAnswer(firstURL, "")

	second, secondURL := open() // moved: the next worker serves the new socket
	current.Store(second)
	first.Close()
	restart <- struct{}{}
	pid2 := waitAnswer(secondURL, pid1)
	if _, err := get(firstURL); err == nil {
		t.Errorf("the old socket still answers after the restart")
	}

	current.Store(nil) // off
	second.Close()
	restart <- struct{}{}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := get(secondURL); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker (pid %s) still serves the socket turned off", pid2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
