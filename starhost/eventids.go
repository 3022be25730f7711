package starhost

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/afstudio/afstudio/statestore"
)

// ErrDuplicateEvent is the error of EmitID for an event whose id was
// handled already (within the window, see EmitID): it was not dispatched
// again and there are no results. Test with errors.Is; for the caller it
// means "done", not "failed".
var ErrDuplicateEvent = errors.New("an event with this id was handled already; it was not handled again")

// MaxEventIDBytes is the longest event id EmitID accepts.
const MaxEventIDBytes = 200

// CheckEventID enforces the rule for event ids: 1 to MaxEventIDBytes bytes
// of UTF-8 without control characters. Its error names the field ("id:
// ...") for the front ends to pass on.
func CheckEventID(id string) error {
	switch {
	case id == "":
		return errors.New("id: empty; leave the id out to send an event without one")
	case len(id) > MaxEventIDBytes:
		return fmt.Errorf("id: %d bytes, longer than %d; use a shorter id such as a UUID", len(id), MaxEventIDBytes)
	case !utf8.ValidString(id):
		return errors.New("id: not valid UTF-8")
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Errorf("id: %q holds a control character; use printable characters", id)
		}
	}
	return nil
}

// eventIDs is the host's window of handled event ids (Options.EventIDLimit
// and EventIDAge), and the ids being handled now.
type eventIDs struct {
	limit int
	age   time.Duration
	now   func() time.Time

	mu   sync.Mutex
	ids  map[string]idEntry   // handled ids in the window, and those being handled
	fifo []statestore.Handled // the handled ones, oldest first, from head on
	head int                  // fifo[:head] is evicted
}

// idEntry is what the window knows of one id.
type idEntry struct {
	at      time.Time     // when it was handled; zero while running
	running bool          // being handled now
	wait    chan struct{} // made by the first caller that waits; closed by release
}

func newEventIDs(limit int, age time.Duration) *eventIDs {
	if limit <= 0 {
		limit = statestore.DefaultHandledLimit
	}
	if age <= 0 {
		age = statestore.DefaultHandledAge
	}
	return &eventIDs{limit: limit, age: age, now: time.Now, ids: map[string]idEntry{}}
}

// claim makes the caller the one that handles id (release ends it); dup
// is true when id was handled already. A caller that finds id being
// handled waits for that to end (or ctx), then looks again.
func (e *eventIDs) claim(ctx context.Context, id string) (dup bool, err error) {
	for {
		e.mu.Lock()
		ent, ok := e.ids[id]
		switch {
		case ok && !ent.running && e.now().Sub(ent.at) < e.age:
			e.mu.Unlock()
			return true, nil
		case !ok || !ent.running: // unknown, or handled before the window
			e.ids[id] = idEntry{running: true}
			e.mu.Unlock()
			return false, nil
		}
		if ent.wait == nil {
			ent.wait = make(chan struct{})
			e.ids[id] = ent
		}
		e.mu.Unlock()
		select {
		case <-ent.wait: // handled (then a duplicate), or refused (then ours)
		case <-ctx.Done():
			return false, fmt.Errorf("id %q: waiting for the same event sent earlier: %w", id, ctx.Err())
		}
	}
}

// release ends the handling of id; handled says whether it counts as
// handled (a refused event does not: the id is forgotten).
func (e *eventIDs) release(id string, handled bool, at time.Time) {
	e.mu.Lock()
	wait := e.ids[id].wait
	if handled {
		e.add(id, at)
	} else {
		delete(e.ids, id)
	}
	e.mu.Unlock()
	if wait != nil {
		close(wait)
	}
}

// add records id as handled at at and evicts what falls out of the window
// (e.mu is held).
func (e *eventIDs) add(id string, at time.Time) {
	e.ids[id] = idEntry{at: at}
	e.fifo = append(e.fifo, statestore.Handled{ID: id, At: at})
	cutoff := e.now().Add(-e.age)
	for len(e.fifo)-e.head > e.limit || (e.head < len(e.fifo) && e.fifo[e.head].At.Before(cutoff)) {
		old := e.fifo[e.head]
		if ent := e.ids[old.ID]; !ent.running && ent.at.Equal(old.At) { // else handled again later: keep
			delete(e.ids, old.ID)
		}
		e.fifo[e.head] = statestore.Handled{}
		e.head++
	}
	if e.head > len(e.fifo)/2 && e.head > 1024 { // compact
		e.fifo = append(e.fifo[:0], e.fifo[e.head:]...)
		e.head = 0
	}
}

// size returns how many ids the window holds (for tests).
func (e *eventIDs) size() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.ids)
}

// EmitID is Emit for an event with an id, for an engine that retries: an
// event whose id was handled already is not dispatched again, and EmitID
// returns no results and an error wrapping ErrDuplicateEvent. While an
// event with the id is being handled, another with the same id waits for
// it to end (or for ctx), then is a duplicate; exactly one runs. An event
// refused before any handler ran (a bad name or data, ctx done first) is
// not handled: it may be sent again with the same id. An empty id is
// Emit's; a bad one (CheckEventID) fails.
//
// The window: the host remembers the last Options.EventIDLimit ids
// (100,000 by default) handled within Options.EventIDAge (24 hours),
// whichever is fewer; an id retried later than that is handled again.
//
// With a state store (Options.Store), the handled ids are written in the
// same transaction as the states the events produced, and read back on
// start: after a crash, an id is known as handled if and only if the
// states its handlers produced are on disk (those of a write-behind flush
// interval before the crash may be lost; the events are then handled again
// when retried, as they should be). With Options.SyncWrites the id is on
// disk when EmitID returns. An event being handled with an id holds back
// a flush until it ends, and so delays the events with ids after it by
// the rest of the longest one in flight.
func (m *Manager) EmitID(ctx context.Context, id, event string, data map[string]any) ([]Result, error) {
	if id == "" {
		return m.Emit(ctx, event, data)
	}
	if err := CheckEventID(id); err != nil {
		return nil, err
	}
	if err := checkEventName(event); err != nil {
		return nil, err
	}
	dup, err := m.ids.claim(ctx, id)
	if err != nil {
		return nil, err
	}
	if dup {
		return nil, fmt.Errorf("id %q: %w", id, ErrDuplicateEvent)
	}
	var goData any = data
	if data == nil {
		goData = map[string]any{}
	}
	if m.durable != nil {
		m.durable.writer.BeginEvent()
	}
	rs, err := m.dispatch(ctx, pendingEvent{name: event, data: goData, id: id})
	at := m.ids.now()
	// Not handled: refused data, or ctx done before any call ran.
	handled := !errors.As(err, new(badEventData)) && (err == nil || len(rs) > 0)
	if m.durable != nil {
		endID := ""
		if handled {
			endID = id
		}
		m.durable.writer.EndEvent(endID, at)
	}
	if err == nil {
		err = m.syncStates(ctx)
	}
	m.ids.release(id, handled, at)
	return rs, err
}

// loadEventIDs reads the handled event ids kept in the store.
func (m *Manager) loadEventIDs() error {
	hs, err := m.durable.store.LoadHandled()
	if err != nil {
		return err
	}
	m.ids.mu.Lock()
	defer m.ids.mu.Unlock()
	for _, h := range hs {
		m.ids.add(h.ID, h.At)
	}
	return nil
}
