//go:build !linux && !windows

package supervise

import "runtime/debug"

// LimitMemory sets the Go runtime's soft memory limit only: this system
// has no hard per-process limit the worker can set on itself (RLIMIT_DATA
// is not enforced on macOS).
func LimitMemory(limit int64) error {
	debug.SetMemoryLimit(limit / 10 * 9)
	return nil
}
