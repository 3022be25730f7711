package starhost

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afstudio/afstudio/blackbox"
	"github.com/afstudio/afstudio/statestore"
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
	// Roots are the user's integration folders, searched in order; a
	// folder that does not exist yet is allowed (it has no modules). An
	// integration in a root overrides a default of the same name; a
	// relative module path given to AddIntegration is relative to the
	// first root. nil: none.
	Roots []string
	// Modules are single module files (.star paths) loaded with the
	// roots' modules by LoadDefaultIntegrations, as the studio's added
	// files are: a studio's worker started again loads them with the rest
	// (and honours the quarantine for them).
	Modules []string
	// Limits bound every integration; zero fields take their defaults.
	Limits Limits
	// Logger receives the host's own logs; nil discards them.
	Logger *slog.Logger
	// Parallel is how many of one event's handler calls may run at once,
	// each on its own core: 0 means GOMAXPROCS, 1 one at a time. Whatever
	// it is, each integration sees events in the order they were emitted
	// from one goroutine, results come back in priority order, and
	// follow-up events are queued in that order.
	Parallel int
	// Store keeps each integration's state, and its on/off switch, across
	// restarts (see durable.go); nil keeps them in memory only. The host
	// does not close it: call Close, then close the store.
	Store *statestore.Store
	// FlushInterval is the longest a changed state waits before it is
	// written to Store: the most a crash can lose. 0: 100 ms.
	FlushInterval time.Duration
	// SyncWrites makes Emit return only once the states its calls changed
	// are on disk (--durable sync), at the cost of a disk commit per event
	// (shared by the events emitted at the same time).
	SyncWrites bool
	// Recorder records which module the host runs code of, in memory a
	// supervisor reads when this process dies (package blackbox); nil
	// records nothing.
	Recorder *blackbox.Recorder
	// EventIDLimit and EventIDAge bound the window of handled event ids
	// (EmitID): the last EventIDLimit ids handled within EventIDAge,
	// whichever is fewer. Zero means statestore.DefaultHandledLimit
	// (100,000) and statestore.DefaultHandledAge (24 hours), the bounds
	// the store keeps on disk by default.
	EventIDLimit int
	// EventIDAge is the age bound of that window (see EventIDLimit).
	EventIDAge time.Duration
	// Quarantine maps module paths to the reason they are not run:
	// LoadDefaultIntegrations lists each as a failed module with the
	// reason (ErrorQuarantined) instead of executing it. Any later load of
	// the module (its file saved, a reload, an add) lifts the quarantine.
	// A supervisor sets it for the module that brought the previous
	// worker process down.
	Quarantine map[string]string
	// HoldFollowUps keeps the follow-up events handlers queue with
	// ctx.emit from being dispatched: they are only listed in their
	// results (Result.Emitted). For a harness that tests one integration
	// on its own (package startest).
	HoldFollowUps bool
	// OnEvent, if not nil, is called with every event a front end
	// delivers (Emit, EmitID; not the follow-ups) once the host has
	// accepted it (a valid name and data, an id not handled yet) and
	// before its handlers run, on the emitting goroutine: it must be fast
	// and safe for concurrent use. A recorder of the events uses it
	// (afstudio run --record): unlike a subscription to event notices, it
	// never misses one, and it knows the event's id.
	OnEvent func(AcceptedEvent)
}

// A Manager hosts integrations: it loads, reloads, adds and removes them,
// and dispatches events to them. All methods are safe for concurrent use;
// Emit never waits for a reload except on the one integration being
// swapped, and then only for the swap itself.
//
// New is the only constructor: a zero Manager is not usable.
type Manager struct {
	srcPtr  atomic.Pointer[sources] // replaced (copy on write) by AddRoot
	sb      *sandbox
	limits  Limits
	log     *slog.Logger
	notices NoticeHub

	writeMu sync.Mutex // serialises every change: load, reload, add, remove
	snap    atomic.Pointer[snapshot]

	skipDefaults  bool
	modules       []string          // Options.Modules
	parallel      int               // Options.Parallel, 0 resolved to GOMAXPROCS
	durable       *durability       // nil without Options.Store
	quarantine    map[string]string // Options.Quarantine, less the lifted; under writeMu
	ids           *eventIDs         // handled event ids (EmitID)
	holdFollowUps bool              // Options.HoldFollowUps

	onEvent func(AcceptedEvent) // Options.OnEvent
}

