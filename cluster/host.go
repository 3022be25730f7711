package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultBatch is the most events applied between two state writes when
// Options.Batch is 0.
const DefaultBatch = 512

// Options configure a Host.
type Options struct {
	// Layout names the stream and buckets (Init made them).
	Layout
	// JetStream is the host's connection to the server; required. The
	// caller closes the connection after Run returns.
	JetStream jetstream.JetStream
	// NewManager returns a manager with its integrations loaded, one per
	// partition the host takes (the same integrations on every host);
	// required. The host imports the partition's states into it and
	// closes it when it gives the partition up. It must not have a state
	// store: the partition's state lives in the server's bucket.
	NewManager func(ctx context.Context) (*starhost.Manager, error)
	// ID names the host among the others; "" means DefaultID(). Two
	// hosts must never share one: New refuses an ID whose heartbeat is
	// alive with another Instance.
	ID string
	// Instance tells this run of the host from another one with the same
	// ID; "" means NewInstance(). A supervisor passes the same ID and
	// Instance to every worker it starts: a worker started again after
	// its predecessor died is then the same host, and it adopts the
	// leases the predecessor left at once instead of waiting for them to
	// expire.
	Instance string
	// Batch is the most events applied between two state writes; 0 means
	// DefaultBatch. A state write is one round trip to the server, shared
	// by the batch.
	Batch int
	// PublishResults publishes every handler call's result (its JSON, as
	// run --headless prints it) to afstudio.results.<event>, with the
	// headers Afstudio-Host and Afstudio-Partition. Off by default: one
	// message per call. Results are published when an event is applied,
	// so an event applied again after a host died has its results
	// published again.
	PublishResults bool
	// Logger receives the host's logs; nil discards them.
	Logger *slog.Logger
}

// A Host takes its share of the partitions and applies their events to
// the integrations. Create it with New, run it with Run.
type Host struct {
	opts     Options
	id       string
	instance string
	log      *slog.Logger
	lay      *opened

	// Run's goroutine only (and New before it):
	leases       map[int]uint64 // revision of each lease held
	hbRev        uint64         // revision of the heartbeat last written; 0: none
	adoptUntil   time.Time      // before it, a lease holding the id is the predecessor's
	standingDown bool           // another instance holds the id
	book         stateBook      // the partitions' stored states, as this host knows them

	mu      sync.Mutex
	workers map[int]*worker // the partitions being applied
}

// heartbeat is the value of a host's key in the owners bucket.
type heartbeat struct {
	ID           string    `json:"id"`
	Instance     string    `json:"instance"`
	Owned        []int     `json:"owned"`
	At           time.Time `json:"at"`
	Integrations []string  `json:"integrations,omitempty"` // integrationSet; absent with no partition
	Failed       []string  `json:"failed,omitempty"`
}

