package statestore

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockHolder returns the id of the process that holds the flock on the file
// at path, read from /proc/locks, or 0 when it cannot tell.
func lockHolder(path string) int {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer f.Close()
	return findLockHolder(bufio.NewScanner(f), uint64(st.Ino)) // Ino is uint32 on some ports
}

// findLockHolder scans lines of /proc/locks such as
//
//	1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF
//
// for the FLOCK on inode ino (waiters, "1: -> FLOCK ...", are skipped).
func findLockHolder(sc *bufio.Scanner, ino uint64) int {
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] != "FLOCK" {
			continue
		}
		id := f[5]
		if i := strings.LastIndexByte(id, ':'); i >= 0 {
			id = id[i+1:]
		}
		if n, err := strconv.ParseUint(id, 10, 64); err != nil || n != ino {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}
