package starhost

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afstudio/afstudio/jsondiff"
	"go.starlark.net/starlark"
)

// Shadow mode shows what a change would do before it serves. While an
// integration's shadow mode is on (StartShadow), a reload of it (its file
// saved, a library it loads saved, ReloadIntegration, ReloadAll) does not
// replace the serving version: the new version becomes its shadow. Every
// call the serving version makes is then made again by the shadow, on the
// shadow's own copy of the state (the serving state when the shadow
// started, passed through the new version's migrate), after the serving
// call and on another goroutine, off the event's path; the two results are
// compared (CompareResults). A shadow's follow-up events are captured in
// its results, never dispatched; its logs are kept in its report, and its
// state is never stored. PromoteShadow swaps the shadow's version in as a
// reload does (the serving state, through its migrate); DiscardShadow
// drops it and turns shadow mode off.
//
// A shadow sees the events its serving version handles: not those only it
// subscribes to. One that falls more than shadowQueue calls behind, which
// its CPU budget (pacer) makes it do under a load of more than a tenth
// of a core, skips calls (counted as
// Skipped) rather than slow the serving path, and then catches up: it
// takes a fresh copy of the serving state (catchUp), so that its results
// stay comparable.

// shadowQueue is how many calls a shadow may fall behind its serving
// version before it skips some.
const shadowQueue = 4096

// shadowKeep is how many differing calls a shadow's report keeps (the
// first ones), and shadowPaths how many differing paths of each.
const (
	shadowKeep  = 20
	shadowPaths = 10
	shadowLogs  = 50
)

// A shadow is the version that would replace an integration's serving
// version, running beside it.
type shadow struct {
	m       *Manager
	serving *slot
	own     *slot // the shadow's version, state and runner; never published
	started time.Time
	queue   chan mirroredCall
	stop    chan struct{}
	wake    chan struct{} // mirror's nudge after each call it queues; capacity 1
	stopped sync.Once
	idle    sync.Cond    // signalled when pending falls to 0; L is &mu
	pending atomic.Int64 // calls mirrored and not compared yet

	skipped atomic.Int64
	behind  atomic.Bool // a call was skipped: the shadow's state no longer follows the serving one (catchUp)
	closed  atomic.Bool // at its budget, the shadow takes no calls until it catches up
	mu      sync.Mutex  // guards the fields below
	report  ShadowReport
	serveLt latencyStats
}

// A mirroredCall is a serving call for the shadow to make again.
type mirroredCall struct {
	ev      *eventValue
	serving Result
}

// A ShadowReport is what a shadow did differently from its serving
// version so far (Manager.ShadowReport; GET /v1/integrations/{name}/shadow).
type ShadowReport struct {
	// Integration is the integration's name.
	Integration string `json:"integration"`
	// On is its shadow mode: reloads make a shadow instead of serving.
	On bool `json:"on"`
	// Active is true when a shadow runs: shadow mode is on and the
	// integration was reloaded since.
	Active bool `json:"active"`
	// ServingGeneration is the generation of the serving version.
	ServingGeneration int `json:"serving_generation"`
	// ShadowGeneration is the shadow's; 0 without a shadow.
	ShadowGeneration int `json:"shadow_generation"`
	// Module is the shadow's module file.
	Module string `json:"module,omitempty"`
	// Since is when the shadow started.
	Since time.Time `json:"since,omitzero"`
	// Compared counts the calls made by both versions.
	Compared int64 `json:"compared"`
	// Equal counts the compared calls whose results are equal.
	Equal int64 `json:"equal"`
	// Different counts the compared calls whose results differ.
	Different int64 `json:"different"`
	// ShadowFailed counts the calls the shadow failed while the serving
	// version did not (also counted in Different).
	ShadowFailed int64 `json:"shadow_failed"`
	// Skipped counts the serving calls the shadow did not make: it had
	// fallen too far behind, or was at its CPU budget (Throttled).
	Skipped int64 `json:"skipped"`
	// CaughtUp counts the times the shadow took a fresh copy of the
	// serving state after skipping calls, so that its later results are
	// comparable again.
	CaughtUp int64 `json:"caught_up"`
	// Pending counts the calls the shadow has still to make.
	Pending int `json:"pending"`
	// Behind is true when the shadow skipped calls since it last caught
	// up: until it catches up, its state misses their changes, and the
	// state differences show that too.
	Behind bool `json:"behind"`
	// Throttled is true while the shadow is at its CPU budget (a tenth of
	// a core): it naps and skips the calls it cannot make (Skipped)
	// rather than slow the serving ones.
	Throttled bool `json:"throttled"`
	// ServingP50 is the median duration of the serving version's recent
	// compared calls (JSON: microseconds).
	ServingP50 Duration `json:"serving_p50_us"`
	// ShadowP50 is the median duration of the shadow's recent calls.
	ShadowP50 Duration `json:"shadow_p50_us"`
	// Differences are the first calls whose results differ, in order.
	Differences []ShadowDifference `json:"differences"`
	// StateDifferences are where the shadow's state differs from the
	// serving state now (the first 50); the shadow may be Pending calls
	// behind.
	StateDifferences []jsondiff.Difference `json:"state_differences"`
	// StateDifferent counts the places where the states differ.
	StateDifferent int `json:"state_different"`
	// Logs are the shadow's last log lines (ctx.log and print).
	Logs []string `json:"logs"`
}

