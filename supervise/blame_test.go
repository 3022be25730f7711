package supervise

import (
	"testing"
	"time"

	"github.com/afstudio/afstudio/blackbox"
)

// TestBlame: one module running at a death is blamed; several are not at
// first (the next worker runs serially), and at the next death the module
// running at both is, the longest-running one's among several; a kill
// from outside blames none.
func TestBlame(t *testing.T) {
	t0 := time.Unix(1000, 0)
	call := func(module string, sec int) blackbox.Call {
		return blackbox.Call{Module: module, Phase: blackbox.Handle, Since: t0.Add(time.Duration(sec) * time.Second)}
	}
	type death struct {
		active []blackbox.Call // sorted by Since, as blackbox.Read returns them
		blames bool
		want   string
		serial bool // the next worker runs one call at a time
	}
	for _, tc := range []struct {
		name   string
		deaths []death
	}{
		{"one running", []death{{[]blackbox.Call{call("a", 0)}, true, "a", false}}},
		{"a kill from outside", []death{{[]blackbox.Call{call("a", 0)}, false, "", false}}},
		{"nothing running", []death{{nil, true, "", false}}},
		{"two, then one of them", []death{
			{[]blackbox.Call{call("a", 0), call("b", 1)}, true, "", true},
			{[]blackbox.Call{call("c", 0), call("b", 1)}, true, "b", false},
		}},
		{"two, then the same two: the longer-running", []death{
			{[]blackbox.Call{call("a", 0), call("b", 1)}, true, "", true},
			{[]blackbox.Call{call("b", 0), call("a", 3)}, true, "b", false},
		}},
		{"two, then two others: start over", []death{
			{[]blackbox.Call{call("a", 0), call("b", 1)}, true, "", true},
			{[]blackbox.Call{call("c", 0), call("d", 1)}, true, "", true},
			{[]blackbox.Call{call("d", 0)}, true, "d", false},
		}},
		{"two, then one alone", []death{
			{[]blackbox.Call{call("a", 0), call("b", 1)}, true, "", true},
			{[]blackbox.Call{call("c", 0)}, true, "c", false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &supervisor{}
			for i, d := range tc.deaths {
				if got := s.blame(d.active, d.blames); got != d.want {
					t.Fatalf("death %d: blamed %q, want %q", i+1, got, d.want)
				}
				if serial := s.suspects != nil; serial != d.serial {
					t.Fatalf("death %d: the next worker serial %v, want %v", i+1, serial, d.serial)
				}
			}
		})
	}
}
