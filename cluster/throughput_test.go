package cluster

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestClusterThroughput measures how fast 1, 2 and 3 hosts apply events
// already in the stream, and a single local manager applying the same
// events with Emit (the work of run --headless without its JSON-lines
// front end), for the added cost per event. Opt-in: set
// AFSTUDIO_CLUSTER_BENCH=1 (and AFSTUDIO_CLUSTER_EVENTS and
// AFSTUDIO_CLUSTER_MISSIONS for the scale; run without -race).
func TestClusterThroughput(t *testing.T) {
	if os.Getenv("AFSTUDIO_CLUSTER_BENCH") == "" {
		t.Skip("a measurement: set AFSTUDIO_CLUSTER_BENCH=1")
	}
	events, missions := scale(t)
	ctx := context.Background()
	m, err := countManager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := make([]int, missions)
	start := time.Now()
	for i := range events {
		k := i % missions
		next[k]++
		if _, err := m.Emit(ctx, "tick", map[string]any{"mission": fmt.Sprintf("m%d", k), "n": float64(next[k])}); err != nil {
			t.Fatal(err)
		}
	}
	local := time.Since(start)
	m.Close(ctx)
	t.Logf("local Emit: %d events in %v: %.1f µs/event, %.0f events/s", events, local, us(local, events), float64(events)/local.Seconds())
	for n := 1; n <= 3; n++ {
		t.Run(fmt.Sprintf("%d hosts", n), func(t *testing.T) {
			ts := initTest(t, 12)
			_, js := ts.connect(t)
			pub := newPublisher(js, missions)
			pub.publish(t, events)
			start := time.Now()
			for i := range n {
				startHost(t, ts, fmt.Sprintf("h%d", i))
			}
			waitExact(t, js, pub, 10*time.Minute)
			el := time.Since(start)
			t.Logf("%d hosts: %d events in %v: %.1f µs/event, %.0f events/s; %.1f µs/event more than local Emit",
				n, events, el, us(el, events), float64(events)/el.Seconds(), us(el, events)-us(local, events))
		})
	}
}

// us is d per event in microseconds.
func us(d time.Duration, events int) float64 { return float64(d.Microseconds()) / float64(events) }
