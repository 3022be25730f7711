package starhost

import (
	"testing"
	"time"
)

// TestPacer: a shadow's budget starts full (a burst of shadowBurst) and
// fills at a tenth of the time passing; once it is spent, the shadow naps
// until it is positive again.
func TestPacer(t *testing.T) {
	ms := time.Millisecond
	t0 := time.Unix(0, 0)
	var p pacer
	for i, step := range []struct {
		at, busy time.Duration // when the batch ended, how long it kept the shadow busy
		nap      time.Duration
	}{
		{0, 5 * ms, shadowNap},          // budget 50 → 45
		{10 * ms, 40 * ms, shadowNap},   // +1 → 6
		{20 * ms, 10 * ms, 30 * ms},     // +1 → -3: 3 ms of busy time is 30 ms of napping
		{50 * ms, 0, shadowNap},         // +3 → 0
		{1000 * ms, 5 * ms, shadowNap},  // +95, capped at 50 → 45
		{1001 * ms, 100 * ms, 549 * ms}, // +0.1 → -54.9: 549 ms
	} {
		if nap := p.spent(t0.Add(step.at), step.busy); nap != step.nap {
			t.Fatalf("batch %d (at %v, busy %v): nap %v, want %v (budget %v)", i, step.at, step.busy, nap, step.nap, p.budget)
		}
	}
}
