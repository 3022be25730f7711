package starhost

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// resolve is stage 3: it turns each item and its build into changes,
// matching declarations to the slots of old, and records the problems of
// each item (a failed build, an unknown name, a duplicate). It only reads
// old; nothing it does is visible until the swap.
//
// Removals are resolved first (deleted modules, removed integrations, and
// the integrations a rebuilt module no longer declares), so that a name
// that leaves one module can be declared by another in the same change: a
// renamed file, or a declaration moved to another file, is then a reload
// of the same slot from its new module.
func (m *Manager) resolve(cs *changeSet, old *snapshot) {
	byModule := slotsByModule(old, cs.items)
	for i, it := range cs.items {
		if it.remove {
			if err := resolveRemoval(cs, i, existingOf(it, byModule[it.module])); err != nil {
				cs.fail(i, err)
			}
		}
	}
	for i, it := range cs.items {
		if b := cs.builds[it.module]; it.sync && !it.remove && b.err == nil {
			resolveVanished(cs, i, byModule[it.module], b.bm.decls)
		}
	}
	for i, it := range cs.items {
		if !it.remove {
			if err := m.resolveItem(cs, i, old, existingOf(it, byModule[it.module])); err != nil {
				cs.fail(i, err)
			}
		}
	}
}

// slotsByModule returns the live slots of old of each module of items,
// in dispatch order, in one pass over old, so that resolving one item per
// integration (a reload of all) is linear in their number rather than
// quadratic.
func slotsByModule(old *snapshot, items []planItem) map[string][]*slot {
	out := make(map[string][]*slot, len(items))
	for _, it := range items {
		out[it.module] = nil
	}
	for _, s := range old.ordered {
		mod := s.current.Load().module
		if l, ok := out[mod]; ok {
			out[mod] = append(l, s)
		}
	}
	return out
}

// existingOf returns the slots of live (its module's) that item it
// concerns: all of them for a sync item, else those named in its exports.
func existingOf(it planItem, live []*slot) []*slot {
	if it.sync {
		return live
	}
	var out []*slot
	for _, s := range live {
		if slices.Contains(it.exports, s.name) {
			out = append(out, s)
		}
	}
	return out
}

// resolveItem resolves the declarations of item i; existing are the live
// slots it concerns (existingOf). See resolve.
func (m *Manager) resolveItem(cs *changeSet, i int, old *snapshot, existing []*slot) error {
	it := cs.items[i]
	b := cs.builds[it.module]
	if b.err != nil {
		markFailed(cs, i, existing)
		return fmt.Errorf("load %s: %w", it.module, b.err)
	}
	chosen, err := chooseDecls(it, b.bm.decls)
	if err != nil {
		markFailed(cs, i, existing)
		return err
	}
	var errs []error
	for _, d := range chosen {
		errs = append(errs, m.resolveDecl(cs, i, d, old))
	}
	return errors.Join(errs...)
}

// resolveRemoval removes the slots of a removal item: the named ones, or
// every one of a deleted module.
func resolveRemoval(cs *changeSet, i int, existing []*slot) error {
	it := cs.items[i]
	why := ""
	if it.sync {
		why = "its file was deleted"
	}
	for _, s := range existing {
		cs.remove(i, s, why)
	}
	if len(existing) == 0 && !it.sync {
		cs.names[i] = append(cs.names[i], it.exports...)
		return fmt.Errorf("%w %q in %s", ErrNotFound, strings.Join(it.exports, ", "), it.module)
	}
	return nil
}

// resolveVanished removes the slots of sync item i's module that its new
// build no longer declares.
func resolveVanished(cs *changeSet, i int, existing []*slot, decls []*declaration) {
	for _, s := range existing {
		if findDecl(decls, s.name) == nil {
			cs.remove(i, s, "no longer declared by its module")
		}
	}
}