// A ShadowStatus is an integration's shadow mode as its Info shows it.
type ShadowStatus struct {
	// Generation is the shadow's generation; 0 while no shadow runs (the
	// mode is on, and the file was not saved since).
	Generation int `json:"generation"`
	// Compared counts the calls compared so far.
	Compared int64 `json:"compared"`
	// Different counts those whose results differ (ShadowReport has the
	// details).
	Different int64 `json:"different"`
}

// A ShadowDifference is one call whose results differ.
type ShadowDifference struct {
	// Event is the event's name.
	Event string `json:"event"`
	// Depth is the event's depth (0, or n for an n-th follow-up).
	Depth int `json:"depth"`
	// Data is the event's data.
	Data any `json:"data"`
	// Time is when the event was emitted.
	Time time.Time `json:"time"`
	// Serving is the serving version's result.
	Serving Result `json:"serving"`
	// Shadow is the shadow's result.
	Shadow Result `json:"shadow"`
	// Paths are where the results differ (the first ten).
	Paths []jsondiff.Difference `json:"paths"`
	// Different counts the places where they differ.
	Different int `json:"different"`
}

// ErrNoShadow is the error of PromoteShadow when no shadow runs.
var ErrNoShadow = errors.New("no shadow to promote: turn shadow mode on, then save the integration's file (or reload it) to make one")

// StartShadow turns the named integration's shadow mode on: its next
// reload makes a shadow instead of replacing the serving version. It is a
// no-op when the mode is on already.
func (m *Manager) StartShadow(name string) error {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	s, err := m.slotNamed(name)
	if err != nil {
		return fmt.Errorf("shadow: %w", err)
	}
	if !s.shadowOn.Swap(true) {
		v := s.current.Load()
		m.notices.Publish(Notice{Kind: NoticeShadow, Integration: name, Module: v.module, Generation: v.generation, Message: "shadow mode on: the next save makes a shadow"})
	}
	return nil
}

// DiscardShadow drops the named integration's shadow, if any, and turns
// its shadow mode off; the serving version is untouched.
func (m *Manager) DiscardShadow(name string) error {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	s, err := m.slotNamed(name)
	if err != nil {
		return fmt.Errorf("shadow: %w", err)
	}
	was := s.shadowOn.Swap(false)
	sh := s.shadow.Swap(nil)
	if sh != nil {
		sh.end()
	}
	if was || sh != nil {
		v := s.current.Load()
		m.notices.Publish(Notice{Kind: NoticeShadow, Integration: name, Module: v.module, Generation: v.generation, Message: "shadow discarded; shadow mode off"})
	}
	return nil
}

// PromoteShadow swaps the named integration's shadow in as its serving
// version, atomically, as a reload does: the serving state carries over
// through the shadow version's migrate (the shadow's own copy is dropped).
// Shadow mode stays on: the next save makes a new shadow. Without a
// shadow it fails with ErrNoShadow.
func (m *Manager) PromoteShadow(ctx context.Context, name string) error {
	res, err := m.apply(ctx, func(live *snapshot) ([]planItem, error) {
		s, err := live.slotNamed(name)
		if err != nil {
			return nil, err
		}
		sh := s.shadow.Load()
		if sh == nil {
			return nil, fmt.Errorf("%s: %w", name, ErrNoShadow)
		}
		return []planItem{{module: sh.own.current.Load().module, exports: []string{name}, promote: sh.own.current.Load()}}, nil
	})
	if err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	if err := errors.Join(res.nameErr(name), res.joinedErr()); err != nil {
		return fmt.Errorf("promote %s: %w", name, err)
	}
	return nil
}

