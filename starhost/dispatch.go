package starhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afstudio/afstudio/blackbox"
	"go.starlark.net/starlark"
)

// Emit dispatches an event to every subscribed integration, in priority
// order, then the follow-up events their handlers emitted (breadth first,
// up to Limits.MaxEmitDepth). It returns one result per handler call. A
// handler that fails is recorded and reported in its result; the others
// still run. The error is non-nil only for a bad event name or data, or
// when ctx is cancelled (the results so far are returned).
//
// Every event is handled by exactly one version of each subscribed
// integration, also while it is being reloaded. Events emitted from one
// goroutine reach each integration in order.
func (m *Manager) Emit(ctx context.Context, event string, data map[string]any) ([]Result, error) {
	if err := checkEventName(event); err != nil {
		return nil, err
	}
	var goData any = data
	if data == nil {
		goData = map[string]any{}
	}
	rs, err := m.dispatch(ctx, pendingEvent{name: event, data: goData})
	if err == nil {
		err = m.syncStates(ctx)
	}
	return rs, err
}

// DecodeEventData parses a JSON event payload for Emit: an object, or
// empty (only white space) for {}. Numbers are json.Number, so that they
// keep their exact value (integers stay integers of any size). Anything
// else, or trailing data, is an error that says what was found.
func DecodeEventData(payload []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(payload)) == 0 {
		return map[string]any{}, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("event data is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("event data has trailing content after the JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("event data must be a JSON object like {\"mission_id\": \"m1\"}, got %s", jsonKind(v))
	}
	return obj, nil
}

// badEventData marks the error of an event refused for its data before
// any handler ran (EmitID does not count it as handled).
type badEventData struct{ err error }

// Error returns the conversion's error message.
func (b badEventData) Error() string { return b.err.Error() }

// Unwrap returns the conversion's error.
func (b badEventData) Unwrap() error { return b.err }

// pendingEvent is an event waiting to be dispatched: the one Emit was
// given, or a follow-up queued by ctx.emit.
type pendingEvent struct {
	name   string
	data   any // plain Go data, already bounded
	depth  int // 0 for the emitted event, n for the n-th follow-up
	source string
	id     string // the emitted event's id (EmitID); "" for none and for follow-ups
}

// checkEventName enforces the rule for event names, for Emit and
// ctx.emit alike: non-empty, not the wildcard, at most 200 bytes, no
// whitespace.
func checkEventName(name string) error {
	if name == "" || name == Wildcard || len(name) > 200 || strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("invalid event name %q: use a non-empty name without spaces, like \"mission_started\"", name)
	}
	return nil
}

// jsonKind names the JSON kind of a decoded value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// dispatch delivers first, then the follow-ups its handlers queue,
// breadth first: each event to the subscribers of one snapshot, in
// priority order. It returns every call's result in the order of the
// calls. Bad data in the first event is an error; bad data in a follow-up
// cannot happen (it was bounded by ctx.emit) and is skipped.
func (m *Manager) dispatch(ctx context.Context, first pendingEvent) ([]Result, error) {
	var results []Result
	queue := []pendingEvent{first}
	for len(queue) > 0 {
		pe := queue[0]
		queue = queue[1:]
		conv := newConverter(m.limits)
		sv, err := conv.toStarlark(pe.data, 0)
		if err != nil {
			if pe.depth == 0 {
				return nil, fmt.Errorf("event %q: data: %w", pe.name, badEventData{err})
			}
			continue // follow-up data was bounded when it was emitted
		}
		sv.Freeze()
		if pe.depth == 0 {
			m.accepted(pe)
		}
		ev := newEventValue(pe, sv.(*starlark.Dict))
		if m.notices.Active() {
			m.notices.Publish(Notice{Kind: NoticeEvent, Event: pe.name, Integration: pe.source, Depth: pe.depth, Data: pe.data})
		}
		subs := m.snap.Load().subscribers(pe.name)
		if results == nil {
			results = make([]Result, 0, len(subs))
		}
		results, queue, err = m.callAll(ctx, subs, ev, results, queue)
		if err != nil {
			return results, fmt.Errorf("emit %q: %w", first.name, err)
		}
	}
	return results, nil
}

// spreadWorth is how long an event's calls must take together, by their
// recent durations (slot.cost), to be worth spreading over goroutines:
// waking another goroutine and handing it calls costs some microseconds,
// which a few short calls do not repay.
const spreadWorth = 100 * time.Microsecond

// worthSpreading reports whether subs' calls, by their recent durations,
// take spreadWorth or more together.
func worthSpreading(subs []*slot) bool {
	var total int64
	for _, s := range subs {
		if total += s.cost.Load(); total >= int64(spreadWorth) {
			return true
		}
	}
	return false
}

// callAll calls ev's subscribers subs and appends their results to
// results and their follow-ups to queue, both in subs' (priority) order.
// With m.parallel > 1, when the calls are long enough together to be worth
// it (worthSpreading), they run on up to m.parallel goroutines, each
// taking the next subscriber not yet called;
// every call still holds its slot's callMu, so an integration runs one
// call at a time and, since callAll returns only when every call has
// ended, sees events in the order they were emitted. A cancelled ctx
// stops calls from starting; the results of those that ran are returned.
func (m *Manager) callAll(ctx context.Context, subs []*slot, ev *eventValue, results []Result, queue []pendingEvent) ([]Result, []pendingEvent, error) {
	workers := min(m.parallel, len(subs))
	if workers < 2 || !worthSpreading(subs) {
		for _, s := range subs {
			if err := ctx.Err(); err != nil {
				return results, queue, err
			}
			if r, emitted, ran := m.call(s, ev); ran {
				results = append(results, r)
				queue = append(queue, emitted...)
			}
		}
		return results, queue, nil
	}
	return m.spreadCalls(ctx, subs, ev, workers, results, queue)
}

