package starhost_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// spinner spins for event.data["n"] loop iterations and returns n.
const spinner = `def spin(event, ctx):
    n = 0
    for i in range(event.data["n"]):
        n += 1
    return n

integration(name = "spin", handlers = {"spin": spin})
`

// TestRunnerBudgetsPerCall: a slot reuses one thread for all its calls,
// yet every call gets the whole step budget and the whole timeout again:
// many calls each using most of the budget all succeed, a call past it
// fails with the budget quoted, and the calls after a failed one (step
// budget or timeout) succeed.
func TestRunnerBudgetsPerCall(t *testing.T) {
	m, _ := hosttest.NewRoot(t, map[string]string{"spin.star": spinner}, hosttest.Limits(starhost.Limits{Steps: 20_000, Timeout: time.Second}))
	spin := func(n int) starhost.Result {
		t.Helper()
		return hosttest.ResultOf(t, hosttest.Emit(t, m, "spin", map[string]any{"n": n}), "spin")
	}
	for i := range 50 { // 50 x about half the budget: far more than one budget in total
		if r := spin(1_000); !r.OK {
			t.Fatalf("call %d within the budget failed: %v", i, r.Error)
		}
	}
	r := spin(1_000_000)
	if r.OK || r.Error.Kind != starhost.ErrorLimit || !strings.Contains(r.Error.Msg, "step budget of 20000 steps") {
		t.Fatalf("call past the budget: %+v", r)
	}
	if r := spin(1_000); !r.OK || r.Value != int64(1_000) {
		t.Fatalf("call after a budget failure: %+v", r)
	}
}

// TestRunnerTimeoutThenFastCalls: a call that times out is cancelled, and
// the timer of that call never cancels a later one, also when calls follow
// each other closely.
func TestRunnerTimeoutThenFastCalls(t *testing.T) {
	m, _ := hosttest.NewRoot(t, map[string]string{"spin.star": spinner}, hosttest.Limits(starhost.Limits{Steps: 1 << 50, Timeout: 20 * time.Millisecond}))
	for round := range 5 {
		r := hosttest.ResultOf(t, hosttest.Emit(t, m, "spin", map[string]any{"n": 1 << 40}), "spin")
		if r.OK || r.Error.Kind != starhost.ErrorLimit || !strings.Contains(r.Error.Msg, "timed out after 20ms") {
			t.Fatalf("round %d: a looping handler: %+v", round, r)
		}
		if took := r.Duration.Std(); took > 2*time.Second {
			t.Fatalf("round %d: cancelled only after %s", round, took)
		}
		// Fast calls for longer than the timeout: none may be cancelled
		// before its own deadline by a late timer. (On a loaded machine a
		// "fast" call can really take longer than 20 ms; its timeout is
		// then right.)
		fast := 0
		for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
			r := hosttest.ResultOf(t, hosttest.Emit(t, m, "spin", map[string]any{"n": 10}), "spin")
			if !r.OK && r.Duration.Std() < 20*time.Millisecond {
				t.Fatalf("round %d: a call was cancelled after %s, before its 20ms deadline: %v", round, r.Duration, r.Error)
			}
			if r.OK {
				fast++
			}
		}
		if fast == 0 {
			t.Fatalf("round %d: no call after the timeout succeeded", round)
		}
	}
}

// TestStateAuditBound: the state is no longer measured after every call,
// but a state that grows past the limits is still caught, reset and
// reported within the bound the audit states (stateAudit in runner.go):
// max(8, n/8) calls for a handler that grows it by one value per call,
// and the first call 100 ms after the last measure for one that grows it
// rarely.
func TestStateAuditBound(t *testing.T) {
	const grower = `def grow(event, ctx):
    items = ctx.state.setdefault("items", [])
    items.append(len(items))
    return len(items)

integration(name = "grow", handlers = {"grow": grow})
`
	const limit = 2_000
	m, _ := hosttest.NewRoot(t, map[string]string{"grow.star": grower}, hosttest.Limits(starhost.Limits{MaxValues: limit}))
	calls := 0
	for {
		calls++
		r := hosttest.ResultOf(t, hosttest.Emit(t, m, "grow", nil), "grow")
		if !r.OK {
			if r.Error.Kind != starhost.ErrorLimit || !strings.Contains(r.Error.Msg, "state grew past the limits and was reset") {
				t.Fatalf("call %d: %+v", calls, r)
			}
			break
		}
		// The state holds the dict, the list and its items: calls+2 values.
		if over := calls + 2 - limit; over > max(8, limit/8)+1 {
			t.Fatalf("the state is %d values past the limit of %d and still not caught", over, limit)
		}
	}
	if st, err := m.State("grow"); err != nil || len(st) != 0 {
		t.Fatalf("state after the reset: %v %v", st, err)
	}
	t.Logf("caught at call %d (limit %d values)", calls, limit)

	// Slow growth: one call grows the state past the limit; a later call
	// after 100 ms must catch it even though few calls and steps passed.
	const burst = `def grow(event, ctx):
    if event.data.get("big"):
        ctx.state["items"] = list(range(%d))
    return len(ctx.state.get("items", []))

integration(name = "grow", handlers = {"grow": grow})
`
	m, _ = hosttest.NewRoot(t, map[string]string{"grow.star": fmt.Sprintf(burst, 3*limit)}, hosttest.Limits(starhost.Limits{MaxValues: limit}))
	for range 3 { // measured: a small state
		hosttest.Emit(t, m, "grow", nil)
	}
	// list(range(n)) is a handful of steps: the steps rule does not fire.
	first := hosttest.ResultOf(t, hosttest.Emit(t, m, "grow", map[string]any{"big": true}), "grow")
	time.Sleep(150 * time.Millisecond)
	r := hosttest.ResultOf(t, hosttest.Emit(t, m, "grow", nil), "grow")
	if first.OK && r.OK {
		t.Fatalf("a state of %d values (limit %d) was not caught by the call 100 ms later: %+v", 3*limit, limit, r)
	}
}

// BenchmarkStateSize: the cost of a call that appends to a state list does
// not grow with the list (10, 1,000 and 50,000 entries); compare the
// ns/op of the three sizes in one run. The handler pops the value it
// appended (pop() from the end is O(1); pop(0) would shift the list) so
// that the size stays put.
func BenchmarkStateSize(b *testing.B) {
	const src = `def add(event, ctx):
    items = ctx.state["items"]
    items.append(1)
    items.pop()
    return len(items)

def seed(event, ctx):
    ctx.state["items"] = list(range(event.data["n"]))

integration(name = "st", handlers = {"add": add, "seed": seed})
`
	for _, n := range []int{10, 1_000, 50_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			m, _ := hosttest.NewRoot(b, map[string]string{"st.star": src})
			hosttest.Emit(b, m, "seed", map[string]any{"n": n})
			b.ReportAllocs()
			for b.Loop() {
				if rs := hosttest.Emit(b, m, "add", nil); !rs[0].OK {
					b.Fatal(rs[0].Error)
				}
			}
		})
	}
}
