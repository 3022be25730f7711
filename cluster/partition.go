package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/afstudio/afstudio/starhost"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stored is a partition's state in the state bucket: the states of its
// integrations and the stream sequence of the last event applied to them.
// The bucket holds it in one value or, when it does not fit in one message
// of the server, in chunks (see manifest).
type Stored struct {
	// Seq is the stream sequence of the last event applied: the next
	// owner starts after it.
	Seq uint64 `json:"seq"`
	// States are the integrations' states (starhost.Manager.StateJSON),
	// by name; the states of integrations not loaded are kept as they are.
	States map[string]json.RawMessage `json:"states"`
}

// A worker applies one partition's events while its host holds the lease.
type worker struct {
	p       int
	stop    chan struct{}
	once    sync.Once
	done    chan struct{}
	manager atomic.Pointer[starhost.Manager]
}

func newWorker(p int) *worker {
	return &worker{p: p, stop: make(chan struct{}), done: make(chan struct{})}
}

// finished reports whether the worker has returned.
func (w *worker) finished() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// stopAndWait asks the worker to stop after its current batch and waits.
func (w *worker) stopAndWait() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

// apply runs a worker until it is stopped or fails; a failed worker is
// started again at the next renewal if the host still holds the lease.
func (h *Host) apply(w *worker) {
	defer close(w.done)
	if err := h.serve(w); err != nil {
		select {
		case <-w.stop:
		default:
			h.log.Warn("partition stopped; started again at the next renewal if still ours", "partition", w.p, "err", err)
		}
	}
}

// serve reads the partition's stored state, imports it into a fresh
// manager and applies the events after its sequence, batch by batch,
// writing the state after each batch. A failure to read or import the
// state is kept for the heartbeat, as writeState keeps its own.
func (h *Host) serve(w *worker) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-w.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	ld, err := loadState(ctx, h.lay.state, w.p)
	if err != nil {
		return h.readFailed(ctx, w.p, err)
	}
	st, rev := ld.Stored, ld.rev
	m, err := h.opts.NewManager(ctx)
	if err != nil {
		return fmt.Errorf("make the partition's manager: %w", err)
	}
	defer m.Close(context.WithoutCancel(ctx))
	carried, err := importStates(ctx, m, st.States)
	if err != nil {
		return h.readFailed(ctx, w.p, err)
	}
	h.book.read(w.p, rev, ld.chunks)
	w.manager.Store(m)
	notices := m.Subscribe(1024)
	defer notices.Close()
	go h.forwardNotices(notices, w.p)
	it, err := h.consume(ctx, w.p, st.Seq)
	if err != nil {
		return err
	}
	defer it.Stop()
	msgs, errc := pump(ctx, it)
	h.log.Debug("applying partition", "partition", w.p, "after_seq", st.Seq)
	batch := make([]jetstream.Msg, 0, h.opts.Batch)
	for {
		var err error
		if batch, err = nextBatch(ctx, msgs, errc, batch[:0]); err != nil || len(batch) == 0 {
			if err != nil {
				err = fmt.Errorf("consume partition %d: %w", w.p, err)
			}
			return err // nil: ctx ended
		}
		// A batch is applied and written whole, even when the worker is
		// told to stop meanwhile: an event cut short would count as
		// applied (its sequence passed) without its effect.
		if !h.applyBatch(context.WithoutCancel(ctx), m, w.p, batch, &st) {
			continue
		}
		if rev, err = h.writeState(m, w.p, st, carried, rev); err != nil {
			return err
		}
	}
}

// consume reads partition p's events after sequence seq with an ordered
// consumer.
func (h *Host) consume(ctx context.Context, p int, seq uint64) (jetstream.MessagesContext, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{partitionFilter(p)}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if seq > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, seq+1
	}
	cons, err := h.lay.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("consume partition %d: %w", p, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(h.opts.Batch))
	if err != nil {
		return nil, fmt.Errorf("consume partition %d: %w", p, err)
	}
	return it, nil
}

// nextBatch waits for the next message, then appends to batch, without
// waiting, those already there after it, up to cap(batch). It returns
// batch empty when ctx ended, and the consumer's error when it failed.
func nextBatch(ctx context.Context, msgs <-chan jetstream.Msg, errc <-chan error, batch []jetstream.Msg) ([]jetstream.Msg, error) {
	select {
	case <-ctx.Done():
		return batch, nil
	case err := <-errc:
		return batch, err
	case msg := <-msgs:
		batch = append(batch, msg)
	}
	for len(batch) < cap(batch) {
		select {
		case msg := <-msgs:
			batch = append(batch, msg)
		default:
			return batch, nil
		}
	}
	return batch, nil
}

// pump feeds a goroutine's reads of the iterator into a channel, until
// ctx ends.
func pump(ctx context.Context, it jetstream.MessagesContext) (<-chan jetstream.Msg, <-chan error) {
	msgs, errc := make(chan jetstream.Msg, 64), make(chan error, 1)
	go func() {
		for {
			msg, err := it.Next()
			if err != nil {
				if ctx.Err() == nil {
					errc <- err
				}
				return
			}
			select {
			case msgs <- msg:
			case <-ctx.Done():
				return
			}
		}
	}()
	return msgs, errc
}

