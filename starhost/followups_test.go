package starhost_test

import (
	"reflect"
	"testing"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestFollowUpsInResults: a result lists the follow-ups its call queued
// (Result.Emitted); HoldFollowUps keeps them from being dispatched.
func TestFollowUpsInResults(t *testing.T) {
	const src = `
def on_ping(event, ctx):
    ctx.emit("pong", {"n": event.data["n"] + 1})
    ctx.emit("pong", {"n": 0})
    return "pinged"

def on_pong(event, ctx):
    return event.data["n"]

integration(name = "p", handlers = {"ping": on_ping, "pong": on_pong})
`
	want := []starhost.Emitted{{Event: "pong", Data: map[string]any{"n": int64(2)}}, {Event: "pong", Data: map[string]any{"n": int64(0)}}}
	for _, tc := range []struct {
		name    string
		hold    bool
		results int
	}{
		{"dispatched", false, 3},
		{"held", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := hosttest.NewRoot(t, map[string]string{"p.star": src}, hosttest.HoldFollowUps(tc.hold))
			rs := hosttest.Emit(t, m, "ping", map[string]any{"n": 1})
			if len(rs) != tc.results {
				t.Fatalf("%d results, want %d: %+v", len(rs), tc.results, rs)
			}
			if !reflect.DeepEqual(rs[0].Emitted, want) {
				t.Errorf("Emitted = %#v, want %#v", rs[0].Emitted, want)
			}
			for _, r := range rs[1:] {
				if r.Emitted != nil || r.Depth != 1 {
					t.Errorf("follow-up result %+v: want depth 1 and nothing emitted", r)
				}
			}
		})
	}
}
