package starhost

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"
)

// Options configure a Manager. The zero value is a manager with no
// defaults, no user roots and the default limits.
type Options struct {
	// Defaults holds the embedded default integrations (module paths
	// "builtin:NAME.star"); nil for none.
	Defaults fs.FS
	// SkipDefaultIntegrations keeps LoadDefaultIntegrations from loading
	// the integrations in Defaults; their libraries stay loadable.
	SkipDefaultIntegrations bool
	// Roots are the user's integration folders, searched in order. An
	// integration in a root overrides a default of the same name.
	Roots []string
	// Limits bound every integration; zero fields take their defaults.
	Limits Limits
	// Logger receives the host's own logs; nil discards them.
	Logger *slog.Logger
}

// A Manager hosts integrations: it loads, reloads, adds and removes them,
// and dispatches events to them. All methods are safe for concurrent use;
// Emit never waits for a reload except on the one integration being
// swapped, and then only for the swap itself.
type Manager struct {
	srcPtr  atomic.Pointer[sources] // replaced (copy on write) by AddRoot
	sb      *sandbox
	limits  Limits
	log     *slog.Logger
	notices noticeHub

	writeMu sync.Mutex // serialises every change: load, reload, add, remove
	snap    atomic.Pointer[snapshot]

	skipDefaults bool

	failedMu sync.Mutex
	failed   map[string]ModuleError // modules that declare nothing loadable, by path
}

// A ModuleError is a module that could not be loaded at all, so that no
// integration of it is live.
type ModuleError struct {
	Module string       `json:"module"`
	Err    error        `json:"-"`
	Errors []Diagnostic `json:"errors"`
	At     time.Time    `json:"at"`
}

// New returns a manager with no integrations loaded.
func New(opts Options) (*Manager, error) {
	limits := opts.Limits.withDefaults()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	src, err := newSources(opts.Roots, opts.Defaults, limits.MaxSourceBytes)
	if err != nil {
		return nil, err
	}
	m := &Manager{sb: newSandbox(limits, log), limits: limits, log: log, failed: map[string]ModuleError{}, skipDefaults: opts.SkipDefaultIntegrations}
	m.srcPtr.Store(src)
	m.snap.Store(newSnapshot(nil))
	return m, nil
}

// src returns the current sources (roots and defaults).
func (m *Manager) src() *sources { return m.srcPtr.Load() }

// Limits returns the limits in effect, defaults filled in.
func (m *Manager) Limits() Limits { return m.limits }

// Roots returns the user integration folders, as absolute paths.
func (m *Manager) Roots() []string { return slices.Clone(m.src().roots) }

// Subscribe returns a subscription to lifecycle notices with a buffer of
// the given size (256 if <= 0). Close it when done.
func (m *Manager) Subscribe(buffer int) *Subscription { return m.notices.subscribe(buffer) }

// Info describes one integration. Its first six fields are the keys of the
// original Python API's get_integration_info.
type Info struct {
	Name          string   `json:"name"`
	Priority      Priority `json:"priority"`
	Available     bool     `json:"available"`
	Subscriptions []string `json:"subscriptions"`
	Module        string   `json:"module"`
	// Class is the export: the name under which the module declares this
	// integration (the Python API's class name).
	Class       string `json:"class"`
	Description string `json:"description"`
	// Generation counts successful loads: 1 after the first load, +1 on
	// every successful reload.
	Generation   int           `json:"generation"`
	LoadedAt     time.Time     `json:"loaded_at"`
	LastReload   time.Duration `json:"-"`
	LastReloadMS float64       `json:"last_reload_ms"`
	// Failed is true when the last reload failed; the version of
	// generation Generation still serves.
	Failed           bool          `json:"failed"`
	LastError        *Diagnostic   `json:"last_error,omitempty"`
	LastHandlerError *Diagnostic   `json:"last_handler_error,omitempty"`
	Calls            uint64        `json:"calls"`
	Errors           uint64        `json:"errors"`
	LatencyMean      time.Duration `json:"-"`
	LatencyP99       time.Duration `json:"-"`
	LatencyMeanUS    float64       `json:"latency_mean_us"`
	LatencyP99US     float64       `json:"latency_p99_us"`
	// Dependencies are the libraries the module loaded, transitively.
	Dependencies []string `json:"dependencies"`
	// Files are the module and its libraries with the hashes of the
	// content that was executed.
	Files []File `json:"files"`
	// Recent holds the latencies of the most recent handler calls,
	// oldest first, for charts.
	Recent []time.Duration `json:"-"`
}

