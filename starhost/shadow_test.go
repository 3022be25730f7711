package starhost_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// counterSrc is an integration that counts its events in its state and
// answers with the count, in the style of version tag.
func counterSrc(tag, extra string) string {
	return fmt.Sprintf(`
def on_tick(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
%s
    return {"version": %q, "n": ctx.state["n"]}

integration(name = "counter", handlers = {"tick": on_tick})
`, extra, tag)
}

// shadowHost returns a host with counter v1 live, in shadow mode, and a
// function that saves a new counter.star and reloads it as the watcher
// would.
func shadowHost(t *testing.T, opts ...hosttest.Option) (*starhost.Manager, func(src string) []starhost.Outcome) {
	t.Helper()
	m, dir := hosttest.NewRoot(t, map[string]string{"counter.star": counterSrc("v1", "")}, opts...)
	if err := m.StartShadow("counter"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "counter.star")
	save := func(src string) []starhost.Outcome {
		t.Helper()
		hosttest.WriteFile(t, path, src)
		return m.ReloadFiles(context.Background(), []string{path})
	}
	return m, save
}

// shadowReport waits for the counter's shadow and returns its report.
func shadowReport(t *testing.T, m *starhost.Manager) starhost.ShadowReport {
	t.Helper()
	if err := m.WaitShadow(context.Background(), "counter"); err != nil {
		t.Fatal(err)
	}
	rep, err := m.ShadowReport("counter")
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestShadowCompares: with shadow mode on, a save makes a shadow; the
// serving version keeps answering, and every call is made again by the
// shadow on its own copy of the state and compared.
func TestShadowCompares(t *testing.T) {
	m, save := shadowHost(t)
	hosttest.Emit(t, m, "tick", nil) // serving state n=1 before the shadow starts
	if outs := save(counterSrc("v2", "")); outs[0].Err != nil {
		t.Fatal(outs[0].Err)
	}
	for i := range 5 {
		r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "counter")
		if r.Generation != 1 || r.Value.(map[string]any)["version"] != "v1" || r.Value.(map[string]any)["n"] != int64(i+2) {
			t.Fatalf("serving answer %+v: want generation 1, v1, n=%d", r, i+2)
		}
	}
	rep := shadowReport(t, m)
	if !rep.On || !rep.Active || rep.ServingGeneration != 1 || rep.ShadowGeneration != 2 {
		t.Fatalf("report %+v: want on, active, generations 1 and 2", rep)
	}
	if rep.Compared != 5 || rep.Different != 5 || rep.Equal != 0 || rep.ShadowFailed != 0 {
		t.Fatalf("compared %d, different %d, equal %d, shadow failed %d; want 5, 5, 0, 0", rep.Compared, rep.Different, rep.Equal, rep.ShadowFailed)
	}
	d := rep.Differences[0]
	if len(d.Paths) != 1 || d.Paths[0].Path != "$.result.version" || d.Paths[0].Old != "v1" || d.Paths[0].New != "v2" {
		t.Errorf("first difference %+v: want only $.result.version v1 → v2 (the shadow's copy of the state counts on from n=1 too)", d.Paths)
	}
	if rep.StateDifferent != 0 {
		t.Errorf("state differences %v: both counted the same events from the same state", rep.StateDifferences)
	}
	if st, _ := m.State("counter"); st["n"] != int64(6) {
		t.Errorf("serving state %v: want n=6 (the shadow's calls must not touch it)", st)
	}
	if in, _ := m.IntegrationInfo("counter"); in.Shadow == nil || *in.Shadow != (starhost.ShadowStatus{Generation: 2, Compared: 5, Different: 5}) {
		t.Errorf("info's shadow %+v: want generation 2, 5 compared, 5 different", in.Shadow)
	}
}

// TestShadowEqual: a shadow that does the same counts every call equal.
func TestShadowEqual(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v1", "    x = 1"))
	for range 3 {
		hosttest.Emit(t, m, "tick", nil)
	}
	if rep := shadowReport(t, m); rep.Compared != 3 || rep.Equal != 3 || rep.Different != 0 || len(rep.Differences) != 0 {
		t.Fatalf("report %+v: want 3 compared, all equal", rep)
	}
}

