package statestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testHost plays the host: it owns counters and counts what collect is
// asked for.
type testHost struct {
	mu      sync.Mutex
	state   map[string]int
	bad     map[string]bool // states returned as broken JSON
	batches [][]string      // the names of each collect call
	gate    chan struct{}   // if set, the first collect waits for it to close
	entered chan struct{}   // closed when the first collect starts
	panics  int             // the next collect calls that panic
	release sync.Once
}

// hold makes the first collect wait until the returned function is called
// (at the latest when the test ends, so that a failed test does not hang).
func (h *testHost) hold(t *testing.T) (release func()) {
	gate := make(chan struct{})
	h.mu.Lock()
	h.gate = gate
	h.mu.Unlock()
	release = func() { h.release.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return release
}

// waitEntered waits until the first collect has started.
func (h *testHost) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-h.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("collect was not called within 10s")
	}
}

func newTestHost() *testHost {
	return &testHost{state: map[string]int{}, bad: map[string]bool{}, entered: make(chan struct{})}
}

func (h *testHost) set(name string, v int) {
	h.mu.Lock()
	h.state[name] = v
	h.mu.Unlock()
}

func (h *testHost) collect(names []string) []Record {
	h.mu.Lock()
	first := len(h.batches) == 0
	h.batches = append(h.batches, slices.Clone(names))
	gate := h.gate
	h.mu.Unlock()
	if first {
		close(h.entered)
		if gate != nil {
			<-gate
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.panics > 0 {
		h.panics--
		panic("host bug")
	}
	var recs []Record
	for _, name := range names {
		state := []byte(`{"n":` + strconv.Itoa(h.state[name]) + `}`)
		if h.bad[name] {
			state = state[:3]
		}
		recs = append(recs, Record{Name: name, State: state, ModuleHash: "m"})
	}
	return recs
}

// collected returns how often each name was collected, and the number of
// collect calls.
func (h *testHost) collected() (map[string]int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := map[string]int{}
	for _, b := range h.batches {
		for _, name := range b {
			n[name]++
		}
	}
	return n, len(h.batches)
}

// stored returns the counter stored for name, or -1.
func stored(t testing.TB, s *Store, name string) int {
	t.Helper()
	rec, ok, err := s.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return -1
	}
	var n int
	if _, err := fmt.Sscanf(string(rec.State), `{"n":%d}`, &n); err != nil {
		t.Fatalf("%s: state %s: %v", name, rec.State, err)
	}
	return n
}

// errs collects what OnError receives.
type errs struct {
	mu   sync.Mutex
	list []error
}

func (e *errs) add(err error) { e.mu.Lock(); e.list = append(e.list, err); e.mu.Unlock() }
func (e *errs) get() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

func newWriter(t testing.TB, s *Store, h *testHost, interval time.Duration) (*Writer, *errs) {
	t.Helper()
	var e errs
	w := NewWriter(s, h.collect, WriterOptions{Interval: interval, OnError: e.add})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w, &e
}

func TestWriterCoalesces(t *testing.T) {
	s := open(t, "", Options{})
	h := newTestHost()
	w, e := newWriter(t, s, h, time.Hour) // no timed flush in this test
	ctx := context.Background()
	for i := 1; i <= 1000; i++ {
		for _, name := range []string{"a", "b", "c"} {
			h.set(name, i)
			w.Changed(name)
		}
	}
	must(t, w.Flush(ctx))
	counts, calls := h.collected()
	if calls != 1 || counts["a"] != 1 || counts["b"] != 1 || counts["c"] != 1 {
		t.Errorf("3000 changes of 3 integrations: %d collect calls, per name %v; want 1 call, once each", calls, counts)
	}
	for _, name := range []string{"a", "b", "c"} {
		if got := stored(t, s, name); got != 1000 {
			t.Errorf("%s = %d, want 1000", name, got)
		}
	}

	must(t, w.Flush(ctx)) // nothing changed: no collect
	if _, calls := h.collected(); calls != 1 {
		t.Errorf("a flush without changes called collect (%d calls)", calls)
	}

	// Close flushes what changed since.
	for i := 1001; i <= 1500; i++ {
		h.set("a", i)
		w.Changed("a")
	}
	must(t, w.Close(ctx))
	if got := stored(t, s, "a"); got != 1500 {
		t.Errorf("after Close, a = %d, want 1500", got)
	}
	if got := stored(t, s, "c"); got != 1000 {
		t.Errorf("after Close, c = %d, want 1000", got)
	}
	if counts, calls := h.collected(); calls != 2 || counts["c"] != 1 {
		t.Errorf("after Close: %d collect calls, per name %v; want 2, c once", calls, counts)
	}
	if len(e.get()) != 0 {
		t.Errorf("errors: %v", e.get())
	}
	if err := w.Flush(ctx); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Flush after Close = %v, want ErrWriterClosed", err)
	}
	if err := w.Sync(ctx, "a"); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Sync after Close = %v, want ErrWriterClosed", err)
	}
	must(t, w.Close(ctx)) // twice is fine
}

