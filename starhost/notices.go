package starhost

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// NoticeKind says what a Notice reports; its JSON form is the string, and
// the control API's event stream uses it as the SSE event name.
type NoticeKind string

// The kinds of lifecycle notices.
const (
	NoticeLoaded        NoticeKind = "loaded"         // first load of an integration
	NoticeReloaded      NoticeKind = "reloaded"       // a new version was swapped in
	NoticeReloadFailed  NoticeKind = "reload_failed"  // a build, validation or migrate failed; the old version serves
	NoticeAdded         NoticeKind = "added"          // added at run time
	NoticeRemoved       NoticeKind = "removed"        // removed
	NoticeHandlerFailed NoticeKind = "handler_failed" // a handler raised, timed out or returned bad data
	NoticeLog           NoticeKind = "log"            // ctx.log or print output, or a host message
	NoticeEvent         NoticeKind = "event"          // an event was dispatched (including follow-ups)
	NoticeStateReset    NoticeKind = "state_reset"    // an integration's state was reset
	NoticeSwitched      NoticeKind = "switched"       // an integration was switched on or off (DisableIntegration, EnableIntegration)
	NoticeWatchError    NoticeKind = "watch_error"    // the file watcher reports a problem
	NoticeShadow        NoticeKind = "shadow"         // shadow mode turned on or off, a shadow started, promoted or discarded
	NoticeResult        NoticeKind = "result"         // a handler's result for an event a front end delivered (control API)
)

// A Notice is one lifecycle message for front ends: the studio, the
// headless JSON-lines writer, the control API's event stream. Its JSON
// form is the same on each; empty fields are left out.
type Notice struct {
	// Kind says what the notice reports.
	Kind NoticeKind `json:"kind"`
	// Time is when the host published it (local time); never zero in a
	// notice a subscriber receives.
	Time time.Time `json:"time"`
	// Integration is the integration concerned; "" for a module-level or
	// watcher notice.
	Integration string `json:"integration,omitempty"`
	// Module is the path of the module concerned ("builtin:NAME.star" for
	// a default), when known.
	Module string `json:"module,omitempty"`
	// Generation is the version concerned (loads, reloads, handler
	// failures); 0 when none.
	Generation int `json:"generation,omitempty"`
	// Duration is how long the load, reload or handler call took; 0 when
	// not timed. JSON: microseconds.
	Duration Duration `json:"duration_us,omitempty"`
	// Level is "debug", "info", "warn" or "error" for log notices; ""
	// otherwise.
	Level string `json:"level,omitempty"`
	// Message is the text of a log line, or a short explanation (the
	// error's message for a failure); "" when there is none.
	Message string `json:"message,omitempty"`
	// Event is the event concerned (event, handler_failed and result
	// notices); "" otherwise.
	Event string `json:"event,omitempty"`
	// Depth is 0 for an event from the engine, n for the n-th follow-up
	// (event notices only).
	Depth int `json:"depth,omitempty"`
	// Data is the event's payload as plain Go data (event notices only;
	// read-only).
	Data any `json:"data,omitempty"`
	// Error is the failure, with file:line:col where known (reload_failed,
	// handler_failed, watch_error).
	Error *Diagnostic `json:"error,omitempty"`
	// Result is the handler call a result notice reports; nil for every
	// other kind.
	Result *Result `json:"result,omitempty"`
	// ID is the id of the event a front end delivered with one (see
	// Manager.EmitID), in the notices the front end writes about it (the
	// headless host's result and duplicate notices); "" otherwise.
	ID string `json:"id,omitempty"`
}

