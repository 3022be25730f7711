package statestore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestGuardCatchesFault reads a memory map past the end of its truncated
// file (as bbolt would with a file truncated behind its back): guard must
// turn the fault into ErrCorrupt instead of a crash.
func TestGuardCatchesFault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	size := 2 * os.Getpagesize()
	must(t, os.WriteFile(path, make([]byte, size), 0o600))
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	must(t, err)
	defer syscall.Munmap(mem)
	must(t, os.Truncate(path, 0))
	var b byte
	err = guard(path, func() error { b = mem[size-1]; return nil })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Errorf("guard = %v (read %d), want ErrCorrupt naming the file", err, b)
	}
}
