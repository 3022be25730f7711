package cluster

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
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
	waitSpread(t, 12, 10*time.Second, hosts...)
	_, js := ts.connect(t)
	pub := newPublisher(js, missions)
	start := time.Now()
	pub.publish(t, events)
	waitExact(t, js, pub, 120*time.Second)
	el := time.Since(start)
	t.Logf("%d events over %d missions by 3 hosts in %v (%.0f events/s)", events, missions, el, float64(events)/el.Seconds())
}
