package starhost

import "sort"

// A snapshot is the immutable set of slots in dispatch order, published
// through one atomic pointer. Emit loads it once per event.
type snapshot struct {
	failed   map[string]ModuleError // modules that declare nothing loadable, by path; never changed after publication
	ordered  []*slot
	byName   map[string]*slot
	byEvent  map[string][]*slot // subscribers of each named event, wildcard ones merged in, in dispatch order
	wildcard []*slot            // subscribers of "*" only, for events nobody names
}

// newSnapshot indexes slots (by name, by event, in dispatch order) with
// the failed modules.
func newSnapshot(slots []*slot, failed map[string]ModuleError) *snapshot {
	sn := &snapshot{failed: failed, byName: make(map[string]*slot, len(slots)), byEvent: map[string][]*slot{}}
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
