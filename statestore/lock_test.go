package statestore

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// holdLock (a child role) opens the store, says "ready" and holds it until
// its stdin closes.
func holdLock() error {
	s, err := Open(os.Getenv("STATESTORE_TEST_PATH"), Options{})
	if err != nil {
		return err
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return s.Close()
}

// checkLocked checks the error of an Open of a locked file.
func checkLocked(t *testing.T, err error, elapsed time.Duration, path, holder string) {
	t.Helper()
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	for _, want := range []string{path, "in use by another afstudio", "stop that afstudio or give this one another --data folder", holder} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second Open = %v\nwant it to say %q", err, want)
		}
	}
	if elapsed > 5*time.Second {
		t.Errorf("second Open took %v with a lock timeout of 100ms", elapsed)
	}
}

func TestLockedInThisProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path, Options{})
	start := time.Now()
	_, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	holder := "another afstudio; stop"
	if runtime.GOOS == "linux" {
		holder = fmt.Sprintf("another afstudio (this process, pid %d); stop", os.Getpid())
	}
	checkLocked(t, err, time.Since(start), path, holder)

	must(t, s.Close())
	open(t, path, Options{}) // free again
}

func TestLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	cmd := child(t, "hold", path)
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("child said %q, %v", line, err)
	}

	start := time.Now()
	_, err = Open(path, Options{LockTimeout: 100 * time.Millisecond})
	holder := "another afstudio; stop"
	if runtime.GOOS == "linux" {
		holder = fmt.Sprintf("another afstudio (pid %d); stop", cmd.Process.Pid)
	}
	checkLocked(t, err, time.Since(start), path, holder)

	// When the child lets go, the file opens.
	must(t, stdin.Close())
	must(t, cmd.Wait())
	open(t, path, Options{LockTimeout: 100 * time.Millisecond})
}
