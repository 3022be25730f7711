package starhost_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/statestore"
)

// counter counts its tick events in its state; a tick with data "sleep"
// takes that many milliseconds.
const counter = `
def on_tick(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return ctx.state["n"]

integration(name = "counter", handlers = {"tick": on_tick})
`

// emitID is one EmitID call of a test and what it must give.
type emitID struct {
	id, event string
	data      map[string]any
	ran       bool   // a handler ran (else no results)
	dup       bool   // ErrDuplicateEvent
	err       string // another error, containing this
}

// check runs e on m.
func (e emitID) check(t *testing.T, m *starhost.Manager) {
	t.Helper()
	rs, err := m.EmitID(context.Background(), e.id, e.event, e.data)
	switch {
	case e.dup:
		if !errors.Is(err, starhost.ErrDuplicateEvent) || len(rs) != 0 {
			t.Errorf("EmitID(%q, %q): %d results, err %v; want a duplicate", e.id, e.event, len(rs), err)
		}
	case e.err != "":
		if err == nil || !strings.Contains(err.Error(), e.err) || errors.Is(err, starhost.ErrDuplicateEvent) {
			t.Errorf("EmitID(%q, %q): err %v; want %q", e.id, e.event, err, e.err)
		}
	case err != nil:
		t.Errorf("EmitID(%q, %q): %v", e.id, e.event, err)
	case e.ran != (len(rs) > 0):
		t.Errorf("EmitID(%q, %q): %d results; want a handler to run: %v", e.id, e.event, len(rs), e.ran)
	}
}

func TestEmitIDDuplicate(t *testing.T) {
	tick := func(id string) emitID { return emitID{id: id, event: "tick", ran: true} }
	dup := func(id string) emitID { return emitID{id: id, event: "tick", dup: true} }
	tests := []struct {
		name  string
		emits []emitID
		count int // the counter's n at the end
	}{
		{"the same id twice", []emitID{tick("a"), dup("a")}, 1},
		{"different ids", []emitID{tick("a"), tick("b"), dup("a"), dup("b")}, 2},
		{"no id is Emit", []emitID{tick(""), tick(""), tick("")}, 3},
		{"an id is for any event", []emitID{{id: "x", event: "other"}, dup("x")}, 0},
		{"a bad event name is not handled", []emitID{{id: "a", event: "bad name", err: "invalid event name"}, tick("a"), dup("a")}, 1},
		{"bad data is not handled", []emitID{{id: "a", event: "tick", data: map[string]any{"c": make(chan int)}, err: "data"}, tick("a"), dup("a")}, 1},
		{"an empty-looking id is an id", []emitID{tick(" "), dup(" "), tick("  ")}, 2},
		{"a control character", []emitID{{id: "a\nb", event: "tick", err: "id: "}}, 0},
		{"too long", []emitID{{id: strings.Repeat("x", starhost.MaxEventIDBytes+1), event: "tick", err: "id: 201 bytes"}}, 0},
		{"not UTF-8", []emitID{{id: "\xff", event: "tick", err: "id: not valid UTF-8"}}, 0},
		{"the longest id", []emitID{tick(strings.Repeat("x", starhost.MaxEventIDBytes)), dup(strings.Repeat("x", starhost.MaxEventIDBytes))}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := hosttest.NewRoot(t, map[string]string{"counter.star": counter})
			for _, e := range tt.emits {
				e.check(t, m)
			}
			if got := stateJSON(t, m, "counter"); tt.count > 0 && got != fmt.Sprintf(`{"n":%d}`, tt.count) || tt.count == 0 && got != "{}" {
				t.Errorf("state %s, want n = %d", got, tt.count)
			}
		})
	}
}

// slowCounter counts its tick events, each after a loop long enough
// (about a millisecond) for events sent at once to overlap.
const slowCounter = `
def on_tick(event, ctx):
    for i in range(20000):
        pass
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return ctx.state["n"]

integration(name = "counter", handlers = {"tick": on_tick})
`

// TestEmitIDConcurrent: events with the same id sent at once (released
// together, with a handler slow enough for them to overlap) are handled
// once; every other call is told it is a duplicate, after the one that
// ran ended.
func TestEmitIDConcurrent(t *testing.T) {
	m, _ := hosttest.NewRoot(t, map[string]string{"counter.star": slowCounter}, hosttest.Parallel(4))
	const callers, rounds = 8, 30
	var ran, dups atomic.Int64
	for round := range rounds {
		id := fmt.Sprint("id-", round)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				<-start
				rs, err := m.EmitID(context.Background(), id, "tick", nil)
				switch {
				case errors.Is(err, starhost.ErrDuplicateEvent):
					dups.Add(1)
				case err != nil:
					t.Error(err)
				default:
					ran.Add(int64(len(rs)))
				}
			})
		}
		close(start)
		wg.Wait()
	}
	if ran.Load() != rounds || dups.Load() != (callers-1)*rounds {
		t.Errorf("%d ran, %d duplicates; want %d and %d", ran.Load(), dups.Load(), rounds, (callers-1)*rounds)
	}
	if got := stateJSON(t, m, "counter"); got != fmt.Sprintf(`{"n":%d}`, rounds) {
		t.Errorf("state %s, want n = %d", got, rounds)
	}
}

