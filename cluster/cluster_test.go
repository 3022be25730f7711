package cluster

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// initTest starts a server and makes the layout with partitions.
func initTest(t *testing.T, partitions int) *testServer {
	t.Helper()
	ts := startServer(t)
	_, js := ts.connect(t)
	if err := Init(context.Background(), js, InitOptions{Partitions: partitions}); err != nil {
		t.Fatal(err)
	}
	return ts
}

// scale returns the number of events and missions: 10,000 over 100, or
// what AFSTUDIO_CLUSTER_EVENTS and AFSTUDIO_CLUSTER_MISSIONS say (e.g.
// 100000 and 1000 for the full measurement).
func scale(t *testing.T) (events, missions int) {
	events, missions = 10000, 100
	if v, err := strconv.Atoi(os.Getenv("AFSTUDIO_CLUSTER_EVENTS")); err == nil {
		events = v
	}
	if v, err := strconv.Atoi(os.Getenv("AFSTUDIO_CLUSTER_MISSIONS")); err == nil {
		missions = v
	}
	return events, missions
}

// waitSpread waits until the hosts own every partition once between
// them, each at least one, and returns how long it took.
func waitSpread(t *testing.T, partitions int, within time.Duration, hosts ...*testHost) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		var all []int
		each := true
		for _, h := range hosts {
			o := h.Owned()
			each = each && len(o) > 0
			all = append(all, o...)
		}
		slices.Sort(all)
		if each && len(all) == partitions && len(slices.Compact(all)) == partitions {
			return time.Since(start)
		}
		if time.Since(start) > within {
			for _, h := range hosts {
				t.Logf("%s owns %v", h.ID(), h.Owned())
			}
			t.Fatalf("partitions not spread over the %d hosts within %v", len(hosts), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClusterExactlyOnce: three hosts share twelve partitions; every
// event is counted once, in order, per mission.
func TestClusterExactlyOnce(t *testing.T) {
	events, missions := scale(t)
	ts := initTest(t, 12)
	hosts := []*testHost{startHost(t, ts, "a"), startHost(t, ts, "b"), startHost(t, ts, "c")}
	waitSpread(t, 12, 30*time.Second, hosts...)
	_, js := ts.connect(t)
	pub := newPublisher(js, missions)
	start := time.Now()
	pub.publish(t, events)
	waitExact(t, js, pub, 120*time.Second)
	el := time.Since(start)
	t.Logf("%d events over %d missions by 3 hosts in %v (%.0f events/s)", events, missions, el, float64(events)/el.Seconds())
}

// TestClusterHostDies: one of three hosts dies mid-stream (its connection
// gone, nothing given back); its partitions move to the two others within
// the failover bound, every event is still counted exactly once, and a
// host that joins afterwards gets its share again.
func TestClusterHostDies(t *testing.T) {
	events, missions := scale(t)
	ts := initTest(t, 12)
	a, b, c := startHost(t, ts, "a"), startHost(t, ts, "b"), startHost(t, ts, "c")
	waitSpread(t, 12, 30*time.Second, a, b, c)
	_, js := ts.connect(t)
	pub := newPublisher(js, missions)
	pub.publish(t, events/2)
	bound := a.LeaseTTL() * 4 / 3
	lost := a.Owned()
	a.kill()
	// How long the move takes is measured, not asserted (the machine is
	// shared: a timed check would fail under load); README gives it.
	moved := waitSpread(t, 12, 30*time.Second, b, c)
	t.Logf("host a died owning %v; its partitions moved in %v (bound %v)", lost, moved, bound)
	pub.publish(t, events-events/2)
	waitExact(t, js, pub, 120*time.Second)
	d := startHost(t, ts, "d")
	joined := waitSpread(t, 12, 30*time.Second, b, c, d)
	t.Logf("host d joined; partitions spread over b, c, d in %v", joined)
}

// TestClusterCleanStop: a host stopped cleanly gives its partitions back
// at once (well before its leases would expire).
func TestClusterCleanStop(t *testing.T) {
	ts := initTest(t, 6)
	a, b := startHost(t, ts, "a"), startHost(t, ts, "b")
	waitSpread(t, 6, 30*time.Second, a, b)
	_, js := ts.connect(t)
	pub := newPublisher(js, 20)
	pub.publish(t, 500)
	a.stop()
	// A clean stop deletes a's leases before it returns: none is left to
	// expire (what a dead host leaves behind).
	if held := leasesOf(t, js, "a"); len(held) > 0 {
		t.Errorf("after a clean stop, a still holds the leases %v: they would only expire", held)
	}
	// And its heartbeat: the hosts left see it gone at once, not when its
	// deleted heartbeat would expire.
	if st, err := ReadStatus(context.Background(), js, Layout{}); err != nil || len(st.Hosts) != 1 || st.Hosts[0].ID != "b" {
		t.Errorf("after a's clean stop the hosts alive are %+v (%v), want b alone", st.Hosts, err)
	}
	moved := waitSpread(t, 6, 30*time.Second, b)
	t.Logf("after a clean stop the partitions moved in %v (lease TTL %v)", moved, a.LeaseTTL())
	pub.publish(t, 500)
	waitExact(t, js, pub, 60*time.Second)
}

// TestInit: init is idempotent, and refuses to change the partition count.
func TestInit(t *testing.T) {
	ts := initTest(t, 4)
	_, js := ts.connect(t)
	ctx := context.Background()
	if err := Init(ctx, js, InitOptions{Partitions: 4}); err != nil {
		t.Fatalf("second init: %v", err)
	}
	if err := Init(ctx, js, InitOptions{Partitions: 5}); err == nil {
		t.Fatal("init with another partition count succeeded; every key would move away from its state")
	}
	if err := Init(ctx, js, InitOptions{Partitions: 0}); err == nil {
		t.Fatal("init with 0 partitions succeeded")
	}
	st, err := ReadStatus(ctx, js, Layout{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Partitions) != 4 || st.LeaseTTL != DefaultLeaseTTL {
		t.Fatalf("status after init: %d partitions, TTL %v; want 4 and %v", len(st.Partitions), st.LeaseTTL, DefaultLeaseTTL)
	}
}

// TestStatus: the status names each partition's owner, its stored
// position and its lag.
func TestStatus(t *testing.T) {
	ts := initTest(t, 3)
	_, js := ts.connect(t)
	pub := newPublisher(js, 9)
	pub.publish(t, 90) // nobody applies them yet
	ctx := context.Background()
	st, err := ReadStatus(ctx, js, Layout{})
	if err != nil {
		t.Fatal(err)
	}
	var lagged uint64
	for _, p := range st.Partitions {
		if p.Owner != "" || p.Seq != 0 {
			t.Errorf("partition %d before any host: owner %q, seq %d", p.Partition, p.Owner, p.Seq)
		}
		lagged += p.Lag
	}
	if lagged != 90 || len(st.Hosts) != 0 {
		t.Fatalf("before any host: lag %d in all (want 90), hosts %v", lagged, st.Hosts)
	}
	a := startHost(t, ts, "a")
	waitSpread(t, 3, 30*time.Second, a)
	waitExact(t, js, pub, 30*time.Second)
	if st, err = ReadStatus(ctx, js, Layout{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Partitions {
		if p.Owner != "a" || p.Lag != 0 || p.Seq == 0 {
			t.Errorf("partition %d after host a applied all: owner %q, lag %d, seq %d", p.Partition, p.Owner, p.Lag, p.Seq)
		}
	}
	if len(st.Hosts) != 1 || st.Hosts[0].ID != "a" {
		t.Errorf("hosts alive: %+v, want a", st.Hosts)
	}
}

// TestStateWriteFenced: a host that lost its partition, writing with the
// revision it read, cannot overwrite the state its successor wrote.
func TestStateWriteFenced(t *testing.T) {
	ts := initTest(t, 1)
	_, js := ts.connect(t)
	ctx := context.Background()
	old, err := New(ctx, Options{JetStream: js, NewManager: countManager, ID: "old"})
	if err != nil {
		t.Fatal(err)
	}
	successor, err := New(ctx, Options{JetStream: js, NewManager: countManager, ID: "new"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := countManager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	rev, err := old.writeState(m, 0, Stored{Seq: 10}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := successor.writeState(m, 0, Stored{Seq: 20}, nil, rev); err != nil {
		t.Fatal(err)
	}
	if _, err := old.writeState(m, 0, Stored{Seq: 15}, nil, rev); err == nil {
		t.Fatal("the old owner overwrote its successor's state")
	}
	if _, err := old.writeState(m, 0, Stored{Seq: 15}, nil, 0); err == nil {
		t.Fatal("a first write (create) overwrote a stored state")
	}
	st, _, err := readState(ctx, old.lay.state, 0)
	if err != nil || st.Seq != 20 {
		t.Fatalf("stored seq %d (%v), want the successor's 20", st.Seq, err)
	}
}

// TestClusterServerOutage: the server stops for 10 s mid-stream (its
// folder kept) and starts again on the same port; the hosts reconnect,
// take their partitions again and finish with exact counts.
func TestClusterServerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("stops the server for 10 s")
	}
	outage := 10 * time.Second
	if v, err := time.ParseDuration(os.Getenv("AFSTUDIO_CLUSTER_OUTAGE")); err == nil {
		outage = v
	}
	events, missions := scale(t)
	ts := initTest(t, 12)
	a, b, c := startHost(t, ts, "a"), startHost(t, ts, "b"), startHost(t, ts, "c")
	waitSpread(t, 12, 30*time.Second, a, b, c)
	_, js := ts.connect(t)
	pub := newPublisher(js, missions)
	pub.publish(t, events/2)
	ts.stop()
	time.Sleep(outage)
	ts.start()
	restarted := time.Now()
	pub.publish(t, events-events/2)
	waitExact(t, js, pub, 120*time.Second)
	waitSpread(t, 12, 30*time.Second, a, b, c)
	t.Logf("after a %v outage, all %d events counted exactly %v after the restart", outage, events, time.Since(restarted))
}

// TestClusterJoinMidStream: hosts join while the first one is applying a
// backlog; the partitions it hands over mid-batch lose nothing and apply
// nothing twice.
func TestClusterJoinMidStream(t *testing.T) {
	events, missions := scale(t)
	ts := initTest(t, 12)
	_, js := ts.connect(t)
	pub := newPublisher(js, missions)
	pub.publish(t, events)
	a := startHost(t, ts, "a")
	waitSpread(t, 12, 30*time.Second, a)
	b, c := startHost(t, ts, "b"), startHost(t, ts, "c")
	waitExact(t, js, pub, 60*time.Second)
	waitSpread(t, 12, 30*time.Second, a, b, c)
}

// TestClusterResultsAndNotices: with PublishResults every handler call's
// result is published to afstudio.results.<event>; a reload's notices
// reach afstudio.notices.<kind> from every partition's manager, which
// Host.ReloadFiles reaches.
func TestClusterResultsAndNotices(t *testing.T) {
	ts := initTest(t, 2)
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/count/count.star")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "count.star")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	nc, js := ts.connect(t)
	results, err := nc.SubscribeSync("afstudio.results.>")
	if err != nil {
		t.Fatal(err)
	}
	notices, err := nc.SubscribeSync("afstudio.notices.reloaded")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := New(ctx, Options{JetStream: js, ID: "a", PublishResults: true, NewManager: func(ctx context.Context) (*starhost.Manager, error) {
		m, err := starhost.New(starhost.Options{Roots: []string{dir}})
		if err == nil {
			err = m.LoadDefaultIntegrations(ctx)
		}
		return m, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitSpread(t, 2, 30*time.Second, &testHost{Host: h})
	pub := newPublisher(js, 4)
	pub.publish(t, 10)
	for i := range 10 {
		msg, err := results.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		var r struct {
			Integration string `json:"integration"`
			OK          bool   `json:"ok"`
		}
		if json.Unmarshal(msg.Data, &r) != nil || r.Integration != "count" || !r.OK || msg.Subject != "afstudio.results.tick" || msg.Header.Get(HeaderHost) != "a" {
			t.Fatalf("result %d on %s: %s %v", i, msg.Subject, msg.Data, msg.Header)
		}
	}
	if err := os.WriteFile(file, append(src, []byte("\n# changed\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	h.ReloadFiles(ctx, []string{file})
	parts := map[string]bool{}
	for range 2 {
		msg, err := notices.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("reloaded notices from partitions %v only: %v", parts, err)
		}
		parts[msg.Header.Get(HeaderPartition)] = true
	}
	if !parts["0"] || !parts["1"] {
		t.Errorf("reloaded notices from partitions %v, want 0 and 1", parts)
	}
	waitExact(t, js, pub, 60*time.Second) // state carried across the reload
}

// TestStatusIntegrationSets: cluster status says loudly when the hosts do
// not run the same integrations (one missing on a host), and shows a
// reload that failed on one host with its file:line:col; hosts that agree
// show no mismatch.
func TestStatusIntegrationSets(t *testing.T) {
	ts := initTest(t, 4)
	_, js := ts.connect(t)
	ctx := context.Background()
	count, err := os.ReadFile(filepath.Join("testdata", "count", "count.star"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() // b's folder: count, and extra
	for name, src := range map[string]string{"count.star": string(count), "extra.star": "integration(name = \"extra\", handlers = {\"tick\": lambda event, ctx: 1})\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := startHost(t, ts, "a")
	b := startHostWith(t, ts, "b", func(ctx context.Context) (*starhost.Manager, error) {
		m, err := starhost.New(starhost.Options{Roots: []string{dir}, Parallel: 1})
		if err == nil {
			err = m.LoadDefaultIntegrations(ctx)
		}
		return m, err
	})
	waitSpread(t, 4, 30*time.Second, a, b)
	st := waitStatus(t, js, "both hosts' integrations", func(st Status) bool {
		return len(st.Hosts) == 2 && st.Hosts[0].Integrations != nil && st.Hosts[1].Integrations != nil
	})
	if len(st.Mismatches) != 1 || !strings.Contains(st.Mismatches[0], "integration extra is missing on a") {
		t.Fatalf("mismatches %q; want extra missing on a", st.Mismatches)
	}
	extra := filepath.Join(dir, "extra.star")
	if err := os.WriteFile(extra, []byte("integration(name = \"extra\", handlers = {\"tick\": lambda event, ctx: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.ReloadFiles(ctx, []string{extra})
	st = waitStatus(t, js, "b's failed reload", func(st Status) bool {
		for _, h := range st.Hosts {
			if h.ID == "b" && len(h.Failed) > 0 {
				return true
			}
		}
		return false
	})
	for _, h := range st.Hosts {
		if h.ID == "b" && !strings.Contains(h.Failed[0], "extra.star:2:1") {
			t.Errorf("b's failure %q: want the broken file's position", h.Failed[0])
		}
	}
}
