package starhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.starlark.net/starlark"

	"github.com/afstudio/afstudio/statestore"
)

// durability links a host to its state store (Options.Store): each
// integration's state is restored from it when the integration first
// loads, and written behind the events that change it.
//
// The write path: every handler call marks its integration changed
// (statestore.Writer.Changed, a few nanoseconds); at most FlushInterval
// later the writer calls collectStates, which encodes the changed states
// (each under its slot's lock, so between two calls) and saves them in one
// transaction. With Options.SyncWrites, Emit flushes before it returns.
// EmitID brackets an event with an id in the writer's BeginEvent and
// EndEvent, so that the id is saved in the flush that saves its states.
type durability struct {
	store  *statestore.Store
	writer *statestore.Writer
	sync   bool
}

// startDurability starts the state writer of opts.Store, if any.
func (m *Manager) startDurability(opts Options) {
	if opts.Store == nil {
		return
	}
	m.durable = &durability{store: opts.Store, sync: opts.SyncWrites}
	var reported time.Time // the writer's goroutine calls OnError: no lock needed
	m.durable.writer = statestore.NewWriter(opts.Store, m.collectStates, statestore.WriterOptions{
		Interval: opts.FlushInterval,
		OnError: func(err error) {
			// A failing disk fails every flush, and every one is retried:
			// the failure is reported at most once a minute while it lasts.
			if time.Since(reported) >= time.Minute {
				reported = time.Now()
				m.log.Error("state not saved", "err", err)
				m.notices.Publish(Notice{Kind: NoticeLog, Level: "error", Message: err.Error() + " (reported at most once a minute while it lasts)"})
			}
		},
	})
	if err := m.loadEventIDs(); err != nil {
		// Open read them all: this is a failing disk. Events with ids
		// handled before are handled again if retried; say so.
		m.log.Error("handled event ids not read; events retried with their ids may be handled again", "err", err)
	}
}

// Close ends every shadow (shadow mode; the modes go off), writes the
// states that changed since the last flush and stops the state writer
// (Options.Store); the caller closes the store afterwards. Events emitted
// after Close are handled but their states are no longer saved.
func (m *Manager) Close(ctx context.Context) error {
	m.writeMu.Lock()
	for _, s := range m.snap.Load().ordered {
		s.shadowOn.Store(false)
		if sh := s.shadow.Swap(nil); sh != nil {
			sh.end()
		}
	}
	m.writeMu.Unlock()
	if m.durable == nil {
		return nil
	}
	return m.durable.writer.Close(ctx)
}

// changed marks s's state as changed, for the writer.
func (m *Manager) changed(s *slot) {
	if m.durable != nil {
		m.durable.writer.Changed(s.name)
	}
}

// ErrStateNotSaved marks the error of an operation that was done (an
// event handled, a state imported) but whose states could not be written
// to the state store: a retry would do it twice. Test with errors.Is.
var ErrStateNotSaved = errors.New("done, but the state is not on disk")

// syncStates waits, in SyncWrites mode, until the states changed so far
// are on disk. The wait is not cancelled with ctx: what was done is done.
func (m *Manager) syncStates(ctx context.Context) error {
	if m.durable == nil || !m.durable.sync {
		return nil
	}
	if err := m.durable.writer.Flush(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("%w: %w", ErrStateNotSaved, err)
	}
	return nil
}

// collectStates is the writer's callback: the current states of the named
// integrations that are still live, in their JSON form, each with the
// module hash and generation of the version it belongs to. A state that
// is not data is restored to its last good form first (see checkState).
func (m *Manager) collectStates(names []string) []statestore.Record {
	snap := m.snap.Load()
	recs := make([]statestore.Record, 0, len(names))
	for _, name := range names {
		s, err := snap.slotNamed(name)
		if err != nil {
			continue // removed: the removal saved its last state
		}
		s.callMu.Lock()
		if !s.removed.Load() { // else the removal saved its last state
			v := s.current.Load()
			if err := m.checkState(s); err != nil {
				m.stateRepaired(s, v, nil, err)
			}
			recs = append(recs, statestore.Record{Name: name, State: bytes.Clone(s.saved), ModuleHash: moduleHash(v), Generation: v.generation})
		}
		s.callMu.Unlock()
	}
	return recs
}

