package starhost

import (
	"sync"
	"time"

	"go.starlark.net/starlark"
)

// A runner is a slot's equipment for handler calls, made once and reused
// by every call: one Starlark thread (its frames are reused too), one
// call record, one argument tuple and one timer. Everything in it is used
// under the slot's callMu, one call at a time, except what the timer's
// callback uses, which watchMu guards.
//
// Reusing them is what keeps the host's own cost per call small and flat
// (see BenchmarkEmitTrivial): a thread, a locals map, a timer and two
// closures per call were most of it.
type runner struct {
	m      *Manager
	slot   *slot
	thread *starlark.Thread
	call   call
	args   starlark.Tuple // (event, ctx)

	stepsAtStart uint64 // the thread's step count when the current call began

	timer    *time.Timer
	watchMu  sync.Mutex // guards deadline and armed, and the timer's use by expire
	deadline time.Time  // of the call in progress; zero between calls
	armed    bool       // the timer will fire

	audit stateAudit
}

// newRunner returns the runner of s.
func (m *Manager) newRunner(s *slot) *runner {
	r := &runner{m: m, slot: s, args: make(starlark.Tuple, 2)}
	r.thread = &starlark.Thread{Name: s.name, Print: func(_ *starlark.Thread, msg string) { m.slotLog(s, "info", msg) }}
	r.thread.OnMaxSteps = func(t *starlark.Thread) { t.Cancel(m.sb.stepsExceeded("handler of "+s.name, "")) }
	r.call = call{m: m, slot: s}
	callLocal.set(r.thread, &r.call)
	r.args[1] = s.ctx
	r.timer = time.AfterFunc(time.Hour, r.expire)
	r.timer.Stop()
	return r
}

// expire is the timer's callback. It cancels the call in progress if it
// is past its deadline; re-arms the timer for a call in progress that is
// not (the timer was armed by an earlier call); and leaves it disarmed when
// no call is in progress. So a stream of calls costs one timer firing per
// timeout, not a timer reset per call, and a late firing never cancels a
// call before its own deadline.
func (r *runner) expire() {
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	if r.deadline.IsZero() {
		r.armed = false
		return
	}
	if wait := time.Until(r.deadline); wait > 0 {
		r.timer.Reset(wait)
		return
	}
	r.armed = false
	r.thread.Cancel(r.m.sb.timedOut("handler of "+r.slot.name, ""))
}

// watch sets the deadline of the call that starts at start, arming the
// timer when it is not armed.
func (r *runner) watch(start time.Time) {
	r.watchMu.Lock()
	r.deadline = start.Add(r.m.limits.Timeout)
	if !r.armed {
		r.armed = true
		r.timer.Reset(r.m.limits.Timeout)
	}
	r.watchMu.Unlock()
}

// unwatch clears the deadline: the call ended.
func (r *runner) unwatch() {
	r.watchMu.Lock()
	r.deadline = time.Time{}
	r.watchMu.Unlock()
}

// steps returns the steps the last call ran.
func (r *runner) steps() uint64 { return r.thread.ExecutionSteps() - r.stepsAtStart }

// run calls h with (ev, ctx) under the step budget and the timeout
// (counted from start), with a panic turned into an error. It returns the handler's value and error
// and the follow-up events it queued.
func (r *runner) run(h starlark.Callable, ev *eventValue, module string, start time.Time) (out starlark.Value, emits []pendingEvent, err error) {
	limits := r.m.limits
	t := r.thread
	t.Uncancel()
	r.stepsAtStart = t.ExecutionSteps()
	t.SetMaxExecutionSteps(r.stepsAtStart + limits.Steps)
	r.call.depth, r.call.module, r.call.emits = ev.depth, module, nil
	r.args[0] = ev
	r.watch(start)
	defer func() {
		r.unwatch()
		r.args[0] = nil
		if p := recover(); p != nil {
			out, emits, err = nil, nil, r.m.sb.recovered("handler of "+r.slot.name, p)
		}
	}()
	out, err = starlark.Call(t, h, r.args, nil)
	return out, r.call.emits, err
}

// A stateAudit decides when a slot's state is measured against the limits
// (Limits.MaxValues, Limits.MaxDepth). Measuring walks the whole state, so
// doing it after every call made a call's cost grow with the state. The
// state is measured after the first call, then after a call when, since
// the last measure, the calls reach an eighth of the values the state held
// then, or the handlers' steps reach that number of values, or 100 ms have
// passed. So the walks cost at most about eight values per call and one
// per step, whatever the state's size, and a state past the limits is
// caught within max(1, n/8) calls (n: its size at the last measure), or as
// soon as the steps run since could have grown it by n, or by the first
// call that ends 100 ms after the last measure.
type stateAudit struct {
	values int       // values in the state at the last measure
	calls  int       // calls since then
	steps  uint64    // steps the handlers ran since then
	at     time.Time // when it was measured; zero: never
}

// The audit's floors and ceiling: a small state is measured every
// auditMinCalls calls or auditMinSteps steps at most; any state at least
// every auditEvery while calls come.
const (
	auditMinCalls = 8
	auditMinSteps = 256
	auditEvery    = 100 * time.Millisecond
)

// due counts a call that ran steps and ended at now, and reports whether
// the state must be measured.
func (a *stateAudit) due(now time.Time, steps uint64) bool {
	a.calls++
	a.steps += steps
	return a.at.IsZero() || a.calls >= max(auditMinCalls, a.values/8) || a.steps >= uint64(max(auditMinSteps, 4*a.values)) || now.Sub(a.at) >= auditEvery
}

// measured records a measure at now that counted values.
func (a *stateAudit) measured(now time.Time, values int) {
	*a = stateAudit{values: values, at: now}
}