// TestEmitIDWindow: the host remembers the last EventIDLimit ids handled
// within EventIDAge; an older one is handled again, and the window never
// holds more than the limit.
func TestEmitIDWindow(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		age   time.Duration
		ids   []string      // handled in order, a minute apart
		later time.Duration // then the clock moves on by this
		dup   []string      // still duplicates
		fresh []string      // handled again
	}{
		{"the last ones by count", 3, time.Hour, []string{"a", "b", "c", "d"}, 0, []string{"b", "c", "d"}, []string{"a"}},
		{"by age", 100, time.Hour, []string{"a", "b"}, time.Hour - 90*time.Second, []string{"b"}, []string{"a"}},
		{"all past the age", 100, time.Hour, []string{"a", "b"}, 2 * time.Hour, nil, []string{"a", "b"}},
		{"the defaults: 24 hours", 0, 0, []string{"a"}, 23 * time.Hour, []string{"a"}, nil},
		{"the defaults: not 25 hours", 0, 0, []string{"a"}, 25 * time.Hour, nil, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := hosttest.NewRoot(t, map[string]string{"counter.star": counter}, hosttest.EventIDWindow(tt.limit, tt.age))
			var mu sync.Mutex
			now := time.Now()
			starhost.SetEventIDClock(m, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
			for _, id := range tt.ids {
				emitID{id: id, event: "tick", ran: true}.check(t, m)
				advance(time.Minute)
			}
			advance(tt.later)
			for _, id := range tt.dup {
				emitID{id: id, event: "tick", dup: true}.check(t, m)
			}
			for _, id := range tt.fresh {
				emitID{id: id, event: "tick", ran: true}.check(t, m)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		m, _ := hosttest.NewRoot(t, map[string]string{"counter.star": counter}, hosttest.EventIDWindow(10, 0))
		for i := range 1000 {
			emitID{id: fmt.Sprint(i), event: "tick", ran: true}.check(t, m)
		}
		if n := starhost.EventIDsKept(m); n != 10 {
			t.Errorf("%d ids kept, want the limit, 10", n)
		}
	})
}

// TestEmitIDSurvivesRestart: the handled ids are kept with the states in
// a real state file: after Close and a new host on the file, they are
// still duplicates and the state is the one they produced.
func TestEmitIDSurvivesRestart(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprint("sync=", sync), func(t *testing.T) {
			dir := hosttest.TempDir(t, map[string]string{"counter.star": counter})
			path := filepath.Join(t.TempDir(), "state.db")
			m, stop := durableHost(t, dir, path, hosttest.SyncWrites(sync))
			for _, id := range []string{"a", "b", "c"} {
				emitID{id: id, event: "tick", ran: true}.check(t, m)
			}
			emitID{id: "no-subscriber", event: "other"}.check(t, m)
			stop()

			m, stop = durableHost(t, dir, path, hosttest.SyncWrites(sync))
			for _, id := range []string{"a", "b", "c", "no-subscriber"} {
				emitID{id: id, event: "tick", dup: true}.check(t, m)
			}
			emitID{id: "d", event: "tick", ran: true}.check(t, m)
			if got := stateJSON(t, m, "counter"); got != `{"n":4}` {
				t.Errorf("state %s, want n = 4", got)
			}
			stop()
		})
	}
}

// BenchmarkEmitID is the cost of the id check: the counter's event with
// Emit, with EmitID and a new id each time (the window full at its
// default limit after the first 100,000), and with EmitID and the same id
// (a duplicate, not dispatched); with and without a state store (write
// behind: the id goes to the writer, the flush is not timed).
func BenchmarkEmitID(b *testing.B) {
	ctx := context.Background()
	for _, durable := range []bool{false, true} {
		opts := []hosttest.Option{}
		if durable {
			dir := b.TempDir()
			store, err := statestore.Open(filepath.Join(dir, "state.db"), statestore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = store.Close() })
			opts = append(opts, hosttest.Store(store))
		}
		m, _ := hosttest.NewRoot(b, map[string]string{"counter.star": counter}, opts...)
		if durable {
			b.Cleanup(func() { _ = m.Close(ctx) })
		}
		ids := make([]string, 1<<19)
		for i := range ids {
			ids[i] = fmt.Sprint("evt-", durable, "-", i)
		}
		run := func(name string, emit func(i int) error) {
			b.Run(fmt.Sprintf("%s/store=%v", name, durable), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if err := emit(i); err != nil && !errors.Is(err, starhost.ErrDuplicateEvent) {
						b.Fatal(err)
					}
				}
			})
		}
		next := 0
		run("Emit", func(int) error { _, err := m.Emit(ctx, "tick", nil); return err })
		run("EmitID-new", func(int) error {
			next++
			_, err := m.EmitID(ctx, ids[next%len(ids)], "tick", nil)
			return err
		})
		run("EmitID-duplicate", func(int) error { _, err := m.EmitID(ctx, "same", "tick", nil); return err })
	}
}
