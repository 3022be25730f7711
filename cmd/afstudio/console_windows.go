//go:build windows

package main

import (
	"os"
	"syscall"
)

// attachParentConsole makes the command-line subcommands print in the
// console they were started from. afstudio.exe is a GUI-subsystem program
// (no console window of its own for the studio), so Windows gives it no
// standard output unless it is redirected; here it attaches to the parent
// process's console and writes there when nothing was redirected.
func attachParentConsole() {
	const attachParentProcess = ^uintptr(0) // (DWORD)-1
	kernel32 := syscall.NewLazyDLL("kernel32.dll")
	if r, _, _ := kernel32.NewProc("AttachConsole").Call(attachParentProcess); r == 0 {
		return // no parent console (started from Explorer), or already attached
	}
	for _, std := range []struct {
		handle int
		file   **os.File
	}{{syscall.STD_OUTPUT_HANDLE, &os.Stdout}, {syscall.STD_ERROR_HANDLE, &os.Stderr}} {
		if h, err := syscall.GetStdHandle(std.handle); err == nil && h != 0 && h != syscall.InvalidHandle {
			continue // redirected to a file or pipe: keep it
		}
		if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
			*std.file = f
		}
	}
}
