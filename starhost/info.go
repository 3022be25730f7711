package starhost

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// Info describes one integration. Its first six fields are the keys of the
// original Python API's get_integration_info. Durations are Duration
// values, written in JSON as microseconds (keys ending in "_us").
type Info struct {
	// Name is the integration's name, unique in the host.
	Name string `json:"name"`
	// Priority orders dispatch: CRITICAL first, LOW last.
	Priority Priority `json:"priority"`
	// Available is the Python API's "available": true for every listed
	// integration that is switched on, which serves events also during and
	// after a failed reload; false when switched off (Enabled) and in the
	// zero Info (an unknown name).
	Available bool `json:"available"`
	// Subscriptions are the events it handles, sorted ("*" for every
	// event); never empty.
	Subscriptions []string `json:"subscriptions"`
	// Module is the path of the .star file that declares it
	// ("builtin:NAME.star" for a default).
	Module string `json:"module"`
	// Class is the name under which the module declares it (the Python
	// API's class name; the class argument of AddIntegration). Today it
	// always equals Name.
	Class string `json:"class"`
	// Description is the declaration's description; "" when none.
	Description string `json:"description"`
	// Generation counts successful loads: 1 after the first load, +1 on
	// every successful reload; never 0 in an Info the host returns.
	Generation int `json:"generation"`
	// LoadedAt is when the serving version was built (local time).
	LoadedAt time.Time `json:"loaded_at"`
	// LastReload is how long the change that installed the serving
	// version took, from plan to publish; a failed reload does not change
	// it. JSON: microseconds.
	LastReload Duration `json:"last_reload_us"`
	// Enabled is the integration's switch (DisableIntegration): a
	// switched-off integration stays loaded and reloadable but is given no
	// events, and Available is false.
	Enabled bool `json:"enabled"`
	// Failed is true when the last reload failed; the version of
	// generation Generation still serves. A successful reload clears it.
	Failed bool `json:"failed"`
	// LastError is why the last reload failed; nil when it did not.
	LastError *Diagnostic `json:"last_error,omitempty"`
	// LastHandlerError is the most recent handler failure; nil when none.
	LastHandlerError *Diagnostic `json:"last_handler_error,omitempty"`
	// Calls counts handler calls since the integration was first loaded
	// (reloads keep counting); 0 before the first.
	Calls uint64 `json:"calls"`
	// Errors counts the calls that failed (raised, timed out, or returned
	// a value that cannot leave the sandbox); at most Calls.
	Errors uint64 `json:"errors"`
	// LatencyMean is the mean duration of all calls; 0 before the first.
	// JSON: microseconds.
	LatencyMean Duration `json:"latency_mean_us"`
	// LatencyP99 is the 99th percentile (nearest rank) of the recent
	// calls (Recent); 0 before the first. JSON: microseconds.
	LatencyP99 Duration `json:"latency_p99_us"`
	// Dependencies are the libraries the module loaded, transitively;
	// empty, never nil.
	Dependencies []string `json:"dependencies"`
	// Files are the module (first) and its libraries, with the hashes of
	// the content that was executed.
	Files []File `json:"files"`
	// Shadow is its shadow mode (StartShadow) and how its shadow compares
	// so far; nil (absent from the JSON) when the mode is off.
	Shadow *ShadowStatus `json:"shadow,omitempty"`
	// Recent holds the latencies of the most recent calls (up to 512),
	// oldest first, for charts. It is not part of the JSON form.
	Recent []time.Duration `json:"-"`
}

// A ModuleError is a module that could not be loaded at all, so that no
// integration of it is live.
type ModuleError struct {
	// Module is the module's path.
	Module string `json:"module"`
	// Err is the error as returned by the operation that failed.
	Err error `json:"-"`
	// Errors are its diagnostics, with file:line:col where known; never
	// empty.
	Errors []Diagnostic `json:"errors"`
	// At is when the failure was recorded (local time).
	At time.Time `json:"at"`
}

// newModuleError records now that module failed with err.
func newModuleError(module string, err error) ModuleError {
	me := ModuleError{Module: module, Err: err, At: time.Now()}
	for _, d := range Diagnose(err, module) {
		me.Errors = append(me.Errors, *d)
	}
	return me
}

// A View is a consistent picture of the host, read from one published
// snapshot: what is live and what failed to load, as of the same moment.
type View struct {
	// Integrations are every integration's info, in dispatch order
	// (priority, then name).
	Integrations []Info `json:"integrations"`
	// FailedModules are the modules that could not be loaded at all
	// (nothing of them is live), sorted by path; empty, never nil.
	FailedModules []ModuleError `json:"failed_modules"`
}

