package starhost

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// A planItem asks apply to build (or remove) one module. It is the input
// of the first stage of a change; see apply.
type planItem struct {
	module  string
	exports []string // integrations to act on; empty with sync: every one the module declares
	sync    bool     // load every declaration; remove this module's vanished ones
	remove  bool     // remove the exports (or, with sync, every integration of the module); nothing is built
	initial bool     // loading defaults: a builtin module yields names a user module took
	group   int      // items of one group swap all-or-nothing
	promote *version // a shadow's version to install (PromoteShadow) instead of building module
}

// planFiles turns a batch of changed paths into plan items: a deleted
// module is removed (each on its own); every module that depends on a
// changed file, and every changed module file not loaded yet, is
// synchronised. Modules that share a changed file form one group, so that
// the dependents of one library swap together (union-find).
func (m *Manager) planFiles(sn *snapshot, paths []string) []planItem {
	changed := map[string]bool{}
	var items []planItem
	for _, p := range paths {
		c, err := canonical(p)
		if err != nil || changed[c] {
			continue
		}
		changed[c] = true
		if _, failed := sn.failed[c]; !exists(c) && (m.isModulePath(c) || sn.hasModule(c) || failed) {
			items = append(items, planItem{module: c, sync: true, remove: true, group: len(items)})
		}
	}
	deleted := map[string]bool{}
	for _, it := range items {
		deleted[it.module] = true
	}
	groups := newFileGroups()
	for _, s := range sn.ordered {
		v := s.current.Load()
		files := v.files
		if sh := s.shadow.Load(); sh != nil { // a library only the shadow loads
			files = append(slices.Clone(files), sh.own.current.Load().files...)
		}
		for _, f := range files {
			if changed[f.Path] && !deleted[v.module] {
				groups.join(v.module, f.Path)
			}
		}
	}
	library := false
	for p := range changed {
		if _, failed := sn.failed[p]; (failed || m.isModulePath(p)) && !deleted[p] {
			groups.join(p, p)
		} else {
			library = true
		}
	}
	if library { // a quarantined module may have brought its worker down in this library
		for q := range m.quarantine {
			groups.join(q, q)
		}
	}
	return append(items, groups.items(len(items))...)
}

// isModulePath reports whether p is (or would be) an integration module of
// a user root: a module file name, inside a root, not in a skipped folder
// (lib, tests, hidden; see IsSkippedDir).
func (m *Manager) isModulePath(p string) bool {
	if !IsModuleFile(filepath.Base(p)) {
		return false
	}
	for _, r := range m.src().roots {
		if within(r, p) {
			rel, _ := filepath.Rel(r, filepath.Dir(p))
			for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
				if part != "." && skipDir(part) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// fileGroups groups modules by the changed files they depend on: a
// union-find over module and file paths.
type fileGroups struct {
	parent  map[string]string
	modules map[string]bool
}

// newFileGroups returns empty groups.
func newFileGroups() *fileGroups {
	return &fileGroups{parent: map[string]string{}, modules: map[string]bool{}}
}

// find returns the representative of x's group, shortening the path on
// the way.
func (g *fileGroups) find(x string) string {
	for {
		p, ok := g.parent[x]
		if !ok || p == x {
			return x
		}
		if gp, ok := g.parent[p]; ok {
			g.parent[x] = gp // path halving; a root has no entry
		}
		x = p
	}
}

// join puts module in the group of file.
func (g *fileGroups) join(module, file string) {
	g.modules[module] = true
	if a, b := g.find(module), g.find(file); a != b {
		g.parent[a] = b
	}
}

// items returns one sync item per module, in module order, numbering the
// groups from first.
func (g *fileGroups) items(first int) []planItem {
	mods := make([]string, 0, len(g.modules))
	for mod := range g.modules {
		mods = append(mods, mod)
	}
	sort.Strings(mods)
	ids := map[string]int{}
	items := make([]planItem, 0, len(mods))
	for _, mod := range mods {
		root := g.find(mod)
		id, ok := ids[root]
		if !ok {
			id = first + len(ids)
			ids[root] = id
		}
		items = append(items, planItem{module: mod, sync: true, group: id})
	}
	return items
}
