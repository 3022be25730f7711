//go:build !unix

package watch

import "syscall"

// syscallENOSPC never matches where inotify does not exist.
const syscallENOSPC = syscall.Errno(0x1c)
