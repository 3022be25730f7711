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
// listening sockets (nil ones skipped: number 0), and returns the file
// descriptors the worker finds them at (Spec.LifelineFD, then
// Spec.ListenerFD and Spec.UserListenerFD): 3, 4, 5 as cmd.ExtraFiles. done has nothing to close here.
func handOver(cmd *exec.Cmd, life *os.File, listeners ...*os.File) (lifeNum int, listenerNums []int, done func(), err error) {
	cmd.ExtraFiles = append(cmd.ExtraFiles, life)
	lifeNum = 2 + len(cmd.ExtraFiles)
	for _, l := range listeners {
		n := 0
		if l != nil {
			cmd.ExtraFiles = append(cmd.ExtraFiles, l)
			n = 2 + len(cmd.ExtraFiles)
		}
		listenerNums = append(listenerNums, n)
	}
	return lifeNum, listenerNums, func() {}, nil
}
