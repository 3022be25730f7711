package jsonwire

import (
	"bytes"
	"io"
	"sync"
)

// bufPool holds the buffers that bodies are read into and written from.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled is the largest buffer put back in the pool; a larger one (a
// big batch) is left to the garbage collector.
const maxPooled = 1 << 20

// GetBuffer returns an empty buffer from a pool; give it back with
// PutBuffer once nothing refers to its bytes.
func GetBuffer() *[]byte { return bufPool.Get().(*[]byte) }

// PutBuffer gives b back to the pool (unless it grew past 1 MiB).
func PutBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// ReadAll reads r to its end into *buf (growing it, and leaving the grown
// buffer in *buf) and returns the bytes read and the read error, nil at
// the end. size is the expected length, -1 when unknown.
func ReadAll(r io.Reader, size int64, buf *[]byte) ([]byte, error) {
	b := (*buf)[:0]
	if size >= int64(cap(b)) && size < maxPooled {
		b = make([]byte, 0, size+1) // +1: the read that finds the end needs room
	}
	defer func() { *buf = b[:0] }()
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// Replay returns a reader of body that ends with err (io.EOF when nil),
// for encoding/json to decode exactly what ReadAll read.
func Replay(body []byte, err error) io.Reader {
	if err == nil {
		return bytes.NewReader(body)
	}
	return io.MultiReader(bytes.NewReader(body), errReader{err})
}

// errReader is a reader that fails with its error.
type errReader struct{ err error }

// Read fails with the reader's error.
func (e errReader) Read([]byte) (int, error) { return 0, e.err }