// ShadowReport returns what the named integration's shadow did
// differently so far; a report with Active false when none runs.
func (m *Manager) ShadowReport(name string) (ShadowReport, error) {
	s, err := m.slotNamed(name)
	if err != nil {
		return ShadowReport{}, fmt.Errorf("shadow: %w", err)
	}
	sh := s.shadow.Load()
	if sh == nil {
		return ShadowReport{Integration: name, On: s.shadowOn.Load(), ServingGeneration: s.current.Load().generation, Differences: []ShadowDifference{}, StateDifferences: []jsondiff.Difference{}, Logs: []string{}}, nil
	}
	return sh.snapshotReport(), nil
}

// WaitShadow waits until the named integration's shadow has made every
// call mirrored to it so far (for tests and tools that compare at a
// known point); at once when none runs.
func (m *Manager) WaitShadow(ctx context.Context, name string) error {
	s, err := m.slotNamed(name)
	if err != nil {
		return fmt.Errorf("shadow: %w", err)
	}
	if sh := s.shadow.Load(); sh != nil {
		return sh.wait(ctx)
	}
	return nil
}

// startShadow makes version v, with state st, the shadow of s, ending the
// shadow it had. s.callMu is held (swap), so that the shadow sees every
// call after the state it copied.
func (m *Manager) startShadow(s *slot, c *change) {
	own := newSlot(s.name)
	own.state = c.state
	own.current.Store(c.v)
	sh := &shadow{m: m, serving: s, own: own, started: time.Now(), queue: make(chan mirroredCall, shadowQueue), stop: make(chan struct{}), wake: make(chan struct{}, 1)}
	own.shadowOf = sh
	sh.idle.L = &sh.mu
	sh.report = ShadowReport{Integration: s.name, On: true, Active: true, Module: c.v.module, ShadowGeneration: c.v.generation, Since: sh.started}
	if old := s.shadow.Swap(sh); old != nil {
		old.end()
	}
	go sh.run()
}

// shadowCopy returns a copy of s's state for a shadow, through its JSON
// form: a state may hold values that are not data between two audits (a
// set, a bound method, ctx itself), which a copy of its containers would
// share with the serving version. What is not data is left out of the
// copy, as the state store leaves it out. s.callMu is held.
func (m *Manager) shadowCopy(s *slot) (*starlark.Dict, error) {
	b, _, dropped, err := encodeData(s.state, m.limits)
	if err != nil {
		return nil, fmt.Errorf("copy the state for the shadow: %w", err)
	}
	if len(dropped) > 0 {
		m.log.Info("shadow: values that are not data left out of its copy of the state", "integration", s.name, "dropped", dropped)
	}
	return decodeState(b, m.limits)
}

// mirror hands serving call r of ev to s's shadow, if it has one, without
// waiting: a shadow that has fallen shadowQueue calls behind skips it.
// s.callMu is held, so the shadow gets calls in the serving order.
func (s *slot) mirror(ev *eventValue, r Result) {
	sh := s.shadow.Load()
	if sh == nil {
		return
	}
	if sh.closed.Load() { // napping at its budget: nothing is kept for it
		sh.skipped.Add(1)
		return
	}
	sh.pending.Add(1)
	select {
	case sh.queue <- mirroredCall{ev: ev, serving: r}:
		select { // wakes run if it waits on an empty queue; else a no-op
		case sh.wake <- struct{}{}:
		default:
		}
	default:
		sh.pending.Add(-1)
		sh.skipped.Add(1)
		sh.behind.Store(true)
	}
}

// shadowNap is how long a busy shadow waits between two batches of
// mirrored calls. Taking them in batches, rather than being woken by each
// one, spares the serving path a goroutine wake-up per call.
const shadowNap = time.Millisecond

// shadowBatch bounds how long a shadow makes calls before it looks at
// its budget again.
const shadowBatch = 5 * time.Millisecond

