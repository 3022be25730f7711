package starhost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// StateExportFormat is the Format of every StateExport.
const StateExportFormat = "afstudio-state"

// A StateExport is the file of state exports and imports, the same in
// every front end (afstudio state export and import, the studio's Export
// state… and Import state…), so that a file written by one is read by the
// others:
//
//	{"format": "afstudio-state", "version": 1, "exported_at": "...",
//	 "integrations": {"NAME": {"state": {...}, "module_hash": "..."}}}
//
// Make one with NewStateExport or Manager.ExportStates, write it with
// Encode, read it with ReadStateExport.
type StateExport struct {
	// Format is StateExportFormat.
	Format string `json:"format"`
	// Version is the version of the format: 1.
	Version int `json:"version"`
	// ExportedAt is when the export was made (UTC).
	ExportedAt time.Time `json:"exported_at"`
	// Integrations are the states exported, by integration name.
	Integrations map[string]ExportedState `json:"integrations"`
}

// ExportedState is one integration's state in a StateExport.
type ExportedState struct {
	// State is the state in its JSON form (Manager.StateJSON).
	State json.RawMessage `json:"state"`
	// ModuleHash identifies the module that produced the state; a state
	// stored with another module's hash is passed through the module's
	// migrate when the host starts. "" when unknown.
	ModuleHash string `json:"module_hash,omitempty"`
}

// NewStateExport returns an empty export made at now.
func NewStateExport(now time.Time) StateExport {
	return StateExport{Format: StateExportFormat, Version: 1, ExportedAt: now.UTC(), Integrations: map[string]ExportedState{}}
}

// Encode writes e as indented JSON, as every front end writes it.
func (e StateExport) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}

// States returns the states of e by name, as ImportStates takes them.
func (e StateExport) States() map[string][]byte {
	out := make(map[string][]byte, len(e.Integrations))
	for name, st := range e.Integrations {
		out[name] = st.State
	}
	return out
}

// ReadStateExport reads a StateExport and checks its form: the keys
// above and no others, StateExportFormat, version 1, and a state for each
// integration. It does not check the states themselves (CheckState and
// ImportStates do).
func ReadStateExport(data []byte) (StateExport, error) {
	var e StateExport
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return StateExport{}, fmt.Errorf("not an afstudio state export (Export state… and afstudio state export write one): %w", err)
	}
	if e.Format != StateExportFormat || e.Version != 1 {
		return StateExport{}, fmt.Errorf("format %q version %d, want %q version 1", e.Format, e.Version, StateExportFormat)
	}
	for name, st := range e.Integrations {
		if len(st.State) == 0 || string(st.State) == "null" {
			return StateExport{}, fmt.Errorf("integrations[%q]: no state", name)
		}
	}
	return e, nil
}

// ExportStates returns the current states of the named integrations (of
// every integration when none is named) in an export, each with the hash
// of its serving module. Each state is read between two of its handler
// calls, one integration after the other. An unknown name is an error
// wrapping ErrNotFound.
func (m *Manager) ExportStates(names ...string) (StateExport, error) {
	sn := m.snap.Load()
	if len(names) == 0 {
		for _, s := range sn.ordered {
			names = append(names, s.name)
		}
	}
	out := NewStateExport(time.Now())
	for _, name := range names {
		s, err := sn.slotNamed(name)
		if err != nil {
			return StateExport{}, fmt.Errorf("export state: %w", err)
		}
		s.callMu.Lock()
		rec := m.lastRecord(s)
		s.callMu.Unlock()
		out.Integrations[name] = ExportedState{State: rec.State, ModuleHash: rec.ModuleHash}
	}
	return out, nil
}
