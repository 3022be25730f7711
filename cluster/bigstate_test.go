package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// bigManager makes managers with testdata/count and testdata/big loaded:
// every tick adds about 60 KiB to the big integration's state.
func bigManager(ctx context.Context) (*starhost.Manager, error) {
	count, _ := filepath.Abs("testdata/count")
	big, _ := filepath.Abs("testdata/big")
	m, err := starhost.New(starhost.Options{Roots: []string{count, big}, Parallel: 1})
	if err != nil {
		return nil, err
	}
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// checkBigLog checks the big integration's log in the stored states:
// every tick p published is there once, in order per mission, with its
// text.
func checkBigLog(t *testing.T, js jetstream.JetStream, p *publisher) {
	t.Helper()
	all, err := ExportStates(context.Background(), js, Layout{})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]int{}
	for part, states := range all {
		var st struct{ Log []string }
		if err := json.Unmarshal(states["big"], &st); err != nil {
			t.Fatalf("partition %s: big state: %v", part, err)
		}
		for _, e := range st.Log {
			head, text, _ := strings.Cut(e, ":")
			i := strings.LastIndexByte(head, '-')
			m := head[:max(i, 0)]
			n, _ := strconv.Atoi(head[i+1:])
			if n != last[m]+1 || len(text) < 50000 {
				t.Fatalf("partition %s: log entry %s (%d bytes of text) after %s-%d", part, head, len(text), m, last[m])
			}
			last[m] = n
		}
	}
	for i, n := range p.next {
		if m := fmt.Sprintf("m%d", i); last[m] != n {
			t.Errorf("mission %s: logged up to %d, published %d", m, last[m], n)
		}
	}
}

// bucketView is what the state bucket holds for partition 0.
type bucketView struct {
	man    manifest
	chunks []string // the chunk keys in the bucket, in order
	msgs   uint64   // the messages in the bucket's stream
}

// viewBucket reads the state bucket (of a single-partition layout). The
// chunks are the subjects of the bucket's stream (one request): listing
// the keys with a watcher waits forever for keys removed meanwhile.
func viewBucket(t *testing.T, js jetstream.JetStream) bucketView {
	t.Helper()
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, Layout{}.StateBucket())
	if err != nil {
		t.Fatal(err)
	}
	var v bucketView
	if e, err := kv.Get(ctx, stateKey(0)); err == nil {
		if v.man, err = decodeManifest(0, e.Value()); err != nil {
			t.Fatal(err)
		}
	}
	s, err := js.Stream(ctx, "KV_"+Layout{}.StateBucket())
	if err != nil {
		t.Fatal(err)
	}
	prefix := "$KV." + Layout{}.StateBucket() + "."
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(prefix+chunkFilter(0)))
	if err != nil {
		t.Fatal(err)
	}
	for subject := range info.State.Subjects {
		v.chunks = append(v.chunks, strings.TrimPrefix(subject, prefix))
	}
	slices.Sort(v.chunks)
	v.msgs = info.State.Msgs
	return v
}

