package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ExportStates returns every partition's stored integration states, by
// partition number ("0", "1", ...) and integration name. A partition
// without a stored state is absent.
func ExportStates(ctx context.Context, js jetstream.JetStream, l Layout) (map[string]map[string]json.RawMessage, error) {
	lay, err := open(ctx, js, l)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]json.RawMessage{}
	for p := range lay.partitions {
		st, rev, err := readState(ctx, lay.state, p)
		if err != nil {
			return nil, err
		}
		if rev == 0 {
			continue
		}
		if st.States == nil {
			st.States = map[string]json.RawMessage{}
		}
		out[strconv.Itoa(p)] = st.States
	}
	return out, nil
}

// Status is what afstudio cluster status shows.
type Status struct {
	// Stream is the stream's name.
	Stream string `json:"stream"`
	// LeaseTTL is the owners bucket's TTL: a dead host's partitions move
	// within LeaseTTL*4/3.
	LeaseTTL time.Duration `json:"lease_ttl_ns"`
	// Hosts are the hosts alive (their heartbeat not expired).
	Hosts []HostStatus `json:"hosts"`
	// Partitions are the partitions, in order.
	Partitions []PartitionStatus `json:"partitions"`
	// Mismatches say how the hosts' integrations differ (one missing on
	// a host, or in another version); empty when they agree.
	Mismatches []string `json:"mismatches"`
}

// HostStatus is one host alive.
type HostStatus struct {
	// ID is the host's id.
	ID string `json:"id"`
	// Instance tells this run of the host from another with the same ID;
	// it stays the same when its supervisor starts its worker again.
	Instance string `json:"instance"`
	// Owned are the partitions it applies, as of its last heartbeat.
	Owned []int `json:"owned"`
	// Seen is the time of its last heartbeat.
	Seen time.Time `json:"seen"`
	// Integrations are the integrations it runs, as NAME@HASH (HASH
	// covers the content of the module and its libraries); nil while it
	// applies no partition.
	Integrations []string `json:"integrations"`
	// Failed are its reloads that failed (the previous version serves
	// there) and its modules that do not load, with file:line:col.
	Failed []string `json:"failed,omitempty"`
}

// PartitionStatus is one partition.
type PartitionStatus struct {
	// Partition is its number.
	Partition int `json:"partition"`
	// Owner is the id of the host holding its lease; "" when none does.
	Owner string `json:"owner"`
	// Seq is the stream sequence of the last event applied and stored.
	Seq uint64 `json:"seq"`
	// Lag is the number of its events in the stream after Seq: not
	// applied, or applied and not stored yet.
	Lag uint64 `json:"lag"`
	// StateBytes is the size of its stored states' JSON.
	StateBytes int `json:"state_bytes"`
	// StateError says why its stored state cannot be read (it is
	// damaged); "" when it can. Seq, Lag and the sizes are then zero.
	StateError string `json:"state_error,omitempty"`
	// Chunks is the number of chunks its states are stored in; 0 when
	// they fit in one message of the server.
	Chunks int `json:"chunks,omitempty"`
}

// ReadStatus reads the hosts alive and, per partition, its owner, its
// stored position, its lag and the size of its stored states (without
// reading them).
func ReadStatus(ctx context.Context, js jetstream.JetStream, l Layout) (Status, error) {
	lay, err := open(ctx, js, l)
	if err != nil {
		return Status{}, err
	}
	s := Status{Stream: l.StreamName(), LeaseTTL: lay.ttl, Hosts: []HostStatus{}}
	beats, err := aliveHosts(ctx, lay)
	if err != nil {
		return Status{}, err
	}
	for _, id := range slices.Sorted(maps.Keys(beats)) {
		e := beats[id]
		hs := HostStatus{ID: id, Owned: []int{}, Seen: e.Created()}
		var hb heartbeat
		if json.Unmarshal(e.Value(), &hb) == nil && hb.Owned != nil {
			hs.Owned = hb.Owned
		}
		hs.Instance, hs.Integrations, hs.Failed = hb.Instance, hb.Integrations, hb.Failed
		s.Hosts = append(s.Hosts, hs)
	}
	for p := range lay.partitions {
		ps := PartitionStatus{Partition: p}
		e, err := lay.owners.Get(ctx, leaseKey(p))
		switch {
		case err == nil:
			ps.Owner = string(e.Value())
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return Status{}, fmt.Errorf("read the lease of partition %d: %w", p, err)
		}
		hd, err := readHead(ctx, lay.state, p)
		if err != nil { // one damaged state does not hide the others
			ps.StateError = err.Error()
			s.Partitions = append(s.Partitions, ps)
			continue
		}
		ps.Seq, ps.StateBytes, ps.Chunks = hd.seq, hd.size, hd.chunks
		if ps.Lag, err = lag(ctx, lay.stream, p, hd.seq); err != nil {
			return Status{}, err
		}
		s.Partitions = append(s.Partitions, ps)
	}
	s.Mismatches = compareSets(s.Hosts)
	if s.Mismatches == nil {
		s.Mismatches = []string{}
	}
	return s, nil
}

// lag counts partition p's events after seq, with a short-lived consumer
// that reads nothing.
func lag(ctx context.Context, stream jetstream.Stream, p int, seq uint64) (uint64, error) {
	cfg := jetstream.ConsumerConfig{FilterSubject: partitionFilter(p), AckPolicy: jetstream.AckNonePolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: 10 * time.Second, MemoryStorage: true}
	if seq > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, seq+1
	}
	c, err := stream.CreateConsumer(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("count the lag of partition %d: %w", p, err)
	}
	n := c.CachedInfo().NumPending
	_ = stream.DeleteConsumer(ctx, c.CachedInfo().Name)
	return n, nil
}
