package starhost

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
)

// Every change to the set of live integrations goes through apply, in
// stages (compare Caddy's provision, validate, swap, clean up):
//
//  1. plan: the caller lists modules to build and which of their
//     integrations to load, each in an all-or-nothing group;
//  2. build: each distinct module is read, compiled and executed on the
//     side, in parallel, on fresh threads with fresh globals;
//  3. resolve: the declarations are matched to slots (reload, add, remove)
//     and validated against the live set (no duplicate names);
//  4. swap: the slots of every group that built are locked, migrate runs,
//     and the new versions and states are installed and published in one
//     atomic snapshot store; a group with any failure changes nothing;
//  5. report: errors are recorded on their slots, notices go out.

// A planItem asks apply to build one module.
type planItem struct {
	module  string
	exports []string // integrations to load; empty: all (sync), or the only one (add)
	sync    bool     // load every declaration; remove this module's vanished ones
	add     bool     // the caller adds: an empty exports needs exactly one declaration
	initial bool     // loading defaults: a builtin module yields names a user module took
	group   int      // items of one group swap all-or-nothing
}

// A change is one slot-level effect of a plan.
type change struct {
	item    int
	slot    *slot    // existing slot (reload, remove) or new slot (add)
	v       *version // nil for remove
	isNew   bool
	remove  bool
	state   *starlark.Dict // migrated state
	noticed NoticeKind
}

type applyResult struct {
	names     [][]string // per item: the integrations it concerned
	itemErr   []error    // per item
	errByName map[string]error
	groupErr_ map[int]error
	items     []planItem
}

func (r *applyResult) errFor(name string) error { return r.errByName[name] }

func (r *applyResult) groupErr(g int) error { return r.groupErr_[g] }

