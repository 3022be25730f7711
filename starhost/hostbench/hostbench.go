// Package hostbench measures an integration host the way users run it:
// reload latency of one integration with a real source change each time,
// ReloadAllIntegrations wall time, handler calls per second through Emit,
// and retained memory per integration. `afstudio bench` and the starhost
// benchmarks both use it.
package hostbench

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// Module returns the source of the i-th generated benchmark integration at
// revision rev: about 25 lines, subscribed to three events, counting events
// by name in its state, keeping the last 100 latency_ms values of
// response_received and returning a summary with their median.
func Module(i, rev int) string {
	return fmt.Sprintf(`# Generated benchmark integration %[1]d.
WINDOW = 100
REV = %[2]d

def _count(event, ctx):
    counts = ctx.state.setdefault("counts", {})
    counts[event.name] = counts.get(event.name, 0) + 1
    return counts[event.name]

def on_response(event, ctx):
    _count(event, ctx)
    window = ctx.state.setdefault("latencies", [])
    window.append(event.data.get("latency_ms", 0))
    if len(window) > WINDOW:
        window.pop(0)
    ordered = sorted(window)
    return {"n": len(ordered), "median": ordered[len(ordered) // 2], "rev": REV}

def on_other(event, ctx):
    return {"count": _count(event, ctx), "rev": REV}

integration(
    name = "bench_%03[1]d",
    description = "Generated benchmark integration.",
    handlers = {"response_received": on_response, "mission_started": on_other, "mission_completed": on_other},
)
`, i, rev)
}

