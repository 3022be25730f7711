package statestore

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
)

// bbolt panics, or faults on its memory map, when it reads a damaged file
// (a truncated copy, a disk that filled up). A crash there would be a crash
// loop on every start, so Open checks the file before bbolt maps it
// (checkSize), turns faults into panics on its own goroutine
// (debug.SetPanicOnFault) and recovers them (guard), and reads every
// record once (Open's prepare) so that later reads meet no damage.

// The bbolt file format (version 2): a page header of 16 bytes, then, in
// the two meta pages 0 and 1, these little- or big-endian (native) fields.
const (
	boltMagic     = 0xED0CDAED
	boltVersion   = 2
	pageHeader    = 16
	metaPageSize  = 8  // uint32
	metaPgid      = 40 // uint64: the high water mark, in pages
	metaTxid      = 48 // uint64
	metaChecksum  = 56 // uint64: FNV-64a of the bytes before it
	metaEnd       = 64
	maxPageSizeOK = 1 << 20
)

// checkSize fails with ErrCorrupt when the file is shorter than its valid
// meta page says (bbolt would read past its end). A file that is new,
// empty or not a bbolt file passes: bbolt creates or refuses it.
func checkSize(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // bbolt creates it, or reports why not
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil
	}
	var best struct {
		ok         bool
		txid, need uint64
	}
	for _, off := range []int64{0, 4096, int64(os.Getpagesize()), 16384, 65536} {
		buf := make([]byte, pageHeader+metaEnd)
		if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
			continue
		}
		m := buf[pageHeader:]
		e := binary.NativeEndian
		if e.Uint32(m) != boltMagic || e.Uint32(m[4:]) != boltVersion {
			continue
		}
		h := fnv.New64a()
		h.Write(m[:metaChecksum])
		if h.Sum64() != e.Uint64(m[metaChecksum:]) {
			continue
		}
		pageSize := uint64(e.Uint32(m[metaPageSize:]))
		if pageSize == 0 || pageSize > maxPageSizeOK || (off != 0 && uint64(off) != pageSize) {
			continue // meta page 1 sits one page in
		}
		if txid := e.Uint64(m[metaTxid:]); !best.ok || txid > best.txid {
			best.ok, best.txid, best.need = true, txid, e.Uint64(m[metaPgid:])*pageSize
		}
	}
	if best.ok && uint64(st.Size()) < best.need {
		return fmt.Errorf("state store %s: %w: the file is truncated (%d bytes of %d); move it aside to start with empty state", path, ErrCorrupt, st.Size(), best.need)
	}
	return nil
}

// guard runs fn, turning a panic or a memory fault in it (a damaged file)
// into ErrCorrupt.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("state store %s: %w: reading it failed (%v); move it aside to start with empty state", path, ErrCorrupt, p)
		}
	}()
	return fn()
}
