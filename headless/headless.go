// Package headless is afstudio's front end without a window (`afstudio
// run --headless`): it reads events as JSON lines and writes what the
// host does as JSON lines, so that any program can drive the host through
// a pipe.
//
// Input is one JSON object per line (see [Input]); blank lines are
// skipped:
//
//	{"event": "response_received", "data": {"mission_id": "m1", "latency_ms": 6200}}
//	{"event": "mission_started", "data": {"mission_id": "m2"}, "id": "evt-42"}
//
// A line may also have a "time" (RFC 3339), which is ignored: a recording
// of package recording is valid input.
//
// An event with an "id" is handled at most once (starhost.Manager.EmitID):
// a program that sends it again, after a restart of the host for
// instance, gets one "duplicate" notice ([NoticeDuplicate]) instead of
// results. The result notices of an event with an id carry it.
//
// Output is one [starhost.Notice] per line, the same JSON object the
// control API's notice stream sends: lifecycle notices ("loaded",
// "reloaded", "reload_failed", "log", ...), one "result" notice per
// handler call with the [starhost.Result] under "result", and an
// "input_error" notice ([NoticeInputError]) for a line that is not an
// event, whose error names the line and says what to send instead.
// Event notices are left out: the input already says which events were
// sent.
//
// # Order
//
// Lines are written in the order things happened. The results of input
// line N are written after every notice published before its handlers
// returned (the logs and failures those handlers caused included), and
// line N+1 is read only once they are written, so nothing it causes can
// be written before them. A [Host] has one writer: notices and results
// never interleave within a line.
package headless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// NoticeInputError is the kind of the notice written for an input line
// that is not a valid event. Its Error is a diagnostic at the line
// ("stdin:LINE:COL: what is wrong; what to send"); processing continues
// with the next line.
const NoticeInputError starhost.NoticeKind = "input_error"

// NoticeDuplicate is the kind of the notice written for an input line
// whose "id" was handled already (starhost.ErrDuplicateEvent): the event
// was not handled again. It carries the line's Event and ID, and a
// Message that says so.
const NoticeDuplicate starhost.NoticeKind = "duplicate"

// DefaultMaxLineBytes is the longest input line read when
// Options.MaxLineBytes is zero: 4 MiB.
const DefaultMaxLineBytes = 4 << 20

// Input is one input line: an event and its data.
type Input struct {
	// Event is the event's name, e.g. "mission_started"; it must be
	// non-empty and without spaces.
	Event string `json:"event"`
	// Data is the event's payload, a JSON object; absent or null means
	// an empty object.
	Data json.RawMessage `json:"data,omitempty"`
	// ID is the event's optional id (starhost.Manager.EmitID): an event
	// whose id was handled already is not handled again. Absent or "" for
	// none.
	ID string `json:"id,omitempty"`
	// Time is when the event was recorded, as a recording (package
	// recording) writes it: RFC 3339. The host ignores it; it is accepted
	// so that a recording replays through the headless host as it is.
	Time time.Time `json:"time,omitzero"`
}

// Options configure a Host. The zero value is ready to use.
type Options struct {
	// MaxLineBytes is the longest input line accepted, in bytes; a longer
	// line gets an input error and is skipped. Zero means
	// DefaultMaxLineBytes.
	MaxLineBytes int
	// InputName names the input in input errors' positions; "" means
	// "stdin".
	InputName string
	// Logger receives the host's own logs; nil discards them.
	Logger *slog.Logger
	// FirstLine is the number of the first input line, in input errors'
	// positions; 0 means 1. A worker restarted by its supervisor (package
	// supervise) continues the numbering of the input it relays.
	FirstLine int
	// Progress, if not nil, is told of each input line (numbered from 1
	// in the input Serve reads, whatever FirstLine is) as its event is
	// about to be emitted (handled false) and once its results are
	// written (handled true). A supervisor learns from it, through
	// package blackbox, which line a worker that died was handling.
	Progress func(line int64, handled bool)
}

// closed reports whether the host's writer has stopped (Close).
func (h *Host) closed() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// ErrClosed is returned by Serve on a Host that was closed.
var ErrClosed = errors.New("headless: host closed")

// A Host writes the notices of one starhost.Manager to an output, and
// emits the events it reads (Serve). Create it with New before loading
// the manager, so that the load notices are written too.
type Host struct {
	m    *starhost.Manager
	sub  *starhost.Subscription
	opts Options
	log  *slog.Logger

	enc     *json.Encoder // written by the writer goroutine only
	batches chan batch    // Serve -> writer
	done    chan struct{} // closed when the writer has stopped
	once    sync.Once

	mu  sync.Mutex
	err error // the first write error
}

// A batch is the lines Serve writes for one input line; written is closed
// once they are.
type batch struct {
	notices []starhost.Notice
	written chan struct{}
}