// WriteModules writes n generated integrations into dir and returns their
// paths.
func WriteModules(dir string, n int) ([]string, error) {
	paths := make([]string, n)
	for i := range n {
		paths[i] = filepath.Join(dir, fmt.Sprintf("bench_%03d.star", i))
		if err := os.WriteFile(paths[i], []byte(Module(i, 0)), 0o644); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// Config says what to measure.
type Config struct {
	// Dir is a folder of the user's integrations to measure (copied to a
	// scratch folder first, so that reloads can change sources without
	// touching the user's files). Empty: N generated integrations.
	Dir string
	// N is the number of generated integrations (default 100).
	N int
	// Reloads is the number of single reloads timed (default 300).
	Reloads int
	// EmitFor is how long Emit throughput is measured (default 1s).
	EmitFor time.Duration
	// Defaults are the default integrations' files (integrations.FS), so
	// that the measured modules can load their libraries (lib/stats.star)
	// as in the real host; the default integrations themselves are not
	// loaded or measured. Nil: no defaults.
	Defaults fs.FS
}

// Report holds the measurements. JSON keys are those of `afstudio bench
// --json`.
type Report struct {
	N                     int     `json:"n"`
	ReloadP50MS           float64 `json:"reload_p50_ms"`
	ReloadP99MS           float64 `json:"reload_p99_ms"`
	ReloadAllMS           float64 `json:"reload_all_ms"`
	EmitHandlerCallsPerS  float64 `json:"emit_handler_calls_per_s"`
	EmitHandlerCallsPerS1 float64 `json:"emit_handler_calls_per_s_single_goroutine"`
	RetainedKiBPerIntegr  float64 `json:"retained_kib_per_integration"`
	Emitters              int     `json:"emitters"`
	GOMAXPROCS            int     `json:"gomaxprocs"`
}

// Run measures a host loaded from cfg.Dir or from generated integrations.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.N <= 0 {
		cfg.N = 100
	}
	if cfg.Reloads <= 0 {
		cfg.Reloads = 300
	}
	if cfg.EmitFor <= 0 {
		cfg.EmitFor = time.Second
	}
	scratch, err := os.MkdirTemp("", "afstudio-bench-")
	if err != nil {
		return Report{}, err
	}
	defer os.RemoveAll(scratch)
	if cfg.Dir != "" {
		if err := os.CopyFS(scratch, os.DirFS(cfg.Dir)); err != nil {
			return Report{}, fmt.Errorf("copy %s: %w", cfg.Dir, err)
		}
	} else if _, err := WriteModules(scratch, cfg.N); err != nil {
		return Report{}, err
	}

	before := heapInUse()
	m, err := starhost.New(starhost.Options{Roots: []string{scratch}, Defaults: cfg.Defaults, SkipDefaultIntegrations: true})
	if err != nil {
		return Report{}, err
	}
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		return Report{}, fmt.Errorf("load: %w", err)
	}
	list := m.Snapshot().Integrations
	if len(list) == 0 {
		return Report{}, fmt.Errorf("no integrations to measure in %s", cfg.Dir)
	}
	rep := Report{N: len(list), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	rep.RetainedKiBPerIntegr = float64(heapInUse()-before) / 1024 / float64(len(list))

	// Reload one integration, changing its source every time.
	target := list[len(list)/2]
	src, err := os.ReadFile(target.Module)
	if err != nil {
		return rep, err
	}
	times := make([]time.Duration, 0, cfg.Reloads)
	for i := range cfg.Reloads {
		changed := fmt.Appendf(slices.Clone(src), "\n# bench revision %d\n", i+1)
		if err := os.WriteFile(target.Module, changed, 0o644); err != nil {
			return rep, err
		}
		start := time.Now()
		if err := m.ReloadIntegration(ctx, target.Name); err != nil {
			return rep, fmt.Errorf("reload %s: %w", target.Name, err)
		}
		times = append(times, time.Since(start))
	}
	rep.ReloadP50MS = ms(quantile(times, 0.50))
	rep.ReloadP99MS = ms(quantile(times, 0.99))

	var all []time.Duration
	for range 15 {
		start := time.Now()
		for name, err := range m.ReloadAllIntegrations(ctx) {
			if err != nil {
				return rep, fmt.Errorf("reload all: %s: %w", name, err)
			}
		}
		all = append(all, time.Since(start))
	}
	rep.ReloadAllMS = ms(quantile(all, 0.5))

	rep.EmitHandlerCallsPerS1 = emitRate(ctx, m, 1, cfg.EmitFor)
	rep.Emitters = runtime.GOMAXPROCS(0)
	rep.EmitHandlerCallsPerS = emitRate(ctx, m, rep.Emitters, cfg.EmitFor)
	return rep, nil
}

// emitRate emits response_received from the given number of goroutines
// for d and returns the handler calls completed per second.
func emitRate(ctx context.Context, m *starhost.Manager, emitters int, d time.Duration) float64 {
	var calls atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for g := range emitters {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				rs, err := m.Emit(ctx, "response_received", map[string]any{"mission_id": "bench", "latency_ms": (i*7 + g) % 500})
				if err != nil {
					return
				}
				calls.Add(int64(len(rs)))
			}
		})
	}
	wg.Wait()
	return float64(calls.Load()) / time.Since(start).Seconds()
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1 // nearest rank
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Format renders a report for people.
func (r Report) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "integrations:                 %d\n", r.N)
	fmt.Fprintf(&b, "reload one, p50:              %.3f ms\n", r.ReloadP50MS)
	fmt.Fprintf(&b, "reload one, p99:              %.3f ms\n", r.ReloadP99MS)
	fmt.Fprintf(&b, "reload all (median of 15):    %.2f ms\n", r.ReloadAllMS)
	fmt.Fprintf(&b, "handler calls/s, 1 emitter:   %.0f\n", r.EmitHandlerCallsPerS1)
	fmt.Fprintf(&b, "handler calls/s, %d emitters:  %.0f\n", r.Emitters, r.EmitHandlerCallsPerS)
	fmt.Fprintf(&b, "retained memory/integration:  %.1f KiB\n", r.RetainedKiBPerIntegr)
	return b.String()
}
