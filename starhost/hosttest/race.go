package hosttest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/afstudio/afstudio/starhost"
)

// CounterModule returns revision rev of the "counter" integration. Its
// handler for "tick" events ({"emitter": g, "seq": n}) fails unless n is
// the next sequence number of emitter g, so the integration itself checks
// that none of an emitter's events is lost, doubled or out of order; it
// counts every event in state["total"] and returns {"rev": rev}. Its
// migrate counts the reloads it went through in state["migrations"].
func CounterModule(rev int) string {
	return fmt.Sprintf(`REV = %d

def on_tick(event, ctx):
    g = str(event.data["emitter"])
    seq = event.data["seq"]
    last = ctx.state.setdefault("last", {})
    want = last.get(g, -1) + 1
    if seq != want:
        fail("emitter %%s: got seq %%d, want %%d" %% (g, seq, want))
    last[g] = seq
    ctx.state["total"] = ctx.state.get("total", 0) + 1
    return {"rev": REV}

def migrate(old):
    old["migrations"] = old.get("migrations", 0) + 1
    return old

integration(name = "counter", priority = "HIGH", handlers = {"tick": on_tick}, migrate = migrate)
`, rev)
}

// A ReloadRace emits sequenced "tick" events from several goroutines
// while another goroutine rewrites counter.star and reloads it over and
// over, every BrokenEvery-th revision a syntax error. Run then checks
// what the host promises while it reloads:
//   - every event reached counter exactly once, handled by one version,
//     and every handler call succeeded (CounterModule fails an event that
//     is out of order, doubled or after a gap);
//   - for each emitter, the generation that handled its events never
//     went back;
//   - counter's state counted every event across all reloads, and its
//     migrate ran once per swap: the generation is 1 + the swaps;
//   - good revisions swapped, broken ones were refused, and both happened.
//
// The fields say how to emit and how to reload, so that one check serves
// the host in process and the host behind the control API.
type ReloadRace struct {
	// Host serves counter, loaded from Dir/counter.star as
	// CounterModule(0) with nothing emitted to it yet. Run reads its state
	// and info at the end.
	Host *starhost.Manager
	// Dir is the folder of counter.star; Run rewrites the file.
	Dir string
	// Emitters is the number of emitting goroutines; PerEmitter the
	// events each sends.
	Emitters, PerEmitter int
	// BrokenEvery makes every BrokenEvery-th revision a syntax error
	// (at least 2).
	BrokenEvery int
	// MinReloads is how many revisions the reloader tries at least, going
	// on after the emitters finished if need be; 0 for no minimum.
	MinReloads int
	// Emit delivers the event "tick" with the data {"emitter": emitter,
	// "seq": seq} and returns every result. It is called from several
	// goroutines at once.
	Emit func(emitter, seq int) ([]starhost.Result, error)
	// Reload asks the host to reload counter, whose file was rewritten.
	Reload func() error
	// Refused reports whether err is how Reload refuses a broken file;
	// nil accepts any error.
	Refused func(err error) bool
	// Churn, if not nil, is called over and over beside the reloader until
	// the emitters are done, for other changes to the host at the same
	// time. It returns how many new versions of counter it swapped in.
	Churn func() (counterSwaps int)
}

// Run runs the race and checks it; see ReloadRace. Call it from the
// test's goroutine.
func (r ReloadRace) Run(t testing.TB) {
	t.Helper()
	stop := make(chan struct{})
	var swaps, refused, churnSwaps int
	var wg sync.WaitGroup
	wg.Go(func() { swaps, refused = r.reload(t, stop) })
	if r.Churn != nil {
		wg.Go(func() {
			for !isClosed(stop) {
				churnSwaps += r.Churn()
			}
		})
	}
	results := r.emit(t)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	r.check(t, results, swaps+churnSwaps)
	if swaps == 0 || refused == 0 {
		t.Fatalf("the race did not exercise both good (%d) and refused (%d) reloads", swaps, refused)
	}
	t.Logf("%d events x %d emitters; %d reloads swapped, %d refused; %d swaps by churn", r.PerEmitter, r.Emitters, swaps, refused, churnSwaps)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// reload rewrites and reloads counter until stop is closed (and at least
// MinReloads revisions were tried); it returns how many revisions swapped
// and how many broken ones were refused. An unexpected outcome fails the
// test and ends the reloads.
func (r ReloadRace) reload(t testing.TB, stop chan struct{}) (swaps, refused int) {
	path := filepath.Join(r.Dir, "counter.star")
	for rev := 1; !isClosed(stop) || rev <= r.MinReloads; rev++ {
		broken := rev%r.BrokenEvery == 0
		src := CounterModule(rev)
		if broken {
			src = "def broken(:\n" // a syntax error: must change nothing
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Error(err)
			return
		}
		err := r.Reload()
		switch {
		case broken && err != nil && (r.Refused == nil || r.Refused(err)):
			refused++
		case !broken && err == nil:
			swaps++
		default:
			t.Errorf("reload rev %d (broken %v): %v", rev, broken, err)
			return
		}
	}
	return
}

// emit runs the emitters and returns, per emitter, counter's results in
// the order of its events.
func (r ReloadRace) emit(t testing.TB) [][]starhost.Result {
	results := make([][]starhost.Result, r.Emitters)
	var wg sync.WaitGroup
	for g := range r.Emitters {
		wg.Go(func() {
			for seq := range r.PerEmitter {
				rs, err := r.Emit(g, seq)
				if err != nil {
					t.Errorf("emitter %d, event %d: %v", g, seq, err)
					return
				}
				for _, res := range rs {
					if !res.OK || res.Error != nil {
						t.Errorf("emitter %d, event %d: %s failed: %v", g, seq, res.Integration, res.Error)
						return
					}
					if res.Integration == "counter" {
						results[g] = append(results[g], res)
					}
				}
			}
		})
	}
	wg.Wait()
	return results
}

// check checks the results and counter's final state against swaps, the
// number of new versions swapped in.
func (r ReloadRace) check(t testing.TB, results [][]starhost.Result, swaps int) {
	t.Helper()
	for g, rs := range results {
		if len(rs) != r.PerEmitter {
			t.Fatalf("emitter %d: counter handled %d events, want %d", g, len(rs), r.PerEmitter)
		}
		lastGen := 0
		for _, res := range rs {
			if res.Generation < lastGen {
				t.Fatalf("emitter %d: generation went back from %d to %d", g, lastGen, res.Generation)
			}
			lastGen = res.Generation
		}
	}
	st, err := r.Host.State("counter")
	if err != nil {
		t.Fatal(err)
	}
	if got := st["total"]; got != int64(r.Emitters*r.PerEmitter) {
		t.Fatalf("state total = %v, want %d (state lost or doubled across reloads)", got, r.Emitters*r.PerEmitter)
	}
	if mig, _ := st["migrations"].(int64); mig != int64(swaps) {
		t.Fatalf("migrations %v, want one per swap (%d)", st["migrations"], swaps)
	}
	if in, _ := r.Host.IntegrationInfo("counter"); in.Generation != swaps+1 {
		t.Fatalf("generation %d, want 1 + %d swaps", in.Generation, swaps)
	}
}
