package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultStream is the name of the stream when none is given.
const DefaultStream = "AFSTUDIO"

// DefaultLeaseTTL is how long a host's heartbeat and leases live without
// renewal when Init is not told otherwise.
const DefaultLeaseTTL = 3 * time.Second

// metaPartitions is the stream metadata key holding the partition count.
const metaPartitions = "afstudio_partitions"

// A Layout names what the hosts share on the server: a stream and its two
// buckets. The zero value is the default layout (stream AFSTUDIO).
type Layout struct {
	// Stream is the stream's name; "" means DefaultStream.
	Stream string
}

// StreamName returns the stream's name.
func (l Layout) StreamName() string {
	if l.Stream == "" {
		return DefaultStream
	}
	return l.Stream
}

// OwnersBucket is the bucket of heartbeats and leases.
func (l Layout) OwnersBucket() string { return l.StreamName() + "_OWNERS" }

// StateBucket is the bucket of partition states.
func (l Layout) StateBucket() string { return l.StreamName() + "_STATE" }

// EventSubject is the subject an engine publishes an event to: its data
// as the message, its id in the Nats-Msg-Id header.
func EventSubject(event, key string) string { return "afstudio.events." + event + "." + key }

// partitionFilter is the stored subject of every event in partition p.
func partitionFilter(p int) string { return "afstudio.part." + strconv.Itoa(p) + ".>" }

// leaseKey and stateKey are the keys of partition p in the buckets.
func leaseKey(p int) string { return "p." + strconv.Itoa(p) }
func stateKey(p int) string { return "p." + strconv.Itoa(p) }

// hostKey is the heartbeat key of a host.
func hostKey(id string) string { return "hosts." + id }

// InitOptions are the parameters of Init.
type InitOptions struct {
	Layout
	// Partitions is the number of partitions (at least 1). It cannot
	// change once states are stored: a key would move to another
	// partition, away from its state.
	Partitions int
	// LeaseTTL is how long a lease lives without renewal: a dead host's
	// partitions move after at most LeaseTTL*4/3. 0 means
	// DefaultLeaseTTL.
	LeaseTTL time.Duration
	// MaxAge is how long events are kept in the stream; 0 means 7 days.
	// An event older than that which no host applied yet is lost.
	MaxAge time.Duration
}

// Init creates the stream and the buckets of the layout, or brings them up
// to date: it can be run again, and by several hosts at once. Changing the
// number of partitions of an existing stream is refused.
func Init(ctx context.Context, js jetstream.JetStream, o InitOptions) error {
	if o.Partitions < 1 {
		return fmt.Errorf("nats init: %d partitions: give at least 1 (--partitions)", o.Partitions)
	}
	ttl := o.LeaseTTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	maxAge := o.MaxAge
	if maxAge <= 0 {
		maxAge = 7 * 24 * time.Hour
	}
	name := o.StreamName()
	if st, err := js.Stream(ctx, name); err == nil {
		if have := st.CachedInfo().Config.Metadata[metaPartitions]; have != "" && have != strconv.Itoa(o.Partitions) {
			return fmt.Errorf("nats init: stream %s has %s partitions, not %d: the partition of every key would change, away from its state; "+
				"keep --partitions %s, or delete the stream and its buckets (%s, %s) to start afresh", name, have, o.Partitions, have, o.OwnersBucket(), o.StateBucket())
		}
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("nats init: look up stream %s: %w", name, err)
	}
	cfg := jetstream.StreamConfig{
		Name:        name,
		Description: "afstudio events, partitioned by key",
		Subjects:    []string{"afstudio.events.*.*"},
		SubjectTransform: &jetstream.SubjectTransformConfig{
			Source:      "afstudio.events.*.*",
			Destination: fmt.Sprintf("afstudio.part.{{partition(%d,2)}}.{{wildcard(1)}}.{{wildcard(2)}}", o.Partitions),
		},
		Storage:    jetstream.FileStorage,
		MaxAge:     maxAge,
		Duplicates: 2 * time.Minute,
		Metadata:   map[string]string{metaPartitions: strconv.Itoa(o.Partitions)},
	}
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("nats init: create or update stream %s: %w", name, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: o.OwnersBucket(), Description: "afstudio hosts and partition leases",
		TTL: ttl, History: 1, Storage: jetstream.FileStorage}); err != nil {
		return fmt.Errorf("nats init: create or update bucket %s: %w", o.OwnersBucket(), err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: o.StateBucket(), Description: "afstudio integration states per partition",
		History: 1, Storage: jetstream.FileStorage}); err != nil {
		return fmt.Errorf("nats init: create or update bucket %s: %w", o.StateBucket(), err)
	}
	return nil
}

// opened is the layout as found on the server.
type opened struct {
	stream     jetstream.Stream
	owners     jetstream.KeyValue
	ownersLog  jetstream.Stream // the owners bucket's stream, KV_<bucket>: aliveHosts lists it
	state      jetstream.KeyValue
	stateLog   jetstream.Stream // the state bucket's stream: chunks are listed and purged there
	partitions int
	ttl        time.Duration
}

// open finds the stream and buckets Init made.
func open(ctx context.Context, js jetstream.JetStream, l Layout) (*opened, error) {
	hint := fmt.Sprintf("run afstudio nats init --partitions P first (stream %s)", l.StreamName())
	st, err := js.Stream(ctx, l.StreamName())
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w; %s", l.StreamName(), err, hint)
	}
	p, err := strconv.Atoi(st.CachedInfo().Config.Metadata[metaPartitions])
	if err != nil || p < 1 {
		return nil, fmt.Errorf("stream %s has no partition count in its metadata (%s): not made by afstudio nats init; %s", l.StreamName(), metaPartitions, hint)
	}
	owners, err := js.KeyValue(ctx, l.OwnersBucket())
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w; %s", l.OwnersBucket(), err, hint)
	}
	state, err := js.KeyValue(ctx, l.StateBucket())
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w; %s", l.StateBucket(), err, hint)
	}
	ost, err := owners.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", l.OwnersBucket(), err)
	}
	ttl := ost.TTL()
	if ttl <= 0 {
		return nil, fmt.Errorf("bucket %s has no TTL, so a dead host's leases would never expire; %s", l.OwnersBucket(), hint)
	}
	o := &opened{stream: st, owners: owners, state: state, partitions: p, ttl: ttl}
	for _, b := range []struct {
		bucket string
		log    *jetstream.Stream
	}{{l.OwnersBucket(), &o.ownersLog}, {l.StateBucket(), &o.stateLog}} {
		if *b.log, err = js.Stream(ctx, "KV_"+b.bucket); err != nil {
			return nil, fmt.Errorf("open the stream of bucket %s: %w", b.bucket, err)
		}
	}
	return o, nil
}

// eventOf splits a stored subject afstudio.part.<p>.<event>.<key>.
func eventOf(subject string) (event, key string, ok bool) {
	parts := strings.SplitN(subject, ".", 5)
	if len(parts) != 5 || parts[0] != "afstudio" || parts[1] != "part" {
		return "", "", false
	}
	return parts[3], parts[4], true
}
