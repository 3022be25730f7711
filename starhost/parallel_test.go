package starhost_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// fanOutModule is integration pNN with the given priority: it spins for
// spin steps (so that calls end in another order than they start), checks
// that each emitter's events reach it in order, and emits one follow-up,
// which sinkModule handles.
func fanOutModule(i int, priority string, spin int) string {
	return fmt.Sprintf(`
def on_go(event, ctx):
    for _ in range(%[3]d):
        pass
    g = str(event.data["emitter"])
    want = ctx.state.get(g, -1) + 1
    if event.data["seq"] != want:
        fail("emitter %%s: seq %%d, want %%d" %% (g, event.data["seq"], want))
    ctx.state[g] = want
    ctx.emit("after", {"from": "p%02[1]d"})
    return "p%02[1]d"

integration(name = "p%02[1]d", priority = %[2]q, handlers = {"go": on_go})
`, i, priority, spin)
}

// sinkModule handles the follow-ups of fanOutModule: it returns who
// emitted each.
const sinkModule = `integration(name = "sink", handlers = {"after": lambda e, c: e.data["from"]})`

// TestParallelFanOut emits from several goroutines to eight integrations
// whose calls take different times, with the calls of one event one at a
// time and spread over four goroutines: in both, each integration sees
// each emitter's events in order, exactly once; the results come in
// priority order (then name), the follow-ups after them in the order they
// were queued.
func TestParallelFanOut(t *testing.T) {
	priorities := []string{"CRITICAL", "HIGH", "NORMAL", "LOW"}
	files := map[string]string{"sink.star": sinkModule}
	var want []string // the priority order of the integrations
	for _, prio := range priorities {
		for i := range 8 {
			if priorities[i%4] == prio {
				files[fmt.Sprintf("p%02d.star", i)] = fanOutModule(i, prio, 4000*(i%3)) // the later ones are often the quicker
				want = append(want, fmt.Sprintf("p%02d", i))
			}
		}
	}
	wantAll := append(slices.Clone(want), want...) // the calls, then their follow-ups
	for _, parallel := range []int{1, 4} {
		t.Run(fmt.Sprintf("parallel=%d", parallel), func(t *testing.T) {
			m, _ := hosttest.NewRoot(t, files, hosttest.Parallel(parallel))
			const emitters, events = 3, 40
			var wg sync.WaitGroup
			for g := range emitters {
				wg.Go(func() {
					for seq := range events {
						rs, err := m.Emit(context.Background(), "go", map[string]any{"emitter": g, "seq": seq})
						if err != nil {
							t.Errorf("emit: %v", err)
							return
						}
						var got []string
						for _, r := range rs {
							if !r.OK {
								t.Errorf("%s failed: %v", r.Integration, r.Error)
								return
							}
							if r.Depth == 0 && r.Value != r.Integration || r.Depth == 1 && r.Integration != "sink" {
								t.Errorf("result %+v", r)
							}
							got = append(got, fmt.Sprint(r.Value))
						}
						if !slices.Equal(got, wantAll) {
							t.Errorf("emitter %d event %d: results %v, want %v", g, seq, got, wantAll)
							return
						}
					}
				})
			}
			wg.Wait()
			for _, name := range want {
				st, err := m.State(name)
				if err != nil {
					t.Fatal(err)
				}
				for g := range emitters {
					if got := st[fmt.Sprint(g)]; fmt.Sprint(got) != fmt.Sprint(events-1) {
						t.Errorf("%s saw emitter %d's last event as %v, want %d", name, g, got, events-1)
					}
				}
			}
		})
	}
}

// TestParallelFanOutCancelled cancels an event whose calls are spread
// over goroutines: the calls not started are skipped, Emit reports the
// cancellation, and the results of the calls that ran come in priority
// order.
func TestParallelFanOutCancelled(t *testing.T) {
	files := map[string]string{}
	for i := range 8 {
		files[fmt.Sprintf("s%d.star", i)] = fmt.Sprintf(`
def on_go(event, ctx):
    for _ in range(event.data["spin"]):
        pass
    return %d

integration(name = "s%d", handlers = {"go": on_go})
`, i, i)
	}
	m, _ := hosttest.NewRoot(t, files, hosttest.Parallel(2), hosttest.Limits(starhost.Limits{Steps: 100_000_000, Timeout: time.Minute}))
	// A first event teaches the host that these calls are long (each
	// spins for 100,000 steps): the next one is spread.
	hosttest.Emit(t, m, "go", map[string]any{"spin": 100_000})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	rs, err := m.Emit(ctx, "go", map[string]any{"spin": 2_000_000})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the deadline", err)
	}
	if len(rs) == 0 || len(rs) >= 8 {
		t.Fatalf("%d results, want some but not all 8 (each call spins for 2,000,000 steps, tens of ms)", len(rs))
	}
	if !slices.IsSortedFunc(rs, func(a, b starhost.Result) int { return strings.Compare(a.Integration, b.Integration) }) {
		t.Fatalf("results out of order: %+v", rs)
	}
}
