//go:build linux

package main

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/afstudio/afstudio/cluster"
	"github.com/nats-io/nats.go/jetstream"
)

// lease is a partition's lease as the owners bucket holds it: its
// owner's id ("" when none) and its revision.
type lease struct {
	owner string
	rev   uint64
}

// readLeases reads the lease of each of n partitions.
func readLeases(t *testing.T, kv jetstream.KeyValue, n int) []lease {
	t.Helper()
	out := make([]lease, n)
	for p := range n {
		e, err := kv.Get(context.Background(), "p."+strconv.Itoa(p))
		switch {
		case err == nil:
			out[p] = lease{string(e.Value()), e.Revision()}
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			t.Fatalf("read the lease of partition %d: %v", p, err)
		}
	}
	return out
}

// supervisedHostID waits until cluster status shows the hosts other and
// one more, each owning half of the partitions, and returns that one's
// status (its id is the one its supervisor picked).
func supervisedHostID(t *testing.T, url, other string, partitions int) cluster.HostStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := clusterStatus(t, url)
		owned := map[string]int{}
		for _, p := range st.Partitions {
			owned[p.Owner]++
		}
		for _, h := range st.Hosts {
			if len(st.Hosts) == 2 && h.ID != other && owned[h.ID] == partitions/2 && owned[other] == partitions/2 {
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the supervised host and %s do not share the partitions within 30 s: %+v", other, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClusterWorkerRestart: kill -9 of a supervised cluster host's worker
// (not of its supervisor). The supervisor starts the worker again with
// the host id it picked (no --host-id given) and the same instance, so
// the new worker is the same host: cluster status shows the same id,
// it adopts the leases its predecessor left instead of waiting for them
// to expire, and the counts stay exact. How long the dead worker's
// partitions were away is measured, not asserted.
func TestClusterWorkerRestart(t *testing.T) {
	const partitions = 6
	c := newCountCluster(t, partitions)
	url, js := c.url, c.js
	sup := c.host(t, nil)
	c.host(t, nil, "--host-id", "other", "--in-process")
	before := supervisedHostID(t, url, "other", partitions)

	kv, err := js.KeyValue(context.Background(), cluster.Layout{}.OwnersBucket())
	if err != nil {
		t.Fatal(err)
	}
	next := make([]int, 30)
	publishTicks(t, js, next, 600)
	worker := workerOf(t, sup)
	if err := syscall.Kill(worker, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	for !processGone(worker) {
		time.Sleep(time.Millisecond)
	}
	away := measureAway(t, kv, partitions, before.ID, killed)
	t.Logf("worker of %s killed: its partitions held by a live host again after %v, by %s again after %v (lease TTL 3s)",
		before.ID, away.taken, before.ID, away.back)
	publishTicks(t, js, next, 600)
	waitExported(t, url, next)
	checkSameHost(t, url, before, "other")
	if !strings.Contains(sup.log(), "partition adopted") {
		t.Errorf("the supervised host's new worker adopted no lease:\n%s", sup.log())
	}
}

// away is how long a dead worker's partitions were away: until a live
// host held each of them again (its lease written since the death), and
// until the host of the dead worker's id did.
type away struct{ taken, back time.Duration }

// measureAway polls the leases from right after id's worker died until
// every partition it held is held by a live host again and by id again
// (or 30 s).
func measureAway(t *testing.T, kv jetstream.KeyValue, partitions int, id string, killed time.Time) away {
	t.Helper()
	dead := readLeases(t, kv, partitions) // no write from the dead worker after this
	var a away
	for time.Since(killed) < 30*time.Second {
		now := readLeases(t, kv, partitions)
		taken, back := true, true
		for p := range partitions {
			if dead[p].owner == id {
				renewed := now[p].owner != "" && now[p].rev != dead[p].rev
				taken, back = taken && renewed, back && renewed && now[p].owner == id
			}
		}
		if taken && a.taken == 0 {
			a.taken = time.Since(killed)
		}
		if back && a.back == 0 {
			a.back = time.Since(killed)
		}
		if a.taken > 0 && a.back > 0 {
			return a
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("30 s after its worker died, its partitions are not back: %+v (at the death %+v), measured %+v", readLeases(t, kv, partitions), dead, a)
	return a
}

// checkSameHost checks, once the partitions settle, that cluster status
// shows the hosts before.ID (with the same instance) and other only,
// every partition owned by one of them.
func checkSameHost(t *testing.T, url string, before cluster.HostStatus, other string) {
	t.Helper()
	waitOwners(t, url, 30*time.Second, before.ID, other)
	st := clusterStatus(t, url)
	var ids []string
	for _, h := range st.Hosts {
		ids = append(ids, h.ID)
		if h.ID == before.ID && h.Instance != before.Instance {
			t.Errorf("host %s came back as instance %s, not %s", h.ID, h.Instance, before.Instance)
		}
	}
	if want := []string{before.ID, other}; !slices.Equal(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(want))) {
		t.Errorf("cluster status shows the hosts %v after the worker was started again; want %v (the same id)", ids, want)
	}
}