// New returns a host for the layout on the server (Init made it); it takes
// no partition before Run.
func New(ctx context.Context, opts Options) (*Host, error) {
	if opts.JetStream == nil || opts.NewManager == nil {
		return nil, errors.New("cluster host: Options.JetStream and Options.NewManager are required")
	}
	lay, err := open(ctx, opts.JetStream, opts.Layout)
	if err != nil {
		return nil, err
	}
	id, instance := opts.ID, opts.Instance
	if id == "" {
		id = DefaultID()
	}
	if instance == "" {
		instance = NewInstance()
	}
	if strings.ContainsAny(id, ".*> ") {
		return nil, fmt.Errorf("cluster host id %q: use no dots, spaces, * or >", id)
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Host{opts: opts, id: id, instance: instance, log: log.With("host", id), lay: lay, leases: map[int]uint64{}, workers: map[int]*worker{}}
	if err := h.checkIdentity(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// ID returns the host's id.
func (h *Host) ID() string { return h.id }

// Instance returns the host's instance (Options.Instance).
func (h *Host) Instance() string { return h.instance }

// Partitions returns the number of partitions of the stream.
func (h *Host) Partitions() int { return h.lay.partitions }

// LeaseTTL returns the lease TTL of the owners bucket: a dead host's
// partitions move after at most LeaseTTL*4/3.
func (h *Host) LeaseTTL() time.Duration { return h.lay.ttl }

// Owned returns the partitions the host is applying now, in order.
func (h *Host) Owned() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
	for p, w := range h.workers {
		if !w.finished() {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// managers returns the managers of the partitions the host applies, by
// partition, in order.
func (h *Host) managers() []partitionManager {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []partitionManager
	for _, p := range slices.Sorted(maps.Keys(h.workers)) {
		if m := h.workers[p].manager.Load(); m != nil && !h.workers[p].finished() {
			out = append(out, partitionManager{p, m})
		}
	}
	return out
}

// partitionManager is the manager of partition p.
type partitionManager struct {
	p int
	m *starhost.Manager
}

// ReloadFiles passes changed integration files to the manager of every
// partition the host applies (see starhost.Manager.ReloadFiles); managers
// made later load the files as they are.
func (h *Host) ReloadFiles(ctx context.Context, paths []string) {
	h.mu.Lock()
	ws := make([]*worker, 0, len(h.workers))
	for _, w := range h.workers {
		ws = append(ws, w)
	}
	h.mu.Unlock()
	for _, w := range ws {
		if m := w.manager.Load(); m != nil {
			for _, o := range m.ReloadFiles(ctx, paths) {
				if o.Err != nil {
					h.log.Warn("reload failed; the old version keeps serving", "partition", w.p, "integration", o.Integration, "module", o.Module, "err", o.Err)
				}
			}
		}
	}
}

// Run takes and renews the host's share of partitions and applies their
// events until ctx ends; then it stops applying, writes the last states
// and gives its partitions back, so that the other hosts take them at
// once. Errors talking to the server are logged and retried: Run returns
// only when ctx ends.
func (h *Host) Run(ctx context.Context) error {
	every := h.lay.ttl / 3
	h.log.Info("cluster host started", "instance", h.instance, "partitions", h.lay.partitions, "lease_ttl", h.lay.ttl, "renew_every", every)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := h.tick(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("renewing leases failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			h.release()
			return nil
		case <-t.C:
		}
	}
}

// tick renews the heartbeat, takes the free partitions assigned to this
// host, renews the leases it keeps and gives back the others; while
// another instance holds the host's id, it stands down instead.
func (h *Host) tick(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.lay.ttl)
	defer cancel()
	beat := heartbeat{ID: h.id, Instance: h.instance, Owned: h.Owned(), At: time.Now().UTC()}
	beat.Integrations, beat.Failed = hostSet(h.managers())
	beat.Failed = append(beat.Failed, h.book.failures(h.leases)...)
	hb, _ := json.Marshal(beat)
	if err := h.beat(ctx, hb); errors.Is(err, errIDTaken) {
		h.standDown(ctx, err)
		return nil
	} else if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	if h.standingDown {
		h.standingDown = false
		h.log.Warn("the other host with this host's id is gone: taking partitions again", "id", h.id)
	}
	beats, err := aliveHosts(ctx, h.lay)
	if err != nil {
		return err
	}
	hosts := slices.Collect(maps.Keys(beats))
	if !slices.Contains(hosts, h.id) {
		hosts = append(hosts, h.id)
	}
	want := Assign(h.lay.partitions, hosts)
	var errs []error
	for p := range h.lay.partitions {
		if err := h.tickPartition(ctx, p, want[p] == h.id); err != nil {
			errs = append(errs, fmt.Errorf("partition %d: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// tickPartition renews, takes or gives back partition p's lease.
func (h *Host) tickPartition(ctx context.Context, p int, mine bool) error {
	key := leaseKey(p)
	e, err := h.lay.owners.Get(ctx, key)
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return err
	}
	rev, held := h.leases[p]
	if !held && err == nil && h.adoptable(e) {
		return h.adopt(ctx, p, e.Revision(), mine)
	}
	if held && err == nil && e.Revision() == rev { // ours, as we left it
		if !mine {
			h.handOff(ctx, p, rev)
			return nil
		}
		nrev, err := h.lay.owners.Update(ctx, key, []byte(h.id), rev)
		if err != nil {
			h.lose(p, err)
			return err
		}
		h.leases[p] = nrev
		h.ensureWorker(p)
		return nil
	}
	if held { // expired, or taken: whatever we applied since the last write is the next owner's to apply
		h.lose(p, fmt.Errorf("lease no longer ours"))
	}
	if errors.Is(err, jetstream.ErrKeyNotFound) && mine {
		nrev, err := h.lay.owners.Create(ctx, key, []byte(h.id))
		if err != nil {
			return nil // another host was faster; the next tick sees it
		}
		h.leases[p] = nrev
		h.ensureWorker(p)
		h.log.Info("partition taken", "partition", p)
	}
	return nil
}

// ensureWorker starts applying partition p unless it is being applied.
func (h *Host) ensureWorker(p int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.workers[p]; w != nil && !w.finished() {
		return
	}
	w := newWorker(p)
	h.workers[p] = w
	go h.apply(w)
}

// stopWorker stops applying partition p and waits until its last batch is
// written (or failed to be).
func (h *Host) stopWorker(p int) {
	h.mu.Lock()
	w := h.workers[p]
	delete(h.workers, p)
	h.mu.Unlock()
	if w != nil {
		w.stopAndWait()
	}
}

// lose forgets a lease that is no longer ours.
func (h *Host) lose(p int, why error) {
	h.stopWorker(p)
	delete(h.leases, p)
	h.log.Warn("partition lost", "partition", p, "why", why)
}

// handOff gives partition p back: its states written, its lease deleted.
func (h *Host) handOff(ctx context.Context, p int, rev uint64) {
	h.stopWorker(p)
	delete(h.leases, p)
	if err := h.lay.owners.Delete(ctx, leaseKey(p), jetstream.LastRevision(rev)); err != nil {
		h.log.Warn("giving a partition back failed; it moves when the lease expires", "partition", p, "err", err)
		return
	}
	h.log.Info("partition given back", "partition", p)
}

// release stops every partition and gives the leases and the heartbeat
// back, on a clean stop.
func (h *Host) release() {
	ctx, cancel := context.WithTimeout(context.Background(), h.lay.ttl)
	defer cancel()
	for _, p := range slices.Sorted(maps.Keys(h.leases)) {
		h.handOff(ctx, p, h.leases[p])
	}
	h.mu.Lock()
	rest := slices.Collect(maps.Keys(h.workers))
	h.mu.Unlock()
	for _, p := range rest {
		h.stopWorker(p)
	}
	if h.hbRev != 0 { // never another instance's
		_ = h.lay.owners.Delete(ctx, hostKey(h.id), jetstream.LastRevision(h.hbRev))
	}
	h.log.Info("cluster host stopped; partitions given back")
}

// aliveHosts returns the heartbeats that have not expired, by host id. It
// asks the owners bucket's stream for its heartbeat subjects (one
// request), then reads each key to pass over a heartbeat deleted on a
// clean stop: a key watcher (ListKeysFiltered) waits until its deadline
// for a heartbeat that expires between its start and its delivery, and a
// renewal held that long would let the host's own leases expire.
func aliveHosts(ctx context.Context, lay *opened) (map[string]jetstream.KeyValueEntry, error) {
	prefix := "$KV." + lay.owners.Bucket() + "."
	info, err := lay.ownersLog.Info(ctx, jetstream.WithSubjectFilter(prefix+hostKey("*")))
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	out := map[string]jetstream.KeyValueEntry{}
	for subject := range info.State.Subjects {
		key := strings.TrimPrefix(subject, prefix)
		e, err := lay.owners.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted on a clean stop, or expired since
		} else if err != nil {
			return nil, fmt.Errorf("read heartbeat %s: %w", key, err)
		}
		out[strings.TrimPrefix(key, "hosts.")] = e
	}
	return out, nil
}