// spreadCalls is callAll on workers goroutines (the caller's among them).
func (m *Manager) spreadCalls(ctx context.Context, subs []*slot, ev *eventValue, workers int, results []Result, queue []pendingEvent) ([]Result, []pendingEvent, error) {
	type outcome struct {
		r       Result
		emitted []pendingEvent
		ran     bool
	}
	outs := make([]outcome, len(subs))
	var next atomic.Int64
	var cut, panicked atomic.Bool // a call was not started because ctx was done; the host failed
	work := func() {
		defer func() { // the host's own bug: one event fails, not the process
			if p := recover(); p != nil {
				m.log.Error("dispatch panicked", "event", ev.name, "panic", p)
				panicked.Store(true)
			}
		}()
		for {
			i := int(next.Add(1) - 1)
			if i >= len(subs) {
				return
			}
			if ctx.Err() != nil {
				cut.Store(true)
				return
			}
			o := &outs[i]
			o.r, o.emitted, o.ran = m.call(subs[i], ev)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	for i := range outs {
		if o := &outs[i]; o.ran {
			results = append(results, o.r)
			queue = append(queue, o.emitted...)
		}
	}
	switch {
	case panicked.Load():
		return results, queue, errors.New("an internal error stopped the dispatch of the event (see the host's log)")
	case cut.Load():
		return results, queue, ctx.Err()
	}
	return results, queue, nil
}

// call runs s's handler for ev under the slot's lock, the sandbox's
// budget and timeout, and bounded conversion of the result; the state is
// measured against the limits as its stateAudit decides. ran is false when
// s no longer handles the event (removed, or its new version does not
// subscribe to it).
func (m *Manager) call(s *slot, ev *eventValue) (r Result, emitted []pendingEvent, ran bool) {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	if s.removed.Load() || s.disabled.Load() {
		return r, nil, false
	}
	v := s.current.Load()
	h := v.handler(ev.name)
	if h == nil {
		return r, nil, false
	}
	if s.run == nil {
		s.run = m.newRunner(s)
	}
	start := time.Now()
	v.lane.BeginAt(blackbox.Handle, s.name, ev.name, start)
	defer v.lane.End()
	out, emitted, err := s.run.run(h, ev, v.module, start)
	r = Result{Integration: s.name, Event: ev.name, Generation: v.generation, Depth: ev.depth}
	if err == nil {
		conv := converter{maxDepth: m.limits.MaxDepth, maxValues: m.limits.MaxValues}
		r.Value, err = conv.fromStarlark(out, 0)
		if err != nil {
			err = m.handlerDiag(h, v, "returned a value that cannot leave the sandbox: %v", err).withKind(ErrorLimit)
		}
	}
	end := time.Now()
	if serr := m.auditState(s, end); serr != nil {
		err = m.stateRepaired(s, v, h, serr)
	}
	if s.shadowOf == nil {
		m.changed(s)
	}
	took := end.Sub(start)
	r.Duration = Duration(took)
	s.cost.Store(s.cost.Load() + (int64(took)-s.cost.Load())/4) // recent durations, for worthSpreading
	s.mu.Lock()
	s.stats.add(took, err)
	s.mu.Unlock()
	if err != nil {
		r.Error = Diagnose(err, v.module)[0]
		r.Value = nil
		if s.shadowOf == nil {
			m.notices.Publish(Notice{Kind: NoticeHandlerFailed, Integration: s.name, Module: v.module, Generation: v.generation, Event: ev.name, Error: r.Error, Message: r.Error.Msg, Duration: r.Duration})
		}
		s.mirror(ev, r)
		return r, nil, true // follow-ups of a failed call are dropped
	}
	r.OK = true
	emitted = m.followUps(&r, emitted)
	s.mirror(ev, r)
	return r, emitted, true
}

// followUps lists a call's follow-ups in its result (Result.Emitted) and
// returns those to dispatch: none with Options.HoldFollowUps.
func (m *Manager) followUps(r *Result, emitted []pendingEvent) []pendingEvent {
	if len(emitted) == 0 {
		return emitted
	}
	r.Emitted = make([]Emitted, len(emitted))
	for i, pe := range emitted {
		r.Emitted[i] = Emitted{Event: pe.name, Data: pe.data}
	}
	if m.holdFollowUps {
		return nil
	}
	return emitted
}

// auditState checks s's state (data, within the limits: checkStateData,
// which writes nothing) when its audit is due (s.callMu is held), and
// returns how checkState repaired a bad one.
func (m *Manager) auditState(s *slot, now time.Time) error {
	a := &s.run.audit
	if !a.due(now, s.run.steps()) {
		return nil
	}
	n, err := checkStateData(s.state, m.limits)
	if err != nil {
		err = m.checkState(s) // repairs it, and says how
		n = s.values
	}
	a.measured(now, n)
	return err
}

// handlerDiag returns a diagnostic about handler h of version v, at the
// handler's definition (or at the integration() call for a builtin).
func (m *Manager) handlerDiag(h starlark.Callable, v *version, format string, args ...any) *Diagnostic {
	pos := v.decl.pos
	if fn, ok := h.(*starlark.Function); ok {
		pos = fn.Position()
	}
	return diagAt(pos, "handler %s: "+format, append([]any{h.Name()}, args...)...)
}