func (m *Manager) info(s *slot) Info {
	v := s.current.Load()
	in := Info{
		Name: s.name, Priority: v.decl.priority, Available: !s.removed.Load(),
		Subscriptions: slices.Clone(v.decl.events), Module: v.module, Class: v.export,
		Description: v.decl.description, Generation: v.generation, LoadedAt: v.builtAt,
		Files: slices.Clone(v.files), Dependencies: []string{},
	}
	for _, f := range v.files[1:] {
		in.Dependencies = append(in.Dependencies, f.Path)
	}
	s.mu.Lock()
	in.LastReload = s.lastReload
	if s.lastErr != nil {
		in.Failed = true
		in.LastError = Diagnose(s.lastErr, v.module)[0]
	}
	st := &s.stats
	in.Calls, in.Errors = st.calls, st.errors
	if st.lastHandlerErr != nil {
		in.LastHandlerError = Diagnose(st.lastHandlerErr, v.module)[0]
	}
	if st.calls > 0 {
		in.LatencyMean = st.total / time.Duration(st.calls)
	}
	in.Recent = st.recent()
	s.mu.Unlock()
	in.LatencyP99 = percentile(in.Recent, 99)
	in.LastReloadMS = float64(in.LastReload.Microseconds()) / 1000
	in.LatencyMeanUS = float64(in.LatencyMean.Nanoseconds()) / 1000
	in.LatencyP99US = float64(in.LatencyP99.Nanoseconds()) / 1000
	return in
}

// IntegrationInfo returns the info of the named integration, or false if
// no integration has that name.
func (m *Manager) IntegrationInfo(name string) (Info, bool) {
	s, ok := m.snap.Load().byName[name]
	if !ok {
		return Info{}, false
	}
	return m.info(s), true
}

// IsAvailable reports whether the named integration is loaded and serving
// events. It stays true while a reload of it is built, and after a failed
// reload (the old version serves).
func (m *Manager) IsAvailable(name string) bool {
	s, ok := m.snap.Load().byName[name]
	return ok && !s.removed.Load()
}

// List returns the info of every integration in dispatch order (priority,
// then name).
func (m *Manager) List() []Info {
	sn := m.snap.Load()
	out := make([]Info, len(sn.ordered))
	for i, s := range sn.ordered {
		out[i] = m.info(s)
	}
	return out
}

// Names returns the names of every integration in dispatch order.
func (m *Manager) Names() []string {
	sn := m.snap.Load()
	out := make([]string, len(sn.ordered))
	for i, s := range sn.ordered {
		out[i] = s.name
	}
	return out
}

// FailedModules returns the modules that could not be loaded at all
// (nothing of them is live), sorted by path.
func (m *Manager) FailedModules() []ModuleError {
	m.failedMu.Lock()
	defer m.failedMu.Unlock()
	out := make([]ModuleError, 0, len(m.failed))
	for _, f := range m.failed {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Module < out[j].Module })
	return out
}

func (m *Manager) setFailed(module string, err error) {
	m.failedMu.Lock()
	defer m.failedMu.Unlock()
	if err == nil {
		delete(m.failed, module)
		return
	}
	me := ModuleError{Module: module, Err: err, At: time.Now()}
	for _, d := range Diagnose(err, module) {
		me.Errors = append(me.Errors, *d)
	}
	m.failed[module] = me
}

// ErrNotFound is returned (wrapped) for an unknown integration name.
var ErrNotFound = errors.New("no such integration")

