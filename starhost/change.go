package starhost

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/afstudio/afstudio/statestore"
)

// Every change to the set of live integrations (load, reload, add, remove,
// a batch of changed files) goes through apply, in five stages; compare
// Caddy's changeConfig: provision the new config completely, then swap.
//
//  1. plan (the callers, plan.go): list the modules to build and what to
//     do with their integrations, each in an all-or-nothing group;
//  2. build (buildAll): read, compile and execute each distinct module on
//     the side, in parallel, on fresh threads with fresh globals;
//  3. resolve (resolve.go): match the declarations to slots (reload, add,
//     remove) and check them against the live set (no duplicate names);
//  4. swap (swap.go): lock the slots that change, run migrate, and publish
//     the new slots and failed modules in one atomic snapshot store, the
//     only one in the package; a group with any failure changes nothing;
//  5. report (report.go): record errors on their slots and send notices.
//
// Nothing is visible to Emit or to readers before stage 4's store.

// A change is one slot-level effect of a plan.
type change struct {
	item    int
	slot    *slot    // existing slot (reload, remove) or new slot (add)
	v       *version // nil for remove, and for a slot whose reload failed to build
	isNew   bool
	remove  bool
	why     string         // for a removal: why, for the notice
	movedTo *change        // for a removal: the reload of the same slot from another module, if any
	state   *starlark.Dict // migrated state
	noticed NoticeKind
	shadow  bool // v becomes the slot's shadow, not its serving version (shadow mode)
}

// A changeSet is the work of one apply, filled in stage by stage.
type changeSet struct {
	items     []planItem
	builds    map[string]buildOutcome // by module
	changes   []*change
	pending   map[string]*change // by integration name, across items
	names     [][]string         // per item: the integrations it concerns
	itemErr   []error            // per item
	errByName map[string]error
	leaving   map[*slot]*change // slots a removal takes out, with that removal
	groupErrs map[int]error     // the first error of each failed group
	start     time.Time         // when apply began
	took      time.Duration     // from start to the publish
	next      *snapshot         // the snapshot the swap published
	// removedStates are the last states of the integrations removed, for
	// the store (persist); nil without one.
	removedStates []statestore.Record
}

// newChangeSet returns an empty change set for items.
func newChangeSet(items []planItem) *changeSet {
	return &changeSet{
		items: items, pending: map[string]*change{}, leaving: map[*slot]*change{},
		names: make([][]string, len(items)), itemErr: make([]error, len(items)),
		errByName: map[string]error{}, groupErrs: map[int]error{},
	}
}

// add records c as an effect of item i.
func (cs *changeSet) add(i int, c *change) {
	c.item = i
	cs.changes = append(cs.changes, c)
	cs.names[i] = append(cs.names[i], c.slot.name)
}

// remove records the removal of s by item i.
func (cs *changeSet) remove(i int, s *slot, why string) {
	c := &change{slot: s, remove: true, why: why}
	cs.add(i, c)
	cs.leaving[s] = c
}

// live reports whether c takes effect: its group went live and, for a
// removal, no reload of the same slot from another module (a rename, or a
// declaration moved to another file) went live instead.
func (cs *changeSet) live(c *change) bool {
	if cs.failed(c.item) {
		return false
	}
	return c.movedTo == nil || cs.failed(c.movedTo.item)
}

// fail records err for item i and fails its group.
func (cs *changeSet) fail(i int, err error) {
	if cs.itemErr[i] == nil {
		cs.itemErr[i] = err
	}
	if g := cs.items[i].group; cs.groupErrs[g] == nil {
		cs.groupErrs[g] = err
	}
}

// failed reports whether the group of item i failed.
func (cs *changeSet) failed(i int) bool { return cs.groupErrs[cs.items[i].group] != nil }

// errFor returns the final error of the named integration; nil when its
// change went live.
func (cs *changeSet) nameErr(name string) error { return cs.errByName[name] }

// groupErr returns the first error of group g; nil when it went live.
func (cs *changeSet) groupErr(g int) error { return cs.groupErrs[g] }

