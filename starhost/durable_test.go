package starhost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/statestore"
)

// tally counts its events; its migrate (when rev > 0) records that it ran.
func tally(rev int, migrate string) string {
	return fmt.Sprintf(`REV = %d

def on_tick(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    ctx.state.setdefault("big", 1 << 70)
    ctx.state.setdefault("f", 2.0)
    return ctx.state["n"]

def migrate(old):
%s

integration(name = "tally", handlers = {"tick": on_tick}, migrate = migrate)
`, rev, migrate)
}

const migrateMarks = `    old["migrated"] = old.get("migrated", 0) + 1
    return old`

// durableHost is a host of dir's modules with a real state file at path;
// stop flushes it and closes the store.
func durableHost(t *testing.T, dir, path string, opts ...hosttest.Option) (m *starhost.Manager, stop func()) {
	t.Helper()
	store, err := statestore.Open(path, statestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m = hosttest.New(t, append([]hosttest.Option{hosttest.Roots(dir), hosttest.Store(store)}, opts...)...)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		if err := m.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	}
	t.Cleanup(stop)
	return m, stop
}

func stateJSON(t *testing.T, m *starhost.Manager, name string) string {
	t.Helper()
	b, err := m.StateJSON(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStateSurvivesRestart: a host stopped and started again on the same
// file gives each integration the state it had, exactly (a big int and a
// float included); migrate runs only when the module changed meanwhile.
func TestStateSurvivesRestart(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"tally.star": tally(0, migrateMarks)})
	path := filepath.Join(t.TempDir(), "state.db")
	m, stop := durableHost(t, dir, path)
	for range 5 {
		hosttest.Emit(t, m, "tick", nil)
	}
	want := stateJSON(t, m, "tally")
	if want != `{"n":5,"big":1180591620717411303424,"f":2.0}` {
		t.Fatalf("state %s", want)
	}
	stop()

	m, stop = durableHost(t, dir, path)
	if got := stateJSON(t, m, "tally"); got != want {
		t.Fatalf("after a restart: %s, want %s", got, want)
	}
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "tally"); fmt.Sprint(r.Value) != "6" {
		t.Fatalf("the count went on from %v", r.Value)
	}
	stop()

	// The module changes while the host is stopped: migrate runs once on
	// the stored state.
	hosttest.WriteFile(t, filepath.Join(dir, "tally.star"), tally(1, migrateMarks))
	m, stop = durableHost(t, dir, path)
	if got := stateJSON(t, m, "tally"); got != `{"n":6,"big":1180591620717411303424,"f":2.0,"migrated":1}` {
		t.Fatalf("after a change while stopped: %s", got)
	}
	stop()
	m, _ = durableHost(t, dir, path)
	if got := stateJSON(t, m, "tally"); !strings.Contains(got, `"migrated":1}`) {
		t.Fatalf("migrate ran again for an unchanged module: %s", got)
	}
}

// TestRestoreWithFailingMigrate: a module changed while the host was
// stopped whose migrate fails does not load, and its stored state stays
// as it was.
func TestRestoreWithFailingMigrate(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"tally.star": tally(0, migrateMarks)})
	path := filepath.Join(t.TempDir(), "state.db")
	m, stop := durableHost(t, dir, path)
	hosttest.Emit(t, m, "tick", nil)
	stop()

	hosttest.WriteFile(t, filepath.Join(dir, "tally.star"), tally(1, `    fail("cannot migrate")`))
	var loadErr error
	m, stop = durableHost(t, dir, path, hosttest.LoadError(&loadErr))
	if m.IsAvailable("tally") || loadErr == nil || !strings.Contains(loadErr.Error(), "cannot migrate") || !strings.Contains(loadErr.Error(), "migrate failed") {
		t.Fatalf("available %v, load error %v", m.IsAvailable("tally"), loadErr)
	}
	failed := m.Snapshot().FailedModules
	if len(failed) != 1 || !strings.Contains(failed[0].Errors[0].Msg, "cannot migrate") || failed[0].Errors[0].Line == 0 {
		t.Fatalf("failed modules: %+v", failed)
	}
	stop()
	store, err := statestore.Open(path, statestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, ok, err := store.Load("tally")
	if err != nil || !ok || string(rec.State) != `{"n":1,"big":1180591620717411303424,"f":2.0}` {
		t.Fatalf("stored state after the failed restore: %s %v %v", rec.State, ok, err)
	}
}

