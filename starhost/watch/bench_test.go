package watch_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/starhost/watch"
)

// BenchmarkSaveToLive measures the time from the moment a file is written
// to the moment the new version answers events, with the default quiet
// window (25ms). It reports p50 and p99 in ms.
func BenchmarkSaveToLive(b *testing.B) {
	m, root := hosttest.NewRoot(b, map[string]string{"w.star": module("w", 0)})
	path := root + "/w.star"
	w := watch.New(watch.Options{Roots: []string{root}}, func(ctx context.Context, bt watch.Batch) {
		m.ReloadFiles(ctx, append(bt.Changed, bt.Removed...))
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond)

	var lat []time.Duration
	for i := 1; b.Loop(); i++ {
		start := time.Now()
		if err := os.WriteFile(path, []byte(module("w", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		for {
			rs, _ := m.Emit(ctx, "ping", nil)
			if len(rs) == 1 && rs[0].Value == int64(i) {
				break
			}
			if time.Since(start) > 5*time.Second {
				b.Fatalf("revision %d never went live", i)
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
