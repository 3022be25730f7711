package starhost

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// A Result is the outcome of one handler call. It is the one shape a
// handler's outcome takes everywhere: Emit returns it, the CLI
// (afstudio emit) prints it, the headless host writes it, the control API
// answers it and streams it, and the studio shows it. Its JSON form is the
// same in each:
//
//	{"integration": "greeter", "event": "ping", "generation": 2, "depth": 0,
//	 "ok": true, "result": {"answer": "v2"}, "error": null, "duration_us": 41.2}
type Result struct {
	// Integration is the name of the integration whose handler ran.
	Integration string `json:"integration"`
	// Event is the name of the event it handled.
	Event string `json:"event"`
	// Generation is the version of the integration that handled it
	// (1 after the first load, +1 per successful reload).
	Generation int `json:"generation"`
	// Depth is 0 for the emitted event, n for the n-th follow-up (see
	// ctx.emit and Limits.MaxEmitDepth).
	Depth int `json:"depth"`
	// OK is true when the handler returned normally and its value could
	// leave the sandbox; Error is then nil.
	OK bool `json:"ok"`
	// Value is the handler's return value as plain Go data: nil (None),
	// bool, int64 or *big.Int, float64, string, []any or map[string]any;
	// a struct becomes a map, a tuple or set a slice, a time its RFC 3339
	// text. nil for a failed call. Its JSON key is "result".
	Value any `json:"result"`
	// Error is why the call failed, with the file:line:col of the user's
	// code where known; nil (JSON null) when OK.
	Error *Diagnostic `json:"error"`
	// Duration is how long the call took, handler and host work together
	// (conversions, the state check). JSON: microseconds.
	Duration Duration `json:"duration_us"`
	// Emitted lists the follow-up events the call queued with ctx.emit,
	// in order (dispatched after it unless Options.HoldFollowUps); none
	// for a failed call. JSON: omitted when empty.
	Emitted []Emitted `json:"emitted,omitempty"`
}

// An Emitted is a follow-up event a handler queued with ctx.emit.
type Emitted struct {
	// Event is the follow-up's name.
	Event string `json:"event"`
	// Data is its data as plain Go data (see Result.Value).
	Data any `json:"data"`
}

// A Duration is a time.Duration whose JSON form is a number of
// microseconds (with up to three decimals, so nanoseconds survive): the
// one unit in which every duration afstudio reports is written, in
// fields whose JSON name ends in "_us". The zero value is no time.
type Duration time.Duration

// Std returns d as a time.Duration, for arithmetic and formatting.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d the way time.Duration does ("41.2µs").
func (d Duration) String() string { return time.Duration(d).String() }

// Micros returns d in microseconds, with the nanoseconds as the
// fraction.
func (d Duration) Micros() float64 { return float64(d) / float64(time.Microsecond) }

// MarshalJSON writes d as microseconds, e.g. 41.2.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, d.Micros(), 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of microseconds, rounded to the
// nanosecond; NaN and values past time.Duration's range are errors.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var us float64
	if err := json.Unmarshal(b, &us); err != nil {
		return fmt.Errorf("a duration is a number of microseconds: %w", err)
	}
	if math.IsNaN(us) || math.Abs(us) > float64(math.MaxInt64/int64(time.Microsecond)) {
		return fmt.Errorf("duration %v µs is out of range", us)
	}
	*d = Duration(math.Round(us * float64(time.Microsecond)))
	return nil
}

// Notice returns the notice that reports r on a notice stream (kind
// "result", with r under "result"), as the headless host writes it and the
// control API streams it. Its Time is left zero: Manager.Notify stamps it,
// or the caller sets it.
func (r Result) Notice() Notice {
	return Notice{Kind: NoticeResult, Integration: r.Integration, Event: r.Event, Generation: r.Generation, Result: &r}
}
