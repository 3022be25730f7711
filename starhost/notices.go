package starhost

import (
	"sync"
	"sync/atomic"
	"time"
)

// NoticeKind says what a Notice reports.
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
	NoticeWatchError    NoticeKind = "watch_error"    // the file watcher reports a problem
	NoticeResult        NoticeKind = "result"         // a handler's result for an event a front end delivered (control API)
)

// A Notice is one lifecycle message for front ends: the studio, the
// headless JSON-lines writer, the control API's event stream.
type Notice struct {
	Kind        NoticeKind    `json:"kind"`
	Time        time.Time     `json:"time"`
	Integration string        `json:"integration,omitempty"`
	Module      string        `json:"module,omitempty"`
	Generation  int           `json:"generation,omitempty"`
	Duration    time.Duration `json:"-"`
	DurationMS  float64       `json:"duration_ms,omitempty"`
	Level       string        `json:"level,omitempty"`
	Message     string        `json:"message,omitempty"`
	Event       string        `json:"event,omitempty"`
	// Depth is 0 for an event from the engine, n for the n-th follow-up
	// (event notices only).
	Depth int `json:"depth,omitempty"`
	// Data is the event's payload as plain Go data (event notices only;
	// read-only).
	Data  any         `json:"data,omitempty"`
	Error *Diagnostic `json:"error,omitempty"`
}

// noticeHub fans notices out to subscribers. Each subscriber has a bounded
// buffer; a slow subscriber loses notices (counted) and never blocks the
// host.
type noticeHub struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
	n    atomic.Int32
}

// A Subscription receives notices on C until Close is called.
type Subscription struct {
	// C delivers the notices, in order, until Close.
	C       <-chan Notice
	c       chan Notice
	hub     *noticeHub
	dropped atomic.Uint64
	once    sync.Once
}

// Dropped returns how many notices were lost because C was full.
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

func (h *noticeHub) subscribe(buffer int) *Subscription {
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

func (h *noticeHub) active() bool { return h.n.Load() > 0 }

func (h *noticeHub) publish(n Notice) {
	if !h.active() {
		return
	}
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	if n.Duration > 0 {
		n.DurationMS = float64(n.Duration.Microseconds()) / 1000
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
