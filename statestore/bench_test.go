package statestore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A state of about 1 KB, like a counter integration with a window.
var benchState = []byte(`{"n":1,"window":"` + strings.Repeat("w", 1000) + `"}`)

// BenchmarkChanged is the cost an event pays for write-behind.
func BenchmarkChanged(b *testing.B) {
	s := open(b, "", Options{})
	collect := func(names []string) []Record {
		recs := make([]Record, len(names))
		for i, name := range names {
			recs[i] = Record{Name: name, State: benchState}
		}
		return recs
	}
	names := make([]string, 8)
	for i := range names {
		names[i] = fmt.Sprint("integration-", i)
	}
	b.Run("serial", func(b *testing.B) {
		w := NewWriter(s, collect, WriterOptions{})
		defer w.Close(context.Background())
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			w.Changed(names[i&7])
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		w := NewWriter(s, collect, WriterOptions{})
		defer w.Close(context.Background())
		var next atomic.Int32
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			name := names[next.Add(1)&7]
			for pb.Next() {
				w.Changed(name)
			}
		})
	})
}

// BenchmarkSave is one transaction (one commit, with bbolt's fsyncs) of
// n records of 1 KB.
func BenchmarkSave(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprint("records=", n), func(b *testing.B) {
			s := open(b, "", Options{})
			recs := make([]Record, n)
			for i := range recs {
				recs[i] = Record{Name: fmt.Sprint("integration-", i), State: benchState, ModuleHash: "sha256:0123456789abcdef"}
			}
			ctx := context.Background()
			b.SetBytes(int64(n * len(benchState)))
			for b.Loop() {
				if err := s.Save(ctx, recs...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSync is the latency of an event in --durable sync mode: ns/op
// is the time one Sync call waits, with 1 or 8 callers at once (each on
// its own integration); syncs/commit shows the group commit.
func BenchmarkSync(b *testing.B) {
	for _, callers := range []int{1, 8} {
		b.Run(fmt.Sprint("callers=", callers), func(b *testing.B) {
			s := open(b, "", Options{})
			var commits atomic.Int64
			collect := func(names []string) []Record {
				commits.Add(1)
				recs := make([]Record, len(names))
				for i, name := range names {
					recs[i] = Record{Name: name, State: benchState}
				}
				return recs
			}
			w := NewWriter(s, collect, WriterOptions{Interval: time.Hour})
			defer w.Close(context.Background())
			ctx := context.Background()
			var total atomic.Int64 // Sync calls
			var waited atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for c := range callers {
				name := fmt.Sprint("integration-", c)
				n := b.N / callers
				if c < b.N%callers {
					n++
				}
				wg.Go(func() {
					for range n {
						start := time.Now()
						if err := w.Sync(ctx, name); err != nil {
							b.Error(err)
							return
						}
						waited.Add(int64(time.Since(start)))
						total.Add(1)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			// ns/op from the loop is throughput; report the latency too.
			b.ReportMetric(float64(waited.Load())/float64(total.Load())/1e6, "ms/sync")
			b.ReportMetric(float64(total.Load())/float64(commits.Load()), "syncs/commit")
		})
	}
}