// A shadow may keep busy a tenth of one core (shadowShare), with bursts
// of up to shadowBurst: a shadow does its serving version's work again,
// and where no core is spare (a saturated host, a shared machine, or two
// hardware threads of one core, as the 2 CPUs of many virtual machines
// are) its thread would take that time from the serving one. Within the
// budget a shadow keeps up with any load under a tenth of a core; past
// it, it skips calls (counted) and catches up (catchUp).
const (
	shadowShare = 0.1
	shadowBurst = 50 * time.Millisecond
)

// A pacer is a shadow's CPU budget: a token bucket of busy time that
// fills at shadowShare of the time passing, up to shadowBurst.
type pacer struct {
	budget time.Duration
	last   time.Time
}

// spent takes a batch that kept the shadow busy for busy from the budget,
// as of now, and returns how long to nap before the next batch: until
// the budget is positive again, and at least shadowNap.
func (p *pacer) spent(now time.Time, busy time.Duration) time.Duration {
	if !p.last.IsZero() {
		p.budget += time.Duration(float64(now.Sub(p.last)) * shadowShare)
	} else {
		p.budget = shadowBurst
	}
	p.last = now
	p.budget = min(p.budget, shadowBurst) - busy
	if p.budget >= 0 {
		return shadowNap
	}
	return max(shadowNap, time.Duration(float64(-p.budget)/shadowShare))
}

// run makes the mirrored calls until the shadow ends: the calls queued,
// for up to shadowBatch, then a nap as its pacer says, and so on; with
// none queued it sleeps until mirror wakes it.
func (sh *shadow) run() {
	var p pacer
	for {
		if sh.behind.Load() {
			sh.catchUp()
		}
		start := time.Now()
		n := 0
		for drained := false; !drained && time.Since(start) < shadowBatch; {
			select {
			case <-sh.stop:
				return
			case mc := <-sh.queue:
				r, _, ran := sh.m.call(sh.own, mc.ev)
				sh.compare(mc, r, ran)
				n++
			default:
				drained = true
			}
		}
		if n == 0 { // every call queued so far sent a wake after it
			select {
			case <-sh.stop:
				return
			case <-sh.wake:
			}
			continue
		}
		now := time.Now()
		nap := p.spent(now, now.Sub(start))
		throttled := nap > shadowNap
		if throttled { // the calls made while it naps are skipped, not queued (and kept in memory)
			sh.closed.Store(true)
			sh.behind.Store(true)
		}
		sh.mu.Lock()
		sh.report.Throttled = throttled
		sh.mu.Unlock()
		select {
		case <-sh.stop:
			return
		case <-time.After(nap):
		}
	}
}

// catchUp brings a shadow that skipped calls back in step: its state,
// which missed their changes, is copied again from the serving state
// (through the shadow version's migrate, as at its start), the calls
// still queued, made before that copy, are skipped too, and it takes
// calls again. It holds the
// serving slot's callMu meanwhile, so no call is mirrored during the
// copy: the shadow's later results are again comparable.
func (sh *shadow) catchUp() {
	s, v := sh.serving, sh.own.current.Load()
	s.callMu.Lock()
	dropped := int64(0)
	for drained := false; !drained; {
		select {
		case <-sh.queue:
			dropped++
		default:
			drained = true
		}
	}
	st, err := sh.m.shadowCopy(s)
	if err == nil {
		st, err = sh.m.migrate(s, v, st)
	}
	if err == nil { // installed before the shadow takes calls or says it is in step
		sh.own.callMu.Lock()
		sh.own.state = st
		sh.own.callMu.Unlock()
	}
	sh.behind.Store(false) // mirror sets it under s.callMu too
	sh.closed.Store(false) // the calls from now on follow this copy
	s.callMu.Unlock()
	sh.skipped.Add(dropped)
	sh.mu.Lock()
	sh.report.CaughtUp++
	sh.report.Throttled = false
	if sh.pending.Add(-dropped) == 0 {
		sh.idle.Broadcast()
	}
	sh.mu.Unlock()
	if err != nil {
		sh.log("error", "catching up with the serving state after skipped calls: "+err.Error()+"; the shadow keeps its own state")
	}
}

