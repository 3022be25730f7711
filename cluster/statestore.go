package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// opTimeout bounds a state's write (its chunks and its manifest
// together, as one inline write was bounded), and each request of the
// removal of old chunks after it.
const opTimeout = 10 * time.Second

// A reader reads a chunked state again while a chunk is gone: at once
// when the manifest changed meanwhile (readAttempts times at most), after
// a pause when it did not (a replica of the bucket may lag behind
// another; sameAttempts times at most, then the state is damaged).
const (
	readAttempts = 10
	sameAttempts = 5
)

// loaded is a partition's state as read, with where it came from.
type loaded struct {
	Stored
	rev    uint64     // the manifest's revision; 0 when there is none
	chunks []chunkRef // the manifest's chunks; nil when inline
}

// loadState reads partition p's state, inline or chunked. A chunk that
// is gone means that the owner replaced the manifest meanwhile (and then
// removed the chunks it no longer needs): the newer one is read instead.
func loadState(ctx context.Context, kv jetstream.KeyValue, p int) (loaded, error) {
	same := 0
	for attempt := 1; ; attempt++ {
		ld, gone, err := loadOnce(ctx, kv, p)
		if err != nil || gone == "" {
			return ld, err
		}
		if e, err := kv.Get(ctx, stateKey(p)); err != nil || e.Revision() != ld.rev {
			same = 0
		} else {
			same++
		}
		switch {
		case same == sameAttempts:
			return loaded{}, fmt.Errorf("the state of partition %d (bucket key %s, revision %d) lists the chunk %s, which is not in the bucket: "+
				"the state is damaged; restore the chunk, or delete the key to start the partition afresh", p, stateKey(p), ld.rev, chunkKey(p, gone))
		case attempt == readAttempts:
			return loaded{}, fmt.Errorf("read the state of partition %d: it changed under the reader %d times; try again", p, attempt)
		case same > 0:
			select {
			case <-ctx.Done():
				return loaded{}, fmt.Errorf("read the state of partition %d: %w", p, ctx.Err())
			case <-time.After(time.Duration(same) * 50 * time.Millisecond):
			}
		}
	}
}

// loadOnce reads partition p's manifest, then its chunks; gone is the
// hash of a chunk not found.
func loadOnce(ctx context.Context, kv jetstream.KeyValue, p int) (ld loaded, gone string, err error) {
	e, err := kv.Get(ctx, stateKey(p))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return loaded{}, "", nil
	}
	if err != nil {
		return loaded{}, "", fmt.Errorf("read the state of partition %d: %w", p, err)
	}
	m, err := decodeManifest(p, e.Value())
	if err != nil {
		return loaded{}, "", err
	}
	ld = loaded{Stored: Stored{Seq: m.Seq}, rev: e.Revision(), chunks: m.Chunks}
	blob := []byte(m.States)
	if len(m.Chunks) > 0 {
		if blob, gone, err = readChunks(ctx, kv, p, m); err != nil || gone != "" {
			return ld, gone, err
		}
	}
	if len(blob) > 0 {
		if ld.States, err = decodeStates(p, blob); err != nil {
			return loaded{}, "", err
		}
	}
	return ld, "", nil
}

// readChunks concatenates the chunks of a chunked manifest, checking each
// against its hash and size; gone is the hash of a chunk not found.
func readChunks(ctx context.Context, kv jetstream.KeyValue, p int, m manifest) (blob []byte, gone string, err error) {
	blob = make([]byte, 0, min(m.Size, maxChunk)) // grown by what is read and checked (decodeManifest checked the sizes)
	for _, c := range m.Chunks {
		e, err := kv.Get(ctx, chunkKey(p, c.SHA256))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, c.SHA256, nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("read the state of partition %d: chunk %s: %w", p, chunkKey(p, c.SHA256), err)
		}
		if v := e.Value(); len(v) != c.Size || chunkHash(v) != c.SHA256 {
			return nil, "", fmt.Errorf("the state of partition %d lists the chunk %s of %d bytes, but the bucket holds %d bytes of another content there: "+
				"the state is damaged; restore the chunk, or delete the key %s to start the partition afresh", p, chunkKey(p, c.SHA256), c.Size, len(v), stateKey(p))
		}
		blob = append(blob, e.Value()...)
	}
	return blob, "", nil
}

