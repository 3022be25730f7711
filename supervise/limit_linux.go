package supervise

import (
	"fmt"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// LimitMemory limits this process's memory to limit bytes: the data
// segment (RLIMIT_DATA, which on Linux counts every private writable
// mapping, so the Go heap), past which an allocation fails and the Go
// runtime exits with "out of memory"; and the Go runtime's soft limit at
// nine tenths of it, so that the collector works harder before that.
func LimitMemory(limit int64) error {
	if err := unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: uint64(limit), Max: uint64(limit)}); err != nil {
		return fmt.Errorf("setrlimit RLIMIT_DATA: %w", err)
	}
	debug.SetMemoryLimit(limit / 10 * 9)
	return nil
}
