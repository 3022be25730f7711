//go:build unix

package watch

import "syscall"

const syscallENOSPC = syscall.ENOSPC