// maxChunk is the largest chunk a manifest may list: the largest
// max_payload a NATS server accepts.
const maxChunk = 64 << 20

// head is what a partition's manifest says without its chunks.
type head struct {
	seq    uint64
	size   int // bytes of the states' JSON
	chunks int // 0 when inline
}

// readHead reads partition p's manifest only (zero when there is none).
func readHead(ctx context.Context, kv jetstream.KeyValue, p int) (head, error) {
	e, err := kv.Get(ctx, stateKey(p))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return head{}, nil
	}
	if err != nil {
		return head{}, fmt.Errorf("read the state of partition %d: %w", p, err)
	}
	m, err := decodeManifest(p, e.Value())
	if err != nil {
		return head{}, err
	}
	if len(m.Chunks) > 0 {
		return head{seq: m.Seq, size: m.Size, chunks: len(m.Chunks)}, nil
	}
	return head{seq: m.Seq, size: len(m.States)}, nil
}

// chunkLimit is the largest value the host writes in one message: the
// server's max_payload less a sixteenth, for the subject and headers.
func (h *Host) chunkLimit() int {
	limit := h.opts.JetStream.Conn().MaxPayload()
	if limit <= 0 {
		limit = 1 << 20 // not connected yet: the server's default
	}
	return int(limit - limit/16)
}

// storeState writes st as partition p's state, expecting revision rev (0:
// none yet), and returns the new revision: inline when it fits in one
// message, else its chunks first, then the manifest (the commit), then,
// best effort, the removal of the chunks no longer used.
func (h *Host) storeState(p int, st Stored, rev uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	limit := h.chunkLimit()
	blob := encodeStates(st.States)
	base := h.book.base(p, rev)
	value := inlineValue(st.Seq, blob)
	var chunks []chunkRef
	if len(value) > limit {
		var err error
		if chunks, err = h.putChunks(ctx, p, blob, limit, base, st.States); err != nil {
			return rev, err
		}
		if value, err = json.Marshal(manifest{Seq: st.Seq, States: json.RawMessage(chunkedStates), Size: len(blob), Chunks: chunks}); err != nil {
			return rev, fmt.Errorf("encode the manifest: %w", err)
		}
		if len(value) > limit {
			return rev, fmt.Errorf("%s in %d chunks (%s) need a manifest of %s, more than the server's max_payload allows (%s): "+
				"keep state per key smaller, or raise max_payload in the server's configuration",
				byteSize(len(blob)), len(chunks), stateSizes(st.States), byteSize(len(value)), byteSize(limit))
		}
	}
	nrev, err := h.commitState(ctx, p, value, rev)
	if err != nil {
		return rev, err
	}
	sweep := h.book.wrote(p, nrev, chunks)
	h.dropChunks(p, nrev, chunks, unused(base, chunks), sweep)
	return nrev, nil
}

// putChunks writes the chunks of blob that base lacks and returns the
// chunks of blob, in order.
func (h *Host) putChunks(ctx context.Context, p int, blob []byte, limit int, base []chunkRef, states map[string]json.RawMessage) ([]chunkRef, error) {
	have := map[string]bool{}
	for _, c := range base {
		have[c.SHA256] = true
	}
	pieces := cutChunks(blob, limit)
	chunks := make([]chunkRef, 0, len(pieces))
	for i, piece := range pieces {
		c := chunkRef{SHA256: chunkHash(piece), Size: len(piece)}
		chunks = append(chunks, c)
		if have[c.SHA256] {
			continue
		}
		_, err := h.lay.state.Put(ctx, chunkKey(p, c.SHA256), piece)
		if err != nil {
			return nil, fmt.Errorf("chunk %d of %d (%s; %s in all; %s): %w; "+
				"if the bucket %s or the account is out of storage, raise its limits or keep state per key smaller",
				i+1, len(pieces), byteSize(len(piece)), byteSize(len(blob)), stateSizes(states), err, h.opts.Layout.StateBucket())
		}
		have[c.SHA256] = true
	}
	return chunks, nil
}

