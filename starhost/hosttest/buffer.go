package hosttest

import (
	"bytes"
	"sync"
)

// A Buffer is a bytes.Buffer that another goroutine may write (a child
// process's output, a writer under test) while the test reads it. The
// zero value is an empty buffer ready to use; a Buffer must not be copied
// after first use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
