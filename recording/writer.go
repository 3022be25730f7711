package recording

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
)

// DefaultLimit is the size limit of a recording when none is given: 256
// MiB, about 1.5 million events of the size the default integrations
// handle (some 170 bytes a line).
const DefaultLimit = 256 << 20

// ErrFull is returned by Writer.Write for an entry that was dropped
// because the recording reached its size limit.
var ErrFull = errors.New("the recording is full")

// A Writer appends entries to a recording file, one line each, until the
// file reaches its size limit. Each entry is written with one write to
// the file, without buffering in the process: entries written are in the
// file even if the process dies right after. It never writes part of a
// line: an entry that would take the file past the limit is dropped, and
// so is every entry after it (a recording is always a prefix of what
// happened, which replays faithfully), counted in Stats. A Writer is safe
// for concurrent use.
type Writer struct {
	path  string
	limit int64

	mu      sync.Mutex
	f       *os.File // nil once closed
	size    int64
	entries int64
	dropped int64
	full    bool  // an entry was dropped for the limit: nothing more is written
	err     error // the first write error: nothing more is written
}

// Stats say what a Writer has done.
type Stats struct {
	// Entries is how many entries this Writer wrote.
	Entries int64
	// Bytes is the size of the file, entries written before this Writer
	// opened it included.
	Bytes int64
	// Dropped is how many entries were not written: past the limit, or
	// after a write error.
	Dropped int64
	// Full is true once an entry was dropped for the limit.
	Full bool
	// Err is the first error writing the file, nil if none.
	Err error
}

// Create creates the recording file path, or truncates it, and returns a
// Writer that stops at limit bytes (limit <= 0: no limit). Close it when
// done.
func Create(path string, limit int64) (*Writer, error) {
	return open(path, limit, os.O_TRUNC)
}

// Append opens the recording file path to add entries at its end,
// creating it if needed. The limit counts what the file holds already: a
// process that continues another's recording (a restarted worker) stops
// at the same size. A last line without its newline (the writer before
// died in the middle of it) is cut off first, so that the file stays
// whole lines.
func Append(path string, limit int64) (*Writer, error) {
	return open(path, limit, os.O_APPEND)
}

func open(path string, limit int64, mode int) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|mode, 0o644)
	if err != nil {
		return nil, fmt.Errorf("record the events: %w; choose a file in a folder you can write", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("record the events: %w", err)
	}
	if limit <= 0 {
		limit = -1
	}
	size := fi.Size()
	if mode == os.O_APPEND && size > 0 {
		if size, err = cutHalfLine(path, f, size); err != nil {
			f.Close()
			return nil, fmt.Errorf("record the events: %s ends with a partial line that cannot be cut off: %w", path, err)
		}
	}
	return &Writer{path: path, limit: limit, f: f, size: size}, nil
}

// cutHalfLine truncates f (the file at path, size bytes) after its last
// newline when it does not end with one, and returns its new size.
func cutHalfLine(path string, f *os.File, size int64) (int64, error) {
	r, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := r.ReadAt(chunk, start); err != nil {
			return 0, err
		}
		if end == size && chunk[len(chunk)-1] == '\n' {
			return size, nil // whole lines
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return start + int64(i) + 1, f.Truncate(start + int64(i) + 1)
		}
		end = start
	}
	return 0, f.Truncate(0) // no whole line at all
}

// Path returns the file's path, as given to Create or Append.
func (w *Writer) Path() string { return w.path }

// Limit returns the size limit in bytes; -1 for none.
func (w *Writer) Limit() int64 { return w.limit }

// Write appends e as one line. It returns ErrFull when e was dropped for
// the limit (then every later entry is dropped too), the write error of
// the file when it cannot be written (the file is cut back to its last
// whole line; later entries are dropped), and an error for an entry that
// is not JSON (its Data is not valid JSON). Every entry not written is
// counted in Stats.Dropped.
func (w *Writer) Write(e Entry) error {
	line, err := e.marshalLine()
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		w.dropped++
		return fmt.Errorf("record event %q: %w", e.Event, err)
	case w.f == nil:
		w.dropped++
		return fmt.Errorf("record event %q: %s is closed", e.Event, w.path)
	case w.err != nil:
		w.dropped++
		return w.err
	case w.full || w.limit >= 0 && w.size+int64(len(line)) > w.limit:
		w.full = true
		w.dropped++
		return ErrFull
	}
	n, err := w.f.Write(line)
	if err != nil {
		if n > 0 {
			_ = w.f.Truncate(w.size) // no half line
		}
		w.err = fmt.Errorf("record the events in %s: %w", w.path, err)
		w.dropped++
		return w.err
	}
	w.size += int64(n)
	w.entries++
	return nil
}

// Stats returns what the Writer has done so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{Entries: w.entries, Bytes: w.size, Dropped: w.dropped, Full: w.full, Err: w.err}
}

// Flush commits the entries written to stable storage (fsync). Entries
// are in the file as soon as Write returns, so a process that dies loses
// none; Flush guards them against a crash of the machine.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("record the events: flush %s: %w", w.path, err)
	}
	return nil
}

// Close flushes and closes the file; later entries are dropped (and
// counted). It is safe to call more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err != nil {
		return fmt.Errorf("record the events: close %s: %w", w.path, err)
	}
	return nil
}