// checkState encodes s's state (s.callMu is held): when it is data within
// the limits, the encoding becomes s.saved and its number of values
// s.values, and the result is nil. (The two buffers are reused: whatever
// leaves the slot's lock gets a copy of s.saved.)
//
// Otherwise the state is repaired and the error says why: what is not
// data is taken out (a dict entry removed, a list element set to None) and
// the rest kept as it was; a state past the limits is reset to {}.
func (m *Manager) checkState(s *slot) error {
	b, n, err := encodeState(s.scratch[:0], s.state, m.limits)
	if err == nil {
		s.saved, s.scratch, s.values = b, s.saved, n
		return nil
	}
	if errors.Is(err, errNotData) {
		if b, n, dropped, derr := encodeData(s.state, m.limits); derr == nil {
			if d, derr := decodeState(b, m.limits); derr == nil {
				s.state, s.saved, s.values = d, b, n
				more := ""
				if len(dropped) > 1 {
					more = fmt.Sprintf(" (and %d more)", len(dropped)-1)
				}
				return fmt.Errorf("%s%s; taken out of the state, the rest kept (found when the state was checked after this call; an earlier call since the last check may have stored it)", dropped[0], more)
			}
		}
	}
	s.state, s.saved, s.values = starlark.NewDict(0), []byte("{}"), 1
	return fmt.Errorf("state grew past the limits and was reset to {}: %w", err)
}

// stateRepaired reports a state that checkState repaired, found after a
// call of handler h of version v (nil when the writer found it), and
// counts it as the slot's last handler error.
func (m *Manager) stateRepaired(s *slot, v *version, h starlark.Callable, err error) *Diagnostic {
	var d *Diagnostic
	if h != nil {
		d = m.handlerDiag(h, v, "%v", err).withKind(ErrorLimit)
	} else {
		d = diagAt(v.decl.pos, "integration %s: %v", s.name, err).withKind(ErrorLimit)
	}
	s.mu.Lock()
	s.stats.lastHandlerErr = d
	s.mu.Unlock()
	if s.shadowOf != nil {
		s.shadowOf.log("error", d.Error())
		return d
	}
	m.notices.Publish(Notice{Kind: NoticeStateReset, Integration: s.name, Message: d.Error()})
	m.changed(s)
	return d
}

// restoreState returns the state a new slot s starts with under version v
// (s.callMu is held): its stored state, passed through v's migrate when
// the module changed since it was stored, or an empty state when nothing
// is stored. A store that cannot be read, or a migrate that fails, is an
// error: the integration does not load, so that its stored state is never
// overwritten by an empty one.
//
// It also gives v (not yet published) the generation it continues: a
// stored generation g > 0 makes v generation g when v's module hash is
// the stored one (the same code came back, after a restart or a crash of
// the worker) and g+1 when it is not (the code changed while the host
// was down: a new version, as a reload would have made). Without a
// stored generation (no record: a new integration, or one whose record
// was purged by ForgetState or afstudio state purge; or a record of an
// older afstudio) v stays generation 1. The same holds for an
// integration re-added after a removal, whose record is kept.
func (m *Manager) restoreState(s *slot, v *version) (*starlark.Dict, error) {
	if m.durable == nil {
		return s.state, nil
	}
	rec, ok, err := m.durable.store.Load(s.name)
	if err != nil {
		return nil, fmt.Errorf("restore the state of %s: %w", s.name, err)
	}
	if !ok {
		return s.state, nil
	}
	s.disabled.Store(!rec.Enabled)
	s.wasRemoved = !rec.RemovedAt.IsZero()
	sameCode := rec.ModuleHash == moduleHash(v)
	if rec.Generation > 0 {
		v.generation = rec.Generation
		if !sameCode {
			v.generation++
		}
	}
	if rec.State == nil {
		return s.state, nil
	}
	st, err := decodeState(rec.State, m.limits)
	if err != nil {
		return nil, fmt.Errorf("restore the state of %s from %s: %w; to start it empty, stop the host and run afstudio state purge %s", s.name, m.durable.store.Path(), err, s.name)
	}
	s.saved = rec.State
	if sameCode {
		return st, nil
	}
	s.state = st
	st, err = m.migrate(s, v, st)
	if err != nil {
		return nil, fmt.Errorf("restore the state of %s: the module changed since it was saved (%s), and its migrate failed: %w", s.name, rec.SavedAt.Local().Format(time.DateTime), err)
	}
	return st, nil
}