// TestStateWrittenBehind: without a restart, a changed state reaches the
// file within the flush interval, and in SyncWrites mode before Emit
// returns.
func TestStateWrittenBehind(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			dir := hosttest.TempDir(t, map[string]string{"tally.star": tally(0, migrateMarks)})
			store, err := statestore.Open(filepath.Join(t.TempDir(), "state.db"), statestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			m := hosttest.New(t, hosttest.Roots(dir), hosttest.Store(store), hosttest.SyncWrites(sync), hosttest.FlushInterval(20*time.Millisecond))
			defer m.Close(context.Background())
			stored := func() string {
				rec, _, err := store.Load("tally")
				if err != nil {
					t.Fatal(err)
				}
				return string(rec.State)
			}
			for i := 1; i <= 3; i++ {
				hosttest.Emit(t, m, "tick", nil)
				want := fmt.Sprintf(`{"n":%d,"big":1180591620717411303424,"f":2.0}`, i)
				if sync {
					if got := stored(); got != want {
						t.Fatalf("after Emit returned in sync mode: %s, want %s", got, want)
					}
					continue
				}
				hosttest.Eventually(t, 5*time.Second, func() bool { return stored() == want }, "the state written behind")
			}
		})
	}
}

// TestStateMustBeData: a function left in the state is found within the
// audit's bound; the call that finds it fails with the path in the state
// and the handler's file and line; the function is taken out and the rest
// of the state, every count included, is kept.
func TestStateMustBeData(t *testing.T) {
	const mod = `def count(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return ctx.state["n"]

def keep_function(event, ctx):
    ctx.state["f"] = count
    ctx.state["l"] = [1, count, 3]

integration(name = "keeper", handlers = {"tick": count, "bad": keep_function})
`
	m, dir := hosttest.NewRoot(t, map[string]string{"keeper.star": mod})
	for range 3 {
		hosttest.Emit(t, m, "tick", nil)
	}
	hosttest.Emit(t, m, "bad", nil)
	var failed starhost.Result
	calls := 0
	for calls < 9 {
		calls++
		if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "keeper"); !r.OK {
			failed = r
			break
		}
	}
	if failed.Error == nil {
		t.Fatalf("a function in the state went unnoticed for %d calls", calls)
	}
	e := failed.Error
	if !strings.Contains(e.Msg, `state["f"]: a function cannot be stored`) || !strings.Contains(e.Msg, "and 1 more") || !strings.Contains(e.Msg, "the rest kept") ||
		e.File != filepath.Join(dir, "keeper.star") || e.Line != 1 || e.Kind != starhost.ErrorLimit {
		t.Fatalf("error %+v", e)
	}
	want := fmt.Sprintf(`{"n":%d,"l":[1,null,3]}`, 3+calls)
	if got := stateJSON(t, m, "keeper"); got != want {
		t.Fatalf("state after the repair: %s, want %s", got, want)
	}
	t.Logf("caught after %d calls: %s", calls, e.Msg)
}

// TestStateRepairsKeepTheRecord: a state reset for the limits reads back
// as {} and is stored as {}, also by the removal that follows; a migrate
// that returns what is not data fails the reload, and the old version and
// its state stay.
func TestStateRepairsKeepTheRecord(t *testing.T) {
	const grow = `def h(event, ctx):
    ctx.state["big"] = [0] * 2000
    return 1

integration(name = "grow", handlers = {"tick": h})
`
	dir := hosttest.TempDir(t, map[string]string{"grow.star": grow, "tally.star": tally(0, migrateMarks)})
	path := filepath.Join(t.TempDir(), "state.db")
	m, stop := durableHost(t, dir, path, hosttest.Limits(starhost.Limits{MaxValues: 1000}))
	hosttest.Emit(t, m, "tick", nil)
	if got := stateJSON(t, m, "grow"); got != "{}" {
		t.Fatalf("after a reset for the limits: %q", got)
	}
	if err := m.RemoveIntegration(context.Background(), "grow"); err != nil {
		t.Fatal(err)
	}
	hosttest.WriteFile(t, filepath.Join(dir, "tally.star"), tally(1, `    return {"n": old["n"], "fn": migrate}`))
	err := m.ReloadIntegration(context.Background(), "tally")
	if err == nil || !strings.Contains(err.Error(), `migrated state: state["fn"]: a function cannot be stored`) {
		t.Fatalf("reload with a migrate that returns a function: %v", err)
	}
	if got := stateJSON(t, m, "tally"); !strings.HasPrefix(got, `{"n":1,`) {
		t.Fatalf("the state after the failed reload: %s", got)
	}
	stop()
	store, err := statestore.Open(path, statestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, ok, err := store.Load("grow")
	if err != nil || !ok || string(rec.State) != "{}" || rec.RemovedAt.IsZero() {
		t.Fatalf("the removed integration's record: %+v %v %v", rec, ok, err)
	}
}

// TestForgetKeepsTheSwitchAndImportIgnoresCancel: forgetting the state of
// a switched-off integration leaves it off; an import whose context is
// cancelled once it is done still reaches the disk.
func TestForgetKeepsTheSwitchAndImportIgnoresCancel(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"tally.star": tally(0, migrateMarks)})
	path := filepath.Join(t.TempDir(), "state.db")
	m, stop := durableHost(t, dir, path)
	hosttest.Emit(t, m, "tick", nil)
	if err := m.DisableIntegration("tally"); err != nil {
		t.Fatal(err)
	}
	if err := m.ForgetState("tally"); err != nil {
		t.Fatal(err)
	}
	if in, _ := m.IntegrationInfo("tally"); in.Enabled || len(hosttest.Emit(t, m, "tick", nil)) != 0 {
		t.Fatalf("forget switched it on: %+v", in)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.ImportStates(ctx, map[string][]byte{"tally": []byte(`{"n": 7}`)}); err != nil {
		t.Fatalf("import with a cancelled context: %v", err)
	}
	stop()
	m, _ = durableHost(t, dir, path)
	if in, _ := m.IntegrationInfo("tally"); in.Enabled || stateJSON(t, m, "tally") != `{"n":7}` {
		t.Fatalf("after a restart: %+v %s", in, stateJSON(t, m, "tally"))
	}
}

