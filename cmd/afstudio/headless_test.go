package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

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

// headlessProc is a running `afstudio run --headless` with its output
// decoded line by line.
type headlessProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan map[string]any
}

func startHeadless(t *testing.T, bin string, args ...string) *headlessProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--headless"}, args...)...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &headlessProc{cmd: cmd, stdin: stdin, lines: make(chan map[string]any, 256)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("stdout line is not JSON: %q", sc.Text())
				continue
			}
			p.lines <- m
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

// waitFor returns the first line for which match is true.
func (p *headlessProc) waitFor(t *testing.T, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("output ended before %s", what)
			}
			if match(l) {
				return l
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func kindIs(kind, integration string) func(map[string]any) bool {
	return func(l map[string]any) bool { return l["kind"] == kind && l["integration"] == integration }
}

// TestHeadlessProcessReloadsOnSave runs the real binary: it loads a
// folder, reloads a file saved on disk, answers events on stdin with the
// new version, reports an invalid save with file:line:col while the old
// version serves, and exits 0 at end of input.
func TestHeadlessProcessReloadsOnSave(t *testing.T) {
	bin := buildBinary(t)
	root := t.TempDir()
	path := filepath.Join(root, "greeter.star")
	write := func(src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := "def h(event, ctx):\n    return \"v1\"\n\nintegration(name = \"greeter\", handlers = {\"ping\": h})\n"
	write(src)
	p := startHeadless(t, bin, "--no-defaults", "--dir", root)
	p.waitFor(t, "loaded notice", kindIs("loaded", "greeter"))

	write(strings.Replace(src, "v1", "v2", 1))
	l := p.waitFor(t, "reloaded notice", kindIs("reloaded", "greeter"))
	if l["generation"] != 2.0 {
		t.Fatalf("reloaded line: %v", l)
	}
	io.WriteString(p.stdin, `{"event": "ping", "data": {}}`+"\n")
	l = p.waitFor(t, "result", kindIs("result", "greeter"))
	if l["result"] != "v2" || l["ok"] != true {
		t.Fatalf("result line: %v", l)
	}

	write("def h(event, ctx)\n")
	l = p.waitFor(t, "reload_failed notice", kindIs("reload_failed", "greeter"))
	if e, _ := l["error"].(string); !strings.Contains(e, "greeter.star:2:1: ") {
		t.Fatalf("reload_failed error lacks file:line:col: %v", l)
	}
	io.WriteString(p.stdin, "not json\n")
	p.waitFor(t, "input_error", func(l map[string]any) bool { return l["kind"] == "input_error" })
	io.WriteString(p.stdin, `{"event": "ping"}`+"\n")
	l = p.waitFor(t, "result from the old version", kindIs("result", "greeter"))
	if l["result"] != "v2" {
		t.Fatalf("after a failed reload the old version must answer: %v", l)
	}

	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit at end of input: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the host did not exit at end of input")
	}
}

func TestHeadlessProcessStopsOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	p := startHeadless(t, bin)
	p.waitFor(t, "defaults loaded", kindIs("loaded", "audit"))
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit on SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the host did not stop on SIGTERM")
	}
}
