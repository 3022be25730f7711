package starhost_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// counterModule counts events per emitter and fails if an emitter's
// sequence numbers arrive out of order, doubled or with a gap: the
// integration itself checks "none lost, none doubled, in order".
func counterModule(rev int, withMigrate bool) string {
	migrate := "None"
	if withMigrate {
		migrate = "migrate"
	}
	return fmt.Sprintf(`REV = %d

def on_tick(event, ctx):
    g = str(event.data["emitter"])
    seq = event.data["seq"]
    last = ctx.state.setdefault("last", {})
    want = last.get(g, -1) + 1
    if seq != want:
        fail("emitter %%s: got seq %%d, want %%d" %% (g, seq, want))
    last[g] = seq
    ctx.state["total"] = ctx.state.get("total", 0) + 1
    return {"rev": REV}

def migrate(old):
    old["migrations"] = old.get("migrations", 0) + 1
    return old

integration(name = "counter", priority = "HIGH", handlers = {"tick": on_tick}, migrate = %s)
`, rev, migrate)
}

// TestConcurrentEmitAndReload runs emitters and reloaders together: every
// event must be handled exactly once, in order per emitter, by exactly one
// version, while reloads (good and bad), reload-all, add and remove run.
func TestConcurrentEmitAndReload(t *testing.T) {
	m, dir := newHost(t, map[string]string{
		"counter.star": counterModule(0, true),
		"other.star":   `integration(name = "other", handlers = {"tick": lambda e, c: None})`,
	})
	const emitters, perEmitter = 4, 1500
	ctx := context.Background()
	stop := make(chan struct{})
	var reloads, failedReloads, swaps int
	var wg sync.WaitGroup
	wg.Go(func() { // reloader: alternates good changes and broken files
		for rev := 1; ; rev++ {
			select {
			case <-stop:
				return
			default:
			}
			src := counterModule(rev, true)
			if rev%5 == 0 {
				src = "def broken(:\n" // syntax error: must change nothing
			}
			writeFiles(t, dir, map[string]string{"counter.star": src})
			err := m.ReloadIntegration(ctx, "counter")
			reloads++
			if err != nil {
				failedReloads++
				if rev%5 != 0 {
					t.Errorf("reload rev %d: %v", rev, err)
				}
			} else {
				swaps++
			}
		}
	})
	wg.Go(func() { // reload-all, remove and re-add of another integration
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m.ReloadAllIntegrations(ctx)
			if err := m.RemoveIntegration(context.Background(), "other"); err != nil {
				t.Errorf("remove: %v", err)
			}
			if _, err := m.AddIntegration(ctx, dir+"/other.star", ""); err != nil {
				t.Errorf("add: %v", err)
			}
		}
	})
	var ewg sync.WaitGroup
	results := make([][]starhost.Result, emitters)
	for g := range emitters {
		ewg.Go(func() {
			for seq := range perEmitter {
				rs, err := m.Emit(ctx, "tick", map[string]any{"emitter": g, "seq": seq})
				if err != nil {
					t.Errorf("emit: %v", err)
					return
				}
				for _, r := range rs {
					if r.Integration == "counter" {
						results[g] = append(results[g], r)
					}
				}
			}
		})
	}
	ewg.Wait()
	close(stop)
	wg.Wait()

	for g, rs := range results {
		if len(rs) != perEmitter {
			t.Fatalf("emitter %d: counter handled %d events, want %d", g, len(rs), perEmitter)
		}
		lastGen := 0
		for i, r := range rs {
			if !r.OK {
				t.Fatalf("emitter %d event %d: %v", g, i, r.Error)
			}
			if r.Generation < lastGen {
				t.Fatalf("emitter %d: generation went back from %d to %d", g, lastGen, r.Generation)
			}
			lastGen = r.Generation
		}
	}
	st, err := m.State("counter")
	if err != nil {
		t.Fatal(err)
	}
	if got := st["total"]; got != int64(emitters*perEmitter) {
		t.Fatalf("state total = %v, want %d (state lost or doubled across reloads)", got, emitters*perEmitter)
	}
	info, _ := m.IntegrationInfo("counter")
	if swaps == 0 || failedReloads == 0 {
		t.Fatalf("the test did not exercise both good (%d) and failed (%d) reloads", swaps, failedReloads)
	}
	if mig, _ := st["migrations"].(int64); mig == 0 {
		t.Fatalf("migrate never ran: state %v", st)
	}
	t.Logf("%d events per emitter x %d; %d reloads (%d failed), final generation %d", perEmitter, emitters, reloads, failedReloads, info.Generation)
}

