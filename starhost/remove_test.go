package starhost_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestReloadFilesRename: a module file renamed in one batch (old path
// gone, new path declaring the same name) is a reload of its integration
// from the new path, published in one step: the integration is listed,
// available and reached by every event throughout, and keeps its state.
func TestReloadFilesRename(t *testing.T) {
	const src = "def count(e, c):\n    c.state[\"n\"] = c.state.get(\"n\", 0) + 1\n    return c.state[\"n\"]\nintegration(name = \"w\", handlers = {\"ping\": count})\n"
	m, dir := hosttest.NewRoot(t, map[string]string{"a.star": src})
	ctx := context.Background()
	paths := []string{filepath.Join(dir, "a.star"), filepath.Join(dir, "b.star")}
	listed := &invariant{name: "the snapshot lists w throughout"}
	available := &invariant{name: "IsAvailable(w) throughout"}
	reached := &invariant{name: "every event reaches w"}

	stop := concurrently(
		func() {
			available.violated(!m.IsAvailable("w"))
			v := m.Snapshot()
			listed.violated(len(v.Integrations) != 1 || v.Integrations[0].Name != "w")
		},
		func() {
			rs, err := m.Emit(ctx, "ping", nil)
			reached.violated(err != nil || len(rs) != 1)
		})
	notices := recordNotices(t, m)
	var wantNotices []string
	for i := range 200 {
		from, to := paths[i%2], paths[(i+1)%2]
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
		outs := m.ReloadFiles(ctx, []string{from, to})
		want := []starhost.Outcome{{Integration: "w", Module: to}}
		if !slices.Equal(outs, want) {
			t.Fatalf("rename %d: outcomes %+v, want %+v", i, outs, want)
		}
		if in, ok := m.IntegrationInfo("w"); !ok || in.Module != to || !in.Available || in.Generation != i+2 {
			t.Fatalf("rename %d: info %+v", i, in)
		}
		wantNotices = append(wantNotices, "reloaded w "+to)
	}
	stop()
	// The state moved with the integration: its count is every call made.
	rs := hosttest.Emit(t, m, "ping", nil)
	if in, _ := m.IntegrationInfo("w"); len(rs) != 1 || rs[0].Value != int64(in.Calls) {
		t.Errorf("after the renames: %+v, want the count of all %d calls (the state kept)", rs, in.Calls)
	}
	var got []string
	for _, n := range notices() {
		if n.Kind != starhost.NoticeEvent {
			got = append(got, fmt.Sprintf("%s %s %s", n.Kind, n.Integration, n.Module))
		}
	}
	if !slices.Equal(got, wantNotices) {
		t.Errorf("notices %q, want %q", got, wantNotices)
	}
	checkInvariants(t, listed, available, reached)
}

// TestRemoveDuringEmits removes and re-adds an integration while emitters
// run and counter reloads (ReloadRace): a removal goes through the same
// swap as a reload, so once it is published no handler call of the
// removed integration starts, the removed notice is sent, and the
// integration is gone from every read.
func TestRemoveDuringEmits(t *testing.T) {
	// victim logs the build it belongs to (unique per add) on every call.
	const victim = `BUILD = str(time.now())

def on(event, ctx):
    ctx.log(BUILD)

integration(name = "victim", handlers = {"tick": on, "probe": on})
`
	m, dir := hosttest.NewRoot(t, map[string]string{"counter.star": hosttest.CounterModule(0), "victim.star": victim})
	ctx := context.Background()
	notices := recordNotices(t, m)
	whole := &invariant{name: "Snapshot lists only available integrations"}
	stop := concurrently(func() {
		for _, in := range m.Snapshot().Integrations {
			whole.violated(!in.Available)
		}
	})
	removals := 0
	hosttest.ReloadRace{
		Host: m, Dir: dir, Emitters: 4, PerEmitter: 1000, BrokenEvery: 5, MinReloads: 10,
		Emit: func(g, seq int) ([]starhost.Result, error) {
			return m.Emit(ctx, "tick", map[string]any{"emitter": g, "seq": seq})
		},
		Reload: func() error { return m.ReloadIntegration(ctx, "counter") },
		Churn: func() int {
			if err := m.RemoveIntegration(ctx, "victim"); err != nil {
				t.Errorf("remove: %v", err)
				return 0
			}
			removals++
			if rs, err := m.Emit(ctx, "probe", nil); err != nil || len(rs) != 0 || m.IsAvailable("victim") ||
				slices.Contains(m.Names(), "victim") || len(m.Snapshot().Integrations) != 1 {
				t.Errorf("after the removal: probe %+v %v, names %v", rs, err, m.Names())
			}
			if _, err := m.AddIntegration(ctx, "victim.star", ""); err != nil {
				t.Errorf("add: %v", err)
			}
			if rs, err := m.Emit(ctx, "probe", nil); err != nil || len(rs) != 1 || !m.IsAvailable("victim") {
				t.Errorf("after the add: probe %+v %v", rs, err)
			}
			return 0
		},
	}.Run(t)
	stop()
	checkRemovedStayQuiet(t, notices(), removals)
	checkInvariants(t, whole)
}

// checkRemovedStayQuiet checks the notices of TestRemoveDuringEmits: one
// removed notice per removal, and no call of a removed build of victim
// (its log line names the build) after its removed notice.
func checkRemovedStayQuiet(t *testing.T, notices []starhost.Notice, removals int) {
	t.Helper()
	removed, builds := 0, map[string]bool{} // builds seen since the last removal
	retired := map[string]bool{}
	for _, n := range notices {
		switch {
		case n.Integration != "victim":
		case n.Kind == starhost.NoticeRemoved:
			removed++
			for b := range builds {
				retired[b] = true
			}
			clear(builds)
		case n.Kind == starhost.NoticeLog:
			if retired[n.Message] {
				t.Fatalf("build %s of victim handled an event after its removed notice", n.Message)
			}
			builds[n.Message] = true
		}
	}
	if removed != removals || removals == 0 {
		t.Fatalf("%d removed notices for %d removals", removed, removals)
	}
}

// TestRemoveErrors: removing what is not there says so, and removing a
// module that failed to load forgets the failure.
func TestRemoveErrors(t *testing.T) {
	var loadErr error
	m, dir := hosttest.NewRoot(t, map[string]string{"ok.star": "integration(name = \"ok\", handlers = {\"e\": lambda e, c: 1})\n", "broken.star": "def h(:\n"},
		hosttest.LoadError(&loadErr))
	ctx := context.Background()
	if loadErr == nil {
		t.Fatal("broken.star loaded")
	}
	if err := m.RemoveIntegration(ctx, "nope"); !errors.Is(err, starhost.ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("remove of an unknown name: %v", err)
	}
	broken := filepath.Join(dir, "broken.star")
	if f := m.Snapshot().FailedModules; len(f) != 1 || f[0].Module != broken {
		t.Fatalf("FailedModules = %+v, want broken.star", f)
	}
	names, err := m.RemoveModule(ctx, "broken.star")
	if err != nil || len(names) != 0 {
		t.Fatalf("RemoveModule(broken.star) = %v, %v", names, err)
	}
	if v := m.Snapshot(); len(v.FailedModules) != 0 || len(v.Integrations) != 1 {
		t.Fatalf("after RemoveModule: %+v", v)
	}
}
