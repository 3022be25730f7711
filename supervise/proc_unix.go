//go:build unix

package supervise

import (
	"os"
	"syscall"
)

// stopProcess asks the worker to stop: SIGTERM, which it handles by
// writing its last states and exiting.
func stopProcess(p *os.Process) { _ = p.Signal(syscall.SIGTERM) }