func TestWriterFlushesAtInterval(t *testing.T) {
	tests := []time.Duration{10 * time.Millisecond, 50 * time.Millisecond}
	for _, interval := range tests {
		t.Run(interval.String(), func(t *testing.T) {
			s := open(t, "", Options{})
			h := newTestHost()
			w, _ := newWriter(t, s, h, interval)

			time.Sleep(3 * interval)
			if _, calls := h.collected(); calls != 0 {
				t.Errorf("an idle writer called collect %d times", calls)
			}
			start := time.Now()
			h.set("a", 7)
			w.Changed("a")
			for stored(t, s, "a") != 7 {
				if time.Since(start) > 5*time.Second {
					t.Fatal("not flushed after 5s")
				}
				time.Sleep(time.Millisecond)
			}
			if d := time.Since(start); d < interval*9/10 {
				t.Errorf("flushed after %v, before the interval %v", d, interval)
			}
		})
	}
}

func TestFlushWaits(t *testing.T) {
	s := open(t, "", Options{})
	h := newTestHost()
	w, _ := newWriter(t, s, h, time.Hour)
	release := h.hold(t)
	h.set("a", 1)
	w.Changed("a")

	done := make(chan error, 1)
	go func() { done <- w.Flush(context.Background()) }()
	h.waitEntered(t)
	// The flush is stuck in collect: a Flush with a deadline gives up,
	// the first one keeps waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush(deadline) = %v, want DeadlineExceeded", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Flush returned (%v) before its flush was saved", err)
	case <-time.After(30 * time.Millisecond):
	}
	release()
	must(t, <-done)
	if got := stored(t, s, "a"); got != 1 {
		t.Errorf("after Flush, a = %d, want 1", got)
	}
}

// TestSyncGroupCommit: concurrent Sync callers share transactions, and
// each returns only once its state is in the file.
func TestSyncGroupCommit(t *testing.T) {
	s := open(t, "", Options{})
	h := newTestHost()
	w, e := newWriter(t, s, h, time.Hour)
	release := h.hold(t)
	ctx := context.Background()

	// While one commit is held in collect, the others gather behind it.
	first := make(chan error, 1)
	go func() { h.set("g0", 1); first <- w.Sync(ctx, "g0") }()
	h.waitEntered(t)
	const n = 15
	var started atomic.Int32
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			name := fmt.Sprint("g", i)
			h.set(name, 1)
			started.Add(1)
			if err := w.Sync(ctx, name); err != nil {
				t.Error(err)
			}
			if got := stored(t, s, name); got != 1 {
				t.Errorf("%s = %d after Sync, want 1", name, got)
			}
		})
	}
	for started.Load() < n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	release()
	wg.Wait()
	must(t, <-first)
	h.mu.Lock()
	batches := slices.Clone(h.batches)
	h.mu.Unlock()
	commitsBefore := len(batches)
	if len(batches) < 2 || len(batches) > n || len(batches[1]) < 2 {
		t.Errorf("%d Sync callers made %d commits %v; want them to share commits", n+1, len(batches), batches)
	}

	// Many callers, many times, under -race: each Sync sees its own
	// latest value in the file.
	const callers, rounds = 16, 25
	for i := range callers {
		wg.Go(func() {
			name := fmt.Sprint("c", i)
			for v := 1; v <= rounds; v++ {
				h.set(name, v)
				if err := w.Sync(ctx, name); err != nil {
					t.Error(err)
					return
				}
				if got := stored(t, s, name); got < v {
					t.Errorf("%s = %d after Sync of %d", name, got, v)
					return
				}
			}
		})
	}
	wg.Wait()
	must(t, w.Close(ctx))
	_, calls := h.collected()
	commits := calls - commitsBefore
	t.Logf("%d Syncs made %d commits", callers*rounds, commits)
	if commits >= callers*rounds {
		t.Errorf("%d Syncs made %d commits: no group commit", callers*rounds, commits)
	}
	s = reopen(t, s, Options{})
	for i := range callers {
		if got := stored(t, s, fmt.Sprint("c", i)); got != rounds {
			t.Errorf("c%d = %d after reopen, want %d", i, got, rounds)
		}
	}
	if len(e.get()) != 0 {
		t.Errorf("errors: %v", e.get())
	}
}

