package recording

import (
	"encoding/json"
	"time"
)

// An Entry is one recorded event: one line of a recording.
type Entry struct {
	// Event is the event's name, e.g. "mission_started".
	Event string `json:"event"`
	// Data is the event's payload, a JSON object. A Reader gives "{}" for
	// a line without data (or with null).
	Data json.RawMessage `json:"data"`
	// ID is the event's id (starhost.Manager.EmitID), "" for none; JSON:
	// omitted when empty.
	ID string `json:"id,omitempty"`
	// Time is when the host accepted the event; JSON: RFC 3339 with
	// nanoseconds. A line without "time" (a hand-written headless input
	// file) reads as the zero time: a replay sends it without waiting.
	Time time.Time `json:"time,omitzero"`
}

// marshalLine returns e as one JSON line, ending in "\n".
func (e Entry) marshalLine() ([]byte, error) {
	if len(e.Data) == 0 {
		e.Data = json.RawMessage("{}")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