func (m *Manager) slotNamed(name string) (*slot, error) {
	s, ok := m.snap.Load().byName[name]
	if !ok {
		names := m.Names()
		hint := "loaded: none"
		if len(names) > 0 {
			hint = "loaded: " + strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("%w %q (%s)", ErrNotFound, name, hint)
	}
	return s, nil
}

// LoadDefaultIntegrations loads the embedded defaults and every module in
// the user roots. An integration in a user root overrides a default of the
// same name. Modules are built in parallel and everything that loaded is
// published in one step; the returned error joins the problems of the
// modules that failed (each also recorded, see FailedModules).
func (m *Manager) LoadDefaultIntegrations(ctx context.Context) error {
	defaults, user, err := m.src().listModules()
	if err != nil {
		return err
	}
	if m.skipDefaults {
		defaults = nil
	}
	var items []planItem
	for _, mod := range append(user, defaults...) { // user modules first: they win name clashes
		items = append(items, planItem{module: mod, sync: true, group: len(items), initial: true})
	}
	res := m.apply(ctx, items)
	return res.joinedErr()
}

// ReloadIntegration rebuilds the named integration from its module on the
// side and swaps it in atomically. On failure the old version keeps
// serving, the error is recorded (Info.LastError) and returned.
func (m *Manager) ReloadIntegration(ctx context.Context, name string) error {
	s, err := m.slotNamed(name)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	v := s.current.Load()
	res := m.apply(ctx, []planItem{{module: v.module, exports: []string{name}}})
	return res.errFor(name)
}

// ReloadAllIntegrations rebuilds every integration in parallel and swaps
// all that built successfully in one step. The result maps every name to
// nil or its error; failed ones keep their old version.
func (m *Manager) ReloadAllIntegrations(ctx context.Context) map[string]error {
	byModule := map[string][]string{}
	var order []string
	for _, s := range m.snap.Load().ordered {
		mod := s.current.Load().module
		if _, ok := byModule[mod]; !ok {
			order = append(order, mod)
		}
		byModule[mod] = append(byModule[mod], s.name)
	}
	var items []planItem
	for _, mod := range order {
		for _, name := range byModule[mod] {
			items = append(items, planItem{module: mod, exports: []string{name}, group: len(items)})
		}
	}
	res := m.apply(ctx, items)
	out := map[string]error{}
	for _, mod := range order {
		for _, name := range byModule[mod] {
			out[name] = res.errFor(name)
		}
	}
	return out
}

// AddIntegration loads one integration from a module at run time (the
// Python API's add_integration_dynamically). module is a .star path (or a
// "builtin:" path); export names the integration the module declares and
// may be empty when the module declares exactly one. It returns the new
// integration's info. Adding a name that is already loaded from another
// module fails; adding one from the same module reloads it.
func (m *Manager) AddIntegration(ctx context.Context, module, export string) (Info, error) {
	path, err := canonical(module)
	if err != nil {
		return Info{}, fmt.Errorf("add %s: %w", module, err)
	}
	item := planItem{module: path, add: true}
	if export != "" {
		item.exports = []string{export}
	}
	res := m.apply(ctx, []planItem{item})
	if err := res.groupErr(0); err != nil {
		return Info{}, fmt.Errorf("add %s: %w", module, err)
	}
	name := res.names[0][0]
	in, _ := m.IntegrationInfo(name)
	return in, nil
}

// AddModule loads every integration a module declares (for a file dropped
// on the studio, or opened with it). A module that fails to load is
// recorded (FailedModules) so that it can be shown with its error and is
// retried when the file changes (ReloadFiles). It returns the names loaded.
func (m *Manager) AddModule(ctx context.Context, module string) ([]string, error) {
	path, err := canonical(module)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", module, err)
	}
	res := m.apply(ctx, []planItem{{module: path, sync: true, add: true}})
	if err := res.groupErr(0); err != nil {
		return nil, fmt.Errorf("add %s: %w", module, err)
	}
	return res.names[0], nil
}