// lastRecord returns the record of s's state as it is (s.callMu is held),
// checked first: the last state of an integration being removed.
func (m *Manager) lastRecord(s *slot) statestore.Record {
	v := s.current.Load()
	if err := m.checkState(s); err != nil {
		m.stateRepaired(s, v, nil, err)
	}
	return statestore.Record{Name: s.name, State: bytes.Clone(s.saved), ModuleHash: moduleHash(v), Generation: v.generation}
}

// persist is stage 4b, after the swap, without the slots' locks: with a
// store, it writes the last states of the integrations removed and marks
// their records removed (re-adding one within the retention restores its
// state), marks the records of re-added ones present again, and marks
// every integration that went live changed, so that its state (restored
// or migrated) is written with its new module's hash and generation by
// the next flush: a reload changes the generation, and the record is
// saved again even when the state did not change.
func (m *Manager) persist(ctx context.Context, cs *changeSet) {
	if m.durable == nil {
		return
	}
	store := m.durable.store
	if len(cs.removedStates) > 0 {
		err := store.Save(context.WithoutCancel(ctx), cs.removedStates...) // the removal is done
		for _, rec := range cs.removedStates {
			if err == nil {
				err = store.MarkRemoved(rec.Name, time.Now())
			}
		}
		if err != nil {
			m.log.Error("the states of removed integrations were not saved", "err", err)
			m.notices.Publish(Notice{Kind: NoticeLog, Level: "error", Message: err.Error()})
		}
	}
	for _, c := range cs.changes {
		if c.remove || c.shadow || !cs.live(c) {
			continue
		}
		if c.isNew && c.slot.wasRemoved {
			if err := store.MarkAdded(c.slot.name); err != nil {
				m.log.Error("state store", "integration", c.slot.name, "err", err)
			}
		}
		m.changed(c.slot)
	}
}