func TestStateSurvivesReloadAndMigrate(t *testing.T) {
	v1 := `def h(event, ctx):
    ctx.state["hits"] = ctx.state.get("hits", 0) + 1
    return ctx.state["hits"]

integration(name = "keeper", handlers = {"e": h})
`
	m, dir := newHost(t, map[string]string{"keeper.star": v1})
	for range 3 {
		emit(t, m, "e", nil)
	}
	// v2 without migrate: state carries over unchanged.
	writeFiles(t, dir, map[string]string{"keeper.star": strings.Replace(v1, "+ 1", "+ 10", 1)})
	if err := m.ReloadIntegration(context.Background(), "keeper"); err != nil {
		t.Fatal(err)
	}
	if got := resultOf(t, emit(t, m, "e", nil), "keeper").Value; got != int64(13) {
		t.Fatalf("after reload without migrate: %v, want 13", got)
	}
	// v3 with migrate: the state is reshaped.
	v3 := `def h(event, ctx):
    ctx.state["count"] += 1
    return ctx.state["count"]

def migrate(old):
    return {"count": old.get("hits", 0) * 100}

integration(name = "keeper", handlers = {"e": h}, migrate = migrate)
`
	writeFiles(t, dir, map[string]string{"keeper.star": v3})
	if err := m.ReloadIntegration(context.Background(), "keeper"); err != nil {
		t.Fatal(err)
	}
	if got := resultOf(t, emit(t, m, "e", nil), "keeper").Value; got != int64(1301) {
		t.Fatalf("after migrate: %v, want 1301", got)
	}
	info, _ := m.IntegrationInfo("keeper")
	if info.Generation != 3 {
		t.Fatalf("generation %d, want 3", info.Generation)
	}
}

// TestLibraryChangeReloadsDependents: a library change reloads every
// integration that loads it, transitively, all-or-nothing.
func TestLibraryChangeReloadsDependents(t *testing.T) {
	m, dir := newHost(t, map[string]string{
		"lib/base.star":   "FACTOR = 2\n",
		"lib/shared.star": "load(\"lib/base.star\", \"FACTOR\")\ndef scale(x):\n    return x * FACTOR\n",
		"a.star":          "load(\"lib/shared.star\", \"scale\")\nintegration(name = \"a\", handlers = {\"e\": lambda e, c: scale(1)})\n",
		"b.star":          "load(\"lib/shared.star\", \"scale\")\nintegration(name = \"b\", handlers = {\"e\": lambda e, c: scale(10)})\n",
		"c.star":          "integration(name = \"c\", handlers = {\"e\": lambda e, c: 0})\n",
	})
	base := dir + "/lib/base.star"
	writeFiles(t, dir, map[string]string{"lib/base.star": "FACTOR = 3\n"})
	res := outcomeErrs(m.ReloadFiles(context.Background(), []string{base}))
	if len(res) != 2 || res["a"] != nil || res["b"] != nil {
		t.Fatalf("ReloadFiles(base) = %v, want a and b reloaded", res)
	}
	rs := emit(t, m, "e", nil)
	if resultOf(t, rs, "a").Value != int64(3) || resultOf(t, rs, "b").Value != int64(30) {
		t.Fatalf("after library change: %+v", rs)
	}
	for name, gen := range map[string]int{"a": 2, "b": 2, "c": 1} {
		if in, _ := m.IntegrationInfo(name); in.Generation != gen {
			t.Fatalf("%s generation %d, want %d", name, in.Generation, gen)
		}
	}
	// A change that breaks one dependent swaps neither.
	writeFiles(t, dir, map[string]string{
		"lib/base.star": "FACTOR = 5\n",
		"b.star":        "load(\"lib/shared.star\", \"scale\", \"missing\")\nintegration(name = \"b\", handlers = {\"e\": lambda e, c: scale(10)})\n",
	})
	res = outcomeErrs(m.ReloadFiles(context.Background(), []string{base, dir + "/b.star"}))
	if res["a"] == nil || res["b"] == nil {
		t.Fatalf("want both a and b to fail together, got %v", res)
	}
	if d := starhost.Diagnose(res["b"], ""); !strings.Contains(d[0].Msg, "missing") || d[0].Line != 1 {
		t.Fatalf("b's error should name the missing symbol at line 1: %v", d)
	}
	rs = emit(t, m, "e", nil)
	if resultOf(t, rs, "a").Value != int64(3) || resultOf(t, rs, "b").Value != int64(30) {
		t.Fatalf("a failed group must change nothing: %+v", rs)
	}
}