func (r *applyResult) joinedErr() error {
	var errs []error
	seen := map[error]bool{}
	for _, e := range r.itemErr {
		if e != nil && !seen[e] {
			seen[e] = true
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

type buildOutcome struct {
	bm  *builtModule
	err error
}

func (m *Manager) apply(ctx context.Context, items []planItem) *applyResult {
	start := time.Now()
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	res := &applyResult{
		names: make([][]string, len(items)), itemErr: make([]error, len(items)),
		errByName: map[string]error{}, groupErr_: map[int]error{}, items: items,
	}

	// Stage 2: build every distinct module in parallel.
	builds := m.buildAll(ctx, items)

	// Stage 3: resolve declarations to changes.
	old := m.snap.Load()
	pending := map[string]*change{} // by integration name, across items
	var changes []*change
	for i, it := range items {
		if err := m.resolve(i, it, builds[it.module], old, pending, &changes, res); err != nil {
			res.itemErr[i] = err
		}
	}

	// Stage 4: swap. A group fails as a whole if any of its items failed.
	failedGroups := map[int]error{}
	for i, it := range items {
		if err := res.itemErr[i]; err != nil {
			if _, ok := failedGroups[it.group]; !ok {
				failedGroups[it.group] = err
			}
		}
	}
	var locked []*slot
	for _, c := range changes {
		if !c.isNew && failedGroups[items[c.item].group] == nil {
			locked = append(locked, c.slot)
		}
	}
	sort.Slice(locked, func(i, j int) bool { return locked[i].name < locked[j].name })
	locked = compactSlots(locked)
	for _, s := range locked {
		s.callMu.Lock()
	}
	for _, c := range changes {
		g := items[c.item].group
		if failedGroups[g] != nil || c.remove {
			continue
		}
		if c.isNew {
			c.state = c.slot.state
			continue
		}
		st, err := m.migrate(c.slot, c.v)
		if err != nil {
			err = fmt.Errorf("reload %s: migrate: %w", c.slot.name, err)
			res.itemErr[c.item] = err
			res.errByName[c.slot.name] = err
			if _, ok := failedGroups[g]; !ok {
				failedGroups[g] = err
			}
			continue
		}
		c.state = st
	}
	slots := append([]*slot(nil), old.ordered...)
	var installed []*change
	for _, c := range changes {
		if failedGroups[items[c.item].group] != nil {
			continue
		}
		installed = append(installed, c)
		switch {
		case c.remove:
			c.slot.removed.Store(true)
			slots = removeSlot(slots, c.slot)
		case c.isNew:
			c.slot.current.Store(c.v)
			slots = append(slots, c.slot)
		default:
			c.slot.state = c.state
			c.slot.current.Store(c.v)
		}
	}
	if len(installed) > 0 {
		m.snap.Store(newSnapshot(slots))
	}
	for _, s := range locked {
		s.callMu.Unlock()
	}
	took := time.Since(start)

	// Stage 5: report.
	for g, err := range failedGroups {
		res.groupErr_[g] = err
	}
	for _, c := range changes {
		it := items[c.item]
		gerr := failedGroups[it.group]
		name := c.slot.name
		if gerr != nil {
			err := res.errByName[name]
			if err == nil {
				err = res.itemErr[c.item]
			}
			if err == nil {
				err = fmt.Errorf("reload %s: not swapped, another file of the same change failed: %w", name, gerr)
			}
			res.errByName[name] = err
			if !c.isNew {
				c.slot.setError(err)
			}
			m.publishFailure(name, it.module, err)
			continue
		}
		res.errByName[name] = nil
		if c.remove {
			m.notices.publish(Notice{Kind: NoticeRemoved, Integration: name, Module: it.module, Message: "no longer declared by its module"})
			continue
		}
		c.slot.mu.Lock()
		c.slot.lastErr = nil
		c.slot.lastReload = took
		c.slot.mu.Unlock()
		m.log.Info(string(c.noticed)+" integration", "name", name, "generation", c.v.generation, "module", c.v.module, "took", took)
		m.notices.publish(Notice{Kind: c.noticed, Integration: name, Module: c.v.module, Generation: c.v.generation, Duration: took})
	}
	for i, it := range items {
		err := res.itemErr[i]
		if err == nil && failedGroups[it.group] != nil {
			err = failedGroups[it.group]
		}
		if err != nil {
			for _, n := range res.names[i] {
				if res.errByName[n] == nil {
					res.errByName[n] = err
				}
			}
			if len(res.names[i]) == 0 {
				m.publishFailure("", it.module, err)
			}
		}
		res.itemErr[i] = err
		// A module with nothing live is listed as failed; one that loaded
		// (or whose old version serves) is not.
		if err != nil && !m.hasLiveSlot(it.module) {
			m.setFailed(it.module, err)
		} else if err == nil {
			m.setFailed(it.module, nil)
		}
		if b := builds[it.module]; err == nil && b.bm != nil {
			for _, line := range b.bm.logs {
				m.notices.publish(Notice{Kind: NoticeLog, Module: it.module, Level: "info", Message: line})
			}
		}
	}
	return res
}

func (m *Manager) publishFailure(name, module string, err error) {
	d := Diagnose(err, module)[0]
	m.log.Warn("reload failed", "name", name, "module", module, "error", d.Error())
	m.notices.publish(Notice{Kind: NoticeReloadFailed, Integration: name, Module: module, Error: d, Message: d.Msg})
}

func (m *Manager) hasLiveSlot(module string) bool {
	for _, s := range m.snap.Load().ordered {
		if s.current.Load().module == module {
			return true
		}
	}
	return false
}

// buildAll builds each distinct module of items once, in parallel.
func (m *Manager) buildAll(ctx context.Context, items []planItem) map[string]buildOutcome {
	var mods []string
	seen := map[string]bool{}
	for _, it := range items {
		if !seen[it.module] {
			seen[it.module] = true
			mods = append(mods, it.module)
		}
	}
	out := make([]buildOutcome, len(mods))
	if len(mods) == 1 { // the common single reload: no goroutine hand-off
		bm, err := buildModule(m.src(), m.sb, mods[0])
		return map[string]buildOutcome{mods[0]: {bm: bm, err: err}}
	}
	workers := min(runtime.GOMAXPROCS(0), len(mods))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := ctx.Err(); err != nil {
					out[i].err = fmt.Errorf("build %s: %w", mods[i], err)
					continue
				}
				bm, err := buildModule(m.src(), m.sb, mods[i])
				out[i] = buildOutcome{bm: bm, err: err}
			}
		})
	}
	for i := range mods {
		next <- i
	}
	close(next)
	wg.Wait()
	byModule := make(map[string]buildOutcome, len(mods))
	for i, mod := range mods {
		byModule[mod] = out[i]
	}
	return byModule
}

