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

// Config says what to measure. The zero value measures 100 generated
// integrations with 300 reloads and one second of emitting.
type Config struct {
	// Dir is a folder of the user's integrations to measure (copied to a
	// scratch folder first, so that reloads can change sources without
	// touching the user's files). "": N generated integrations (Module).
	Dir string
	// N is the number of generated integrations; ignored with Dir. 0 or
	// less: 100.
	N int
	// Reloads is the number of single reloads timed. 0 or less: 300.
	Reloads int
	// EmitFor is how long Emit throughput is measured, once with one
	// emitting goroutine and once with GOMAXPROCS. 0 or less: 1s.
	EmitFor time.Duration
	// Defaults are the default integrations' files (integrations.FS), so
	// that the measured modules can load their libraries (lib/stats.star)
	// as in the real host; the default integrations themselves are not
	// loaded or measured. Nil: no defaults.
	Defaults fs.FS
}

// withDefaults returns cfg with every unset field at its default.
func (cfg Config) withDefaults() Config {
	if cfg.N <= 0 {
		cfg.N = 100
	}
	if cfg.Reloads <= 0 {
		cfg.Reloads = 300
	}
	if cfg.EmitFor <= 0 {
		cfg.EmitFor = time.Second
	}
	return cfg
}

// Report holds the measurements of one Run. Its JSON form is what
// `afstudio bench --json` prints; the keys are given with each field.
// Latencies are in milliseconds (float, microsecond resolution), as the
// keys ending in "_ms" say.
type Report struct {
	// Integrations is how many integrations the host had loaded (JSON
	// "n").
	Integrations int `json:"n"`
	// ReloadOneP50Millis is the median time of one ReloadIntegration of
	// an integration whose source changed, in milliseconds, over
	// Config.Reloads reloads (JSON "reload_p50_ms").
	ReloadOneP50Millis float64 `json:"reload_p50_ms"`
	// ReloadOneP99Millis is the 99th percentile of the same reloads, in
	// milliseconds (JSON "reload_p99_ms").
	ReloadOneP99Millis float64 `json:"reload_p99_ms"`
	// ReloadAllMedianMillis is the median wall time of
	// ReloadAllIntegrations over 15 runs, in milliseconds (JSON
	// "reload_all_ms").
	ReloadAllMedianMillis float64 `json:"reload_all_ms"`
	// HandlerCallsPerSecond is how many handler calls Emit completed per
	// second with Emitters goroutines emitting at once (JSON
	// "emit_handler_calls_per_s").
	HandlerCallsPerSecond float64 `json:"emit_handler_calls_per_s"`
	// HandlerCallsPerSecondOneEmitter is the same with one goroutine
	// emitting (JSON "emit_handler_calls_per_s_single_goroutine").
	HandlerCallsPerSecondOneEmitter float64 `json:"emit_handler_calls_per_s_single_goroutine"`
	// RetainedKiBPerIntegration is the growth of the in-use heap from
	// before the host was created to after it loaded, after garbage
	// collection, in KiB, divided by Integrations (JSON
	// "retained_kib_per_integration").
	RetainedKiBPerIntegration float64 `json:"retained_kib_per_integration"`
	// Emitters is the number of goroutines that emitted at once for
	// HandlerCallsPerSecond: GOMAXPROCS (JSON "emitters").
	Emitters int `json:"emitters"`
	// GOMAXPROCS is runtime.GOMAXPROCS during the run (JSON
	// "gomaxprocs").
	GOMAXPROCS int `json:"gomaxprocs"`
}

// Run measures a host loaded from cfg.Dir or from generated integrations:
// it loads them in a scratch folder (removed afterwards), reloads one
// integration cfg.Reloads times with a real source change each time,
// reloads all of them 15 times, and emits response_received for
// cfg.EmitFor from one goroutine and then from GOMAXPROCS. The host has
// no default integrations. On an error after the load, the report holds
// what was measured so far.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg = cfg.withDefaults()
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
	m, rep, err := load(ctx, scratch, cfg.Dir, cfg.Defaults)
	if err != nil {
		return rep, err
	}
	list := m.Snapshot().Integrations
	if rep.ReloadOneP50Millis, rep.ReloadOneP99Millis, err = reloadOne(ctx, m, list[len(list)/2], cfg.Reloads); err != nil {
		return rep, err
	}
	if rep.ReloadAllMedianMillis, err = reloadAll(ctx, m, 15); err != nil {
		return rep, err
	}
	rep.HandlerCallsPerSecondOneEmitter = emitRate(ctx, m, 1, cfg.EmitFor)
	rep.Emitters = runtime.GOMAXPROCS(0)
	rep.HandlerCallsPerSecond = emitRate(ctx, m, rep.Emitters, cfg.EmitFor)
	return rep, nil
}