// New returns a manager with no integrations loaded; call
// LoadDefaultIntegrations (or AddIntegration) next. It fails only when a
// root's path cannot be made absolute.
func New(opts Options) (*Manager, error) {
	limits := opts.Limits.WithDefaults()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	src, err := newSources(opts.Roots, opts.Defaults, limits.MaxSourceBytes)
	if err != nil {
		return nil, err
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	m := &Manager{sb: newSandbox(limits, log), limits: limits, log: log, skipDefaults: opts.SkipDefaultIntegrations, parallel: parallel, quarantine: maps.Clone(opts.Quarantine), modules: slices.Clone(opts.Modules), ids: newEventIDs(opts.EventIDLimit, opts.EventIDAge), holdFollowUps: opts.HoldFollowUps, onEvent: opts.OnEvent}
	m.sb.recorder = opts.Recorder
	m.srcPtr.Store(src)
	m.snap.Store(newSnapshot(nil, nil))
	m.startDurability(opts)
	return m, nil
}

// src returns the current sources (roots and defaults).
func (m *Manager) src() *sources { return m.srcPtr.Load() }

// Limits returns the limits in effect: Options.Limits with every zero
// field at its default.
func (m *Manager) Limits() Limits { return m.limits }

// Roots returns the user integration folders as absolute paths, in
// lookup order (Options.Roots, then those AddRoot added). The slice is the
// caller's.
func (m *Manager) Roots() []string { return slices.Clone(m.src().roots) }

// Subscribe returns a subscription to lifecycle notices from now on, with
// a buffer of the given number of notices (256 if <= 0). A subscriber that
// falls behind loses notices (Subscription.Dropped) and never slows the
// host. Close it when done.
func (m *Manager) Subscribe(buffer int) *Subscription { return m.notices.Subscribe(buffer) }

// Notify publishes a notice from outside the host (the file watcher, a
// front end) to every subscriber; a zero n.Time is set to now.
func (m *Manager) Notify(n Notice) { m.notices.Publish(n) }

// LoadDefaultIntegrations loads the host's default set: the embedded
// default integrations (unless Options.SkipDefaultIntegrations), every
// module in the user roots and Options.Modules. An integration in a user root overrides a
// default of the same name. Modules are built in parallel and everything
// that loaded is published in one step; the returned error joins the
// problems of the modules that failed (each also listed in
// View.FailedModules). With a state store, the stored states of
// integrations that did not load (deleted, renamed or broken while the
// host was stopped) are marked removed: kept for the retention, restored
// if they come back.
func (m *Manager) LoadDefaultIntegrations(ctx context.Context) error {
	defaults, user, err := m.src().listModules()
	if err != nil {
		return err
	}
	if m.skipDefaults {
		defaults = nil
	}
	for _, mod := range m.modules {
		path, err := m.modulePath(mod)
		if err != nil {
			m.log.Warn("not an integration file; skipped", "module", mod, "error", err)
			continue
		}
		if !slices.Contains(user, path) {
			user = append(user, path)
		}
	}
	var list []planItem
	for _, mod := range append(user, defaults...) { // user modules first: they win name clashes
		list = append(list, planItem{module: mod, sync: true, group: len(list), initial: true})
	}
	res, _ := m.apply(ctx, items(list...))
	m.retireUnloaded()
	for _, p := range m.src().misnamedModules() {
		msg := fmt.Sprintf("not loaded: a file named NAME%s is a test file, never an integration, but this one declares one; rename it (not ending in %s) to load it", TestFileSuffix, TestFileSuffix)
		m.log.Warn(msg, "module", p)
		m.notices.Publish(Notice{Kind: NoticeLog, Module: p, Level: "warn", Message: msg})
	}
	return res.joinedErr()
}

// ReloadIntegration rebuilds the named integration from its module on the
// side and swaps it in atomically (the Python API's reload_integration);
// its state carries over, through its migrate hook if it has one. On
// failure the old version keeps serving, the error is recorded
// (Info.LastError) and returned. An unknown name fails with ErrNotFound.
func (m *Manager) ReloadIntegration(ctx context.Context, name string) error {
	res, err := m.apply(ctx, func(live *snapshot) ([]planItem, error) {
		s, err := live.slotNamed(name)
		if err != nil {
			return nil, err
		}
		return []planItem{{module: s.current.Load().module, exports: []string{name}}}, nil
	})
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	return res.nameErr(name)
}

// ReloadAllIntegrations rebuilds every integration in parallel and swaps
// all that built successfully in one step (the Python API's
// reload_all_integrations). The result maps every name loaded when it
// started to nil or its error; failed ones keep their old version. It is
// empty, not nil, when nothing is loaded.
func (m *Manager) ReloadAllIntegrations(ctx context.Context) map[string]error {
	res, _ := m.apply(ctx, func(live *snapshot) ([]planItem, error) {
		var list []planItem
		for _, s := range live.ordered {
			list = append(list, planItem{module: s.current.Load().module, exports: []string{s.name}, group: len(list)})
		}
		return list, nil
	})
	out := make(map[string]error, len(res.items))
	for _, it := range res.items {
		out[it.exports[0]] = res.nameErr(it.exports[0])
	}
	return out
}

// AddIntegration loads integrations from a module at run time (the Python
// API's add_integration_dynamically). module is a .star path, relative to
// the first root when there is one (to the working directory otherwise),
// or a "builtin:" path. class names the integration to add, as the module
// declares it; "" adds every integration the module declares. It returns
// the info of each integration added.
//
// Adding a name that is already loaded from another module fails; adding
// one from the same module reloads it. A module that fails to load is
// listed in View.FailedModules and loaded again when its file changes
// (ReloadFiles).
func (m *Manager) AddIntegration(ctx context.Context, module, class string) ([]Info, error) {
	path, err := m.modulePath(module)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", module, err)
	}
	item := planItem{module: path, sync: class == ""}
	if class != "" {
		item.exports = []string{class}
	}
	res, _ := m.apply(ctx, items(item))
	if err := res.groupErr(0); err != nil {
		return nil, fmt.Errorf("add %s: %w", module, err)
	}
	var out []Info
	for _, name := range res.names[0] {
		if in, ok := res.next.info(name); ok { // as published, not as a later change left it
			out = append(out, in)
		}
	}
	return out, nil
}