// listed returns the keys of the chunks v's manifest lists, in order, once
// each.
func (v bucketView) listed() []string {
	var keys []string
	for _, c := range v.man.Chunks {
		keys = append(keys, chunkKey(0, c.SHA256))
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// waitClean waits until the state bucket holds partition 0's manifest and
// the chunks it lists, and nothing else: no chunk of an older state, none
// left behind, no delete marker.
func waitClean(t *testing.T, js jetstream.JetStream, within time.Duration) bucketView {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v := viewBucket(t, js)
		if slices.Equal(v.chunks, v.listed()) && v.msgs == uint64(1+len(v.chunks)) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("the state bucket holds %d messages and the chunks %v; the manifest lists %v", v.msgs, v.chunks, v.listed())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClusterBigState: a partition's states grow past the server's
// max_payload (1 MiB): they are stored in chunks, read back whole, carried
// over exactly when a host dies mid-stream and another takes over, the
// chunks of older states are removed, and when the states shrink again
// they are stored inline and every chunk goes.
func TestClusterBigState(t *testing.T) {
	ts := initTest(t, 1)
	_, js := ts.connect(t)
	a := startHostWith(t, ts, "a", bigManager)
	waitSpread(t, 1, 30*time.Second, a)
	pub := newPublisher(js, 4)
	for range 4 { // 24 events, about 1.4 MiB, in at least 4 writes
		pub.publish(t, 6)
		waitExact(t, js, pub, 60*time.Second)
	}
	checkBigLog(t, js, pub)
	if v := waitClean(t, js, 30*time.Second); len(v.man.Chunks) < 2 || v.man.Size <= 1<<20 {
		t.Fatalf("manifest of %d bytes of states in %d chunks; want more than 1 MiB in chunks", v.man.Size, len(v.man.Chunks))
	}
	pub.publish(t, 12)
	a.kill() // most likely mid-batch: what a applied and did not store is b's to apply
	b := startHostWith(t, ts, "b", bigManager)
	waitSpread(t, 1, 30*time.Second, b)
	for range 4 { // about 3.3 MiB in all
		pub.publish(t, 5)
		waitExact(t, js, pub, 60*time.Second)
	}
	checkBigLog(t, js, pub)
	v := waitClean(t, js, 30*time.Second)
	st, err := ReadStatus(context.Background(), js, Layout{})
	if err != nil {
		t.Fatal(err)
	}
	if ps := st.Partitions[0]; ps.StateBytes != v.man.Size || ps.Chunks != len(v.man.Chunks) || ps.StateBytes < 3<<20 || ps.Lag != 0 {
		t.Errorf("status of partition 0: %+v; the manifest says %d bytes in %d chunks (want more than 3 MiB)", ps, v.man.Size, len(v.man.Chunks))
	}
	for _, h := range st.Hosts {
		if len(h.Failed) > 0 {
			t.Errorf("host %s reports %q", h.ID, h.Failed)
		}
	}
	t.Logf("%s of states in %d chunks (%d kept in the bucket)", byteSize(v.man.Size), len(v.man.Chunks), len(v.chunks))
	clear := nats.NewMsg(EventSubject("clear", "m0"))
	clear.Header.Set(jetstream.MsgIDHeader, "clear-1")
	if _, err := js.PublishMsg(context.Background(), clear); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for v = viewBucket(t, js); len(v.man.Chunks) > 0 || v.msgs != 1; v = viewBucket(t, js) {
		if time.Now().After(deadline) {
			t.Fatalf("after the log was cleared: manifest with %d chunks, %d messages in the bucket; want the inline state alone", len(v.man.Chunks), v.msgs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitExact(t, js, pub, 30*time.Second)
}

// A bigRig is a server with one partition, hosts that are not running
// (the test calls writeState itself) and one manager with the big
// integration, whose state the hosts write.
type bigRig struct {
	t  *testing.T
	js jetstream.JetStream
	m  *starhost.Manager
}

func newBigRig(t *testing.T) *bigRig {
	t.Helper()
	ts := initTest(t, 1)
	_, js := ts.connect(t)
	m, err := bigManager(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return &bigRig{t: t, js: js, m: m}
}

// host returns a host that is not running.
func (r *bigRig) host(id string) *Host {
	r.t.Helper()
	h, err := New(context.Background(), Options{JetStream: r.js, NewManager: bigManager, ID: id})
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// ticks applies the ticks from..to of mission m0 to the manager: 60 KiB
// of log each.
func (r *bigRig) ticks(from, to int) {
	r.t.Helper()
	for n := from; n <= to; n++ {
		if _, err := r.m.Emit(context.Background(), "tick", map[string]any{"mission": "m0", "n": float64(n)}); err != nil {
			r.t.Fatal(err)
		}
	}
}

// clear empties the big log.
func (r *bigRig) clear() {
	r.t.Helper()
	if _, err := r.m.Emit(context.Background(), "clear", nil); err != nil {
		r.t.Fatal(err)
	}
}

// takeOver is h taking the partition: it reads the state, as serve does.
func (r *bigRig) takeOver(h *Host) loaded {
	r.t.Helper()
	ld, err := loadState(context.Background(), h.lay.state, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	h.book.read(0, ld.rev, ld.chunks)
	return ld
}

// logLength returns the number of entries in the big log of st.
func logLength(t *testing.T, st Stored) int {
	t.Helper()
	var big struct{ Log []string }
	if err := json.Unmarshal(st.States["big"], &big); err != nil {
		t.Fatalf("big state: %v", err)
	}
	return len(big.Log)
}

// TestBigStateFencedWriter: a host that lost its partition, writing a
// state based on the manifest it had, is fenced off and removes no chunk:
// the successor's chunked state stays whole. And the removal of a chunk
// spares a version written after the manifest that dropped it.
func TestBigStateFencedWriter(t *testing.T) {
	r := newBigRig(t)
	old, successor := r.host("old"), r.host("new")
	r.ticks(1, 20)
	rev1, err := old.writeState(r.m, 0, Stored{Seq: 20}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	first := viewBucket(t, r.js)
	if len(first.man.Chunks) < 2 {
		t.Fatalf("a state of %d bytes written in %d chunks", first.man.Size, len(first.man.Chunks))
	}
	ld := r.takeOver(successor)
	r.ticks(21, 25)
	rev2, err := successor.writeState(r.m, 0, Stored{Seq: 25}, nil, ld.rev)
	if err != nil {
		t.Fatal(err)
	}
	r.clear() // the old owner's next state lists none of the chunks
	if _, err := old.writeState(r.m, 0, Stored{Seq: 26}, nil, rev1); err == nil {
		t.Fatal("the old owner overwrote its successor's state")
	}
	if f := old.book.failures(map[int]uint64{0: 1}); len(f) > 0 {
		t.Errorf("being fenced off is reported as a failure: %q", f)
	}
	st, rev, err := readState(context.Background(), old.lay.state, 0)
	if err != nil || rev != rev2 || st.Seq != 25 || logLength(t, st) != 25 {
		t.Fatalf("after the fenced write: seq %d at revision %d (%v); want the successor's 25 at %d, with 25 log entries", st.Seq, rev, err, rev2)
	}
	dropped := unused(first.man.Chunks, viewBucket(t, r.js).man.Chunks)
	if len(dropped) == 0 {
		t.Fatal("the successor's write replaced no chunk")
	}
	checkPurgeSpares(t, r.js, dropped[0], rev2)
}

// triggerKV is a state bucket whose first read of a chunk runs trigger
// first.
type triggerKV struct {
	jetstream.KeyValue
	trigger func()
}

func (kv *triggerKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if strings.Contains(key, ".c.") && kv.trigger != nil {
		kv.trigger()
		kv.trigger = nil
	}
	return kv.KeyValue.Get(ctx, key)
}

// TestBigStateReadWhileWritten: a reader that read a chunked manifest
// finds one of its chunks gone (the owner wrote a newer state and removed
// the chunk it replaced) and reads the newer state instead, whole.
func TestBigStateReadWhileWritten(t *testing.T) {
	r := newBigRig(t)
	h := r.host("h")
	r.ticks(1, 20)
	rev, err := h.writeState(r.m, 0, Stored{Seq: 20}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	before := viewBucket(t, r.js)
	kv := &triggerKV{KeyValue: h.lay.state, trigger: func() {
		r.ticks(21, 21) // changes the last chunk, which the reader reads last
		if _, err := h.writeState(r.m, 0, Stored{Seq: 21}, nil, rev); err != nil {
			t.Error(err)
		}
	}}
	ld, err := loadState(context.Background(), kv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ld.Seq != 21 || logLength(t, ld.Stored) != 21 {
		t.Fatalf("read seq %d with %d log entries; want the newer state, 21 and 21", ld.Seq, logLength(t, ld.Stored))
	}
	if len(unused(before.man.Chunks, ld.chunks)) == 0 {
		t.Fatal("the newer state replaced no chunk: the reader found none gone")
	}
}

// cutKV is a state bucket whose chunk writes fail after the first few.
type cutKV struct {
	jetstream.KeyValue
	puts int // chunk writes that succeed
}

func (kv *cutKV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	if kv.puts == 0 {
		return 0, errors.New("the host died")
	}
	kv.puts--
	return kv.KeyValue.Put(ctx, key, value)
}

// TestBigStateWriteCutShort: a write cut short among its chunks (the
// host died) leaves the stored state as it was, whole; the partition's
// next owner writes its own state and removes the chunks left behind.
func TestBigStateWriteCutShort(t *testing.T) {
	r := newBigRig(t)
	h := r.host("h")
	r.ticks(1, 20)
	rev, err := h.writeState(r.m, 0, Stored{Seq: 20}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	r.clear()
	r.ticks(21, 40) // a new log: none of its chunks is stored yet
	bucket := h.lay.state
	h.lay.state = &cutKV{KeyValue: bucket, puts: 3}
	if _, err := h.writeState(r.m, 0, Stored{Seq: 40}, nil, rev); err == nil {
		t.Fatal("a write whose chunks failed succeeded")
	}
	h.lay.state = bucket
	st, srev, err := readState(context.Background(), bucket, 0)
	if err != nil || srev != rev || st.Seq != 20 || logLength(t, st) != 20 {
		t.Fatalf("after a write cut short: seq %d at revision %d (%v); want the state before, 20 at %d with 20 log entries", st.Seq, srev, err, rev)
	}
	if v := viewBucket(t, r.js); len(v.chunks) != len(v.listed())+3 {
		t.Fatalf("%d chunks in the bucket, %d listed; want the 3 written before the cut besides", len(v.chunks), len(v.listed()))
	}
	next := r.host("next")
	ld := r.takeOver(next)
	r.clear() // a state other than the one cut short
	r.ticks(41, 60)
	if _, err := next.writeState(r.m, 0, Stored{Seq: 60}, nil, ld.rev); err != nil {
		t.Fatal(err)
	}
	waitClean(t, r.js, 30*time.Second)
}

// checkPurgeSpares puts chunk hash back after the manifest at revision
// rev dropped it (as a host that read that manifest may), and checks that
// removing the chunks older than rev spares it, and that removing those
// older than its own revision does not.
func checkPurgeSpares(t *testing.T, js jetstream.JetStream, hash string, rev uint64) {
	t.Helper()
	ctx := context.Background()
	bucket := Layout{}.StateBucket()
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, chunkKey(0, hash)); err == nil {
		t.Fatalf("chunk %s is still in the bucket after the manifest that dropped it", hash)
	}
	again, err := kv.Put(ctx, chunkKey(0, hash), []byte("written again"))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "KV_"+bucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := purgeChunks(stream, bucket, 0, []string{hash}, rev); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, chunkKey(0, hash)); err != nil {
		t.Fatalf("a chunk written after the manifest that dropped it was removed: %v", err)
	}
	if err := purgeChunks(stream, bucket, 0, []string{hash}, again+1); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, chunkKey(0, hash)); err == nil {
		t.Fatal("a chunk older than the revision given was not removed")
	}
}

// TestBigStateLeftovers: a host killed between writing its chunks and its
// manifest leaves the old manifest whole; the next host to take the
// partition removes the chunks left behind after its first write.
func TestBigStateLeftovers(t *testing.T) {
	ts := initTest(t, 1)
	_, js := ts.connect(t)
	ctx := context.Background()
	a := startHostWith(t, ts, "a", bigManager)
	waitSpread(t, 1, 30*time.Second, a)
	pub := newPublisher(js, 2)
	pub.publish(t, 20)
	waitExact(t, js, pub, 60*time.Second)
	a.stop()
	before := waitClean(t, js, 30*time.Second)
	kv, err := js.KeyValue(ctx, Layout{}.StateBucket())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3 { // the chunks of a host that died before its manifest
		c := make([]byte, 100<<10)
		for i := range c {
			c[i] = 'a' + byte(rng.IntN(26))
		}
		if _, err := kv.Put(ctx, chunkKey(0, chunkHash(c)), c); err != nil {
			t.Fatal(err)
		}
	}
	if v := viewBucket(t, js); len(v.chunks) != len(before.chunks)+3 || !slices.Equal(v.listed(), before.listed()) {
		t.Fatalf("after the dead host's chunks: %d chunks, manifest changed %v", len(v.chunks), !slices.Equal(v.listed(), before.listed()))
	}
	checkBigLog(t, js, pub) // the old manifest reads whole
	b := startHostWith(t, ts, "b", bigManager)
	waitSpread(t, 1, 30*time.Second, b)
	pub.publish(t, 4)
	waitExact(t, js, pub, 60*time.Second)
	checkBigLog(t, js, pub)
	waitClean(t, js, 30*time.Second)
}

// TestBigStateWriteFailureShown: when a partition's state cannot be
// written (here the state bucket is limited to 2 MiB and the state grows
// past it), cluster status shows it on the owner until it is resolved;
// once the limit is raised, every event is applied exactly once.
func TestBigStateWriteFailureShown(t *testing.T) {
	ts := initTest(t, 1)
	_, js := ts.connect(t)
	ctx := context.Background()
	limit := func(maxBytes int64) {
		t.Helper()
		if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: Layout{}.StateBucket(), Description: "afstudio integration states per partition",
			History: 1, Storage: jetstream.FileStorage, MaxBytes: maxBytes}); err != nil {
			t.Fatal(err)
		}
	}
	limit(2 << 20)
	a := startHostWith(t, ts, "a", bigManager)
	waitSpread(t, 1, 30*time.Second, a)
	pub := newPublisher(js, 3)
	pub.publish(t, 45) // about 2.6 MiB
	failed := waitStatus(t, js, "the write failure", func(st Status) bool {
		return len(st.Hosts) == 1 && len(st.Hosts[0].Failed) > 0
	})
	if f := failed.Hosts[0].Failed[0]; !strings.Contains(f, "partition 0: its state is not stored") || !strings.Contains(f, "out of storage") || !strings.Contains(f, "largest states: big ") {
		t.Errorf("failure shown: %q", f)
	}
	if failed.Partitions[0].Lag == 0 {
		t.Errorf("partition 0 shows no lag while its state cannot be written: %+v", failed.Partitions[0])
	}
	t.Logf("shown: %s", failed.Hosts[0].Failed[0])
	limit(-1)
	waitStatus(t, js, "the failure resolved", func(st Status) bool {
		return len(st.Hosts) == 1 && len(st.Hosts[0].Failed) == 0 && st.Partitions[0].Lag == 0
	})
	waitExact(t, js, pub, 60*time.Second)
	checkBigLog(t, js, pub)
	waitClean(t, js, 30*time.Second)
}
