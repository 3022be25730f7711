package cluster

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// A stateBook is what a host keeps about the partitions' stored states:
// per partition, the manifest it last read or wrote (the next write, when
// based on it, reuses its chunks and removes those it no longer needs),
// whether chunks left behind by others are still to be looked for, and
// the last failure to read or write the state, which the host's heartbeat
// shows until the state is read or written again. It also keeps the state
// bucket's stream, for removing chunks. The zero value is empty.
type stateBook struct {
	mu    sync.Mutex
	parts map[int]*partNote
}

// partNote is what a stateBook keeps of one partition.
type partNote struct {
	rev     uint64     // the manifest's revision; 0 for none
	chunks  []chunkRef // its chunks; nil when inline
	sweep   bool       // chunks no manifest uses are still to be looked for
	writes  int        // manifests written since the last sweep
	failOp  string     // "read", "write" or "purge": what failed last; "" when nothing
	failErr error
}

// Operations a partNote's failure names.
const (
	opRead  = "read"
	opWrite = "write"
	opPurge = "purge"
)

// sweepEvery is how many manifests an owner writes between two looks for
// chunks no manifest uses, besides the one after it read the state:
// chunks a host wrote after it had lost the partition (its manifest then
// fenced off) are removed within that many writes.
const sweepEvery = 256

// note returns p's note, made if needed; b.mu is held.
func (b *stateBook) note(p int) *partNote {
	if b.parts == nil {
		b.parts = map[int]*partNote{}
	}
	n := b.parts[p]
	if n == nil {
		n = &partNote{}
		b.parts[p] = n
	}
	return n
}

// read notes that p's state was read (and imported) at revision rev, with
// chunks: the next write looks for chunks left behind, and a failure to
// read is over.
func (b *stateBook) read(p int, rev uint64, chunks []chunkRef) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.note(p)
	n.rev, n.chunks, n.sweep = rev, chunks, true
	if n.failOp == opRead {
		n.failOp, n.failErr = "", nil
	}
}

// base returns the chunks of p's manifest at revision rev when the host
// read or wrote that revision last; nil when it did not, or when that
// manifest is inline.
func (b *stateBook) base(p int, rev uint64) []chunkRef {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := b.parts[p]; n != nil && n.rev == rev && rev != 0 {
		return n.chunks
	}
	return nil
}

// wrote notes that p's manifest at revision rev, with chunks, was
// written; any failure is over. It reports whether chunks left behind are
// to be looked for now (after each read, and every sweepEvery writes).
func (b *stateBook) wrote(p int, rev uint64, chunks []chunkRef) (sweep bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.note(p)
	n.writes++
	sweep = n.sweep || n.writes >= sweepEvery
	if sweep {
		n.writes = 0
	}
	n.rev, n.chunks, n.sweep = rev, chunks, false
	n.failOp, n.failErr = "", nil
	return sweep
}

// fail notes that reading or writing p's state failed with err.
func (b *stateBook) fail(p int, op string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.note(p)
	n.failOp, n.failErr = op, err
}

// failures returns a line per partition in held whose state could not be
// read or written last time, for the heartbeat.
func (b *stateBook) failures(held map[int]uint64) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, p := range slices.Sorted(maps.Keys(b.parts)) {
		n := b.parts[p]
		if _, ok := held[p]; !ok || n.failOp == "" {
			continue
		}
		what := "its stored state cannot be read, so its events wait"
		switch n.failOp {
		case opWrite:
			what = "its state is not stored, so its sequence stays behind"
		case opPurge:
			what = "chunks of its state no longer used cannot be removed, so they take space in the bucket"
		}
		out = append(out, fmt.Sprintf("partition %d: %s (tried again at every lease renewal): %v", p, what, n.failErr))
	}
	return out
}