// AddRoot adds a user integration folder at run time and loads the
// modules in it; later ReloadFiles calls treat new files in it as modules.
// Adding a folder twice is a no-op.
func (m *Manager) AddRoot(ctx context.Context, dir string) error {
	m.writeMu.Lock()
	old := m.src()
	roots := slices.Clone(old.roots)
	abs, err := filepath.Abs(dir)
	if err != nil || slices.Contains(roots, abs) {
		m.writeMu.Unlock()
		return err
	}
	src, err := newSources(append(roots, abs), old.defaults, old.maxBytes)
	if err != nil {
		m.writeMu.Unlock()
		return err
	}
	m.srcPtr.Store(src)
	m.writeMu.Unlock()
	only, err := newSources([]string{abs}, nil, old.maxBytes)
	if err != nil {
		return err
	}
	_, mods, err := only.listModules()
	if err != nil {
		return err
	}
	var items []planItem
	for _, mod := range mods {
		items = append(items, planItem{module: mod, sync: true, add: true, group: len(items)})
	}
	return m.apply(ctx, items).joinedErr()
}

// RemoveIntegration removes the named integration. Events already being
// dispatched to it finish; later events do not reach it.
func (m *Manager) RemoveIntegration(name string) error {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	s, err := m.slotNamed(name)
	if err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	s.callMu.Lock()
	s.removed.Store(true)
	old := m.snap.Load()
	m.snap.Store(newSnapshot(slices.DeleteFunc(slices.Clone(old.ordered), func(x *slot) bool { return x == s })))
	s.callMu.Unlock()
	v := s.current.Load()
	m.log.Info("removed integration", "name", name, "module", v.module)
	m.notices.publish(Notice{Kind: NoticeRemoved, Integration: name, Module: v.module, Generation: v.generation})
	return nil
}

// RemoveModule removes every integration declared by module (for a file
// that was deleted) and forgets its load failure. It returns the names
// removed.
func (m *Manager) RemoveModule(module string) []string {
	path, err := canonical(module)
	if err != nil {
		return nil
	}
	m.setFailed(path, nil)
	var names []string
	for _, s := range m.snap.Load().ordered {
		if s.current.Load().module == path {
			names = append(names, s.name)
		}
	}
	var removed []string
	for _, n := range names {
		if m.RemoveIntegration(n) == nil {
			removed = append(removed, n)
		}
	}
	return removed
}

// ReloadFiles reloads everything that depends on the given files: every
// integration whose module or any library it loads (transitively) is among
// them, and every module file among them that is not loaded yet (added).
// A module file's integrations are synchronised with what it declares now
// (new ones added, vanished ones removed). Integrations that share a
// changed file are swapped all-or-nothing; unrelated ones independently.
// The result maps each affected integration (or module, for one that
// failed before declaring anything) to nil or its error.
func (m *Manager) ReloadFiles(ctx context.Context, paths []string) map[string]error {
	changed := map[string]bool{}
	for _, p := range paths {
		if c, err := canonical(p); err == nil {
			changed[c] = true
		}
	}
	// Group modules by the changed files they depend on (union-find), so
	// that the dependents of one library swap together.
	groups := newUnion()
	moduleDeps := map[string][]string{}
	for _, s := range m.snap.Load().ordered {
		v := s.current.Load()
		for _, f := range v.files {
			if changed[f.Path] {
				moduleDeps[v.module] = append(moduleDeps[v.module], f.Path)
			}
		}
	}
	m.failedMu.Lock()
	for p := range changed {
		if _, failed := m.failed[p]; failed || m.isModulePath(p) {
			moduleDeps[p] = append(moduleDeps[p], p)
		}
	}
	m.failedMu.Unlock()
	for mod, deps := range moduleDeps {
		for _, d := range deps {
			groups.join(mod, d)
		}
	}
	mods := make([]string, 0, len(moduleDeps))
	for mod := range moduleDeps {
		mods = append(mods, mod)
	}
	sort.Strings(mods)
	groupIDs := map[string]int{}
	var items []planItem
	for _, mod := range mods {
		root := groups.find(mod)
		id, ok := groupIDs[root]
		if !ok {
			id = len(groupIDs)
			groupIDs[root] = id
		}
		items = append(items, planItem{module: mod, sync: true, group: id})
	}
	res := m.apply(ctx, items)
	out := map[string]error{}
	for i, it := range items {
		if len(res.names[i]) == 0 {
			out[it.module] = res.itemErr[i]
		}
		for _, n := range res.names[i] {
			out[n] = res.errFor(n)
		}
	}
	return out
}