// modulePath resolves a module path given by a caller: "builtin:" paths
// as they are, relative paths against the first root (or the working
// directory when there is no root).
func (m *Manager) modulePath(module string) (string, error) {
	if roots := m.src().roots; len(roots) > 0 && !filepath.IsAbs(module) && !strings.HasPrefix(module, BuiltinPrefix) {
		module = filepath.Join(roots[0], module)
	}
	return canonical(module)
}

// RemoveIntegration removes the named integration (the Python API's
// remove_integration); its state is dropped. Events already being
// dispatched to it finish; later events do not reach it. An unknown name
// fails with ErrNotFound. The module file is not touched.
func (m *Manager) RemoveIntegration(ctx context.Context, name string) error {
	res, err := m.apply(ctx, func(live *snapshot) ([]planItem, error) {
		s, err := live.slotNamed(name)
		if err != nil {
			return nil, err
		}
		return []planItem{{module: s.current.Load().module, exports: []string{name}, remove: true}}, nil
	})
	if err == nil {
		err = res.nameErr(name)
	}
	if err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	return nil
}

// AddRoot adds a user integration folder at run time and loads the
// modules in it; later ReloadFiles calls treat new files in it as modules.
// Adding a folder twice is a no-op. The error joins the problems of the
// modules that failed to load.
func (m *Manager) AddRoot(ctx context.Context, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("add folder %s: %w", dir, err)
	}
	only, err := newSources([]string{abs}, nil, m.limits.MaxSourceBytes)
	if err != nil {
		return err
	}
	_, mods, err := only.listModules()
	if err != nil {
		return err
	}
	res, err := m.apply(ctx, func(*snapshot) ([]planItem, error) {
		old := m.src()
		if slices.Contains(old.roots, abs) {
			return nil, nil // a root already: nothing to do
		}
		src, err := newSources(append(slices.Clone(old.roots), abs), old.defaults, old.maxBytes)
		if err != nil {
			return nil, err
		}
		m.srcPtr.Store(src) // under the writer lock, with the loads below
		var list []planItem
		for _, mod := range mods {
			list = append(list, planItem{module: mod, sync: true, group: len(list)})
		}
		return list, nil
	})
	if err != nil {
		return err
	}
	return res.joinedErr()
}

// An Outcome is what ReloadFiles did to one integration, or to a module
// that failed before it declared anything.
type Outcome struct {
	// Integration is the integration concerned; "" when the module failed
	// before it declared anything.
	Integration string
	// Module is the module's path (absolute, or "builtin:...").
	Module string
	// Removed is true when the integration was removed: its module was
	// deleted or no longer declares it.
	Removed bool
	// Err is nil when the change went live; otherwise why not (the old
	// version, if any, keeps serving).
	Err error
}

// ReloadFiles brings the host in line with files as they are now on disk;
// it is what the file watcher calls with each batch of changed paths.
//   - A module file that no longer exists has its integrations removed.
//   - Every integration whose module or any library it loads
//     (transitively) is among paths is rebuilt, and synchronised with what
//     its module declares now (new integrations added, vanished ones
//     removed). The dependents of a deleted library report the missing
//     load while their old versions keep serving.
//   - A module file in a root that is not loaded yet (or failed before)
//     is loaded.
//
// Integrations that share a changed file are swapped all-or-nothing;
// unrelated ones independently; the whole batch is published in one step.
func (m *Manager) ReloadFiles(ctx context.Context, paths []string) []Outcome {
	res, _ := m.apply(ctx, func(live *snapshot) ([]planItem, error) { return m.planFiles(live, paths), nil })
	return res.outcomes()
}

// exists reports whether a module path names a file that exists (the
// embedded defaults always do).
func exists(module string) bool {
	if strings.HasPrefix(module, BuiltinPrefix) {
		return true
	}
	_, err := os.Stat(module)
	return !errors.Is(err, fs.ErrNotExist)
}

// RemoveModule removes every integration module declares and forgets its
// load failure (for a file the user takes out of the studio). It returns
// the names removed.
func (m *Manager) RemoveModule(ctx context.Context, module string) ([]string, error) {
	path, err := m.modulePath(module)
	if err != nil {
		return nil, fmt.Errorf("remove %s: %w", module, err)
	}
	res, _ := m.apply(ctx, items(planItem{module: path, sync: true, remove: true}))
	return res.names[0], res.groupErr(0)
}