func TestReloadAllSwapsWhatBuilds(t *testing.T) {
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("m%02d.star", i)] = fmt.Sprintf("integration(name = \"m%02d\", handlers = {\"e\": lambda e, c: 1})\n", i)
	}
	m, dir := newHost(t, files)
	writeFiles(t, dir, map[string]string{"m07.star": "integration(name = \"m07\", handlers = {\"e\": undefined_name})\n"})
	res := m.ReloadAllIntegrations(context.Background())
	if len(res) != 20 {
		t.Fatalf("%d results, want 20", len(res))
	}
	for name, err := range res {
		if (err != nil) != (name == "m07") {
			t.Fatalf("%s: %v", name, err)
		}
	}
	d := starhost.Diagnose(res["m07"], "")[0]
	if d.Line != 1 || d.Col != 44 || !strings.Contains(d.Msg, "undefined: undefined_name") {
		t.Fatalf("m07 error = %v", d)
	}
	if !m.IsAvailable("m07") || len(emit(t, m, "e", nil)) != 20 {
		t.Fatal("m07's old version must keep serving")
	}
	if in, _ := m.IntegrationInfo("m03"); in.Generation != 2 {
		t.Fatalf("m03 generation %d, want 2", in.Generation)
	}
}

func TestDispatchOrderAndRemove(t *testing.T) {
	mod := func(name, prio string) string {
		return fmt.Sprintf("integration(name = %q, priority = %q, handlers = {\"*\": lambda e, c: %q})\n", name, prio, name)
	}
	m, dir := newHost(t, map[string]string{
		"z.star": mod("zeta", "CRITICAL"), "b.star": mod("beta", "LOW"),
		"a.star": mod("alpha", "NORMAL"), "c.star": mod("gamma", "CRITICAL"),
	})
	var order []string
	for _, r := range emit(t, m, "anything", nil) {
		order = append(order, r.Integration)
	}
	if got, want := strings.Join(order, ","), "gamma,zeta,alpha,beta"; got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
	if err := m.RemoveIntegration(context.Background(), "zeta"); err != nil {
		t.Fatal(err)
	}
	if m.IsAvailable("zeta") || len(emit(t, m, "x", nil)) != 3 {
		t.Fatal("removed integration still dispatched")
	}
	if err := m.RemoveIntegration(context.Background(), "zeta"); !errors.Is(err, starhost.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	if _, ok := m.IntegrationInfo("zeta"); ok {
		t.Fatal("info of removed integration")
	}
	// Re-adding it: the export may be omitted for a one-integration module.
	added, err := m.AddIntegration(context.Background(), dir+"/z.star", "")
	if err != nil || len(added) != 1 || added[0].Name != "zeta" || added[0].Class != "zeta" || !added[0].Available {
		t.Fatalf("add: %+v, %v", added, err)
	}
}

func TestAddIntegrationExports(t *testing.T) {
	m, dir := newHost(t, nil)
	writeFiles(t, dir, map[string]string{"two.star": `
integration(name = "first", handlers = {"e": lambda e, c: 1})
integration(name = "second", handlers = {"e": lambda e, c: 2})
`})
	ctx := context.Background()
	if _, err := m.AddIntegration(ctx, dir+"/two.star", "third"); err == nil || !strings.Contains(err.Error(), `no integration named "third" is declared here (it declares first, second)`) {
		t.Fatalf("unknown export: %v", err)
	}
	if len(m.Snapshot().Integrations) != 0 {
		t.Fatal("failed adds must add nothing")
	}
	added, err := m.AddIntegration(ctx, dir+"/two.star", "second")
	if err != nil || len(added) != 1 || added[0].Class != "second" {
		t.Fatalf("add second: %+v %v", added, err)
	}
	if got := m.Names(); len(got) != 1 || got[0] != "second" {
		t.Fatalf("names %v", got)
	}
	// No class: every integration the module declares; second reloads.
	added, err = m.AddIntegration(ctx, "two.star", "")
	if err != nil || len(added) != 2 || added[0].Name != "first" || added[0].Generation != 1 || added[1].Name != "second" || added[1].Generation != 2 {
		t.Fatalf("add all (relative to the first root): %+v %v", added, err)
	}
}

func TestNoticesAndInfo(t *testing.T) {
	m, dir := newHost(t, map[string]string{"n.star": "def h(e, c):\n    c.log(\"hello\", 1, level = \"warn\")\n    print(\"printed\")\n    return 1\nintegration(name = \"n\", handlers = {\"e\": h})\n"})
	sub := m.Subscribe(64)
	defer sub.Close()
	emit(t, m, "e", nil)
	writeFiles(t, dir, map[string]string{"n.star": "integration(name = \"n\", handlers = {\"e\": lambda e, c: 1}, priority = \"URGENT\")\n"})
	if err := m.ReloadIntegration(context.Background(), "n"); err == nil {
		t.Fatal("want reload error")
	}
	var kinds []string
	var failure starhost.Notice
	timeout := time.After(5 * time.Second)
	for len(kinds) < 4 {
		select {
		case n := <-sub.C:
			kinds = append(kinds, string(n.Kind)+":"+n.Level+":"+n.Message)
			if n.Kind == starhost.NoticeReloadFailed {
				failure = n
			}
		case <-timeout:
			t.Fatalf("notices so far: %v", kinds)
		}
	}
	got := strings.Join(kinds, "|")
	for _, want := range []string{"log:warn:hello 1", "log:info:printed", "reload_failed"} {
		if !strings.Contains(got, want) {
			t.Fatalf("notices %q lack %q", got, want)
		}
	}
	if failure.Error == nil || failure.Error.Line != 1 || !strings.Contains(failure.Error.Msg, `unknown priority "URGENT"`) {
		t.Fatalf("reload_failed notice error: %+v", failure.Error)
	}
	in, _ := m.IntegrationInfo("n")
	if !in.Failed || in.Generation != 1 || in.Calls != 1 || in.Errors != 0 || in.LatencyP99 <= 0 || in.LastError == nil {
		t.Fatalf("info after failed reload: %+v", in)
	}
}

func TestEmitDepthLimit(t *testing.T) {
	m, _ := newHost(t, map[string]string{"loop.star": `
def h(event, ctx):
    ctx.emit("ping", {"n": event.data.get("n", 0) + 1})
    return event.depth

integration(name = "loop", handlers = {"ping": h})
`}, func(o *starhost.Options) { o.Limits.MaxEmitDepth = 5 })
	rs := emit(t, m, "ping", nil)
	if len(rs) != 6 {
		t.Fatalf("%d calls, want 6 (depths 0..5)", len(rs))
	}
	last := rs[len(rs)-1]
	if last.OK || last.Depth != 5 || !strings.Contains(last.Error.Error(), "limited to a depth of 5") {
		t.Fatalf("last call: %+v %v", last, last.Error)
	}
	if d := last.Error; d.Line != 3 {
		t.Fatalf("error at %s, want the emit line 3", d.Position())
	}
}
