package starhost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hostbench"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// benchHost loads n generated integrations from a temporary folder.
func benchHost(b *testing.B, n int, opts ...hosttest.Option) (*starhost.Manager, []string) {
	b.Helper()
	dir := b.TempDir()
	paths, err := hostbench.WriteModules(dir, n)
	if err != nil {
		b.Fatal(err)
	}
	return hosttest.New(b, append([]hosttest.Option{hosttest.Roots(dir)}, opts...)...), paths
}

// hundredLines is a ~100-line integration for the single-reload benchmark.
func hundredLines(rev int) string {
	var sb strings.Builder
	sb.WriteString(hostbench.Module(0, rev))
	for i := range 15 {
		fmt.Fprintf(&sb, "\ndef helper_%d(values):\n    out = []\n    for v in values:\n        out.append(v * %d)\n    return out\n", i, i)
	}
	return sb.String()
}

// BenchmarkReload reloads one ~100-line integration with a real source
// change each time (the write is not timed).
func BenchmarkReload(b *testing.B) {
	m, paths := benchHost(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if err := os.WriteFile(paths[0], []byte(hundredLines(i)), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := m.ReloadIntegration(ctx, "bench_000"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecFileBare is the floor for BenchmarkReload: reading and
// executing the same source with bare starlark.ExecFileOptions, no host.
func BenchmarkExecFileBare(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "bench_000.star")
	predeclared := starlark.StringDict{"integration": starlark.NewBuiltin("integration", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.None, nil
	})}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if err := os.WriteFile(path, []byte(hundredLines(i)), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		thread := &starlark.Thread{}
		if _, err := starlark.ExecFileOptions(&syntax.FileOptions{Set: true}, thread, path, src, predeclared); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReloadAll reloads 100 generated integrations in one call.
func BenchmarkReloadAll(b *testing.B) {
	m, _ := benchHost(b, 100)
	ctx := context.Background()
	for b.Loop() {
		for name, err := range m.ReloadAllIntegrations(ctx) {
			if err != nil {
				b.Fatal(name, err)
			}
		}
	}
}

// BenchmarkEmit emits response_received to 100 generated integrations,
// with the calls of one event on one goroutine (parallel=1) and spread
// over GOMAXPROCS goroutines (parallel=max); handler-calls/s is the figure
// to compare with the 500,000 target and with BenchmarkInterpreterFloor.
func BenchmarkEmit(b *testing.B) {
	for _, p := range []struct {
		name string
		n    int
	}{{"parallel=1", 1}, {"parallel=max", 0}} {
		b.Run(p.name, func(b *testing.B) {
			m, _ := benchHost(b, 100, hosttest.Parallel(p.n))
			ctx := context.Background()
			calls := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				rs, err := m.Emit(ctx, "response_received", map[string]any{"mission_id": "bench", "latency_ms": i % 500})
				if err != nil {
					b.Fatal(err)
				}
				calls += len(rs)
			}
			b.ReportMetric(float64(calls)/b.Elapsed().Seconds(), "handler-calls/s")
		})
	}
}

// BenchmarkEmitDefaults emits a typical response_received to the four
// default integrations, one call at a time and spread over GOMAXPROCS
// goroutines; the target is 40 µs per event.
func BenchmarkEmitDefaults(b *testing.B) {
	for _, p := range []struct {
		name string
		n    int
	}{{"parallel=1", 1}, {"parallel=max", 0}} {
		b.Run(p.name, func(b *testing.B) {
			m := hosttest.New(b, hosttest.Defaults(integrations.FS), hosttest.Parallel(p.n))
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				rs, err := m.Emit(ctx, "response_received", map[string]any{"mission_id": "m1", "latency_ms": 10 + i%50, "response": "the quick brown fox jumps over the lazy dog"})
				if err != nil || len(rs) != 4 {
					b.Fatal(len(rs), err)
				}
			}
		})
	}
}

// BenchmarkEmitParallel is BenchmarkEmit from GOMAXPROCS goroutines.
func BenchmarkEmitParallel(b *testing.B) {
	m, _ := benchHost(b, 100)
	ctx := context.Background()
	var calls atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			rs, err := m.Emit(ctx, "response_received", map[string]any{"mission_id": "bench", "latency_ms": i % 500})
			if err != nil {
				b.Error(err)
				return
			}
			calls.Add(int64(len(rs)))
			i++
		}
	})
	b.ReportMetric(float64(calls.Load())/b.Elapsed().Seconds(), "handler-calls/s")
}

// BenchmarkEmitTrivial measures the host's own cost per handler call:
// 100 integrations whose handler only returns None, one call at a time
// and spread over GOMAXPROCS goroutines.
func BenchmarkEmitTrivial(b *testing.B) {
	files := map[string]string{}
	for i := range 100 {
		files[fmt.Sprintf("t%03d.star", i)] = fmt.Sprintf("def h(event, ctx):\n    return None\n\nintegration(name = \"t%03d\", handlers = {\"response_received\": h})\n", i)
	}
	for _, p := range []struct {
		name     string
		n        int
		recorded bool
	}{{"parallel=1", 1, false}, {"parallel=1/recorded", 1, true}, {"parallel=max", 0, false}} {
		b.Run(p.name, func(b *testing.B) {
			opts := []hosttest.Option{hosttest.Parallel(p.n)}
			if p.recorded { // as in a supervised worker: each call on its module's lane
				rec, _ := newRecorder(b)
				opts = append(opts, hosttest.Recorder(rec))
			}
			m, _ := hosttest.NewRoot(b, files, opts...)
			ctx := context.Background()
			calls := 0
			b.ReportAllocs()
			for b.Loop() {
				rs, err := m.Emit(ctx, "response_received", map[string]any{"latency_ms": 1})
				if err != nil {
					b.Fatal(err)
				}
				calls += len(rs)
			}
			b.ReportMetric(float64(calls)/b.Elapsed().Seconds(), "handler-calls/s")
		})
	}
}