// TestWriterErrors: a failed flush is reported and, unless the host gave
// a broken state, retried at the next flush without a new Changed.
func TestWriterErrors(t *testing.T) {
	diskFull := errors.New("disk full")
	tests := []struct {
		name     string
		setup    func(h *testHost, w *Writer)
		wantErr  string
		retried  bool // a collected again with no new Changed
		stored   map[string]int
		firstErr bool // the first Flush returns an error
	}{
		{
			name: "save fails once",
			setup: func(h *testHost, w *Writer) {
				failed := false
				save := w.save
				w.save = func(ctx context.Context, recs []Record, ids []Handled) error {
					if !failed {
						failed = true
						return diskFull
					}
					return save(ctx, recs, ids)
				}
			},
			wantErr: "disk full; retrying at the next flush", retried: true,
			stored: map[string]int{"a": 1, "b": 1}, firstErr: true,
		},
		{
			name:    "collect panics once",
			setup:   func(h *testHost, w *Writer) { h.panics = 1 },
			wantErr: "collect 2 states: collect panicked: host bug; retrying", retried: true,
			stored: map[string]int{"a": 1, "b": 1}, firstErr: true,
		},
		{
			name:    "a broken state",
			setup:   func(h *testHost, w *Writer) { h.bad["b"] = true },
			wantErr: `integration "b": the state is not valid JSON (3 bytes); it was not saved (the others were)`,
			retried: false,
			stored:  map[string]int{"a": 1, "b": -1}, firstErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, "", Options{})
			h := newTestHost()
			w, e := newWriter(t, s, h, 10*time.Millisecond)
			tt.setup(h, w)
			h.set("a", 1)
			h.set("b", 1)
			w.Changed("a")
			w.Changed("b")
			err := w.Flush(context.Background())
			if (err != nil) != tt.firstErr {
				t.Errorf("Flush = %v", err)
			}
			// Wait for the retry (or for nothing to happen).
			deadline := time.Now().Add(5 * time.Second)
			for tt.retried && stored(t, s, "a") != 1 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			must(t, w.Close(context.Background()))
			for name, want := range tt.stored {
				if got := stored(t, s, name); got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			counts, _ := h.collected()
			if retried := counts["a"] > 1; retried != tt.retried {
				t.Errorf("a collected %d times; retried = %v, want %v", counts["a"], retried, tt.retried)
			}
			got := e.get()
			if len(got) != 1 || !strings.Contains(got[0].Error(), tt.wantErr) || !strings.Contains(got[0].Error(), s.Path()) {
				t.Errorf("OnError got %v\nwant one error naming the file and saying %q", got, tt.wantErr)
			}
		})
	}
}

func TestChangedDoesNotAllocate(t *testing.T) {
	s := open(t, "", Options{})
	h := newTestHost()
	w, _ := newWriter(t, s, h, time.Hour)
	names := []string{"alpha", "beta", "gamma"}
	for _, n := range names {
		w.Changed(n) // the first sight of a name allocates
	}
	tests := []struct {
		name  string
		clear bool // clear the marks first, as a flush does
	}{{"already marked", false}, {"newly marked", true}}
	for _, tt := range tests {
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			if tt.clear {
				w.pending.Store(false)
				for _, e := range *w.entries.Load() {
					e.changed.Store(false)
				}
			}
			w.Changed(names[i%len(names)])
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: Changed allocates %.2f times per call", tt.name, allocs)
		}
	}
}
