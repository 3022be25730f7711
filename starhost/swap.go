package starhost

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/afstudio/afstudio/blackbox"
	"go.starlark.net/starlark"
)

// swap is stage 4. It locks the slots that change (so that no handler
// runs on them meanwhile), runs each new version's migrate hook, settles
// which groups go live, installs their versions and states, and publishes
// the new snapshot (slots and failed modules) in one atomic store: the
// only place a snapshot is published after New. A group in which any
// item or migrate failed changes nothing.
func (m *Manager) swap(cs *changeSet, old *snapshot) {
	locked := slotsToLock(cs)
	for _, s := range locked {
		s.callMu.Lock()
	}
	defer func() {
		for _, s := range locked {
			s.callMu.Unlock()
		}
	}()
	m.migrateAll(cs)
	cs.settle()
	cs.next = cs.install(old)
	m.snap.Store(cs.next)
	// Only now, with the new snapshot published and the slots still
	// locked: a call that loaded the old snapshot and waits for a removed
	// slot skips it, while readers never see a listed slot marked removed.
	for _, c := range cs.changes {
		switch {
		case !cs.live(c):
		case c.shadow:
			m.startShadow(c.slot, c)
		case c.slot.shadow.Load() != nil:
			c.slot.shadow.Swap(nil).end() // promoted, replaced by a reload (a move), or gone with its slot
		}
		if c.remove && cs.live(c) {
			c.slot.removed.Store(true)
			if m.durable != nil { // also when a move to another module failed: the name is gone
				cs.removedStates = append(cs.removedStates, m.lastRecord(c.slot))
			}
		}
	}
}

// slotsToLock returns the existing slots of the groups that may go live,
// sorted by name, each once.
func slotsToLock(cs *changeSet) []*slot {
	var locked []*slot
	for _, c := range cs.changes {
		if !c.isNew && !cs.failed(c.item) {
			locked = append(locked, c.slot)
		}
	}
	slices.SortFunc(locked, func(a, b *slot) int { return strings.Compare(a.name, b.name) })
	return slices.Compact(locked)
}

// migrateAll computes the state each change installs: a new slot's
// stored state (restoreState; empty without a store), or what the new
// version's migrate returns for the old state. A failed migrate or restore
// fails its group. The existing slots are locked; the new ones are not
// published yet.
func (m *Manager) migrateAll(cs *changeSet) {
	for _, c := range cs.changes {
		switch {
		case cs.failed(c.item) || c.remove:
		case c.isNew:
			st, err := m.restoreState(c.slot, c.v)
			if err != nil {
				cs.errByName[c.slot.name] = err
				cs.fail(c.item, err)
				continue
			}
			c.state = st
		default:
			st, err := c.slot.state, error(nil)
			if c.shadow { // its own copy: nothing in it may be the serving state's
				st, err = m.shadowCopy(c.slot)
			}
			if err == nil {
				st, err = m.migrate(c.slot, c.v, st)
			}
			if err != nil {
				err = fmt.Errorf("reload %s: migrate: %w", c.slot.name, err)
				cs.errByName[c.slot.name] = err
				cs.fail(c.item, err)
				continue
			}
			c.state = st
		}
	}
}

// settle decides the final error of every item and integration: an item
// of a failed group fails with its own error or the group's, and so do
// the integrations it concerns.
func (cs *changeSet) settle() {
	for _, c := range cs.changes {
		name := c.slot.name
		if !cs.failed(c.item) {
			cs.errByName[name] = nil
			continue
		}
		if cs.errByName[name] == nil {
			cs.errByName[name] = cs.itemErr[c.item]
		}
		if cs.errByName[name] == nil {
			cs.errByName[name] = fmt.Errorf("reload %s: not swapped, another file of the same change failed: %w", name, cs.groupErrs[cs.items[c.item].group])
		}
	}
	for i, it := range cs.items {
		if cs.itemErr[i] == nil {
			cs.itemErr[i] = cs.groupErrs[it.group]
		}
		if err := cs.itemErr[i]; err != nil {
			for _, n := range cs.names[i] {
				if cs.errByName[n] == nil {
					cs.errByName[n] = err
				}
			}
		}
	}
}

// install writes the versions and states of the changes that go live
// into their slots, records each slot's outcome (its last reload error and
// duration), and returns the snapshot to publish: the new set of slots,
// their versions, and the failed modules brought up to date (a module with
// nothing live and an error is failed; one that loaded or was deleted is
// not).
func (cs *changeSet) install(old *snapshot) *snapshot {
	cs.took = time.Since(cs.start)
	slots := slices.Clone(old.ordered)
	reindex := false // whether old's indexes no longer hold
	for _, c := range cs.changes {
		switch {
		case !cs.live(c):
			if !c.isNew && !c.remove {
				c.slot.setError(cs.errFor(c))
			}
		case c.remove:
			slots = slices.DeleteFunc(slots, func(s *slot) bool { return s == c.slot })
			reindex = true
		case c.shadow: // started by swap, once published
			c.slot.setError(nil)
		default:
			if c.isNew {
				slots = append(slots, c.slot)
				reindex = true
			} else {
				reindex = reindex || !sameIndexes(c.slot.current.Load(), c.v)
			}
			c.slot.state = c.state
			c.slot.current.Store(c.v)
			c.slot.setReloaded(cs.took)
		}
	}
	var next *snapshot
	if reindex {
		next = newSnapshot(slots, nil)
	} else {
		next = old.reusing()
	}
	next.failed = cs.failedModules(old, slots)
	return next
}

// failedModules returns old's failed modules brought up to date by the
// items of cs, given the slots that will be live.
func (cs *changeSet) failedModules(old *snapshot, slots []*slot) map[string]ModuleError {
	failed := maps.Clone(old.failed)
	if failed == nil {
		failed = map[string]ModuleError{}
	}
	live := map[string]bool{}
	for _, s := range slots {
		live[s.current.Load().module] = true
	}
	for i, it := range cs.items {
		switch err := cs.itemErr[i]; {
		case err == nil || it.remove && it.sync:
			delete(failed, it.module)
		case !it.remove && !live[it.module]:
			failed[it.module] = newModuleError(it.module, err)
		}
	}
	return failed
}

// migrate returns the state for version v of slot s from its state st:
// st, or what v's migrate hook returns for a copy of it. s.callMu is held.
func (m *Manager) migrate(s *slot, v *version, st *starlark.Dict) (*starlark.Dict, error) {
	if v.decl.migrate == nil {
		return st, nil
	}
	old := deepCopy(st)
	thread := &starlark.Thread{Name: "migrate " + s.name, Print: func(_ *starlark.Thread, msg string) { m.logLine(s.name, "info", msg) }}
	var out starlark.Value
	v.lane.Begin(blackbox.Migrate, s.name, "")
	defer v.lane.End()
	err := m.sb.guard(thread, "migrate of", s.name, func() (err error) {
		out, err = starlark.Call(thread, v.decl.migrate, starlark.Tuple{old}, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	pos := v.decl.pos
	if fn, ok := v.decl.migrate.(*starlark.Function); ok {
		pos = fn.Position()
	}
	d, ok := out.(*starlark.Dict)
	if !ok {
		return nil, diagAt(pos, "migrate must return a dict (the new state), got %s", out.Type())
	}
	if _, _, err := encodeState(nil, d, m.limits); err != nil { // data, within the limits
		return nil, diagAt(pos, "migrated state: %v", err)
	}
	return d, nil
}
