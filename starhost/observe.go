package starhost

import "time"

// An AcceptedEvent is an event a front end delivered (Emit, EmitID) that
// the host accepted and is about to dispatch, as Options.OnEvent is told
// of it. Follow-ups queued by handlers are not accepted events.
type AcceptedEvent struct {
	// ID is the event's id (EmitID), "" for none.
	ID string
	// Event is its name.
	Event string
	// Data is its payload as given to Emit (read-only: do not modify or
	// keep a reference past the call).
	Data map[string]any
	// Time is when it was accepted.
	Time time.Time
}

// accepted tells Options.OnEvent of the event first, once its data has
// been converted and before any handler runs.
func (m *Manager) accepted(first pendingEvent) {
	if m.onEvent == nil {
		return
	}
	data, _ := first.data.(map[string]any)
	m.onEvent(AcceptedEvent{ID: first.id, Event: first.name, Data: data, Time: time.Now()})
}
