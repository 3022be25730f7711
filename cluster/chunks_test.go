package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// TestManifestForms: the inline form written before chunks existed still
// reads; the chunked form does not read as the inline one (a host of an
// older version fails on it instead of taking it for empty states).
func TestManifestForms(t *testing.T) {
	m, err := decodeManifest(3, []byte(`{"seq": 7, "states": {"count": {"m1": 2}}}`))
	if err != nil || m.Seq != 7 || len(m.Chunks) != 0 {
		t.Fatalf("inline manifest: %+v, %v", m, err)
	}
	if states, err := decodeStates(3, m.States); err != nil || string(states["count"]) != `{"m1": 2}` {
		t.Fatalf("inline states: %q, %v", states, err)
	}
	blob := encodeStates(map[string]json.RawMessage{"b": json.RawMessage(`[1]`), "a": json.RawMessage(`{"x":"y"}`)})
	if string(blob) != `{"a":{"x":"y"},"b":[1]}` || !bytes.Equal(inlineValue(9, blob), []byte(`{"seq":9,"states":{"a":{"x":"y"},"b":[1]}}`)) {
		t.Fatalf("encoded: %s", blob)
	}
	chunked, _ := json.Marshal(manifest{Seq: 9, States: json.RawMessage(chunkedStates), Size: 3, Chunks: []chunkRef{{SHA256: "00", Size: 3}}})
	var older Stored
	if err := json.Unmarshal(chunked, &older); err == nil {
		t.Fatalf("a chunked manifest %s reads as the inline form: %+v", chunked, older)
	}
	if _, err := decodeManifest(3, []byte(`{"seq": 1, "states": {}, "chunks": [{"sha256": "00", "size": 1}]}`)); err == nil {
		t.Fatal("a manifest with both states and chunks was accepted")
	}
}

// TestCutChunks: chunks cover the data in order, none larger than asked;
// a small change in the middle of the data leaves the chunks before it
// and all but a few after it as they were.
func TestCutChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	most := 1<<20 - 1<<16
	before := cutChunks(data, most)
	if got := bytes.Join(before, nil); !bytes.Equal(got, data) {
		t.Fatal("the chunks do not add up to the data")
	}
	for i, c := range before {
		if len(c) > most || (len(c) < cdcMin && i < len(before)-1) {
			t.Fatalf("chunk %d of %d bytes (most %d)", i, len(c), most)
		}
	}
	changed := slices.Concat(data[:len(data)/2], []byte("a few more bytes"), data[len(data)/2:])
	after := cutChunks(changed, most)
	had := map[string]bool{}
	for _, c := range before {
		had[chunkHash(c)] = true
	}
	fresh := 0
	for _, c := range after {
		if !had[chunkHash(c)] {
			fresh++
		}
	}
	if fresh > 2 {
		t.Errorf("a 16-byte insertion changed %d of %d chunks", fresh, len(after))
	}
	t.Logf("3 MiB of random data: %d chunks; a 16-byte insertion changes %d", len(before), fresh)
}

// TestBigStateWriteCost measures what writing and reading a 3 MiB
// partition state costs: the first write (every chunk), a write with
// nothing changed, after a 60 KiB entry is appended, after 16 bytes
// change in the middle, a read; and an inline write of 900 KiB (about the
// most that fits in one message) for comparison. Opt-in: set
// AFSTUDIO_CLUSTER_BENCH=1 (and run without -race).
func TestBigStateWriteCost(t *testing.T) {
	if os.Getenv("AFSTUDIO_CLUSTER_BENCH") == "" {
		t.Skip("a measurement: set AFSTUDIO_CLUSTER_BENCH=1")
	}
	r := newBigRig(t)
	h := r.host("h")
	rng := rand.New(rand.NewPCG(5, 6))
	entries := make([]string, 300) // 300 × 10 KiB
	for i := range entries {
		entries[i] = randomText(rng, 10<<10)
	}
	setLog := func(log []string) {
		b, _ := json.Marshal(map[string]any{"log": log})
		if err := r.m.ImportStates(context.Background(), map[string][]byte{"big": b}); err != nil {
			t.Fatal(err)
		}
	}
	w := &writeTimer{t: t, h: h, m: r.m}
	setLog(entries)
	w.measure("3 MiB, first write", 1, func() {})
	w.measure("3 MiB, unchanged", 9, func() {})
	n := 0
	w.measure("3 MiB, a 60 KiB entry appended", 9, func() { n++; r.ticks(n, n) })
	w.measure("3 MiB, 16 bytes changed in the middle", 9, func() {
		entries[150] = entries[150][:5000] + randomText(rng, 16) + entries[150][5016:]
		setLog(entries)
	})
	var took []time.Duration
	for range 9 {
		start := time.Now()
		if _, err := loadState(context.Background(), h.lay.state, 0); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	t.Logf("%-38s median %v (min %v, max %v)", "3 MiB, read", took[4], took[0], took[8])
	setLog(entries[:90])
	w.measure("900 KiB inline, for comparison", 9, func() {})
}

// randomText returns n random letters.
func randomText(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(rng.IntN(26))
	}
	return string(b)
}

