package starhost

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"go.starlark.net/starlark"
)

// referenceSnapshot is newSnapshot as it was written first (one pass over
// the slots per event), kept as the reference for the one-pass version.
func referenceSnapshot(slots []*slot) *snapshot {
	sn := &snapshot{byName: make(map[string]*slot, len(slots)), byEvent: map[string][]*slot{}}
	ordered := append([]*slot(nil), slots...)
	sort.Slice(ordered, func(i, j int) bool {
		vi, vj := ordered[i].current.Load(), ordered[j].current.Load()
		if vi.decl.priority != vj.decl.priority {
			return vi.decl.priority < vj.decl.priority
		}
		return ordered[i].name < ordered[j].name
	})
	sn.ordered = ordered
	events := map[string]bool{}
	for _, s := range ordered {
		sn.byName[s.name] = s
		for _, ev := range s.current.Load().decl.events {
			events[ev] = true
		}
	}
	for _, s := range ordered {
		if s.current.Load().subscribes(Wildcard) {
			sn.wildcard = append(sn.wildcard, s)
		}
	}
	for ev := range events {
		if ev == Wildcard {
			continue
		}
		for _, s := range ordered {
			if s.current.Load().subscribes(ev) {
				sn.byEvent[ev] = append(sn.byEvent[ev], s)
			}
		}
	}
	return sn
}

// TestNewSnapshotMatchesReference compares newSnapshot's indexes with the
// reference's on random sets of integrations: priorities, named events,
// wildcard subscribers with and without named events of their own.
func TestNewSnapshotMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	events := []string{"a", "b", "c", "d", Wildcard}
	for round := range 500 {
		var slots []*slot
		for i := range rng.IntN(12) {
			d := &declaration{name: fmt.Sprintf("s%02d", i), priority: Priority(rng.IntN(4)), handlers: map[string]starlark.Callable{}}
			for _, ev := range events {
				if rng.IntN(3) == 0 {
					d.handlers[ev] = nil
					d.events = append(d.events, ev)
				}
			}
			sort.Strings(d.events)
			s := newSlot(d.name)
			s.current.Store(&version{decl: d})
			slots = append(slots, s)
		}
		rng.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
		got, want := newSnapshot(slots, nil), referenceSnapshot(slots)
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"ordered", got.ordered, want.ordered},
			{"byName", got.byName, want.byName},
			{"byEvent", got.byEvent, want.byEvent},
			{"wildcard", got.wildcard, want.wildcard},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Fatalf("round %d: %s differs:\n got  %v\n want %v", round, c.what, c.got, c.want)
			}
		}
	}
}
