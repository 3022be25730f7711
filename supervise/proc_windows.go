package supervise

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"syscall"

	"golang.org/x/sys/windows"
)

// sysProcAttr has nothing to set on Windows before handOver.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// stopProcess ends the worker (Windows has no SIGTERM for a console
// process that is not in the supervisor's console group).
func stopProcess(p *os.Process) { _ = p.Kill() }

// workerJobLimits are the limits of the Job object the supervisor puts
// each worker in: the worker is killed when the job's last handle closes,
// which the supervisor holds, so when the supervisor ends however it
// ends (killed too); and a worker that crashes on an unhandled exception
// dies at once instead of waiting on an error-reporting dialog.
const workerJobLimits = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | windows.JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION

// afterStart binds the started worker to the supervisor's life: it puts
// it in a new kill-on-close Job object whose only handle the supervisor
// holds (workerJobLimits). release closes that handle, which kills the
// worker if it still runs.
//
// Until afterStart has run (a few microseconds after the start) the
// worker is not bound; the lifeline (Spec.LifelineFD) is the guard in
// that window. The worker's memory limit is a separate job the worker
// puts itself in (LimitMemory): jobs nest, in either order.
func afterStart(p *os.Process) (release func(), err error) {
	nothing := func() {}
	// The pid is the worker's as long as p has not been waited for: p
	// holds a handle to the process, so the pid is not reused.
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		return nothing, fmt.Errorf("open the worker process %d: %w", p.Pid, err)
	}
	defer windows.CloseHandle(h)
	job, err := newJob(workerJobLimits, 0)
	if err != nil {
		return nothing, fmt.Errorf("the worker's kill-on-close job: %w", err)
	}
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		windows.CloseHandle(job)
		return nothing, fmt.Errorf("put the worker %d in its kill-on-close job: AssignProcessToJobObject: %w", p.Pid, err)
	}
	return func() { windows.CloseHandle(job) }, nil
}

// LimitMemory limits this process's memory to limit bytes: it puts the
// process in a new Job object with JOB_OBJECT_LIMIT_PROCESS_MEMORY, past
// which a commit of memory fails (ERROR_COMMITMENT_LIMIT) and the Go
// runtime exits with "out of memory"; and it sets the Go runtime's soft
// limit at nine tenths of it, so that the collector works harder before
// that. The job is nested in the jobs the process is already in (the
// supervisor's, see afterStart); it lasts as long as the process, so
// LimitMemory keeps no handle to it.
func LimitMemory(limit int64) error {
	if limit <= 0 || uint64(limit) > uint64(^uintptr(0)) {
		return fmt.Errorf("memory limit %d: out of range", limit)
	}
	job, err := newJob(windows.JOB_OBJECT_LIMIT_PROCESS_MEMORY, uintptr(limit))
	if err != nil {
		return fmt.Errorf("memory limit job: %w", err)
	}
	defer windows.CloseHandle(job) // the process in it keeps it
	if err := windows.AssignProcessToJobObject(job, windows.CurrentProcess()); err != nil {
		return fmt.Errorf("memory limit job: AssignProcessToJobObject (this process): %w", err)
	}
	debug.SetMemoryLimit(limit / 10 * 9)
	return nil
}

// handOver makes the worker inherit the lifeline pipe's read end and the
// listening sockets (nil ones skipped: number 0), and returns the numbers
// the worker finds them at (Spec.LifelineFD, then Spec.ListenerFD and
// Spec.UserListenerFD): on Windows, which has no
// ExtraFiles, the values of inheritable copies of their handles, listed
// in SysProcAttr.AdditionalInheritedHandles (an inherited handle has the
// same value in the child). The socket's copy is made with
// WSADuplicateSocket, the supported way to copy a socket; the worker
// turns it into a listener with net.FileListener. done closes the
// copies; call it once the worker has started (or failed to); calling
// it again does nothing.
func handOver(cmd *exec.Cmd, life *os.File, listeners ...*os.File) (lifeNum int, listenerNums []int, done func(), err error) {
	var copies []windows.Handle
	var sockets []bool
	done = func() { // once only: a handle value is reused once closed
		for i, h := range copies {
			if sockets[i] {
				windows.Closesocket(h)
			} else {
				windows.CloseHandle(h)
			}
		}
		copies, sockets = nil, nil
	}
	add := func(f *os.File, sock bool) (int, error) {
		h, err := inheritableCopy(f, sock)
		if err != nil {
			return 0, err
		}
		copies, sockets = append(copies, h), append(sockets, sock)
		return int(h), nil
	}
	if lifeNum, err = add(life, false); err != nil {
		done()
		return 0, nil, func() {}, fmt.Errorf("hand the lifeline to the worker: %w", err)
	}
	for _, listener := range listeners {
		n := 0
		if listener != nil {
			if n, err = add(listener, true); err != nil {
				done()
				return 0, nil, func() {}, fmt.Errorf("hand a control API socket to the worker: %w", err)
			}
		}
		listenerNums = append(listenerNums, n)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	for _, h := range copies {
		cmd.SysProcAttr.AdditionalInheritedHandles = append(cmd.SysProcAttr.AdditionalInheritedHandles, syscall.Handle(h))
	}
	return lifeNum, listenerNums, done, nil
}

// inheritableCopy returns an inheritable copy of f's handle: with
// WSADuplicateSocket for a socket (closed with closesocket), otherwise
// with DuplicateHandle.
func inheritableCopy(f *os.File, socket bool) (windows.Handle, error) {
	sc, err := f.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", f.Name(), err)
	}
	var h windows.Handle
	var cerr error
	err = sc.Control(func(fd uintptr) {
		if socket {
			var info windows.WSAProtocolInfo
			if cerr = windows.WSADuplicateSocket(windows.Handle(fd), windows.GetCurrentProcessId(), &info); cerr != nil {
				cerr = fmt.Errorf("WSADuplicateSocket: %w", cerr)
				return
			}
			// Without WSA_FLAG_NO_HANDLE_INHERIT: inheritable.
			if h, cerr = windows.WSASocket(-1, -1, -1, &info, 0, windows.WSA_FLAG_OVERLAPPED); cerr != nil {
				cerr = fmt.Errorf("WSASocket: %w", cerr)
			}
			return
		}
		cur := windows.CurrentProcess()
		if cerr = windows.DuplicateHandle(cur, windows.Handle(fd), cur, &h, 0, true, windows.DUPLICATE_SAME_ACCESS); cerr != nil {
			cerr = fmt.Errorf("DuplicateHandle: %w", cerr)
		}
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return h, nil
}
