package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A host's identity is its ID and its instance. The ID names it among the
// others: leases hold it. The instance tells one run of the host from
// another with the same ID: a supervisor passes the same instance to
// every worker it starts, so that a worker started again after its
// predecessor died finds the predecessor's heartbeat carrying its own
// instance and adopts the leases the predecessor left (a compare-and-set
// update of each) instead of waiting for them to expire. A host that
// finds its ID's heartbeat carrying another instance is a second host
// given the same ID: New refuses it, and a running host whose heartbeat
// another instance overwrote stands down (see Host.standDown).

// DefaultID returns a host id HOSTNAME-RANDOM, for a host given none. A
// supervisor picks it once and passes it to each of its workers.
func DefaultID() string {
	name, _ := os.Hostname()
	name = strings.NewReplacer(".", "_", " ", "_", "*", "_", ">", "_").Replace(name)
	if name == "" {
		name = "host"
	}
	return name + "-" + randomHex(4)
}

// NewInstance returns a random instance (Options.Instance).
func NewInstance() string { return randomHex(8) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// errIDTaken is wrapped by the errors of a host whose id another instance
// holds.
var errIDTaken = errors.New("host id taken")

// takenError describes the other host holding this host's id, from its
// heartbeat's entry.
func takenError(id string, e jetstream.KeyValueEntry, ttl time.Duration) error {
	var hb heartbeat
	_ = json.Unmarshal(e.Value(), &hb)
	other := hb.Instance
	if other == "" {
		other = "unknown"
	}
	seen := e.Created()
	return fmt.Errorf("cluster host id %q: %w: another host with this id (instance %s) is alive, last seen %s (%v ago); "+
		"give each host its own --host-id, or, if that host is dead, wait %v (the lease TTL) for its heartbeat to expire",
		id, errIDTaken, other, seen.Local().Format(time.DateTime), time.Since(seen).Round(100*time.Millisecond), ttl)
}

// checkIdentity reads the heartbeat of the host's id before it starts:
// none, the host is new; its own instance, the host is its predecessor's
// successor and adopts its leases during the first TTL (all of them have
// expired after it); another instance, the id is taken.
func (h *Host) checkIdentity(ctx context.Context) error {
	e, err := h.lay.owners.Get(ctx, hostKey(h.id))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("cluster host %s: read its heartbeat %s: %w", h.id, hostKey(h.id), err)
	}
	var hb heartbeat
	if json.Unmarshal(e.Value(), &hb) != nil || hb.Instance != h.instance {
		return takenError(h.id, e, h.lay.ttl)
	}
	h.hbRev = e.Revision()
	h.adoptUntil = time.Now().Add(h.lay.ttl)
	h.log.Info("this host's previous run left its heartbeat (its worker was started again): its leases are adopted", "instance", h.instance)
	return nil
}

// beat writes the host's heartbeat, expecting the revision it wrote last
// (none: the key must not exist). When the key changed meanwhile it reads
// who holds it: nobody (the heartbeat expired while the host was away,
// or was deleted) or its own instance (a write whose answer was lost),
// and it writes again; another instance, and it returns an error wrapping
// errIDTaken without writing.
func (h *Host) beat(ctx context.Context, data []byte) error {
	rev, err := h.writeBeat(ctx, data)
	if err == nil {
		h.hbRev = rev
		return nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return err
	}
	e, err := h.lay.owners.Get(ctx, hostKey(h.id))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		h.hbRev = 0
	case err != nil:
		return fmt.Errorf("read back %s: %w", hostKey(h.id), err)
	default:
		var hb heartbeat
		if json.Unmarshal(e.Value(), &hb) != nil || hb.Instance != h.instance {
			h.hbRev = 0
			return takenError(h.id, e, h.lay.ttl)
		}
		h.hbRev = e.Revision()
	}
	if rev, err = h.writeBeat(ctx, data); err != nil {
		return err
	}
	h.hbRev = rev
	return nil
}

// writeBeat creates the heartbeat key, or updates it at the revision the
// host wrote last.
func (h *Host) writeBeat(ctx context.Context, data []byte) (uint64, error) {
	if h.hbRev == 0 {
		return h.lay.owners.Create(ctx, hostKey(h.id), data)
	}
	return h.lay.owners.Update(ctx, hostKey(h.id), data, h.hbRev)
}

// standDown is what a host does, at every renewal, while another instance
// holds its id: it says so loudly and gives its partitions back (their
// states written) instead of fighting over the leases, which hold the id
// both share. It takes partitions again once the other's heartbeat is
// gone.
func (h *Host) standDown(ctx context.Context, why error) {
	h.standingDown = true
	h.log.Error("another host runs with this host's id: this one takes no partition and gives its own back until that one is gone",
		"id", h.id, "instance", h.instance, "err", why)
	for p, rev := range h.leases {
		h.handOff(ctx, p, rev)
	}
}

// adoptable reports whether a lease entry this host does not hold is its
// predecessor's: it holds the host's id, and the host started as its
// predecessor's successor less than a TTL ago.
func (h *Host) adoptable(e jetstream.KeyValueEntry) bool {
	return string(e.Value()) == h.id && time.Now().Before(h.adoptUntil)
}

// adopt takes over partition p's lease, left by this host's predecessor
// at revision rev, with a compare-and-set update: at once, rather than
// after it expires. One assigned to another host now is given back.
func (h *Host) adopt(ctx context.Context, p int, rev uint64, mine bool) error {
	if !mine {
		h.handOff(ctx, p, rev)
		return nil
	}
	nrev, err := h.lay.owners.Update(ctx, leaseKey(p), []byte(h.id), rev)
	if err != nil {
		return fmt.Errorf("adopt the lease this host's previous run left: %w", err)
	}
	h.leases[p] = nrev
	h.ensureWorker(p)
	h.log.Info("partition adopted from this host's previous run", "partition", p)
	return nil
}