// end stops the shadow's goroutine; calls still queued are not made.
func (sh *shadow) end() {
	sh.stopped.Do(func() {
		close(sh.stop)
		sh.mu.Lock()
		sh.report.Active = false
		sh.idle.Broadcast()
		sh.mu.Unlock()
	})
}

// compare records the outcome of one mirrored call: r is the shadow's
// result; ran is false when the shadow does not handle the event.
func (sh *shadow) compare(mc mirroredCall, r Result, ran bool) {
	var diffs []jsondiff.Difference
	var n int
	if ran {
		diffs, n = CompareResults(mc.serving, r, shadowPaths)
	} else {
		diffs, n = []jsondiff.Difference{{Path: "$", Old: "handled", New: nil, Missing: "new"}}, 1
		r = Result{Integration: sh.own.name, Event: mc.ev.name, Depth: mc.ev.depth, Generation: sh.report.ShadowGeneration,
			Error: &Diagnostic{Msg: fmt.Sprintf("the shadow does not handle %q", mc.ev.name), Kind: ErrorRuntime}}
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rep := &sh.report
	rep.Compared++
	sh.serveLt.add(mc.serving.Duration.Std(), nil)
	switch {
	case n == 0:
		rep.Equal++
	default:
		rep.Different++
		if mc.serving.OK && !r.OK {
			rep.ShadowFailed++
		}
		if len(rep.Differences) < shadowKeep {
			data, _ := newConverter(sh.m.limits).fromStarlark(mc.ev.data, 0)
			rep.Differences = append(rep.Differences, ShadowDifference{Event: mc.ev.name, Depth: mc.ev.depth, Data: data, Time: mc.ev.time,
				Serving: mc.serving, Shadow: r, Paths: diffs, Different: n})
		}
	}
	if sh.pending.Add(-1) == 0 {
		sh.idle.Broadcast()
	}
}

// log keeps one line the shadow logged.
func (sh *shadow) log(level, msg string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	line := msg
	if level != "info" {
		line = level + ": " + msg
	}
	if len(sh.report.Logs) == shadowLogs {
		sh.report.Logs = append(sh.report.Logs[:0], sh.report.Logs[1:]...)
	}
	sh.report.Logs = append(sh.report.Logs, line)
}

// wait waits until the shadow has made every call queued, or has ended.
func (sh *shadow) wait(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		sh.mu.Lock()
		sh.idle.Broadcast()
		sh.mu.Unlock()
	})
	defer stop()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for sh.pending.Load() > 0 && sh.report.Active {
		if err := ctx.Err(); err != nil {
			return err
		}
		sh.idle.Wait()
	}
	return nil
}

// snapshotReport returns a copy of the report brought up to date: the
// counters, latencies and the two states compared now.
func (sh *shadow) snapshotReport() ShadowReport {
	serving, _ := sh.m.slotState(sh.serving)
	own, _ := sh.m.slotState(sh.own)
	stateDiffs, stateN := jsondiff.Compare(serving, own, 50)
	servingGen := sh.serving.current.Load().generation
	sh.mu.Lock()
	defer sh.mu.Unlock()
	rep := sh.report
	rep.On = sh.serving.shadowOn.Load()
	rep.ServingGeneration = servingGen
	rep.Skipped = sh.skipped.Load()
	rep.Behind = sh.behind.Load() || sh.closed.Load()
	rep.Pending = int(sh.pending.Load())
	rep.ServingP50 = Duration(percentile(sh.serveLt.recent(), 50))
	sh.own.mu.Lock()
	rep.ShadowP50 = Duration(percentile(sh.own.stats.recent(), 50))
	sh.own.mu.Unlock()
	rep.Differences = append([]ShadowDifference{}, rep.Differences...)
	rep.Logs = append([]string{}, rep.Logs...)
	rep.StateDifferences, rep.StateDifferent = stateDiffs, stateN
	if rep.StateDifferences == nil {
		rep.StateDifferences = []jsondiff.Difference{}
	}
	return rep
}

// slotState returns s's state as plain data, between two calls.
func (m *Manager) slotState(s *slot) (map[string]any, error) {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	v, err := newConverter(m.limits).fromStarlark(s.state, 0)
	if err != nil {
		return nil, fmt.Errorf("state of %s: %w", s.name, err)
	}
	return v.(map[string]any), nil
}
