package starhost_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/blackbox"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// newRecorder returns a flight recorder on a fresh file, and the file.
func newRecorder(t testing.TB) (*blackbox.Recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "blackbox")
	if err := blackbox.Create(path); err != nil {
		t.Fatal(err)
	}
	rec, err := blackbox.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec, path
}

// TestQuarantine: a quarantined module is not run at start (its top
// level would count a load in a file): it is a failed module whose
// diagnostic is ErrorQuarantined with the reason; the others load and
// answer. Saving the file (ReloadFiles) lifts the quarantine and loads
// it; a module not quarantined is unaffected by the lift.
func TestQuarantine(t *testing.T) {
	const bomb = `def boom(e, c):
    return "bomb answers"

integration(name = "bomb", handlers = {"boom": boom, "tick": lambda e, c: "bomb ticks"})
`
	dir := hosttest.TempDir(t, map[string]string{
		"counter.star": `integration(name = "counter", handlers = {"tick": lambda e, c: c.state.update(n = c.state.get("n", 0) + 1)})`,
		"bomb.star":    bomb,
	})
	bombPath := filepath.Join(dir, "bomb.star")
	const reason = "ran out of memory (limit 512 MiB) while handling boom; fix the file and save it to load it again"
	for _, tc := range []struct {
		name       string
		quarantine map[string]string
		wantFailed bool
	}{
		{"quarantined", map[string]string{bombPath: reason}, true},
		{"another path", map[string]string{filepath.Join(dir, "other.star"): reason}, false},
		{"none", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, bb := newRecorder(t)
			m, err := starhost.New(starhost.Options{Roots: []string{dir}, Quarantine: tc.quarantine, Recorder: rec})
			if err != nil {
				t.Fatal(err)
			}
			loadErr := m.LoadDefaultIntegrations(context.Background())
			v := m.Snapshot()
			names := m.Names()
			if !tc.wantFailed {
				if loadErr != nil || len(v.FailedModules) != 0 || strings.Join(names, ",") != "bomb,counter" {
					t.Fatalf("load: %v, failed %+v, names %v", loadErr, v.FailedModules, names)
				}
				return
			}
			if loadErr == nil || !strings.Contains(loadErr.Error(), "not loaded: "+reason) {
				t.Fatalf("load error %v, want the quarantine's", loadErr)
			}
			if strings.Join(names, ",") != "counter" {
				t.Fatalf("live integrations %v, want only counter", names)
			}
			if len(v.FailedModules) != 1 || v.FailedModules[0].Module != bombPath {
				t.Fatalf("failed modules %+v, want %s", v.FailedModules, bombPath)
			}
			d := v.FailedModules[0].Errors
			if len(d) != 1 || d[0].Kind != starhost.ErrorQuarantined || d[0].Msg != "not loaded: "+reason || d[0].File != bombPath {
				t.Fatalf("diagnostics %+v", d)
			}
			// The module's code did not run: no lane was taken for it.
			if rep, err := blackbox.Read(bb); err != nil || len(rep.Active) != 0 {
				t.Fatalf("recorder after load: %+v %v", rep, err)
			}
			rs := hosttest.Emit(t, m, "tick", nil)
			if len(rs) != 1 || rs[0].Integration != "counter" || !rs[0].OK {
				t.Fatalf("tick results %+v", rs)
			}

			// Saving the file lifts the quarantine.
			outs := m.ReloadFiles(context.Background(), []string{bombPath})
			if errs := outcomeErrs(outs); len(errs) != 1 || errs["bomb"] != nil {
				t.Fatalf("ReloadFiles: %+v", outs)
			}
			if got := m.Snapshot(); len(got.FailedModules) != 0 {
				t.Fatalf("still failed after the save: %+v", got.FailedModules)
			}
			rs = hosttest.Emit(t, m, "boom", nil)
			if r := hosttest.ResultOf(t, rs, "bomb"); !r.OK || r.Value != "bomb answers" {
				t.Fatalf("boom after the lift: %+v", r)
			}
			// A reload of all (which loads every live module again) does not
			// bring the quarantine back.
			if errs := m.ReloadAllIntegrations(context.Background()); errs["bomb"] != nil {
				t.Fatalf("reload all: %v", errs)
			}
			if got := m.Names(); strings.Join(got, ",") != "bomb,counter" {
				t.Fatalf("names after reload all %v", got)
			}
		})
	}
}

// TestQuarantineLiftedByAdd: adding the quarantined module again
// (AddIntegration, as the studio's "open") lifts the quarantine too.
func TestQuarantineLiftedByAdd(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{
		"bomb.star": `integration(name = "bomb", handlers = {"boom": lambda e, c: "ok"})`,
	})
	bombPath := filepath.Join(dir, "bomb.star")
	m, err := starhost.New(starhost.Options{Roots: []string{dir}, Quarantine: map[string]string{bombPath: "it was bad"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadDefaultIntegrations(context.Background()); err == nil {
		t.Fatal("the quarantined module loaded")
	}
	if _, err := m.AddIntegration(context.Background(), bombPath, ""); err != nil {
		t.Fatalf("add: %v", err)
	}
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "boom", nil), "bomb"); !r.OK {
		t.Fatalf("boom: %+v", r)
	}
}