// moduleHash identifies the content of v's module and of the libraries it
// loaded: the stored state's ModuleHash, compared on start to tell whether
// the module changed while the host was stopped.
func moduleHash(v *version) string {
	h := sha256.New()
	for _, f := range v.files {
		h.Write([]byte(f.SHA256))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// DisableIntegration switches the named integration off: it stays loaded
// (it reloads on save, so its errors still show; its info and state stay)
// but is given no events, and IsAvailable reports false. With a store the
// switch is remembered across restarts. It publishes a NoticeSwitched.
func (m *Manager) DisableIntegration(name string) error { return m.setEnabled(name, false) }

// EnableIntegration switches the named integration back on (see
// DisableIntegration).
func (m *Manager) EnableIntegration(name string) error { return m.setEnabled(name, true) }

// setEnabled is DisableIntegration and EnableIntegration.
func (m *Manager) setEnabled(name string, on bool) error {
	s, err := m.slotNamed(name)
	if err != nil {
		return fmt.Errorf("switch %s: %w", name, err)
	}
	if m.durable != nil {
		if err := m.durable.store.SetEnabled(name, on); err != nil {
			return fmt.Errorf("switch %s: %w", name, err)
		}
	}
	s.disabled.Store(!on)
	msg := "switched off: it gets no events until it is switched on"
	if on {
		msg = "switched on"
	}
	m.notices.Publish(Notice{Kind: NoticeSwitched, Integration: name, Message: msg})
	return nil
}

// StateJSON returns the named integration's state in its JSON form, the
// one the store keeps (see statejson.go), between two handler calls.
func (m *Manager) StateJSON(name string) ([]byte, error) {
	s, err := m.slotNamed(name)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	s.callMu.Lock()
	defer s.callMu.Unlock()
	if err := m.checkState(s); err != nil {
		m.stateRepaired(s, s.current.Load(), nil, err)
	}
	return append([]byte(nil), s.saved...), nil
}

// ForgetState empties the named integration's state now and deletes its
// stored record (the studio's Forget state…): unlike ResetState, nothing
// of the old state stays on disk. Its switch stays as it is.
//
// The stored generation goes with the record; the running version keeps
// its generation. A host started again before the state is saved anew
// loads the integration at generation 1, as a new one; once a later
// event or reload saves its state again, the record holds the running
// version's generation again, and a restart continues from it.
func (m *Manager) ForgetState(name string) error {
	if err := m.ResetState(name); err != nil {
		return fmt.Errorf("forget state: %w", err)
	}
	if m.durable == nil {
		return nil
	}
	s, err := m.slotNamed(name)
	if err != nil {
		return fmt.Errorf("forget state: %w", err)
	}
	// The flush writes the empty state, so that no later flush of an
	// earlier change writes the old one back after the purge; a later
	// event's state is new and is written as usual.
	if err := m.durable.writer.Flush(context.Background()); err != nil {
		return fmt.Errorf("forget state of %s: %w", name, err)
	}
	if err := m.durable.store.Purge(name); err != nil && !errors.Is(err, statestore.ErrNotFound) {
		return fmt.Errorf("forget state of %s: %w", name, err)
	}
	if s.disabled.Load() { // the purge forgot the switch too: it stays off
		if err := m.durable.store.SetEnabled(name, false); err != nil {
			return fmt.Errorf("forget state of %s: %w", name, err)
		}
	}
	return nil
}

// CheckState checks that data is a state in its JSON form (an object,
// within l's limits; l's zero fields take their defaults) and returns its
// canonical form, the one encodeState writes: what an import stores.
func CheckState(data []byte, l Limits) ([]byte, error) {
	l = l.WithDefaults()
	d, err := decodeState(data, l)
	if err != nil {
		return nil, err
	}
	b, _, err := encodeState(nil, d, l)
	return b, err
}

// ImportStates replaces the states of the named integrations with the
// given JSON forms, all or nothing: every name must be loaded and every
// state valid (CheckState), or nothing changes and the error says which is
// wrong. Each state is replaced between two handler calls; with a store,
// the new states are on disk when it returns, or the error wraps
// ErrStateNotSaved (imported, but not on disk yet: the writer retries).
func (m *Manager) ImportStates(ctx context.Context, states map[string][]byte) error {
	m.writeMu.Lock() // no removal or reload between the check and the swap
	defer m.writeMu.Unlock()
	snap := m.snap.Load()
	names := slices.Sorted(maps.Keys(states))
	slots := make([]*slot, len(names))
	dicts := make([]*starlark.Dict, len(names))
	for i, name := range names {
		s, err := snap.slotNamed(name)
		if err != nil {
			return fmt.Errorf("import state: %w; nothing was imported", err)
		}
		d, err := decodeState(states[name], m.limits)
		if err != nil {
			return fmt.Errorf("import state of %s: %w; nothing was imported", name, err)
		}
		slots[i], dicts[i] = s, d
	}
	for _, s := range slots { // in name order, as swap locks them
		s.callMu.Lock()
	}
	for i, s := range slots {
		s.state, s.saved = dicts[i], nil
		_ = m.checkState(s) // valid: sets saved
	}
	for _, s := range slots {
		s.callMu.Unlock()
		m.changed(s)
		m.notices.Publish(Notice{Kind: NoticeStateReset, Integration: s.name, Message: "state imported"})
	}
	if m.durable == nil {
		return nil
	}
	if err := m.durable.writer.Flush(context.WithoutCancel(ctx)); err != nil { // imported: done
		return fmt.Errorf("import state: %w: %w", ErrStateNotSaved, err)
	}
	return nil
}

// retireUnloaded marks removed the stored records of integrations that are
// not loaded, so that the retention applies to them as to a removal; one
// that loads later is marked present again (persist).
func (m *Manager) retireUnloaded() {
	if m.durable == nil {
		return
	}
	recs, err := m.durable.store.LoadAll()
	if err != nil {
		m.log.Error("state store", "err", err)
		return
	}
	live := m.snap.Load().byName
	for _, r := range recs {
		if _, ok := live[r.Name]; !ok && r.RemovedAt.IsZero() {
			if err := m.durable.store.MarkRemoved(r.Name, time.Now()); err != nil {
				m.log.Error("state store", "integration", r.Name, "err", err)
			}
		}
	}
}