// TestSwitchAndRemoveRemembered: a switched-off integration gets no
// events and stays off after a restart; a removed one keeps its stored
// state, which re-adding it restores.
func TestSwitchAndRemoveRemembered(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"tally.star": tally(0, migrateMarks)})
	path := filepath.Join(t.TempDir(), "state.db")
	m, stop := durableHost(t, dir, path)
	hosttest.Emit(t, m, "tick", nil)
	if err := m.DisableIntegration("tally"); err != nil {
		t.Fatal(err)
	}
	if rs := hosttest.Emit(t, m, "tick", nil); len(rs) != 0 {
		t.Fatalf("a switched-off integration handled an event: %+v", rs)
	}
	stop()

	m, stop = durableHost(t, dir, path)
	if in, _ := m.IntegrationInfo("tally"); in.Enabled || len(hosttest.Emit(t, m, "tick", nil)) != 0 {
		t.Fatalf("the switch was not remembered: %+v", in)
	}
	if err := m.EnableIntegration("tally"); err != nil {
		t.Fatal(err)
	}
	hosttest.Emit(t, m, "tick", nil) // n = 2
	if err := m.RemoveIntegration(context.Background(), "tally"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddIntegration(context.Background(), filepath.Join(dir, "tally.star"), ""); err != nil {
		t.Fatal(err)
	}
	if got := stateJSON(t, m, "tally"); !strings.HasPrefix(got, `{"n":2,`) {
		t.Fatalf("re-added: %s", got)
	}
	stop()
}

// TestForgetState: forgetting empties the state and leaves nothing of it
// in the file.
func TestForgetState(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"tally.star": tally(0, migrateMarks)})
	path := filepath.Join(t.TempDir(), "state.db")
	m, stop := durableHost(t, dir, path)
	hosttest.Emit(t, m, "tick", nil)
	if err := m.ForgetState("tally"); err != nil {
		t.Fatal(err)
	}
	if got := stateJSON(t, m, "tally"); got != "{}" {
		t.Fatalf("state after forget: %s", got)
	}
	stop()
	m, _ = durableHost(t, dir, path)
	if got := stateJSON(t, m, "tally"); got != "{}" {
		t.Fatalf("state after forget and a restart: %s", got)
	}
	if err := m.ForgetState("nobody"); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Fatalf("forget an unknown integration: %v", err)
	}
}

