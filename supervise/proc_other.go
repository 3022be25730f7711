//go:build unix && !linux

package supervise

import (
	"os"
	"syscall"
)

// sysProcAttr: without a parent-death signal here, the lifeline pipe
// (Spec.LifelineFD) ends a worker whose supervisor is gone.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// afterStart has nothing to do here (see sysProcAttr).
func afterStart(*os.Process) (release func(), err error) { return func() {}, nil }
