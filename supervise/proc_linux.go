package supervise

import (
	"os"
	"syscall"
)

// sysProcAttr makes the kernel kill the worker when the supervisor dies
// (the parent-death signal), whatever the way it dies. The lifeline pipe
// (Spec.LifelineFD) is the second guard.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: false}
}

// afterStart binds the started worker to the supervisor's life; on Linux
// the parent-death signal set at start does it.
func afterStart(*os.Process) (release func(), err error) { return func() {}, nil }
