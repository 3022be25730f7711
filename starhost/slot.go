package starhost

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afstudio/afstudio/blackbox"
	"go.starlark.net/starlark"
)

// A version is one built, immutable incarnation of an integration. It is
// never changed after it is published.
type version struct {
	decl       *declaration
	module     string
	export     string
	files      []File // the module, then its libraries
	generation int
	builtAt    time.Time
	buildTook  time.Duration
	lane       *blackbox.Lane // where calls into module are recorded; nil without Options.Recorder
}

// subscribes reports whether v handles event, by name or by wildcard.
func (v *version) subscribes(event string) bool {
	_, ok := v.decl.handlers[event]
	if !ok {
		_, ok = v.decl.handlers[Wildcard]
	}
	return ok
}

// handler returns the handler for event: the exact subscription first,
// then the wildcard.
func (v *version) handler(event string) starlark.Callable {
	if h, ok := v.decl.handlers[event]; ok {
		return h
	}
	return v.decl.handlers[Wildcard]
}

// A slot is the long-lived home of one integration name: its current
// version, the state the host owns for it, its counters and its last
// error. callMu serialises everything that touches the state (handler
// calls, migrate, reset); the version pointer is written only while callMu
// is held, so a handler always runs on the version its state belongs to.
type slot struct {
	name     string
	current  atomic.Pointer[version]
	removed  atomic.Bool
	disabled atomic.Bool            // switched off: loaded, but given no events (Manager.DisableIntegration)
	cost     atomic.Int64           // recent call durations (ns, a moving average), written under callMu
	shadowOn atomic.Bool            // shadow mode: a reload makes a shadow (StartShadow); written under writeMu
	shadow   atomic.Pointer[shadow] // the shadow running beside the serving version; nil for none
	shadowOf *shadow                // for the slot of a shadow (never published): that shadow

	callMu sync.Mutex
	state  *starlark.Dict // guarded by callMu
	ctx    *handlerContext
	run    *runner // guarded by callMu; made by the first handler call
	// saved is the state's last good JSON form (encodeState), taken when
	// the state was last checked or stored: what a state that turns out
	// not to be data goes back to. scratch is the buffer of the next
	// check. Both guarded by callMu.
	saved, scratch []byte
	values         int  // in saved
	wasRemoved     bool // its stored record was marked removed (restoreState)

	mu         sync.Mutex // guards the fields below
	lastErr    error
	lastReload time.Duration
	stats      latencyStats
}

// newSlot returns the slot of a new integration, with an empty state and
// no version yet.
func newSlot(name string) *slot {
	s := &slot{name: name, state: starlark.NewDict(0)}
	s.ctx = &handlerContext{slot: s}
	return s
}

// slotLog sends a line the integration of s logged (ctx.log, print) to its log
// notices, or to the report of the shadow s belongs to.
func (m *Manager) slotLog(s *slot, level, msg string) {
	if s.shadowOf != nil {
		s.shadowOf.log(level, truncate(msg, m.limits.MaxLogBytes))
		return
	}
	m.logLine(s.name, level, msg)
}

// setReloaded records a successful reload that took took.
func (s *slot) setReloaded(took time.Duration) {
	s.mu.Lock()
	s.lastErr, s.lastReload = nil, took
	s.mu.Unlock()
}

// setError records the error of the slot's last reload.
func (s *slot) setError(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
}

// latencyStats keeps handler call counts and a ring of recent latencies.
type latencyStats struct {
	calls, errors  uint64
	total          time.Duration
	ring           [512]time.Duration
	next           int
	filled         bool
	lastHandlerErr error
}

// add counts one call that took d and failed with err (nil: succeeded).
func (st *latencyStats) add(d time.Duration, err error) {
	st.calls++
	st.total += d
	if err != nil {
		st.errors++
		st.lastHandlerErr = err
	}
	st.ring[st.next] = d
	st.next++
	if st.next == len(st.ring) {
		st.next, st.filled = 0, true
	}
}

// recent returns the recent latencies, oldest first.
func (st *latencyStats) recent() []time.Duration {
	if !st.filled {
		return append([]time.Duration(nil), st.ring[:st.next]...)
	}
	out := make([]time.Duration, 0, len(st.ring))
	out = append(out, st.ring[st.next:]...)
	return append(out, st.ring[:st.next]...)
}

// percentile returns the p-th percentile (0 to 100) of ds by nearest
// rank; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(p/100*float64(len(s)))) - 1 // nearest rank
	return s[min(max(i, 0), len(s)-1)]
}