// resolve turns one built module into changes: which declarations reload
// which slot, which are added, which slots vanish.
func (m *Manager) resolve(i int, it planItem, b buildOutcome, old *snapshot, pending map[string]*change, changes *[]*change, res *applyResult) error {
	// The integrations this item concerns, known before the build.
	var existing []*slot
	for _, s := range old.ordered {
		if s.current.Load().module == it.module && (it.sync || contains(it.exports, s.name)) {
			existing = append(existing, s)
		}
	}
	if b.err != nil {
		for _, s := range existing {
			res.names[i] = append(res.names[i], s.name)
			*changes = append(*changes, &change{item: i, slot: s, noticed: NoticeReloadFailed})
		}
		if len(existing) == 0 {
			for _, e := range it.exports {
				res.names[i] = append(res.names[i], e)
			}
		}
		return fmt.Errorf("load %s: %w", it.module, b.err)
	}
	bm := b.bm
	var chosen []*declaration
	switch {
	case it.sync:
		chosen = bm.decls
	case len(it.exports) > 0:
		for _, e := range it.exports {
			d := findDecl(bm.decls, e)
			if d == nil {
				res.names[i] = append(res.names[i], e)
				err := diagFile(it.module, "no integration named %q is declared here (it declares %s); check the name, or rename it back", e, declNames(bm.decls))
				for _, s := range existing {
					*changes = append(*changes, &change{item: i, slot: s})
				}
				return err
			}
			chosen = append(chosen, d)
		}
	case len(bm.decls) == 1:
		chosen = bm.decls
	default:
		return diagFile(it.module, "declares %d integrations (%s); name the one to add", len(bm.decls), declNames(bm.decls))
	}
	var errs []error
	for _, d := range chosen {
		if p, ok := pending[d.name]; ok {
			if it.initial && strings.HasPrefix(it.module, BuiltinPrefix) && !strings.HasPrefix(p.v.module, BuiltinPrefix) {
				m.log.Info("user integration overrides default", "name", d.name, "user", p.v.module, "default", it.module)
				continue
			}
			errs = append(errs, diagAt(d.pos, "duplicate integration name %q: already declared at %s; rename one of them", d.name, p.v.decl.pos))
			continue
		}
		v := &version{decl: d, module: it.module, export: d.name, files: bm.files, builtAt: time.Now(), buildTook: bm.took, generation: 1}
		c := &change{item: i, v: v}
		if s, ok := old.byName[d.name]; ok {
			cur := s.current.Load()
			userOverDefault := strings.HasPrefix(cur.module, BuiltinPrefix) && !strings.HasPrefix(it.module, BuiltinPrefix)
			if cur.module != it.module && !userOverDefault {
				if it.initial && strings.HasPrefix(it.module, BuiltinPrefix) {
					continue
				}
				errs = append(errs, diagAt(d.pos, "integration %q is already loaded from %s (declared at %s); remove it first or rename this one", d.name, cur.module, cur.decl.pos))
				continue
			}
			c.slot, v.generation, c.noticed = s, cur.generation+1, NoticeReloaded
		} else {
			c.slot, c.isNew, c.noticed = newSlot(d.name), true, NoticeAdded
			if it.initial {
				c.noticed = NoticeLoaded
			}
		}
		pending[d.name] = c
		*changes = append(*changes, c)
		res.names[i] = append(res.names[i], d.name)
	}
	if it.sync {
		for _, s := range existing {
			if findDecl(bm.decls, s.name) == nil {
				*changes = append(*changes, &change{item: i, slot: s, remove: true})
				res.names[i] = append(res.names[i], s.name)
			}
		}
	}
	return errors.Join(errs...)
}

// migrate returns the state for version v of slot s: the old state, or
// what v's migrate hook returns for a copy of it. s.callMu is held.
func (m *Manager) migrate(s *slot, v *version) (*starlark.Dict, error) {
	if v.decl.migrate == nil {
		return s.state, nil
	}
	old := deepCopy(s.state)
	thread := &starlark.Thread{Name: "migrate " + s.name, Print: func(_ *starlark.Thread, msg string) { m.logLine(s.name, "info", msg) }}
	var out starlark.Value
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
	if err := newConverter(m.limits).measure(d, 0); err != nil {
		return nil, diagAt(pos, "migrated state: %v", err)
	}
	return d, nil
}

func findDecl(decls []*declaration, name string) *declaration {
	for _, d := range decls {
		if d.name == name {
			return d
		}
	}
	return nil
}

func declNames(decls []*declaration) string {
	names := make([]string, len(decls))
	for i, d := range decls {
		names[i] = d.name
	}
	return strings.Join(names, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func compactSlots(s []*slot) []*slot {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func removeSlot(slots []*slot, s *slot) []*slot {
	out := slots[:0]
	for _, x := range slots {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
