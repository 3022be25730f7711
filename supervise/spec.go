package supervise

import (
	"encoding/json"
	"fmt"
	"os"
)

// A Spec is what a supervisor tells one start of its worker, in a JSON
// file whose path it passes with the worker flag ([Options.SpecFlag]).
type Spec struct {
	// Blackbox is the file the worker records into (package blackbox).
	Blackbox string `json:"blackbox"`
	// MemoryLimit is the worker's memory limit in bytes; 0: none.
	MemoryLimit int64 `json:"memory_limit"`
	// Quarantine maps the modules the worker must not run to why
	// (starhost.Options.Quarantine).
	Quarantine map[string]string `json:"quarantine,omitempty"`
	// FirstLine is the number of the first input line the worker reads,
	// in the input the supervisor relays (headless.Options.FirstLine).
	FirstLine int `json:"first_line"`
	// Restarted says why the previous worker stopped; "" for the first
	// start. The worker publishes it as a notice once it serves.
	Restarted string `json:"restarted,omitempty"`
	// ListenerFD is the file descriptor of the control API's listening
	// socket the supervisor hands over; 0: none. On Windows it is the
	// value of an inherited socket handle (see handOver).
	ListenerFD int `json:"listener_fd,omitempty"`
	// Token, if set, is the control API's bearer token for this worker
	// (a private API between the studio and its worker), instead of the
	// user's token.
	Token string `json:"token,omitempty"`
	// Serial: the worker runs one handler call at a time (no fan-out of
	// an event over cores), because the previous worker died while
	// several modules ran and none could be blamed.
	Serial bool `json:"serial,omitempty"`
	// Quiet: the worker writes no notices on its standard output (the
	// studio follows it over the API's notice stream instead).
	Quiet bool `json:"quiet,omitempty"`
	// UserListenerFD is the file descriptor of the user's control API
	// socket, served with the user's token (Options.UserListener); 0:
	// none.
	UserListenerFD int `json:"user_listener_fd,omitempty"`
	// LifelineFD is the file descriptor of a pipe whose other end only
	// the supervisor holds: when it reads end of file, the supervisor is
	// gone and the worker exits. On Windows it is the value of an
	// inherited pipe handle.
	LifelineFD int `json:"lifeline_fd,omitempty"`
}

// ReadSpec reads the spec file a supervisor wrote for this worker.
func ReadSpec(path string) (Spec, error) {
	var s Spec
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("worker spec: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("worker spec %s: %w", path, err)
	}
	return s, nil
}

// write writes s to path.
func (s Spec) write(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