// BenchmarkEmitDurable is BenchmarkEmitDefaults' event with the state kept
// in memory only, written behind (100 ms) and written before Emit returns
// (sync): the cost of --durable sync is the difference.
func BenchmarkEmitDurable(b *testing.B) {
	for _, mode := range []string{"off", "behind", "sync"} {
		b.Run(mode, func(b *testing.B) {
			opts := []hosttest.Option{hosttest.Defaults(integrations.FS)}
			if mode != "off" {
				store, err := statestore.Open(filepath.Join(b.TempDir(), "state.db"), statestore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer store.Close()
				opts = append(opts, hosttest.Store(store), hosttest.SyncWrites(mode == "sync"))
			}
			m := hosttest.New(b, opts...)
			defer m.Close(context.Background())
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				if _, err := m.Emit(ctx, "response_received", map[string]any{"mission_id": "m1", "latency_ms": 10 + i%50}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestImportStates: an import replaces every named state or, when one
// name or state is wrong, none; what it imported is on disk.
func TestImportStates(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{
		"tally.star": tally(0, migrateMarks),
		"other.star": `integration(name = "other", handlers = {"tick": lambda e, c: c.state.setdefault("seen", True)})`,
	})
	path := filepath.Join(t.TempDir(), "state.db")
	m, stop := durableHost(t, dir, path)
	hosttest.Emit(t, m, "tick", nil)
	before := stateJSON(t, m, "tally") + stateJSON(t, m, "other")
	for _, bad := range []struct {
		states map[string][]byte
		want   string
	}{
		{map[string][]byte{"tally": []byte(`{"n": 10}`), "other": []byte(`[1]`)}, "import state of other: stored state: a JSON object is required"},
		{map[string][]byte{"tally": []byte(`{"n": 10}`), "ghost": []byte(`{}`)}, "ghost"},
		{map[string][]byte{"other": []byte(`{"ok": 1}`), "tally": []byte(`{"n": 1.5e999}`)}, "import state of tally"}, // a good one first
		{map[string][]byte{"tally": []byte(`{"n": 10`)}, "import state of tally"},
	} {
		err := m.ImportStates(context.Background(), bad.states)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "nothing was imported") {
			t.Fatalf("import %v: %v, want %q", bad.states, err, bad.want)
		}
		if got := stateJSON(t, m, "tally") + stateJSON(t, m, "other"); got != before {
			t.Fatalf("a failed import changed the states: %s, was %s", got, before)
		}
	}
	if err := m.ImportStates(context.Background(), map[string][]byte{"tally": []byte(`{"n": 10, "f": 1.0}`), "other": []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	stop()
	m, _ = durableHost(t, dir, path)
	if got := stateJSON(t, m, "tally") + stateJSON(t, m, "other"); got != `{"n":10,"f":1.0}{}` {
		t.Fatalf("imported, then restarted: %s", got)
	}
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "tally"); fmt.Sprint(r.Value) != "11" {
		t.Fatalf("the imported count did not go on: %v", r.Value)
	}
}

// BenchmarkStateOnDisk emits 100,000 typical events (four missions, the
// four kinds) to the default integrations with their states written behind
// to a real file, and reports the file's size and each state's stored
// size. Run it once: -bench StateOnDisk -benchtime 1x.
func BenchmarkStateOnDisk(b *testing.B) {
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "state.db")
		store, err := statestore.Open(path, statestore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		m := hosttest.New(b, hosttest.Defaults(integrations.FS), hosttest.Store(store))
		ctx := context.Background()
		kinds := []string{"mission_started", "response_received", "response_received", "response_received", "mission_completed"}
		for i := range 100_000 {
			data := map[string]any{"mission_id": fmt.Sprintf("m%d", i%4), "latency_ms": 10 + i%500, "response": "the quick brown fox"}
			if _, err := m.Emit(ctx, kinds[i%len(kinds)], data); err != nil {
				b.Fatal(err)
			}
		}
		if err := m.Close(ctx); err != nil {
			b.Fatal(err)
		}
		recs, err := store.LoadAll()
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			b.ReportMetric(float64(len(r.State)), r.Name+"-bytes")
		}
		store.Close()
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Size()), "file-bytes")
	}
}

// TestDeletedWhileStopped: the record of an integration whose file was
// deleted while the host was stopped is marked removed at the next start
// (so that it expires); when the file comes back, its state is restored
// and the mark cleared.
func TestDeletedWhileStopped(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"tally.star": tally(0, migrateMarks)})
	path := filepath.Join(t.TempDir(), "state.db")
	m, stop := durableHost(t, dir, path)
	hosttest.Emit(t, m, "tick", nil)
	stop()
	file := filepath.Join(dir, "tally.star")
	if err := os.Rename(file, file+".away"); err != nil {
		t.Fatal(err)
	}
	_, stop = durableHost(t, dir, path)
	stop()
	removedAt := func() time.Time {
		store, err := statestore.Open(path, statestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		rec, _, err := store.Load("tally")
		if err != nil {
			t.Fatal(err)
		}
		return rec.RemovedAt
	}
	if removedAt().IsZero() {
		t.Fatal("the record of a deleted integration was not marked removed")
	}
	if err := os.Rename(file+".away", file); err != nil {
		t.Fatal(err)
	}
	m, stop = durableHost(t, dir, path)
	if got := stateJSON(t, m, "tally"); !strings.HasPrefix(got, `{"n":1,`) {
		t.Fatalf("state when the file came back: %s", got)
	}
	stop()
	if !removedAt().IsZero() {
		t.Fatal("the removal mark stayed on an integration that is back")
	}
}
