package starhost_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/statestore"
)

// TestConcurrentEmitAndReload runs emitters and reloaders together: every
// event must be handled exactly once, in order per emitter, by exactly one
// version, while reloads (good and bad), reload-all, add and remove run.
// Four more integrations make each event's calls run on four goroutines
// (Options.Parallel), so the fan-out runs under the race too; one of them
// is switched off and on meanwhile; and the states are written behind to
// a real state file every millisecond. At the end, every stored state is
// the live one.
func TestConcurrentEmitAndReload(t *testing.T) {
	files := map[string]string{
		"counter.star": hosttest.CounterModule(0),
		"other.star":   `integration(name = "other", handlers = {"tick": lambda e, c: c.state.update(n = c.state.get("n", 0) + 1)})`,
	}
	for i := range 4 {
		// Each spins long enough that an event's calls are worth spreading.
		files[fmt.Sprintf("pad%d.star", i)] = fmt.Sprintf("def h(e, c):\n    for _ in range(300):\n        pass\n    c.state[\"n\"] = c.state.get(\"n\", 0) + 1\n\nintegration(name = \"pad%d\", handlers = {\"tick\": h})\n", i)
	}
	store, err := statestore.Open(filepath.Join(t.TempDir(), "state.db"), statestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m, dir := hosttest.NewRoot(t, files, hosttest.Parallel(4), hosttest.Store(store), hosttest.FlushInterval(time.Millisecond))
	ctx := context.Background()
	hosttest.ReloadRace{
		Host: m, Dir: dir, Emitters: 4, PerEmitter: 1500, BrokenEvery: 5,
		Emit: func(g, seq int) ([]starhost.Result, error) {
			return m.Emit(ctx, "tick", map[string]any{"emitter": g, "seq": seq})
		},
		Reload: func() error { return m.ReloadIntegration(ctx, "counter") },
		Churn: func() int { // reload-all, remove and re-add of another integration
			swapped := 0
			if m.ReloadAllIntegrations(ctx)["counter"] == nil {
				swapped++
			}
			if err := m.RemoveIntegration(ctx, "other"); err != nil {
				t.Errorf("remove: %v", err)
			}
			if _, err := m.AddIntegration(ctx, dir+"/other.star", ""); err != nil {
				t.Errorf("add: %v", err)
			}
			if err := errors.Join(m.DisableIntegration("pad1"), m.EnableIntegration("pad1")); err != nil {
				t.Errorf("switch: %v", err)
			}
			return swapped
		},
	}.Run(t)
	live := map[string]string{}
	for _, name := range m.Names() {
		b, err := m.StateJSON(name)
		if err != nil {
			t.Fatal(err)
		}
		live[name] = string(b)
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range live { // counter's, other's (removed and added again), the pads' (one switched)
		if rec, _, err := store.Load(name); err != nil || string(rec.State) != want {
			t.Errorf("%s: stored %s (%v), live %s", name, rec.State, err, want)
		}
	}
}

func TestStateSurvivesReloadAndMigrate(t *testing.T) {
	v1 := `def h(event, ctx):
    ctx.state["hits"] = ctx.state.get("hits", 0) + 1
    return ctx.state["hits"]

integration(name = "keeper", handlers = {"e": h})
`
	m, dir := hosttest.NewRoot(t, map[string]string{"keeper.star": v1})
	for range 3 {
		hosttest.Emit(t, m, "e", nil)
	}
	// v2 without migrate: state carries over unchanged.
	hosttest.WriteFiles(t, dir, map[string]string{"keeper.star": strings.Replace(v1, "+ 1", "+ 10", 1)})
	if err := m.ReloadIntegration(context.Background(), "keeper"); err != nil {
		t.Fatal(err)
	}
	if got := hosttest.ResultOf(t, hosttest.Emit(t, m, "e", nil), "keeper").Value; got != int64(13) {
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
	hosttest.WriteFiles(t, dir, map[string]string{"keeper.star": v3})
	if err := m.ReloadIntegration(context.Background(), "keeper"); err != nil {
		t.Fatal(err)
	}
	if got := hosttest.ResultOf(t, hosttest.Emit(t, m, "e", nil), "keeper").Value; got != int64(1301) {
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
	m, dir := hosttest.NewRoot(t, map[string]string{
		"lib/base.star":   "FACTOR = 2\n",
		"lib/shared.star": "load(\"lib/base.star\", \"FACTOR\")\ndef scale(x):\n    return x * FACTOR\n",
		"a.star":          "load(\"lib/shared.star\", \"scale\")\nintegration(name = \"a\", handlers = {\"e\": lambda e, c: scale(1)})\n",
		"b.star":          "load(\"lib/shared.star\", \"scale\")\nintegration(name = \"b\", handlers = {\"e\": lambda e, c: scale(10)})\n",
		"c.star":          "integration(name = \"c\", handlers = {\"e\": lambda e, c: 0})\n",
	})
	base := dir + "/lib/base.star"
	hosttest.WriteFiles(t, dir, map[string]string{"lib/base.star": "FACTOR = 3\n"})
	res := outcomeErrs(m.ReloadFiles(context.Background(), []string{base}))
	if len(res) != 2 || res["a"] != nil || res["b"] != nil {
		t.Fatalf("ReloadFiles(base) = %v, want a and b reloaded", res)
	}
	rs := hosttest.Emit(t, m, "e", nil)
	if hosttest.ResultOf(t, rs, "a").Value != int64(3) || hosttest.ResultOf(t, rs, "b").Value != int64(30) {
		t.Fatalf("after library change: %+v", rs)
	}
	for name, gen := range map[string]int{"a": 2, "b": 2, "c": 1} {
		if in, _ := m.IntegrationInfo(name); in.Generation != gen {
			t.Fatalf("%s generation %d, want %d", name, in.Generation, gen)
		}
	}
	// A change that breaks one dependent swaps neither.
	hosttest.WriteFiles(t, dir, map[string]string{
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
	rs = hosttest.Emit(t, m, "e", nil)
	if hosttest.ResultOf(t, rs, "a").Value != int64(3) || hosttest.ResultOf(t, rs, "b").Value != int64(30) {
		t.Fatalf("a failed group must change nothing: %+v", rs)
	}
}

func TestReloadAllSwapsWhatBuilds(t *testing.T) {
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("m%02d.star", i)] = fmt.Sprintf("integration(name = \"m%02d\", handlers = {\"e\": lambda e, c: 1})\n", i)
	}
	m, dir := hosttest.NewRoot(t, files)
	hosttest.WriteFiles(t, dir, map[string]string{"m07.star": "integration(name = \"m07\", handlers = {\"e\": undefined_name})\n"})
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
	if !m.IsAvailable("m07") || len(hosttest.Emit(t, m, "e", nil)) != 20 {
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
	m, dir := hosttest.NewRoot(t, map[string]string{
		"z.star": mod("zeta", "CRITICAL"), "b.star": mod("beta", "LOW"),
		"a.star": mod("alpha", "NORMAL"), "c.star": mod("gamma", "CRITICAL"),
	})
	var order []string
	for _, r := range hosttest.Emit(t, m, "anything", nil) {
		order = append(order, r.Integration)
	}
	if got, want := strings.Join(order, ","), "gamma,zeta,alpha,beta"; got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
	if err := m.RemoveIntegration(context.Background(), "zeta"); err != nil {
		t.Fatal(err)
	}
	if m.IsAvailable("zeta") || len(hosttest.Emit(t, m, "x", nil)) != 3 {
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
	m, dir := hosttest.NewRoot(t, nil)
	hosttest.WriteFiles(t, dir, map[string]string{"two.star": `
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
	m, dir := hosttest.NewRoot(t, map[string]string{"n.star": "def h(e, c):\n    c.log(\"hello\", 1, level = \"warn\")\n    print(\"printed\")\n    return 1\nintegration(name = \"n\", handlers = {\"e\": h})\n"})
	sub := m.Subscribe(64)
	defer sub.Close()
	hosttest.Emit(t, m, "e", nil)
	hosttest.WriteFiles(t, dir, map[string]string{"n.star": "integration(name = \"n\", handlers = {\"e\": lambda e, c: 1}, priority = \"URGENT\")\n"})
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
	m, _ := hosttest.NewRoot(t, map[string]string{"loop.star": `
def h(event, ctx):
    ctx.emit("ping", {"n": event.data.get("n", 0) + 1})
    return event.depth

integration(name = "loop", handlers = {"ping": h})
`}, hosttest.Limits(starhost.Limits{MaxEmitDepth: 5}))
	rs := hosttest.Emit(t, m, "ping", nil)
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