// TestShadowFailsServingSucceeds: a shadow that fails is counted and
// shown, and never reaches the serving results or the host's notices.
func TestShadowFailsServingSucceeds(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v2", `    if ctx.state["n"] > 1:
        fail("broken in v2")`))
	notices := recordNotices(t, m)
	for range 3 {
		if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "counter"); !r.OK {
			t.Fatalf("serving call failed: %+v", r.Error)
		}
	}
	rep := shadowReport(t, m)
	if rep.Compared != 3 || rep.ShadowFailed != 2 || rep.Different != 3 {
		t.Fatalf("compared %d, shadow failed %d, different %d; want 3, 2, 3", rep.Compared, rep.ShadowFailed, rep.Different)
	}
	failed := rep.Differences[1].Shadow
	if failed.OK || failed.Error == nil || !strings.Contains(failed.Error.Msg, "broken in v2") || failed.Error.Line != 5 {
		t.Errorf("shadow's failed result %+v: want the error at counter.star:5", failed)
	}
	for _, n := range notices() {
		if n.Kind == starhost.NoticeHandlerFailed {
			t.Errorf("notice %+v: a shadow's failure is not the integration's", n)
		}
	}
}

// TestShadowEmitsAreCaptured: a shadow whose follow-ups would loop (it
// emits the event it handles) only has them compared: none is dispatched.
func TestShadowEmitsAreCaptured(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v1", `    ctx.emit("tick", {"again": True})`))
	var calls int
	for range 4 {
		calls += len(hosttest.Emit(t, m, "tick", nil))
	}
	if calls != 4 {
		t.Fatalf("%d handler calls for 4 events: the shadow's follow-ups were dispatched", calls)
	}
	rep := shadowReport(t, m)
	if rep.Compared != 4 || rep.Different != 4 {
		t.Fatalf("compared %d, different %d: want 4, 4", rep.Compared, rep.Different)
	}
	if p := rep.Differences[0].Paths; len(p) != 1 || p[0].Path != "$.emitted[0]" || p[0].Missing != "old" {
		t.Errorf("difference %+v: want the follow-up only the shadow emitted", p)
	}
	if st, _ := m.State("counter"); st["n"] != int64(4) {
		t.Errorf("serving state %v: want n=4", st)
	}
}

// TestShadowPromoteUnderLoad: promoting while events stream in from
// several goroutines loses and doubles nothing: every event is counted
// once, by exactly one version, and the count carries over.
func TestShadowPromoteUnderLoad(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v2", ""))
	const senders, after = 4, 50
	var v1, v2, sent atomic.Int64
	var wg sync.WaitGroup
	promoted := make(chan struct{})
	for range senders {
		wg.Go(func() {
			left := after // events to send once promoted
			for left > 0 {
				select {
				case <-promoted:
					left--
				default:
				}
				sent.Add(1)
				rs, err := m.Emit(context.Background(), "tick", nil)
				if err != nil || len(rs) != 1 || !rs[0].OK {
					t.Errorf("emit: %v %+v", err, rs)
					return
				}
				switch rs[0].Value.(map[string]any)["version"] {
				case "v1":
					v1.Add(1)
				case "v2":
					v2.Add(1)
				}
			}
		})
	}
	hosttest.Eventually(t, 10e9, func() bool { return v1.Load() > 100 }, "events flow")
	if err := m.PromoteShadow(context.Background(), "counter"); err != nil {
		t.Errorf("promote: %v", err)
	}
	close(promoted)
	wg.Wait()
	total := sent.Load()
	if v1.Load()+v2.Load() != total || v2.Load() < senders*(after-1) {
		t.Fatalf("v1 answered %d, v2 %d: want %d in all, at least %d by v2", v1.Load(), v2.Load(), total, senders*(after-1))
	}
	if st, _ := m.State("counter"); st["n"] != total {
		t.Errorf("state %v after promote: want n=%d (nothing lost or doubled)", st, total)
	}
	in, _ := m.IntegrationInfo("counter")
	rep, _ := m.ShadowReport("counter")
	if in.Generation != 2 || rep.Active || !rep.On {
		t.Errorf("after promote: generation %d, shadow active %v, mode on %v; want 2, false, true (the mode stays on)", in.Generation, rep.Active, rep.On)
	}
	if err := m.PromoteShadow(context.Background(), "counter"); !errors.Is(err, starhost.ErrNoShadow) {
		t.Errorf("second promote: %v, want ErrNoShadow", err)
	}
}

// TestShadowDiscard: discarding drops the shadow and turns the mode off;
// the next save reloads as usual.
func TestShadowDiscard(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v2", ""))
	hosttest.Emit(t, m, "tick", nil)
	if err := m.DiscardShadow("counter"); err != nil {
		t.Fatal(err)
	}
	if rep, _ := m.ShadowReport("counter"); rep.On || rep.Active {
		t.Fatalf("after discard: %+v", rep)
	}
	if in, _ := m.IntegrationInfo("counter"); in.Shadow != nil {
		t.Fatalf("info after discard: shadow %+v, want none", in.Shadow)
	}
	r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "counter")
	if r.Value.(map[string]any)["version"] != "v1" {
		t.Fatalf("after discard the serving version changed: %+v", r)
	}
	save(counterSrc("v3", ""))
	r = hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "counter")
	if r.Generation != 2 || r.Value.(map[string]any)["version"] != "v3" {
		t.Fatalf("a save after discard: %+v, want v3 serving at generation 2", r)
	}
}

// TestShadowBadSave: a save that does not build leaves the serving
// version and the running shadow as they were, and says why.
func TestShadowBadSave(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v2", ""))
	outs := save("def broken(:\n")
	if outs[0].Err == nil {
		t.Fatal("a broken save reported no error")
	}
	hosttest.Emit(t, m, "tick", nil)
	rep := shadowReport(t, m)
	if !rep.Active || rep.Compared != 1 || rep.Differences[0].Shadow.Value.(map[string]any)["version"] != "v2" {
		t.Fatalf("after a broken save: %+v; want the v2 shadow still compared", rep)
	}
	if in, _ := m.IntegrationInfo("counter"); !in.Failed || in.Generation != 1 {
		t.Errorf("info %+v: want the failed save shown, generation 1 serving", in)
	}
}

// TestShadowLibraryChange: saving a library that the serving version
// loads, while a shadow runs, rebuilds the shadow (the file and the
// library as they are now); the serving version, built before, is
// untouched. Decided: shadow mode is about what the files on disk would
// do, and the serving version is what served when the mode was turned on.
func TestShadowLibraryChange(t *testing.T) {
	lib := func(word string) string { return fmt.Sprintf("def word():\n    return %q\n", word) }
	src := `
load("lib/words.star", "word")

def on_tick(event, ctx):
    return word()

integration(name = "counter", handlers = {"tick": on_tick})
`
	m, dir := hosttest.NewRoot(t, map[string]string{"counter.star": src, "lib/words.star": lib("old")})
	if err := m.StartShadow("counter"); err != nil {
		t.Fatal(err)
	}
	libPath := filepath.Join(dir, "lib", "words.star")
	hosttest.WriteFile(t, libPath, lib("new"))
	m.ReloadFiles(context.Background(), []string{libPath})
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "counter"); r.Value != "old" || r.Generation != 1 {
		t.Fatalf("serving answer %+v after the library changed: want the old word, generation 1", r)
	}
	rep := shadowReport(t, m)
	if !rep.Active || rep.Different != 1 || rep.Differences[0].Shadow.Value != "new" {
		t.Fatalf("shadow report %+v: want a shadow answering the new word", rep)
	}
	hosttest.WriteFile(t, libPath, lib("newer"))
	m.ReloadFiles(context.Background(), []string{libPath})
	hosttest.Emit(t, m, "tick", nil)
	rep = shadowReport(t, m)
	if rep.Compared != 1 || rep.Differences[0].Shadow.Value != "newer" {
		t.Fatalf("after a second library save: %+v; want a fresh shadow answering the newer word", rep)
	}
}

// TestShadowOwnLibrary: a library only the shadow loads is a dependency
// too: saving it rebuilds the shadow.
func TestShadowOwnLibrary(t *testing.T) {
	m, save := shadowHost(t)
	libPath := filepath.Join(filepath.Dir(savedPath(t, m)), "lib", "tag.star")
	hosttest.WriteFile(t, libPath, "TAG = \"a\"\n")
	save(strings.Replace(counterSrc("v2", ""), "def on_tick", "load(\"lib/tag.star\", \"TAG\")\n\ndef on_tick", 1))
	hosttest.WriteFile(t, libPath, "TAG = \"b\"\n")
	before, _ := m.ShadowReport("counter")
	m.ReloadFiles(context.Background(), []string{libPath})
	after, _ := m.ShadowReport("counter")
	if !after.Active || !after.Since.After(before.Since) {
		t.Fatalf("shadow since %v, then %v: saving its own library did not rebuild it", before.Since, after.Since)
	}
}

// savedPath returns the counter's module file.
func savedPath(t *testing.T, m *starhost.Manager) string {
	in, ok := m.IntegrationInfo("counter")
	if !ok {
		t.Fatal("no counter")
	}
	return in.Module
}

// TestShadowRemoved: removing the integration ends its shadow.
func TestShadowRemoved(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v2", ""))
	if err := m.RemoveIntegration(context.Background(), "counter"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ShadowReport("counter"); !errors.Is(err, starhost.ErrNotFound) {
		t.Fatalf("shadow report of a removed integration: %v", err)
	}
}

// TestShadowConcurrent runs events, reports, saves, promotes and
// discards at once (for -race).
func TestShadowConcurrent(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v2", ""))
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := m.Emit(context.Background(), "tick", nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	func() {
		for i := range 30 {
			if _, err := m.ShadowReport("counter"); err != nil {
				t.Error(err)
			}
			mu.Lock()
			switch i % 3 {
			case 0:
				_ = m.StartShadow("counter")
				save(counterSrc(fmt.Sprintf("v%d", i), ""))
			case 1:
				if err := m.PromoteShadow(context.Background(), "counter"); err != nil && !errors.Is(err, starhost.ErrNoShadow) {
					t.Error(err)
				}
			case 2:
				_ = m.DiscardShadow("counter")
			}
			mu.Unlock()
		}
	}()
	close(stop)
	wg.Wait()
}

// BenchmarkEmitShadowed is BenchmarkEmitDefaults (parallel=1) with and
// without a shadow of analytics, the busiest default, running beside
// it: what shadowing costs the serving path (target: under 10 %). The
// loop saturates a core, so the shadow runs at its CPU budget (a tenth
// of a core) and skips the rest (skipped/call); run it with -count 10
// and compare the pairs, the machine being noisy.
func BenchmarkEmitShadowed(b *testing.B) {
	for _, shadowed := range []bool{false, true} {
		b.Run(fmt.Sprintf("shadow=%v", shadowed), func(b *testing.B) {
			src, err := fs.ReadFile(integrations.FS, "analytics.star")
			if err != nil {
				b.Fatal(err)
			}
			m, dir := hosttest.NewRoot(b, map[string]string{"analytics.star": string(src)}, hosttest.Defaults(integrations.FS), hosttest.Parallel(1))
			ctx := context.Background()
			if shadowed {
				if err := m.StartShadow("analytics"); err != nil {
					b.Fatal(err)
				}
				path := filepath.Join(dir, "analytics.star")
				hosttest.WriteFile(b, path, string(src)+"\n# the shadow\n")
				if outs := m.ReloadFiles(ctx, []string{path}); outs[0].Err != nil {
					b.Fatal(outs[0].Err)
				}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				rs, err := m.Emit(ctx, "response_received", map[string]any{"mission_id": "m1", "latency_ms": 10 + i%50, "response": "the quick brown fox jumps over the lazy dog"})
				if err != nil || len(rs) != 4 {
					b.Fatal(len(rs), err)
				}
			}
			b.StopTimer()
			if shadowed {
				if err := m.WaitShadow(ctx, "analytics"); err != nil {
					b.Fatal(err)
				}
				rep, _ := m.ShadowReport("analytics")
				if rep.Different != 0 {
					b.Fatalf("the shadow of an unchanged analytics differs: %+v", rep.Differences[0])
				}
				b.ReportMetric(float64(rep.Skipped)/float64(rep.Compared+rep.Skipped), "skipped/call")
			}
		})
	}
}

// TestShadowSandboxLimits: a shadow runs under the same limits; one that
// runs away is stopped and counted as failed, and the serving version
// answers as before.
func TestShadowSandboxLimits(t *testing.T) {
	m, save := shadowHost(t, hosttest.Limits(starhost.Limits{Steps: 100_000}))
	save(counterSrc("v2", `    for i in range(10000000):
        pass`))
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "counter"); !r.OK || r.Value.(map[string]any)["version"] != "v1" {
		t.Fatalf("serving answer %+v", r)
	}
	rep := shadowReport(t, m)
	if rep.ShadowFailed != 1 || rep.Differences[0].Shadow.Error == nil || rep.Differences[0].Shadow.Error.Kind != starhost.ErrorLimit {
		t.Fatalf("report %+v: want the shadow stopped by the step limit", rep)
	}
}

// TestShadowEndsOnClose: Close ends the shadows' goroutines.
func TestShadowEndsOnClose(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v2", ""))
	before := runtime.NumGoroutine()
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	hosttest.Eventually(t, 5e9, func() bool { return runtime.NumGoroutine() < before }, "the shadow's goroutine ends")
	if rep, _ := m.ShadowReport("counter"); rep.On || rep.Active {
		t.Errorf("after Close: %+v", rep)
	}
}

// setCounterSrc keeps a struct holding a list in its state from the
// second call on: a container a copy of dicts and lists would share.
func setCounterSrc(tag string) string {
	return `
def on_tick(event, ctx):
    n = ctx.state.get("n", 0) + 1
    ctx.state["n"] = n
    if n == 2:
        ctx.state["seen"] = struct(items = [])
    if "seen" in ctx.state:
        ctx.state["seen"].items.append("` + tag + `")
        return sorted(ctx.state["seen"].items)
    return []

integration(name = "counter", handlers = {"tick": on_tick})
`
}

// TestShadowOwnsItsState: the shadow's copy of the state shares nothing
// with the serving state, even a container a copy of dicts and lists
// would share (a struct's list): what the shadow writes, the serving
// version never sees (and -race sees nothing shared).
func TestShadowOwnsItsState(t *testing.T) {
	m, dir := hosttest.NewRoot(t, map[string]string{"counter.star": setCounterSrc("serving")})
	if err := m.StartShadow("counter"); err != nil {
		t.Fatal(err)
	}
	hosttest.Emit(t, m, "tick", nil)
	hosttest.Emit(t, m, "tick", nil) // the struct is in the state
	path := filepath.Join(dir, "counter.star")
	hosttest.WriteFile(t, path, setCounterSrc("SHADOW"))
	m.ReloadFiles(context.Background(), []string{path})
	for range 5 {
		r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "counter")
		if err := m.WaitShadow(context.Background(), "counter"); err != nil {
			t.Fatal(err)
		}
		seen, _ := r.Value.([]any)
		for _, x := range seen {
			if x == "SHADOW" {
				t.Fatalf("the serving version sees what the shadow wrote: %v", r.Value)
			}
		}
	}
}

// TestShadowAndMove: a module renamed while shadow mode is on is a
// reload, not a shadow (the serving version's file is gone); promote then
// says there is nothing to promote, and saves keep working.
func TestShadowAndMove(t *testing.T) {
	m, dir := hosttest.NewRoot(t, map[string]string{"counter.star": counterSrc("v1", "")})
	if err := m.StartShadow("counter"); err != nil {
		t.Fatal(err)
	}
	oldPath, newPath := filepath.Join(dir, "counter.star"), filepath.Join(dir, "counter2.star")
	if err := os.Rename(oldPath, newPath); err != nil {
		t.Fatal(err)
	}
	m.ReloadFiles(context.Background(), []string{oldPath, newPath})
	if in, _ := m.IntegrationInfo("counter"); in.Module != newPath {
		t.Fatalf("after the rename the module is %s, want %s", in.Module, newPath)
	}
	hosttest.WriteFile(t, newPath, counterSrc("v2", ""))
	for _, o := range m.ReloadFiles(context.Background(), []string{newPath}) {
		if o.Err != nil {
			t.Fatalf("a save after the rename: %v", o.Err)
		}
	}
	if err := m.PromoteShadow(context.Background(), "counter"); err != nil {
		t.Fatalf("promote: %v", err)
	}
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "counter"); r.Value.(map[string]any)["version"] != "v2" {
		t.Fatalf("after promote: %+v, want v2", r)
	}
}

// TestShadowNeverStrands: each mirrored call is made however calls and
// the shadow's naps interleave (no call waits in the queue while the
// shadow sleeps).
func TestShadowNeverStrands(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v2", ""))
	for i := range 600 {
		hosttest.Emit(t, m, "tick", nil)
		if i%3 == 0 {
			time.Sleep(time.Duration(i%5) * 300 * time.Microsecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := m.WaitShadow(ctx, "counter")
		cancel()
		if err != nil {
			t.Fatalf("event %d: a mirrored call is stranded: %v", i, err)
		}
	}
}

// TestShadowChaos: four senders while shadows are started, promoted,
// waited on, reported and discarded at random: every event is counted
// once.
func TestShadowChaos(t *testing.T) {
	m, dir := hosttest.NewRoot(t, map[string]string{"counter.star": counterSrc("v1", "")}, hosttest.Parallel(4))
	path := filepath.Join(dir, "counter.star")
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			switch i % 5 {
			case 0:
				_ = m.StartShadow("counter")
				hosttest.WriteFile(t, path, counterSrc(fmt.Sprintf("v%d", i), ""))
				m.ReloadFiles(context.Background(), []string{path})
			case 1:
				if err := m.PromoteShadow(context.Background(), "counter"); err != nil && !errors.Is(err, starhost.ErrNoShadow) {
					t.Errorf("promote: %v", err)
				}
			case 2:
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if err := m.WaitShadow(ctx, "counter"); err != nil {
					t.Errorf("WaitShadow: %v", err)
				}
				cancel()
			case 3:
				_, _ = m.ShadowReport("counter")
				_, _ = m.IntegrationInfo("counter")
			case 4:
				if i%15 == 4 {
					_ = m.DiscardShadow("counter")
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if _, err := m.Emit(context.Background(), "tick", nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-done
	if st, _ := m.State("counter"); st["n"] != int64(4000) {
		t.Errorf("state %v: want n=4000", st)
	}
}

// TestShadowCatchesUp: a shadow too slow to keep up skips calls, then
// takes a fresh copy of the serving state, so that its later results
// compare equal again where the code does the same.
func TestShadowCatchesUp(t *testing.T) {
	m, save := shadowHost(t)
	save(counterSrc("v1", `    for i in range(20000):
        pass`)) // the same answers, a thousand times slower
	for range 6000 {
		hosttest.Emit(t, m, "tick", nil)
	}
	hosttest.Eventually(t, 10e9, func() bool { return !shadowReport(t, m).Behind }, "the shadow catches up once its budget allows")
	rep := shadowReport(t, m)
	if rep.Skipped == 0 || rep.CaughtUp == 0 || rep.StateDifferent != 0 {
		t.Fatalf("skipped %d, caught up %d, state differences %v: want a shadow that fell behind and caught up with the serving state", rep.Skipped, rep.CaughtUp, rep.StateDifferences)
	}
	hosttest.Emit(t, m, "tick", nil)
	if after := shadowReport(t, m); after.Compared != rep.Compared+1 || after.Different != rep.Different {
		t.Fatalf("the call after catching up: compared %d → %d, different %d → %d; want one more compared, equal", rep.Compared, after.Compared, rep.Different, after.Different)
	}
}