// Snapshot returns what is live and what failed, read from one published
// snapshot, so that the two never disagree (a module is never both live
// and failed). The View is the caller's to keep.
func (m *Manager) Snapshot() View {
	sn := m.snap.Load()
	v := View{Integrations: make([]Info, len(sn.ordered)), FailedModules: sn.failedModules()}
	for i, s := range sn.ordered {
		v.Integrations[i] = s.info(sn.versions[s])
	}
	return v
}

// IntegrationInfo returns the info of the named integration, or false if
// no integration has that name (the Python API's get_integration_info).
func (m *Manager) IntegrationInfo(name string) (Info, bool) {
	return m.snap.Load().info(name)
}

// IsAvailable reports whether the named integration is loaded and serving
// events (the Python API's is_available). It stays true while a reload of
// it is built, and after a failed reload (the old version serves); it is
// false while it is switched off (DisableIntegration).
func (m *Manager) IsAvailable(name string) bool {
	s, ok := m.snap.Load().byName[name]
	return ok && !s.disabled.Load()
}

// Names returns the names of every integration in dispatch order; empty
// when none is loaded.
func (m *Manager) Names() []string {
	sn := m.snap.Load()
	out := make([]string, len(sn.ordered))
	for i, s := range sn.ordered {
		out[i] = s.name
	}
	return out
}

// ErrNotFound is returned, wrapped, for an unknown integration name (by
// ReloadIntegration, RemoveIntegration, State and ResetState); test for it
// with errors.Is. The message lists the loaded names.
var ErrNotFound = errors.New("no such integration")

// slotNamed returns the live slot of name, or an ErrNotFound error that
// lists the loaded names.
func (m *Manager) slotNamed(name string) (*slot, error) {
	return m.snap.Load().slotNamed(name)
}

// slotNamed returns the slot of name, or an error wrapping ErrNotFound
// that lists the names loaded.
func (sn *snapshot) slotNamed(name string) (*slot, error) {
	s, ok := sn.byName[name]
	if !ok {
		hint := "loaded: none"
		if len(sn.ordered) > 0 {
			names := make([]string, len(sn.ordered))
			for i, x := range sn.ordered {
				names[i] = x.name
			}
			hint = "loaded: " + strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("%w %q (%s)", ErrNotFound, name, hint)
	}
	return s, nil
}

// State returns a copy of the named integration's state (ctx.state) as
// plain Go data, as the converter makes it (see Result.Value). It waits
// for a handler call of the integration in progress.
func (m *Manager) State(name string) (map[string]any, error) {
	s, err := m.slotNamed(name)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return m.slotState(s)
}

// ResetState replaces the named integration's state with an empty dict,
// between two handler calls, and publishes a NoticeStateReset.
func (m *Manager) ResetState(name string) error {
	s, err := m.slotNamed(name)
	if err != nil {
		return fmt.Errorf("reset state: %w", err)
	}
	s.callMu.Lock()
	s.state = starlark.NewDict(0)
	s.callMu.Unlock()
	m.changed(s)
	m.notices.Publish(Notice{Kind: NoticeStateReset, Integration: name, Message: "state reset"})
	return nil
}

// info returns s's info for version v (the one a snapshot published) and
// the slot's counters.
func (s *slot) info(v *version) Info {
	in := Info{
		Name: s.name, Priority: v.decl.priority, Available: !s.disabled.Load(), // it is in the snapshot read
		Subscriptions: slices.Clone(v.decl.events), Module: v.module, Class: v.export,
		Description: v.decl.description, Generation: v.generation, LoadedAt: v.builtAt,
		Files: slices.Clone(v.files), Dependencies: []string{}, Enabled: !s.disabled.Load(),
	}
	for _, f := range v.files[1:] {
		in.Dependencies = append(in.Dependencies, f.Path)
	}
	s.mu.Lock()
	in.LastReload = Duration(s.lastReload)
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
		in.LatencyMean = Duration(st.total / time.Duration(st.calls))
	}
	in.Recent = st.recent()
	s.mu.Unlock()
	in.LatencyP99 = Duration(percentile(in.Recent, 99))
	if s.shadowOn.Load() {
		in.Shadow = &ShadowStatus{}
		if sh := s.shadow.Load(); sh != nil {
			sh.mu.Lock()
			in.Shadow.Generation, in.Shadow.Compared, in.Shadow.Different = sh.report.ShadowGeneration, sh.report.Compared, sh.report.Different
			sh.mu.Unlock()
		}
	}
	return in
}