// isModulePath reports whether p is (or would be) an integration module of
// a user root: a module file name, inside a root, not in a lib folder.
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

// State returns a copy of the named integration's state as plain Go data.
func (m *Manager) State(name string) (map[string]any, error) {
	s, err := m.slotNamed(name)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	s.callMu.Lock()
	defer s.callMu.Unlock()
	v, err := newConverter(m.limits).fromStarlark(s.state, 0)
	if err != nil {
		return nil, fmt.Errorf("state of %s: %w", name, err)
	}
	return v.(map[string]any), nil
}

// ResetState replaces the named integration's state with an empty dict.
func (m *Manager) ResetState(name string) error {
	s, err := m.slotNamed(name)
	if err != nil {
		return fmt.Errorf("reset state: %w", err)
	}
	s.callMu.Lock()
	s.state = starlark.NewDict(0)
	s.callMu.Unlock()
	m.notices.publish(Notice{Kind: NoticeStateReset, Integration: name, Message: "state reset"})
	return nil
}

func (m *Manager) logLine(integration, level, msg string) {
	msg = truncate(msg, m.limits.MaxLogBytes)
	m.notices.publish(Notice{Kind: NoticeLog, Integration: integration, Level: level, Message: msg})
	m.log.Debug("integration log", "integration", integration, "level", level, "msg", msg)
}

// union is a tiny union-find over strings.
type union map[string]string

func newUnion() union { return union{} }

func (u union) find(x string) string {
	for {
		p, ok := u[x]
		if !ok || p == x {
			return x
		}
		u[x] = u[p]
		x = p
	}
}

func (u union) join(a, b string) { u[u.find(a)] = u.find(b) }

// Declared is one integration a module declares, as found by Check.
type Declared struct {
	Name     string   `json:"name"`
	Priority Priority `json:"priority"`
	Events   []string `json:"events"`
	// Pos is the "file:line:col" of the integration() call.
	Pos string `json:"pos"`
}

// Check loads the module at path exactly as a reload would (read, compile,
// execute the top level in the sandbox, validate the declarations) without
// running handlers or changing the live set. It returns what the module
// declares, or the error with file:line:col.
func (m *Manager) Check(path string) ([]Declared, error) {
	p, err := canonical(path)
	if err != nil {
		return nil, err
	}
	bm, err := buildModule(m.src(), m.sb, p)
	if err != nil {
		return nil, err
	}
	out := make([]Declared, len(bm.decls))
	for i, d := range bm.decls {
		out[i] = Declared{Name: d.name, Priority: d.priority, Events: slices.Clone(d.events), Pos: d.pos.String()}
	}
	return out, nil
}

// ApplyFileChanges brings the host in line with files that changed on
// disk: removed integration modules are removed, and everything that
// depends on a changed or removed file is reloaded (see ReloadFiles), so
// the dependents of a deleted library report the missing load while their
// old versions keep serving. It is what the file watcher calls.
func (m *Manager) ApplyFileChanges(ctx context.Context, changed, removed []string) map[string]error {
	out := map[string]error{}
	var reload []string
	for _, p := range removed {
		if m.isModulePath(p) || m.hasLiveSlot(p) || m.isFailedModule(p) {
			for _, name := range m.RemoveModule(p) {
				out[name] = nil
			}
			continue
		}
		reload = append(reload, p)
	}
	reload = append(reload, changed...)
	if len(reload) == 0 {
		return out
	}
	for k, v := range m.ReloadFiles(ctx, reload) {
		out[k] = v
	}
	return out
}

func (m *Manager) isFailedModule(p string) bool {
	m.failedMu.Lock()
	defer m.failedMu.Unlock()
	_, ok := m.failed[p]
	return ok
}

// Notify publishes a notice from outside the host (the file watcher, a
// front end) to every subscriber.
func (m *Manager) Notify(n Notice) { m.notices.publish(n) }