// A writeTimer times a host's writes of a manager's states to partition 0.
type writeTimer struct {
	t   *testing.T
	h   *Host
	m   *starhost.Manager
	rev uint64
	seq uint64
}

// measure times n writes, each after change, and logs the median, the
// extremes and the chunks written per write.
func (w *writeTimer) measure(what string, n int, change func()) {
	w.t.Helper()
	var took []time.Duration
	var written uint64
	for range n {
		change()
		before := w.lastSeq()
		w.seq++
		start := time.Now()
		rev, err := w.h.writeState(w.m, 0, Stored{Seq: w.seq}, nil, w.rev)
		if err != nil {
			w.t.Fatal(err)
		}
		took = append(took, time.Since(start))
		w.rev = rev
		written += w.lastSeq() - before - 1 // the manifest is the one more
	}
	slices.Sort(took)
	w.t.Logf("%-38s median %v (min %v, max %v); %.1f chunks written per write", what, took[n/2], took[0], took[n-1], float64(written)/float64(n))
}

// lastSeq is the last sequence of the state bucket's stream.
func (w *writeTimer) lastSeq() uint64 {
	w.t.Helper()
	s, err := w.h.opts.JetStream.Stream(context.Background(), "KV_"+Layout{}.StateBucket())
	if err != nil {
		w.t.Fatal(err)
	}
	return s.CachedInfo().State.LastSeq
}

// TestDamagedStates: a partition whose stored state is damaged (a
// manifest whose sizes lie, a missing chunk list, not JSON) never brings
// a host down: the host that takes it keeps the other partitions going
// and shows the problem in its heartbeat; cluster status shows it as that
// partition's error and the other partitions as usual; state export says
// which partition is damaged.
func TestDamagedStates(t *testing.T) {
	damaged := map[string]string{
		"negative size":  `{"seq": 1, "states": "chunked", "size": -1, "chunks": [{"sha256": "00", "size": 1}]}`,
		"huge chunk":     `{"seq": 1, "states": "chunked", "size": 4611686018427387904, "chunks": [{"sha256": "00", "size": 4611686018427387904}]}`,
		"sizes disagree": `{"seq": 1, "states": "chunked", "size": 5, "chunks": [{"sha256": "00", "size": 3}]}`,
		"not JSON":       `{"seq": 1, "states": `,
	}
	for name, value := range damaged {
		t.Run(name, func(t *testing.T) {
			ts := initTest(t, 2)
			_, js := ts.connect(t)
			kv, err := js.KeyValue(context.Background(), Layout{}.StateBucket())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := kv.Put(context.Background(), stateKey(1), []byte(value)); err != nil {
				t.Fatal(err)
			}
			if _, err := ExportStates(context.Background(), js, Layout{}); err == nil || !strings.Contains(err.Error(), "partition 1") {
				t.Errorf("state export of a damaged partition: %v, want an error naming partition 1", err)
			}
			h := startHost(t, ts, "a")
			pub := newPublisher(js, 10)
			pub.publish(t, 100)
			st := waitStatus(t, js, "partition 1's problem in a's heartbeat", func(st Status) bool {
				return len(st.Hosts) == 1 && len(st.Hosts[0].Failed) > 0 && strings.Contains(st.Hosts[0].Failed[0], "partition 1")
			})
			if st.Partitions[1].StateError == "" || st.Partitions[0].StateError != "" {
				t.Errorf("partition states in cluster status: %+v; want partition 1's error only", st.Partitions)
			}
			var text strings.Builder
			if err := st.WriteText(&text); err != nil || !strings.Contains(text.String(), "WARNING: partition 1:") {
				t.Errorf("cluster status text has no warning for partition 1:\n%s", text.String())
			}
			if owned := h.Owned(); !slices.Contains(owned, 0) {
				t.Errorf("a applies %v; want partition 0 going on", owned)
			}
		})
	}
}
