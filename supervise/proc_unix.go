//go:build unix

package supervise

import (
	"os"
	"os/exec"
	"syscall"
)

// stopProcess asks the worker to stop: SIGTERM, which it handles by
// writing its last states and exiting.
func stopProcess(p *os.Process) { _ = p.Signal(syscall.SIGTERM) }

// handOver makes the worker inherit the lifeline pipe's read end and the
// listening socket (nil: none), and returns the file descriptors the
// worker finds them at (Spec.LifelineFD, Spec.ListenerFD): 3 and 4, as
// cmd.ExtraFiles. done has nothing to close here.
func handOver(cmd *exec.Cmd, life, listener *os.File) (lifeNum, listenerNum int, done func(), err error) {
	cmd.ExtraFiles = append(cmd.ExtraFiles, life)
	lifeNum = 2 + len(cmd.ExtraFiles)
	if listener != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, listener)
		listenerNum = 2 + len(cmd.ExtraFiles)
	}
	return lifeNum, listenerNum, func() {}, nil
}