// markFailed records that item i concerns the existing slots (or, when
// none is live, the names it asked for) although it failed before it could
// change them.
func markFailed(cs *changeSet, i int, existing []*slot) {
	for _, s := range existing {
		cs.add(i, &change{slot: s, noticed: NoticeReloadFailed})
	}
	if len(existing) == 0 {
		cs.names[i] = append(cs.names[i], cs.items[i].exports...)
	}
}

// chooseDecls returns the declarations an item loads: all of them for a
// sync item, else the exports it names.
func chooseDecls(it planItem, decls []*declaration) ([]*declaration, error) {
	if it.sync {
		return decls, nil
	}
	chosen := make([]*declaration, 0, len(it.exports))
	for _, e := range it.exports {
		d := findDecl(decls, e)
		if d == nil {
			return nil, diagFile(it.module, "no integration named %q is declared here (it declares %s); check the name, or rename it back", e, declNames(decls))
		}
		chosen = append(chosen, d)
	}
	return chosen, nil
}

// resolveDecl makes the change for one declaration of item i: a reload
// of the live slot of that name, or a new slot. A name declared twice in
// one change, or live from another module, is an error at the
// declaration; while loading defaults, a default yields to a user module.
// A name that leaves its module in the same change (a renamed file, a
// declaration moved to another file) is reloaded from its new module
// rather than removed and added: it keeps its state and serves every
// event throughout. If the reload fails, the removal still happens.
func (m *Manager) resolveDecl(cs *changeSet, i int, d *declaration, old *snapshot) error {
	it := cs.items[i]
	yields := it.initial && isBuiltin(it.module)
	if p, ok := cs.pending[d.name]; ok {
		if yields && !isBuiltin(p.v.module) {
			m.log.Info("user integration overrides default", "name", d.name, "user", p.v.module, "default", it.module)
			return nil
		}
		return diagAt(d.pos, "duplicate integration name %q: already declared at %s; rename one of them", d.name, p.v.decl.pos)
	}
	bm := cs.builds[it.module].bm
	v := &version{decl: d, module: it.module, export: d.name, files: bm.files, builtAt: time.Now(), buildTook: bm.took, generation: 1, lane: m.sb.recorder.Track(it.module)}
	c := &change{v: v, isNew: true, noticed: NoticeAdded}
	if it.initial {
		c.noticed = NoticeLoaded
	}
	s, ok := old.byName[d.name]
	if !ok {
		c.slot = newSlot(d.name) // only a new name gets a slot: a slot is kilobytes
	} else {
		cur := s.current.Load()
		removal := cs.leaving[s] // its module drops it in this change: moved here
		if removal != nil {
			removal.movedTo = c
		}
		userOverDefault := isBuiltin(cur.module) && !isBuiltin(it.module)
		if cur.module != it.module && !userOverDefault && removal == nil {
			if yields {
				return nil
			}
			return diagAt(d.pos, "integration %q is already loaded from %s (declared at %s); remove it first or rename this one", d.name, cur.module, cur.decl.pos)
		}
		c.slot, c.isNew, v.generation, c.noticed = s, false, cur.generation+1, NoticeReloaded
		if s.shadowOn.Load() && it.promote == nil && removal == nil { // a move is a reload
			c.shadow, c.noticed = true, NoticeShadow
		}
	}
	cs.pending[d.name] = c
	cs.add(i, c)
	return nil
}

// isBuiltin reports whether module is an embedded default.
func isBuiltin(module string) bool { return strings.HasPrefix(module, BuiltinPrefix) }

// findDecl returns the declaration of name, or nil.
func findDecl(decls []*declaration, name string) *declaration {
	for _, d := range decls {
		if d.name == name {
			return d
		}
	}
	return nil
}

// declNames lists the declared names, for messages.
func declNames(decls []*declaration) string {
	names := make([]string, len(decls))
	for i, d := range decls {
		names[i] = d.name
	}
	return strings.Join(names, ", ")
}