// New subscribes to m's notices and starts writing them to out, one JSON
// line each, until Close. Call Close when done.
func New(m *starhost.Manager, out io.Writer, opts Options) *Host {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.InputName == "" {
		opts.InputName = "stdin"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Host{
		m: m, sub: m.Subscribe(4096), opts: opts, log: opts.Logger,
		enc: json.NewEncoder(out), batches: make(chan batch), done: make(chan struct{}),
	}
	go h.writeLoop()
	return h
}

// Close stops following the host, writes the notices already published
// and returns the first error writing the output, if any. Call it after
// Serve has returned; it is safe to call more than once.
func (h *Host) Close() error {
	h.once.Do(func() {
		h.sub.Close()
		if n := h.sub.Dropped(); n > 0 {
			h.log.Warn("notices were lost because the output did not keep up (results never are)", "lost", n)
		}
	})
	<-h.done
	return h.writeErr()
}

// Dropped returns how many notices were lost because the output did not
// keep up with the host: at most 4096 wait to be written. Results are
// never dropped.
func (h *Host) Dropped() uint64 { return h.sub.Dropped() }

// Serve reads events from in, one JSON line each, emits each to the host
// and writes one result notice per handler call, or an input error for a
// line that is not an event. It returns nil at the end of in, ctx.Err()
// when ctx ends, and an error when in cannot be read or the output cannot
// be written. A goroutine reading in may outlive Serve until in returns
// (the next line or its end).
func (h *Host) Serve(ctx context.Context, in io.Reader) error {
	if h.closed() {
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the reader at its next line
	lines := make(chan inputLine)
	go readLines(ctx, in, h.opts.MaxLineBytes, lines)
	for {
		var l inputLine
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case l, ok = <-lines:
		}
		if !ok {
			return nil
		}
		if h.closed() {
			return ErrClosed // no event runs on a closed host
		}
		if h.opts.Progress != nil {
			h.opts.Progress(int64(l.n), false)
		}
		if err := h.write(ctx, h.handle(ctx, l)); err != nil {
			return err
		}
		if h.opts.Progress != nil {
			h.opts.Progress(int64(l.n), true)
		}
		if l.err != nil {
			return fmt.Errorf("read %s line %d: %w", h.opts.InputName, l.n, l.err)
		}
	}
}

// handle turns one input line into the notices to write: one result
// notice per handler call, or one input error.
func (h *Host) handle(ctx context.Context, l inputLine) []starhost.Notice {
	switch {
	case l.err != nil:
		return []starhost.Notice{h.inputError(l.n, 1, fmt.Sprintf("cannot read the input: %v", l.err))}
	case l.tooLong:
		return []starhost.Notice{h.inputError(l.n, 1, fmt.Sprintf("the line is longer than %d bytes and was skipped; send one event per line, each at most that long", h.opts.MaxLineBytes))}
	case isBlank(l.text):
		return nil
	}
	in, col, err := decodeInput(l.text)
	if err != nil {
		return []starhost.Notice{h.inputError(l.n, col, err.Error()+`; send one JSON object per line: {"event": NAME, "data": {...}}`)}
	}
	data, err := starhost.DecodeEventData(in.Data)
	if err != nil {
		return []starhost.Notice{h.inputError(l.n, 1, err.Error())}
	}
	results, err := h.m.EmitID(ctx, in.ID, in.Event, data)
	if errors.Is(err, starhost.ErrDuplicateEvent) {
		return []starhost.Notice{{Kind: NoticeDuplicate, Time: time.Now(), Event: in.Event, ID: in.ID, Message: err.Error()}}
	}
	if err != nil {
		return []starhost.Notice{h.inputError(l.n, 1, err.Error())}
	}
	now := time.Now()
	out := make([]starhost.Notice, len(results))
	for i, r := range results {
		out[i] = r.Notice()
		out[i].Time = now
		out[i].ID = in.ID
	}
	return out
}

// inputError is the notice for a bad input line.
func (h *Host) inputError(line, col int, msg string) starhost.Notice {
	return starhost.Notice{Kind: NoticeInputError, Time: time.Now(), Error: &starhost.Diagnostic{
		File: h.opts.InputName, Line: line + max(h.opts.FirstLine, 1) - 1, Col: col, Msg: msg, Kind: starhost.ErrorInvalid,
	}}
}

// write hands notices to the writer and waits until they are written,
// after every notice published before. It returns the first write error.
func (h *Host) write(ctx context.Context, notices []starhost.Notice) error {
	if len(notices) == 0 {
		return h.writeErr()
	}
	b := batch{notices: notices, written: make(chan struct{})}
	select {
	case h.batches <- b:
	case <-h.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	<-b.written // the writer always finishes a batch it took
	return h.writeErr()
}

// writeLoop is the one writer of the output. It writes notices as they
// are published; a batch from Serve is written after every notice
// already published, which is what orders results after the notices
// their handlers caused.
func (h *Host) writeLoop() {
	defer close(h.done)
	for {
		select {
		case n, ok := <-h.sub.C:
			if !ok {
				return // Close: every notice left in the buffer has been read
			}
			h.writeNotice(n)
		case b := <-h.batches:
			h.drain()
			for _, n := range b.notices {
				h.writeNotice(n)
			}
			close(b.written)
		}
	}
}

// drain writes every notice waiting in the subscription, without
// blocking.
func (h *Host) drain() {
	for {
		select {
		case n, ok := <-h.sub.C:
			if !ok {
				return
			}
			h.writeNotice(n)
		default:
			return
		}
	}
}

// writeNotice writes n as one JSON line; event notices are left out.
// After the first write error nothing more is written.
func (h *Host) writeNotice(n starhost.Notice) {
	if n.Kind == starhost.NoticeEvent || h.writeErr() != nil {
		return
	}
	if err := h.enc.Encode(n); err != nil {
		h.mu.Lock()
		h.err = fmt.Errorf("write the output: %w", err)
		h.mu.Unlock()
		h.log.Error("cannot write the output; no more lines are written", "error", err)
	}
}

func (h *Host) writeErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}