// applyBatch applies the events of a batch not applied yet to m, in
// order, advancing st.Seq; it reports whether it applied any. An event
// that cannot be applied (bad JSON, a bad name) is logged and passed
// over: it would fail the same way again.
func (h *Host) applyBatch(ctx context.Context, m *starhost.Manager, p int, batch []jetstream.Msg, st *Stored) bool {
	applied := false
	for _, msg := range batch {
		meta, err := msg.Metadata()
		if err != nil {
			h.log.Warn("message without metadata passed over", "partition", p, "err", err)
			continue
		}
		seq := meta.Sequence.Stream
		if seq <= st.Seq {
			continue // applied and stored already
		}
		st.Seq, applied = seq, true
		event, _, ok := eventOf(msg.Subject())
		if !ok {
			h.log.Warn("message on an unexpected subject passed over", "partition", p, "subject", msg.Subject(), "seq", seq)
			continue
		}
		var data map[string]any
		if len(msg.Data()) > 0 {
			if err := json.Unmarshal(msg.Data(), &data); err != nil {
				h.log.Warn("event whose data is not a JSON object passed over", "partition", p, "event", event, "seq", seq, "err", err)
				continue
			}
		}
		rs, err := m.Emit(ctx, event, data)
		if err != nil {
			h.log.Warn("event not handled", "partition", p, "event", event, "seq", seq, "err", err)
		}
		if h.opts.PublishResults {
			for _, r := range rs {
				h.publish(ResultSubject(event), p, r)
			}
		}
	}
	return applied
}

// writeState writes the partition's states and sequence, expecting the
// revision the host read or wrote last; a different revision means
// another host owns the partition now, and this one stops. Any other
// failure is kept for the heartbeat until a write succeeds.
func (h *Host) writeState(m *starhost.Manager, p int, st Stored, carried map[string]json.RawMessage, rev uint64) (uint64, error) {
	st.States = maps.Clone(carried)
	if st.States == nil {
		st.States = map[string]json.RawMessage{}
	}
	for _, name := range m.Names() {
		b, err := m.StateJSON(name)
		if err != nil {
			return rev, fmt.Errorf("state of %s in partition %d: %w", name, p, err)
		}
		st.States[name] = b
	}
	nrev, err := h.storeState(p, st, rev)
	if err != nil {
		err = fmt.Errorf("write the state of partition %d (seq %d): %w; the events since the last write are applied again by the partition's owner", p, st.Seq, err)
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) { // not fenced off: a problem to show
			h.book.fail(p, opWrite, err)
		}
		return rev, err
	}
	return nrev, nil
}

// readFailed keeps a failure to read or import partition p's state for
// the heartbeat, unless the worker was stopped meanwhile, and returns it.
func (h *Host) readFailed(ctx context.Context, p int, err error) error {
	if ctx.Err() == nil {
		h.book.fail(p, opRead, err)
	}
	return err
}

// readState reads partition p's stored state and its revision (0 when
// there is none yet), inline or chunked.
func readState(ctx context.Context, kv jetstream.KeyValue, p int) (Stored, uint64, error) {
	ld, err := loadState(ctx, kv, p)
	return ld.Stored, ld.rev, err
}

// importStates imports the states of the integrations m has loaded and
// returns the others, to be carried along unchanged.
func importStates(ctx context.Context, m *starhost.Manager, states map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	loaded := map[string]bool{}
	for _, n := range m.Names() {
		loaded[n] = true
	}
	imp := map[string][]byte{}
	carried := map[string]json.RawMessage{}
	for name, s := range states {
		if loaded[name] {
			imp[name] = s
		} else {
			carried[name] = s
		}
	}
	if len(imp) > 0 {
		if err := m.ImportStates(ctx, imp); err != nil {
			return nil, fmt.Errorf("import the partition's states: %w", err)
		}
	}
	return carried, nil
}

// ResultSubject is the subject of the results of an event's handler
// calls (Options.PublishResults).
func ResultSubject(event string) string { return "afstudio.results." + event }

// NoticeSubject is the subject of the notices of a kind (loaded,
// reloaded, reload_failed, handler_failed, log, ...).
func NoticeSubject(kind starhost.NoticeKind) string { return "afstudio.notices." + string(kind) }

// Headers of the results and notices a host publishes.
const (
	// HeaderHost names the host that published the message.
	HeaderHost = "Afstudio-Host"
	// HeaderPartition is the partition whose manager produced it.
	HeaderPartition = "Afstudio-Partition"
)

// forwardNotices publishes a partition manager's notices to
// afstudio.notices.<kind>, but for events (they are in the stream) and
// results (Options.PublishResults), until the subscription closes. A
// notice that cannot be published is dropped: notices never slow the
// events down.
func (h *Host) forwardNotices(sub *starhost.Subscription, p int) {
	for n := range sub.C {
		if n.Kind == starhost.NoticeEvent || n.Kind == starhost.NoticeResult {
			continue
		}
		h.publish(NoticeSubject(n.Kind), p, n)
	}
}

// publish publishes v as JSON on subject with the host and partition
// headers, with core NATS (buffered by the client, no acknowledgement).
func (h *Host) publish(subject string, p int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		h.log.Warn("not published", "subject", subject, "err", err)
		return
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	msg.Header.Set(HeaderHost, h.id)
	msg.Header.Set(HeaderPartition, strconv.Itoa(p))
	if err := h.opts.JetStream.Conn().PublishMsg(msg); err != nil {
		h.log.Debug("not published", "subject", subject, "err", err)
	}
}
