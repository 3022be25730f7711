package statestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is the flush interval of a zero [WriterOptions]: the
// bound on how much older than the crash a restored state can be (plus
// one flush).
const DefaultInterval = 100 * time.Millisecond

// ErrWriterClosed: Flush or Sync was called after Close.
var ErrWriterClosed = errors.New("state writer closed")

// WriterOptions tune [NewWriter]. The zero value is the default.
type WriterOptions struct {
	// Interval is the longest a change waits before it is flushed. Zero
	// means DefaultInterval.
	Interval time.Duration
	// OnError receives every failed flush (called on the writer's
	// goroutine; keep it short). The changed integrations stay changed and
	// are written again at the next flush, so nothing is lost while the
	// error lasts. Nil logs the errors with slog.Default.
	OnError func(error)
}

// A Writer writes the states of changed integrations behind the events
// that change them: [Writer.Changed] marks an integration, and a flush, at
// most Interval later, calls the host's collect callback with the marked
// names and saves the records it returns in one transaction of the
// [Store]. However many times an integration was marked, it is written
// once per flush.
//
// collect must return the current state of each named integration that
// still exists (and may leave out the others); it runs on the writer's
// goroutine, must not keep names, and must not call Flush, Sync or Close.
//
// The methods are safe for concurrent use.
type Writer struct {
	store    *Store
	collect  func(names []string) []Record
	save     func(context.Context, []Record, []Handled) error // store.save; replaced by tests
	interval time.Duration
	onError  func(error)

	// entries maps a name to its changed flag. It is copied on write (a
	// new name) so that Changed reads it without a lock.
	entries atomic.Pointer[map[string]*entry]
	addMu   sync.Mutex
	// pending is set when a flag went from clean to changed since the
	// last flush began; kick wakes the goroutine to arm its timer.
	pending atomic.Bool
	kick    chan struct{}

	// gate is held for reading by each event between BeginEvent and
	// EndEvent, and for writing by a flush from the moment it takes the
	// changed flags to the end of collect: the states a flush saves hold
	// all or nothing of each such event's changes, and handled holds
	// the ids of exactly those whose changes they hold.
	gate    sync.RWMutex
	idMu    sync.Mutex
	handled []Handled // ids handled since the last flush took them

	mu     sync.Mutex
	next   *batch // the forced flush that Flush and Sync callers join
	closed bool
	force  chan struct{}
	quit   chan struct{}
	done   chan struct{}
	err    error // of the final flush; read after done

	// Owned by the writer's goroutine.
	names []string
	recs  []Record
	ids   []Handled
}

// entry is padded to a cache line so that integrations changed from
// different cores do not share one.
type entry struct {
	changed atomic.Bool
	_       [60]byte
}

// batch is one forced flush; its callers wait for done and read err.
type batch struct {
	done chan struct{}
	err  error
}

// NewWriter starts a writer that saves into store the records collect
// returns. Stop it with Close (before closing the store).
func NewWriter(store *Store, collect func(names []string) []Record, opts WriterOptions) *Writer {
	if store == nil || collect == nil {
		panic("statestore.NewWriter: a store and a collect function are required")
	}
	w := &Writer{
		store:    store,
		collect:  collect,
		save:     store.save,
		interval: opts.Interval,
		onError:  opts.OnError,
		kick:     make(chan struct{}, 1),
		force:    make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if w.interval <= 0 {
		w.interval = DefaultInterval
	}
	if w.onError == nil {
		w.onError = func(err error) { slog.Default().Error("state not saved", "err", err) }
	}
	w.entries.Store(&map[string]*entry{})
	go w.run()
	return w
}

// Changed marks the integration's state as changed: it will be saved by
// the next flush. Call it after the change. It takes a few nanoseconds and
// allocates only the first time a name is seen.
func (w *Writer) Changed(name string) {
	e := (*w.entries.Load())[name]
	if e == nil {
		e = w.add(name)
	}
	if e.changed.Load() || !e.changed.CompareAndSwap(false, true) {
		return // already marked; the flush to come takes it
	}
	w.wake()
}

// add registers a new name.
func (w *Writer) add(name string) *entry {
	w.addMu.Lock()
	defer w.addMu.Unlock()
	old := *w.entries.Load()
	if e := old[name]; e != nil {
		return e
	}
	m := make(map[string]*entry, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	e := &entry{}
	m[name] = e
	w.entries.Store(&m)
	return e
}

// BeginEvent starts an event whose id is to be saved with the states it
// produces: a flush does not take the states while such an event runs,
// so that it never saves part of an event's changes, nor its id without
// its changes (it waits for the events begun, and events begun after it
// waits wait for it: a flush delays them by the rest of the longest one).
// Every BeginEvent must be followed by one EndEvent, and the event must
// not call Flush, Sync or Close in between (they would wait for it).
func (w *Writer) BeginEvent() { w.gate.RLock() }

// EndEvent ends an event started with BeginEvent, after it called Changed
// for every integration it changed. A non-empty id is saved as handled at
// the given time by the next flush, in the transaction that saves the
// states the event changed (see [Handled]); a failed flush keeps the ids
// for the next one, as it does the states.
func (w *Writer) EndEvent(id string, at time.Time) {
	if id != "" {
		w.idMu.Lock()
		w.handled = append(w.handled, Handled{ID: id, At: at})
		w.idMu.Unlock()
		w.wake()
	}
	w.gate.RUnlock()
}

// wake makes sure a flush comes within the interval.
func (w *Writer) wake() {
	if w.pending.CompareAndSwap(false, true) {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// requeue gives ids a failed flush did not save to the next flush.
func (w *Writer) requeue(ids []Handled) {
	if len(ids) == 0 {
		return
	}
	w.idMu.Lock()
	w.handled = append(slices.Clone(ids), w.handled...)
	w.idMu.Unlock()
	w.wake()
}

// Flush saves every changed integration now and waits until it is on disk
// (or ctx is done: the flush still happens). Concurrent callers share one
// flush. It returns the flush's error.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return fmt.Errorf("state store %s: flush: %w", w.store.path, ErrWriterClosed)
	}
	b := w.next
	if b == nil {
		b = &batch{done: make(chan struct{})}
		w.next = b
	}
	w.mu.Unlock()
	select {
	case w.force <- struct{}{}:
	default: // a signal is pending; it will take b
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return fmt.Errorf("state store %s: flush: %w", w.store.path, ctx.Err())
	}
}

// Sync returns once the integration's current state (as of the call) is on
// disk: it marks it changed and flushes. Concurrent callers share one
// transaction (group commit), so N callers cost about one commit, not N.
// This is the --durable sync mode.
func (w *Writer) Sync(ctx context.Context, name string) error {
	w.Changed(name)
	return w.Flush(ctx)
}

// Close flushes what changed, stops the writer and returns the flush's
// error. It waits for the flush until ctx is done. It does not close the
// store. Changed calls after Close are ignored; Flush and Sync fail with
// ErrWriterClosed.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.quit)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return fmt.Errorf("state store %s: close writer: %w (the last flush goes on)", w.store.path, ctx.Err())
	}
}

