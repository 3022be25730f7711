package starhost

import (
	"testing"
	"time"
)

// TestPacer: a shadow naps briefly unless its last batch waited for a
// CPU (its thread ran for less than three quarters of the batch), and
// then naps nine batches' time, a tenth of a core.
func TestPacer(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name      string
		wall, cpu time.Duration
		measured  bool
		nap       time.Duration
		contended bool
	}{
		{"ran all along", 5 * ms, 5 * ms, true, shadowNap, false},
		{"ran most of it", 5 * ms, 4 * ms, true, shadowNap, false},
		{"waited half of it", 5 * ms, 2500 * time.Microsecond, true, 45 * ms, true},
		{"short batch: too short to tell", 1 * ms, 0, true, shadowNap, false},
		{"not measured", 5 * ms, 0, false, shadowNap, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p pacer
			if nap := p.nap(tc.wall, tc.cpu, tc.measured); nap != tc.nap || p.contended != tc.contended {
				t.Errorf("nap(%v, %v, %v) = %v, contended %v; want %v, %v", tc.wall, tc.cpu, tc.measured, nap, p.contended, tc.nap, tc.contended)
			}
		})
	}
}