// load starts a host on the folder dir and loads it, measuring the heap
// it retains. It fails when nothing loaded; userDir names the folder the
// user gave ("" for generated integrations) in that error. defaults (Config.Defaults) makes the default library loadable; the default integrations are not loaded.
func load(ctx context.Context, dir, userDir string, defaults fs.FS) (*starhost.Manager, Report, error) {
	before := heapInUse()
	m, err := starhost.New(starhost.Options{Roots: []string{dir}, Defaults: defaults, SkipDefaultIntegrations: true})
	if err != nil {
		return nil, Report{}, err
	}
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		return nil, Report{}, fmt.Errorf("load: %w", err)
	}
	n := len(m.Names())
	if n == 0 {
		return nil, Report{}, fmt.Errorf("no integrations to measure in %s", userDir)
	}
	rep := Report{Integrations: n, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	rep.RetainedKiBPerIntegration = float64(heapInUse()-before) / 1024 / float64(n)
	return m, rep, nil
}

// reloadOne reloads target n times, changing its source before each
// reload, and returns the median and 99th percentile in milliseconds.
func reloadOne(ctx context.Context, m *starhost.Manager, target starhost.Info, n int) (p50, p99 float64, err error) {
	src, err := os.ReadFile(target.Module)
	if err != nil {
		return 0, 0, err
	}
	times := make([]time.Duration, 0, n)
	for i := range n {
		changed := fmt.Appendf(slices.Clone(src), "\n# bench revision %d\n", i+1)
		if err := os.WriteFile(target.Module, changed, 0o644); err != nil {
			return 0, 0, err
		}
		start := time.Now()
		if err := m.ReloadIntegration(ctx, target.Name); err != nil {
			return 0, 0, fmt.Errorf("reload %s: %w", target.Name, err)
		}
		times = append(times, time.Since(start))
	}
	return ms(quantile(times, 0.50)), ms(quantile(times, 0.99)), nil
}

// reloadAll times ReloadAllIntegrations runs times and returns the median
// in milliseconds; any integration that fails to reload is an error.
func reloadAll(ctx context.Context, m *starhost.Manager, runs int) (float64, error) {
	var all []time.Duration
	for range runs {
		start := time.Now()
		for name, err := range m.ReloadAllIntegrations(ctx) {
			if err != nil {
				return 0, fmt.Errorf("reload all: %s: %w", name, err)
			}
		}
		all = append(all, time.Since(start))
	}
	return ms(quantile(all, 0.5)), nil
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

// heapInUse returns the bytes of in-use heap spans after two garbage
// collections.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// quantile returns the q-quantile (0 to 1) of ds by nearest rank; ds must
// not be empty.
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1 // nearest rank
	return s[min(max(i, 0), len(s)-1)]
}

// ms returns d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Format renders a report for people, one measurement a line, as
// `afstudio bench` prints it.
func (r Report) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "integrations:                 %d\n", r.Integrations)
	fmt.Fprintf(&b, "reload one, p50:              %.3f ms\n", r.ReloadOneP50Millis)
	fmt.Fprintf(&b, "reload one, p99:              %.3f ms\n", r.ReloadOneP99Millis)
	fmt.Fprintf(&b, "reload all (median of 15):    %.2f ms\n", r.ReloadAllMedianMillis)
	fmt.Fprintf(&b, "handler calls/s, 1 emitter:   %.0f\n", r.HandlerCallsPerSecondOneEmitter)
	fmt.Fprintf(&b, "handler calls/s, %d emitters:  %.0f\n", r.Emitters, r.HandlerCallsPerSecond)
	fmt.Fprintf(&b, "retained memory/integration:  %.1f KiB\n", r.RetainedKiBPerIntegration)
	return b.String()
}