// run is the writer's goroutine: it flushes Interval after the first change
// since the last flush, when forced, and when closed.
func (w *Writer) run() {
	defer close(w.done)
	timer := time.NewTimer(w.interval)
	timer.Stop()
	armed := false
	for {
		select {
		case <-w.kick:
			if !armed {
				timer.Reset(w.interval)
				armed = true
			}
		case <-timer.C:
			armed = false
			w.flush()
		case <-w.force:
			w.forced()
		case <-w.quit:
			timer.Stop()
			w.err = w.forced()
			return
		}
	}
}

// forced runs a flush for the callers that joined w.next.
func (w *Writer) forced() error {
	w.mu.Lock()
	b := w.next
	w.next = nil
	w.mu.Unlock()
	err := w.flush()
	if b != nil {
		b.err = err
		close(b.done)
	}
	return err
}

// flush saves the changed integrations in one transaction. On failure
// they are marked changed again (retried at the next flush) and the error
// is reported.
//
// The flags and ids are taken, and the states collected, under the gate
// (see BeginEvent), so that the ids saved are those of the events whose
// changes the states hold.
func (w *Writer) flush() error {
	w.gate.Lock()
	w.pending.Store(false) // before the flags: a later Changed kicks again
	names := w.names[:0]
	for name, e := range *w.entries.Load() {
		if e.changed.Swap(false) {
			names = append(names, name)
		}
	}
	w.names = names
	w.idMu.Lock()
	w.ids, w.handled = w.handled, w.ids[:0]
	w.idMu.Unlock()
	if len(names) == 0 && len(w.ids) == 0 {
		w.gate.Unlock()
		return nil
	}
	slices.Sort(names)
	var recs []Record
	var err error
	if len(names) > 0 {
		recs, err = w.collectSafely(names)
	}
	w.gate.Unlock()
	if err != nil {
		w.remark(names...)
		w.requeue(w.ids)
		err = fmt.Errorf("state store %s: collect %d states: %w; retrying at the next flush", w.store.path, len(names), err)
		w.onError(err)
		return err
	}
	var errs []error
	for i := range recs {
		if err := validate(&recs[i]); err != nil {
			errs = append(errs, fmt.Errorf("state store %s: flush: %w; it was not saved (the others were) and is saved again when it changes", w.store.path, err))
			continue
		}
		w.recs = append(w.recs, recs[i])
	}
	if err := w.save(context.Background(), w.recs, w.ids); err != nil {
		for i := range w.recs {
			w.remark(w.recs[i].Name)
		}
		w.requeue(w.ids)
		errs = append(errs, fmt.Errorf("state store %s: save %d records: %w; retrying at the next flush", w.store.path, len(w.recs), err))
	}
	clear(w.recs) // drop the states
	w.recs = w.recs[:0]
	err = errors.Join(errs...)
	if err != nil {
		w.onError(err)
	}
	return err
}

// collectSafely calls collect, turning a panic into an error.
func (w *Writer) collectSafely(names []string) (recs []Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("collect panicked: %v", p)
		}
	}()
	return w.collect(names), nil
}

// remark marks names changed again after a failed flush.
func (w *Writer) remark(names ...string) {
	for _, name := range names {
		w.Changed(name)
	}
}
