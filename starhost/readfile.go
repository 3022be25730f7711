package starhost

import (
	"io"
	"os"
)

// readFileOS is readFile through package os: open, stat, read, close.
func readFileOS(p string, limit int64) (data []byte, isDir bool, err error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	var size int64 = -1
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			return nil, true, nil
		}
		if st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	data, err = readLimited(f, size, limit)
	return data, false, err
}

// readLimited reads r to its end, but at most limit+1 bytes, so that an
// oversized file is detected without reading all of it. size is the size
// of the regular file r reads when it was opened (-1: unknown, or not a
// regular file): the buffer is then allocated once, and the file is taken
// to be read whole, without a further read to see its end, once that many
// bytes came in. (A file rewritten meanwhile may be read half old, half
// new, as with any read; the watcher reports the write, and the reload
// that follows reads it again.)
func readLimited(r io.Reader, size, limit int64) ([]byte, error) {
	if size < 0 || size > limit {
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	buf := make([]byte, 0, size+1) // one byte more: a file that grew is seen to
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return nil, err
		case int64(len(buf)) == size:
			return buf, nil
		case len(buf) == cap(buf): // it grew since it was opened
			rest, err := io.ReadAll(io.LimitReader(r, limit+1-int64(len(buf))))
			if err != nil {
				return nil, err
			}
			return append(buf, rest...), nil
		}
	}
}
