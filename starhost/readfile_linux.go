package starhost

import (
	"syscall"
)

// readFile returns the content of the file at p, at most limit+1 bytes
// of it (so that an oversized file is detected without reading all of
// it), or isDir when p is a folder.
//
// On Linux a regular file is read with four system calls (open, fstat,
// read, close), where os.Open adds an fcntl to learn whether the
// descriptor is non-blocking; a reload of every integration reads every
// file it concerns, and system calls are most of what an unchanged
// module's reload costs. Anything but a regular file goes through
// readFileOS.
func readFile(p string, limit int64) (data []byte, isDir bool, err error) {
	var fd int
	for {
		fd, err = syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, false, err
	}
	var st syscall.Stat_t
	if err := fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size > limit {
		syscall.Close(fd)
		return readFileOS(p, limit)
	}
	defer syscall.Close(fd)
	buf := make([]byte, st.Size+1) // one byte more: a file that grew is seen to
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, false, err
		case m == 0:
			return buf[:n], false, nil
		}
		n += m
		if int64(n) == st.Size {
			return buf[:n], false, nil // read whole, as readLimited takes it
		}
	}
	// It grew since it was opened: read the rest the portable way.
	return readFileOS(p, limit)
}

// fstat is syscall.Fstat, retried when interrupted.
func fstat(fd int, st *syscall.Stat_t) error {
	for {
		if err := syscall.Fstat(fd, st); err != syscall.EINTR {
			return err
		}
	}
}