// outcomes lists what the change did: one Outcome per change, and one per
// name (or module) an item concerned that failed before it made changes.
func (cs *changeSet) outcomes() []Outcome {
	var out []Outcome
	made := make([]bool, len(cs.items))
	for _, c := range cs.changes {
		made[c.item] = true
		switch {
		case c.remove && c.movedTo != nil && cs.live(c.movedTo):
			// Reported by the reload that took the slot over.
		case c.remove && cs.live(c):
			out = append(out, Outcome{Integration: c.slot.name, Module: cs.items[c.item].module, Removed: true})
		default:
			out = append(out, Outcome{Integration: c.slot.name, Module: cs.items[c.item].module, Err: cs.errFor(c)})
		}
	}
	for i, it := range cs.items {
		switch {
		case made[i]:
		case len(cs.names[i]) == 0 && cs.itemErr[i] != nil:
			out = append(out, Outcome{Module: it.module, Err: cs.itemErr[i]})
		default:
			for _, n := range cs.names[i] {
				out = append(out, Outcome{Integration: n, Module: it.module, Err: cs.errByName[n]})
			}
		}
	}
	return out
}

// errFor returns the error of change c: nil when it went live, else the
// error of its integration or item.
func (cs *changeSet) errFor(c *change) error {
	if !cs.failed(c.item) {
		return nil
	}
	if err := cs.errByName[c.slot.name]; err != nil {
		return err
	}
	return cs.itemErr[c.item]
}

// joinedErr joins the distinct errors of the items; nil when all went
// live.
func (cs *changeSet) joinedErr() error {
	var errs []error
	seen := map[error]bool{}
	for _, e := range cs.itemErr {
		if e != nil && !seen[e] {
			seen[e] = true
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// A plan lists the items of a change. It runs under the writer lock,
// against the live snapshot, so that what it reads (which module an
// integration comes from, which files it depends on) cannot change before
// the change is applied; an error stops the change before anything is
// built.
type plan func(live *snapshot) ([]planItem, error)

// apply carries out one change in the five stages above, holding the
// writer lock throughout, so that changes never interleave. The result
// says, per item and per integration, what happened; its err is the plan's.
func (m *Manager) apply(ctx context.Context, p plan) (*changeSet, error) {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	start := time.Now()
	old := m.snap.Load()
	items, err := p(old)
	if err != nil {
		return nil, err
	}
	cs := newChangeSet(items)
	cs.start = start
	cs.builds = m.buildAll(ctx, items)
	m.resolve(cs, old)
	m.swap(cs, old)
	m.persist(ctx, cs)
	m.report(cs)
	return cs, nil
}

// items is the plan of a fixed list of items.
func items(list ...planItem) plan {
	return func(*snapshot) ([]planItem, error) { return list, nil }
}

// buildOutcome is the result of building one module in stage 2.
type buildOutcome struct {
	bm  *builtModule
	err error
}

// buildAll is stage 2: it builds each distinct module of items once (not
// those only removed), in parallel on up to GOMAXPROCS goroutines. It has
// no effect on the host.
func (m *Manager) buildAll(ctx context.Context, items []planItem) map[string]buildOutcome {
	var mods []string
	seen := map[string]bool{}
	byModule := make(map[string]buildOutcome, len(items))
	for _, it := range items {
		if it.promote != nil { // built already: the shadow's version
			v := it.promote
			byModule[it.module] = buildOutcome{bm: &builtModule{path: v.module, decls: []*declaration{v.decl}, files: v.files, took: v.buildTook}}
			seen[it.module] = true
		}
		if !it.remove && !seen[it.module] {
			seen[it.module] = true
			mods = append(mods, it.module)
		}
	}
	m.liftQuarantine(items)
	out := make([]buildOutcome, len(mods))
	build := func(i int) {
		if err := ctx.Err(); err != nil {
			out[i].err = fmt.Errorf("build %s: %w", mods[i], err)
			return
		}
		if reason, ok := m.quarantine[mods[i]]; ok {
			out[i].err = diagFile(mods[i], "not loaded: %s", reason).withKind(ErrorQuarantined)
			return
		}
		out[i].bm, out[i].err = buildModule(m.src(), m.sb, mods[i])
	}
	if len(mods) == 1 { // the common single reload: no goroutine hand-off
		build(0)
	} else {
		parallel(len(mods), runtime.GOMAXPROCS(0), build)
	}
	for i, mod := range mods {
		byModule[mod] = out[i]
	}
	return byModule
}

// parallel calls fn(0) … fn(n-1) on up to workers goroutines and waits.
func parallel(n, workers int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// liftQuarantine lifts the quarantine (Options.Quarantine) of every
// module items load other than at start: saving the file, a reload or an
// add is the user asking for it to run again. m.writeMu is held.
func (m *Manager) liftQuarantine(items []planItem) {
	for _, it := range items {
		if reason, ok := m.quarantine[it.module]; ok && !it.initial && !it.remove {
			delete(m.quarantine, it.module)
			m.log.Info("quarantine lifted: loading the module again", "module", it.module, "was", reason)
		}
	}
}
