package supervise

import (
	"os"
	"runtime/debug"
	"syscall"
)

// sysProcAttr has nothing to set on Windows.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// stopProcess ends the worker (Windows has no SIGTERM for a console
// process that is not in the supervisor's console group).
func stopProcess(p *os.Process) { _ = p.Kill() }

// afterStart: TODO(job object) binds the worker to the supervisor's life.
func afterStart(*os.Process) (release func(), err error) { return func() {}, nil }

// LimitMemory sets the Go runtime's soft memory limit.
func LimitMemory(limit int64) error {
	debug.SetMemoryLimit(limit / 10 * 9)
	return nil
}