// commitState writes partition p's manifest, expecting revision rev.
func (h *Host) commitState(ctx context.Context, p int, value []byte, rev uint64) (uint64, error) {
	if rev == 0 {
		return h.lay.state.Create(ctx, stateKey(p), value)
	}
	return h.lay.state.Update(ctx, stateKey(p), value, rev)
}

// unused returns the hashes of old's chunks that new lacks.
func unused(old, new []chunkRef) []string {
	keep := map[string]bool{}
	for _, c := range new {
		keep[c.SHA256] = true
	}
	var out []string
	for _, c := range old {
		if !keep[c.SHA256] {
			keep[c.SHA256] = true // once
			out = append(out, c.SHA256)
		}
	}
	return out
}

// dropChunks removes, best effort, the chunks of partition p named by
// hashes and, with sweep, every chunk of p that the manifest just written
// at revision rev, with chunks listed, does not list: those left behind by
// a host that died between its chunks and its manifest, or whose
// manifest was fenced off. A failure is logged; the next host to take
// the partition looks again.
func (h *Host) dropChunks(p int, rev uint64, listed []chunkRef, hashes []string, sweep bool) {
	if len(hashes) == 0 && !sweep {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	bucket := h.opts.Layout.StateBucket()
	failed := func(err error) {
		h.log.Warn("chunks no longer used not removed; they are looked for again within a few hundred writes", "partition", p, "err", err)
		h.book.fail(p, opPurge, fmt.Errorf("%w (hosts need the right to purge the stream KV_%s)", err, bucket))
	}
	stream := h.lay.stateLog
	if sweep {
		left, err := h.leftChunks(ctx, stream, p, listed)
		if err != nil {
			failed(err)
		}
		hashes = append(hashes, left...) // the same twice is removed once
	}
	if err := purgeChunks(stream, bucket, p, hashes, rev); err != nil {
		failed(err)
	}
}

// leftChunks returns the hashes of partition p's chunks in the bucket
// that listed lacks. It asks the bucket's stream for its subjects (one
// request) rather than listing the keys with a watcher, which waits
// forever for keys removed between its start and their delivery.
func (h *Host) leftChunks(ctx context.Context, stream jetstream.Stream, p int, listed []chunkRef) ([]string, error) {
	prefix := "$KV." + h.opts.Layout.StateBucket() + "." + chunkKey(p, "")
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(prefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("list the chunks of partition %d: %w", p, err)
	}
	keep := map[string]bool{}
	for _, c := range listed {
		keep[c.SHA256] = true
	}
	var out []string
	for subject := range info.State.Subjects {
		if hash := strings.TrimPrefix(subject, prefix); !keep[hash] {
			out = append(out, hash)
		}
	}
	return out, nil
}

// purgeChunks removes the versions of partition p's chunks (by hash)
// older than before, the revision of the manifest that no longer lists
// them. A version at or after before is spared: it was written by a host
// that read that manifest or a later one (the same content may come back
// under the same key), and a manifest yet to be written may list it. No
// delete marker is left behind.
func purgeChunks(stream jetstream.Stream, bucket string, p int, hashes []string, before uint64) error {
	var errs []error
	done := map[string]bool{}
	for _, hash := range hashes {
		if done[hash] {
			continue
		}
		done[hash] = true
		subject := "$KV." + bucket + "." + chunkKey(p, hash)
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		err := stream.Purge(ctx, jetstream.WithPurgeSubject(subject), jetstream.WithPurgeSequence(before))
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("remove chunk %s: %w", chunkKey(p, hash), err))
		}
	}
	return errors.Join(errs...)
}
