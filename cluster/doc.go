// Package cluster runs integrations on several hosts that share one
// JetStream stream of events, partitioned by key, with each integration's
// state kept per partition in a JetStream key-value bucket.
//
// # The layout on the server
//
// [Init] creates (or updates) three things, named after the stream
// (AFSTUDIO by default, see [Layout]):
//
//   - the stream AFSTUDIO, which takes every subject
//     afstudio.events.<event>.<key> and stores it as
//     afstudio.part.<p>.<event>.<key>, where p = partition(P, key) is
//     JetStream's deterministic subject-mapping partition of the key: all
//     events of one key (a mission) land in one partition, in order. The
//     Nats-Msg-Id header de-duplicates retried publishes (the stream's
//     duplicate window, 2 minutes).
//   - the bucket AFSTUDIO_OWNERS: a heartbeat per host (hosts.<id>, with
//     its instance) and a lease per partition (p.<i>, holding the owner's
//     id), both expiring with the bucket's TTL unless renewed.
//   - the bucket AFSTUDIO_STATE: per partition (p.<i>) the JSON
//     {"seq": LAST_APPLIED_STREAM_SEQ, "states": {INTEGRATION: STATE}};
//     when that does not fit in one message of the server, a manifest
//     {"seq": N, "states": "chunked", "size": BYTES, "chunks": [...]}
//     whose chunks, stored under p.<i>.c.<SHA256-PREFIX>, add up to the
//     states' JSON.
//
// # How a host works
//
// A [Host] renews its heartbeat and its leases every TTL/3. From the hosts
// alive it computes the same balanced assignment as every other host
// ([Assign]); it takes a free partition assigned to it with a
// compare-and-set create, and gives back one assigned to another host
// after writing its state. A host that dies stops renewing; its leases
// expire after the TTL and the hosts left take its partitions at their
// next renewal: the failover bound is TTL + TTL/3 (4 s with the default
// 3 s TTL), plus the server's expiry check (about 0.3 s measured). A
// worker its supervisor starts again is not a new host: it takes its
// partitions back at once (see below).
//
// For each partition it owns, a host runs one starhost.Manager (the same
// integrations as every other host, built by [Options].NewManager) fed by
// an ordered consumer that starts right after the stored sequence. Events
// are applied in stream order, in batches; after each batch the states and
// the sequence of its last event are committed in one key-value update
// (below for states larger than a message) that expects the revision the
// host read (fencing: a host that lost its
// partition cannot overwrite its successor's state). The stored sequence
// is the acknowledgement: a host that takes over continues after it, so an
// event is applied exactly once to the stored state, and an event whose
// state was not stored is applied again by the next owner, never lost.
//
// # A host's identity
//
// A host is named by its ID ([Options].ID; leases hold it) and one run of
// it by its instance ([Options].Instance), both in its heartbeat
// {"id", "instance", "owned", ...}. afstudio run --headless --nats runs the
// host in a worker process that its supervisor starts again when it
// dies; the supervisor picks the default ID (HOSTNAME-RANDOM, see
// [DefaultID]) and an instance once and passes both to every worker it
// starts. So a worker started again is the same host: [New] finds the
// heartbeat of its ID carrying its own instance, and during the first TTL
// it adopts every lease holding its ID that its predecessor left (a
// compare-and-set update expecting the lease's revision) instead of
// waiting for them to expire; one assigned to another host by then is
// given back at once. Its partitions are away for the time the worker
// takes to start again (about 0.2 s measured), not TTL×4/3. State writes
// are fenced as always: the new worker reads each partition's state and
// its revision afresh.
//
// Two hosts must not share an ID. New refuses a host whose ID has a
// heartbeat alive with another instance, with an error naming the ID,
// when that host was last seen and what to do (give each host its own
// ID, or wait the lease TTL if that host is dead). A running host writes
// its heartbeat expecting the revision it wrote last; when another
// instance wrote it meanwhile (a second host given the same ID after the
// first one's heartbeat expired while it was away), the host logs an
// error at each renewal, gives its partitions back and takes none, rather
// than fight over leases holding the ID they share, until the other's
// heartbeat is gone. A host started again with the same ID by something
// other than its supervisor (a service manager, a shell) is another
// instance: it is refused until its dead predecessor's heartbeat expires
// (within the TTL), and then takes partitions as a new host does.
//
// # States larger than a message
//
// A partition's states that do not fit in one message of the server (its
// max_payload, 1 MiB by default, less a sixteenth) are written in
// content-defined chunks of about 160 KiB, each under a key named after
// its content: the chunks the previous manifest lacks first, then the
// manifest, with the expected revision, as the one commit point; then the
// chunks the previous manifest had and the new one has not are purged
// (only their versions older than the new manifest: the same content may
// come back under the same key). A host that dies before its manifest
// leaves the previous one whole, and its chunks are purged after the
// first write of the partition's next owner; a host fenced off removes
// nothing. A write therefore costs the chunks that changed, not the whole
// state, and a reader that finds a chunk gone (the manifest moved on)
// reads again. A state that cannot be read or written (the bucket or the
// account out of storage, a damaged state) is shown in the owner's
// heartbeat, hence by afstudio cluster status, until it can.
package cluster