// Summary says what n reports, without naming the integration: for
// example "reloaded generation 2 in 0.41 ms" or "handler for ping failed:
// a.star:3:5: division by zero". It is the one text form of a notice; the
// studio's log and the terminal log both use it.
func (n Notice) Summary() string {
	errText := n.Message
	if n.Error != nil {
		errText = n.Error.Error()
	}
	switch n.Kind {
	case NoticeLoaded, NoticeReloaded, NoticeAdded:
		msg := fmt.Sprintf("%s generation %d in %.2f ms", n.Kind, n.Generation, n.Duration.Micros()/1000)
		if n.Message != "" {
			msg += ": " + n.Message
		}
		return msg
	case NoticeReloadFailed:
		return "reload failed, the previous version still serves: " + errText
	case NoticeHandlerFailed:
		if n.Event != "" {
			return fmt.Sprintf("handler for %s failed: %s", n.Event, errText)
		}
		return "handler failed: " + errText
	case NoticeRemoved:
		if n.Message != "" {
			return "removed: " + n.Message
		}
		return "removed"
	case NoticeStateReset:
		if n.Message != "" && n.Message != "state reset" {
			return "state reset: " + n.Message
		}
		return "state reset"
	case NoticeWatchError:
		return "watcher: " + errText
	case NoticeLog:
		return n.Message
	case NoticeEvent:
		return fmt.Sprintf("event %s (depth %d)", n.Event, n.Depth)
	case NoticeResult:
		if r := n.Result; r != nil {
			if r.Error != nil {
				return fmt.Sprintf("result of %s: failed: %s", r.Event, r.Error.Error())
			}
			return fmt.Sprintf("result of %s: ok in %s", r.Event, r.Duration)
		}
	}
	if errText != "" {
		return fmt.Sprintf("%s: %s", n.Kind, errText)
	}
	return string(n.Kind)
}

// String returns the notice as one line, "integration: summary" (or the
// module, or just the summary when neither is known).
func (n Notice) String() string {
	switch {
	case n.Integration != "":
		return n.Integration + ": " + n.Summary()
	case n.Module != "":
		return n.Module + ": " + n.Summary()
	}
	return n.Summary()
}

// A NoticeHub fans notices out to subscribers. Each subscriber has a
// bounded buffer; a slow subscriber loses notices (counted) and never
// blocks the publisher. A Manager has one (Manager.Subscribe); a client of
// a remote host relays the host's notice stream into one. The zero value
// is ready to use.
type NoticeHub struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
	n    atomic.Int32
}

// A Subscription receives notices on C until Close is called. Get one
// from Manager.Subscribe or NoticeHub.Subscribe; the zero value is not
// usable.
type Subscription struct {
	// C delivers the notices, in order, until Close.
	C       <-chan Notice
	c       chan Notice
	hub     *NoticeHub
	dropped atomic.Uint64
	once    sync.Once
}

// Dropped returns how many notices were lost because C was full, since
// the subscription began.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close stops delivery and closes C. It is safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.hub.mu.Lock()
		delete(s.hub.subs, s)
		s.hub.n.Add(-1)
		close(s.c)
		s.hub.mu.Unlock()
	})
}

// Subscribe adds a subscriber with a buffer of the given size (256 if
// <= 0).
func (h *NoticeHub) Subscribe(buffer int) *Subscription {
	if buffer <= 0 {
		buffer = 256
	}
	c := make(chan Notice, buffer)
	s := &Subscription{C: c, c: c, hub: h}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*Subscription]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.n.Add(1)
	h.mu.Unlock()
	return s
}

// Active reports whether anyone subscribes, so that notices nobody reads
// need not even be built.
func (h *NoticeHub) Active() bool { return h.n.Load() > 0 }

// Lost counts n notices lost before they reached the hub (a remote
// host's stream that leaves out what its reader cannot show) as dropped
// for every subscriber (Subscription.Dropped).
func (h *NoticeHub) Lost(n uint64) {
	h.mu.Lock()
	for s := range h.subs {
		s.dropped.Add(n)
	}
	h.mu.Unlock()
}

// Publish sends n to every subscriber without blocking (a full buffer
// drops it, counted), stamping a zero Time with now.
func (h *NoticeHub) Publish(n Notice) {
	if !h.Active() {
		return
	}
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	h.mu.Lock()
	for s := range h.subs {
		select {
		case s.c <- n:
		default:
			s.dropped.Add(1)
		}
	}
	h.mu.Unlock()
}
