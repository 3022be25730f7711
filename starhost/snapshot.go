package starhost

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

// A snapshot is the immutable set of slots in dispatch order, published
// through one atomic pointer. Emit loads it once per event.
type snapshot struct {
	failed   map[string]ModuleError // modules that declare nothing loadable, by path; never changed after publication
	versions map[*slot]*version     // the version of each slot as published; readers take it from here, not from the slot
	ordered  []*slot
	byName   map[string]*slot
	byEvent  map[string][]*slot // subscribers of each named event, wildcard ones merged in, in dispatch order
	wildcard []*slot            // subscribers of "*" only, for events nobody names
}

// newSnapshot indexes slots (by name, by event, in dispatch order) with
// the failed modules. It runs on every publish, a reload of one
// integration included, so it makes one pass over the slots for the
// indexes rather than one per event.
func newSnapshot(slots []*slot, failed map[string]ModuleError) *snapshot {
	sn := &snapshot{failed: failed, versions: make(map[*slot]*version, len(slots)), byName: make(map[string]*slot, len(slots)), byEvent: map[string][]*slot{}}
	ordered := slices.Clone(slots)
	slices.SortFunc(ordered, func(a, b *slot) int {
		va, vb := a.current.Load(), b.current.Load()
		if va.decl.priority != vb.decl.priority {
			return cmp.Compare(va.decl.priority, vb.decl.priority)
		}
		return strings.Compare(a.name, b.name)
	})
	sn.ordered = ordered
	for _, s := range ordered {
		sn.byName[s.name] = s
		sn.versions[s] = s.current.Load()
		for _, ev := range s.current.Load().decl.events {
			if _, ok := sn.byEvent[ev]; !ok && ev != Wildcard {
				sn.byEvent[ev] = nil
			}
		}
	}
	// Each named event's subscribers: those that name it and those
	// subscribed to every event, in dispatch order.
	for _, s := range ordered {
		d := s.current.Load().decl
		if _, ok := d.handlers[Wildcard]; ok {
			sn.wildcard = append(sn.wildcard, s)
			for ev, subs := range sn.byEvent {
				sn.byEvent[ev] = append(subs, s)
			}
			continue
		}
		for _, ev := range d.events {
			sn.byEvent[ev] = append(sn.byEvent[ev], s)
		}
	}
	return sn
}

// sameIndexes reports whether version b of an integration is indexed as
// version a is: at the same priority, for the same events (the wildcard
// included). A snapshot's indexes depend on nothing else of a version (the
// slot's name aside), so a change that only replaces versions with such
// ones, as most reloads do, keeps them (reusing).
func sameIndexes(a, b *version) bool {
	return a.decl.priority == b.decl.priority && slices.Equal(a.decl.events, b.decl.events)
}

// reusing returns a snapshot of the same slots as sn with sn's indexes,
// and no failed modules yet (the caller sets them), for a change after
// which every version is indexed as before (sameIndexes).
func (sn *snapshot) reusing() *snapshot {
	next := &snapshot{ordered: sn.ordered, byName: sn.byName, byEvent: sn.byEvent, wildcard: sn.wildcard,
		versions: make(map[*slot]*version, len(sn.ordered))}
	for _, s := range sn.ordered {
		next.versions[s] = s.current.Load()
	}
	return next
}

// subscribers returns the slots that handle event, in dispatch order.
func (sn *snapshot) subscribers(event string) []*slot {
	if l, ok := sn.byEvent[event]; ok {
		return l
	}
	return sn.wildcard
}

// hasModule reports whether an integration of module is live.
func (sn *snapshot) hasModule(module string) bool {
	for _, s := range sn.ordered {
		if s.current.Load().module == module {
			return true
		}
	}
	return false
}

// failedModules returns the failed modules sorted by path.
func (sn *snapshot) failedModules() []ModuleError {
	out := make([]ModuleError, 0, len(sn.failed))
	for _, f := range sn.failed {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Module < out[j].Module })
	return out
}

// info returns the info of the named integration as this snapshot
// published it, or false.
func (sn *snapshot) info(name string) (Info, bool) {
	s, ok := sn.byName[name]
	if !ok {
		return Info{}, false
	}
	return s.info(sn.versions[s]), true
}