// TestRecorderLanes: while code of a module runs — its top level, its
// migrate, a handler — the flight recorder shows the module's lane
// active with the phase, the integration and the event; once it ends,
// nothing is active. The long runs are loops that the host's timeout
// stops.
func TestRecorderLanes(t *testing.T) {
	const spin = "    for _ in range(1 << 40):\n        pass\n"
	good := "def h(e, c):\n" + spin + "def mig(old):\n    return old\n" +
		"integration(name = \"slow\", handlers = {\"spin\": h, \"tick\": lambda e, c: c.state.update(n = 1)}, migrate = mig)\n"
	// The same, with a migrate that spins.
	spinningMigrate := strings.Replace(good, "def mig(old):\n", "def mig(old):\n"+spin, 1)
	spinningTop := good + "def spinner():\n" + spin + "spinner()\n"

	rec, bb := newRecorder(t)
	dir := hosttest.TempDir(t, map[string]string{"slow.star": good})
	path := filepath.Join(dir, "slow.star")
	// The timeout is long enough for the test to see the run, short
	// enough to keep the test short.
	m, err := starhost.New(starhost.Options{Roots: []string{dir}, Recorder: rec, Limits: starhost.Limits{Steps: 1 << 62, Timeout: 1500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	hosttest.Load(t, m)
	hosttest.Emit(t, m, "tick", nil) // a state, for migrate to run on
	ctx := context.Background()

	for _, tc := range []struct {
		name        string
		run         func() error
		phase       blackbox.Phase
		integration string
		event       string
	}{
		{"handler", func() error {
			rs, err := m.Emit(ctx, "spin", nil)
			if err == nil && (len(rs) != 1 || rs[0].OK) {
				err = errors.New("the spin did not time out")
			}
			return err
		}, blackbox.Handle, "slow", "spin"},
		{"migrate", func() error {
			hosttest.WriteFile(t, path, spinningMigrate)
			if errs := outcomeErrs(m.ReloadFiles(ctx, []string{path})); errs["slow"] == nil {
				return errors.New("the spinning migrate did not fail")
			}
			return nil
		}, blackbox.Migrate, "slow", ""},
		{"load", func() error {
			hosttest.WriteFile(t, path, spinningTop)
			if errs := outcomeErrs(m.ReloadFiles(ctx, []string{path})); errs["slow"] == nil && errs[path] == nil {
				return errors.New("the spinning top level did not fail")
			}
			return nil
		}, blackbox.Load, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- tc.run() }()
			var seen []blackbox.Call
			hosttest.Eventually(t, 10*time.Second, func() bool {
				rep, err := blackbox.Read(bb)
				if err != nil {
					t.Fatal(err)
				}
				seen = rep.Active
				// A reload's build (Load) comes before its migrate, on
				// the same lane: wait for the phase under test.
				return len(rep.Active) == 1 && rep.Active[0].Phase == tc.phase
			}, "the run shows in the recorder")
			if len(seen) != 1 {
				t.Fatalf("active %+v, want one call", seen)
			}
			c := seen[0]
			if c.Module != path || c.Phase != tc.phase || c.Integration != tc.integration || c.Event != tc.event {
				t.Fatalf("active %+v, want %s phase %d integration %q event %q", c, path, tc.phase, tc.integration, tc.event)
			}
			if time.Since(c.Since) < 0 || time.Since(c.Since) > 10*time.Second {
				t.Fatalf("the call began at %v", c.Since)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the run did not end")
			}
			if rep, err := blackbox.Read(bb); err != nil || len(rep.Active) != 0 {
				t.Fatalf("after the run: %+v %v", rep.Active, err)
			}
		})
	}
	if t.Failed() {
		return
	}
	// Still live, with the first version: the failed reloads kept it.
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "slow"); !r.OK {
		t.Fatalf("tick after: %+v", r)
	}
}

// TestModulesOption: Options.Modules are loaded with the roots' modules
// (as the studio's added files are in its worker), and a quarantined one
// is not run.
func TestModulesOption(t *testing.T) {
	elsewhere := hosttest.TempDir(t, map[string]string{
		"single.star": "integration(name = \"single\", handlers = {\"ping\": lambda e, c: \"single\"})\n",
		"bomb.star":   "integration(name = \"bomb\", handlers = {\"ping\": lambda e, c: \"bomb\"})\n",
	})
	single, bomb := filepath.Join(elsewhere, "single.star"), filepath.Join(elsewhere, "bomb.star")
	m, err := starhost.New(starhost.Options{Modules: []string{single, bomb, filepath.Join(elsewhere, "notes.txt")},
		Quarantine: map[string]string{bomb: "ran out of memory"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = m.LoadDefaultIntegrations(context.Background())
	if !m.IsAvailable("single") || m.IsAvailable("bomb") {
		t.Fatalf("loaded %v, want single only", m.Names())
	}
	in, ok := m.IntegrationInfo("single")
	if !ok || in.Module != single {
		t.Fatalf("single: %+v", in)
	}
	v := m.Snapshot() // sorted by path: bomb.star, then notes.txt, which is not there
	if len(v.FailedModules) != 2 || v.FailedModules[0].Module != bomb || v.FailedModules[0].Errors[0].Kind != starhost.ErrorQuarantined ||
		v.FailedModules[1].Errors[0].Kind != starhost.ErrorMissingFile {
		t.Fatalf("failed modules %+v, want bomb.star quarantined and notes.txt missing", v.FailedModules)
	}
}
