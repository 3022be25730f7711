package starhost_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

func gen(t *testing.T, m *starhost.Manager, name string) int {
	t.Helper()
	in, ok := m.IntegrationInfo(name)
	if !ok {
		t.Fatalf("%s not live", name)
	}
	return in.Generation
}

// Two unrelated modules, each saved together with its own library in
// one batch. m2 breaks; m1 must still reload (different groups).
func TestReloadFilesUnrelatedGroups(t *testing.T) {
	m, dir := hosttest.NewRoot(t, map[string]string{
		"lib/l1.star": "V = 1\n",
		"lib/l2.star": "V = 2\n",
		"m1.star":     "load(\"lib/l1.star\", \"V\")\nintegration(name = \"one\", handlers = {\"e\": lambda e, c: V})\n",
		"m2.star":     "load(\"lib/l2.star\", \"V\")\nintegration(name = \"two\", handlers = {\"e\": lambda e, c: V})\n",
	})
	hosttest.WriteFiles(t, dir, map[string]string{
		"lib/l1.star": "V = 10\n",
		"m1.star":     "load(\"lib/l1.star\", \"V\")\nintegration(name = \"one\", handlers = {\"e\": lambda e, c: V + 1})\n",
		"lib/l2.star": "V = 20\n",
		"m2.star":     "load(\"lib/l2.star\", \"V\")\nintegration(name = \"two\", handlers = {\"e\": lambda e, c: V +})\n", // syntax error
	})
	outs := m.ReloadFiles(context.Background(), []string{
		filepath.Join(dir, "lib/l1.star"), filepath.Join(dir, "m1.star"),
		filepath.Join(dir, "lib/l2.star"), filepath.Join(dir, "m2.star")})
	t.Logf("outcomes: %+v", outs)
	if g := gen(t, m, "one"); g != 2 {
		t.Errorf("one: generation %d, want 2: m1 shares no changed file with the broken m2 but was not swapped", g)
	}
}

// m1 loads l1 and l2, m3 loads l2 only; both libraries change and m3
// breaks. m1 and m3 share l2, so m1 must not swap either.
func TestReloadFilesSharedLibraryGroup(t *testing.T) {
	m, dir := hosttest.NewRoot(t, map[string]string{
		"lib/l1.star": "A = 1\n",
		"lib/l2.star": "B = 2\nC = 3\n",
		"m1.star":     "load(\"lib/l1.star\", \"A\")\nload(\"lib/l2.star\", \"B\")\nintegration(name = \"a\", handlers = {\"e\": lambda e, c: A + B})\n",
		"m3.star":     "load(\"lib/l2.star\", \"C\")\nintegration(name = \"c\", handlers = {\"e\": lambda e, c: C})\n",
	})
	hosttest.WriteFiles(t, dir, map[string]string{
		"lib/l1.star": "A = 10\n",
		"lib/l2.star": "B = 20\n", // C gone: m3 fails
	})
	outs := m.ReloadFiles(context.Background(), []string{filepath.Join(dir, "lib/l1.star"), filepath.Join(dir, "lib/l2.star")})
	t.Logf("outcomes: %+v", outs)
	if g := gen(t, m, "a"); g != 1 {
		rs := hosttest.Emit(t, m, "e", nil)
		t.Errorf("a: generation %d, want 1: a and c share the changed lib/l2.star and c failed, yet a swapped alone (results %+v)", g, rs)
	}
}

// A rename whose new file fails after its build (migrate) must not leave
// the integration live from the deleted file: it is removed, the new file
// is listed failed, and fixing it loads the integration from there.
func TestRenameToFailingFile(t *testing.T) {
	const ok = "integration(name = \"w\", handlers = {\"e\": lambda e, c: 1})\n"
	const badMigrate = "def mig(old):\n    fail(\"boom\")\nintegration(name = \"w\", handlers = {\"e\": lambda e, c: 2}, migrate = mig)\n"
	m, dir := hosttest.NewRoot(t, map[string]string{"a.star": ok})
	a, b := filepath.Join(dir, "a.star"), filepath.Join(dir, "b.star")
	os.Remove(a)
	hosttest.WriteFiles(t, dir, map[string]string{"b.star": badMigrate})
	outs := m.ReloadFiles(context.Background(), []string{a, b})
	t.Logf("rename outcomes: %+v", outs)
	in, live := m.IntegrationInfo("w")
	t.Logf("after rename: live=%v module=%s failed=%v", live, in.Module, m.Snapshot().FailedModules)
	// The user fixes b.star.
	hosttest.WriteFiles(t, dir, map[string]string{"b.star": ok})
	outs = m.ReloadFiles(context.Background(), []string{b})
	t.Logf("fix outcomes: %+v", outs)
	in, live = m.IntegrationInfo("w")
	if !live || in.Module != b {
		t.Errorf("after fixing b.star: live=%v module=%q, want w from %s (outcomes %+v, failed %+v)", live, in.Module, b, outs, m.Snapshot().FailedModules)
	}
}

// A module's top-level print is published once per build, also when
// ReloadAllIntegrations reloads several integrations of the module.
func TestBuildLogsOncePerModule(t *testing.T) {
	m, _ := hosttest.NewRoot(t, map[string]string{"a.star": "print(\"hello\")\n" +
		"integration(name = \"x\", handlers = {\"e\": lambda e, c: 1})\n" +
		"integration(name = \"y\", handlers = {\"e\": lambda e, c: 1})\n"})
	ns := recordNotices(t, m)
	m.ReloadAllIntegrations(context.Background())
	n := 0
	for _, no := range ns() {
		if no.Kind == starhost.NoticeLog && strings.Contains(no.Message, "hello") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d log notices of one build's print, want 1", n)
	}
}

// AddIntegration(module, class) of a module that does not build returns
// an error and publishes a reload_failed notice.
func TestAddFailureNotice(t *testing.T) {
	m, dir := hosttest.NewRoot(t, nil)
	hosttest.WriteFiles(t, dir, map[string]string{"bad.star": "integration(name = \"x\", handlers = {\"e\": lambda e, c: 1}\n"})
	ns := recordNotices(t, m)
	_, err := m.AddIntegration(context.Background(), "bad.star", "x")
	if err == nil {
		t.Fatal("no error")
	}
	got := ns()
	for _, n := range got {
		if n.Kind == starhost.NoticeReloadFailed {
			return
		}
	}
	t.Errorf("AddIntegration failed (%v) and is listed failed (%+v) but no reload_failed notice: %+v", err, m.Snapshot().FailedModules, got)
}

// A failed module outside the roots that is deleted is no longer listed
// as failed.
func TestDeletedFailedModuleOutsideRoots(t *testing.T) {
	m, _ := hosttest.NewRoot(t, nil)
	other := t.TempDir()
	p := filepath.Join(other, "x.star")
	hosttest.WriteFiles(t, other, map[string]string{"x.star": "integration(\n"})
	if _, err := m.AddIntegration(context.Background(), p, ""); err == nil {
		t.Fatal("no error")
	}
	os.Remove(p)
	outs := m.ReloadFiles(context.Background(), []string{p})
	if f := m.Snapshot().FailedModules; len(f) != 0 {
		t.Errorf("deleted module still failed: %+v (outcomes %+v)", f[0].Errors, outs)
	}
}

// A View read during a swap never lists a module both live and failed:
// the versions and the failures come from one published snapshot.
func TestViewNeverLiveAndFailed(t *testing.T) {
	const ok = "integration(name = \"w\", handlers = {\"e\": lambda e, c: 1})\n"
	m, dir := hosttest.NewRoot(t, map[string]string{"a.star": ok})
	a, b := filepath.Join(dir, "a.star"), filepath.Join(dir, "b.star")
	ctx := context.Background()
	both := &invariant{name: "no module both live and failed"}
	stop := concurrently(func() {
		v := m.Snapshot()
		failed := map[string]bool{}
		for _, f := range v.FailedModules {
			failed[f.Module] = true
		}
		for _, in := range v.Integrations {
			both.violated(failed[in.Module])
		}
	})
	from, to := a, b
	for range 400 {
		// to is broken first, so that it is listed failed ...
		hosttest.WriteFiles(t, dir, map[string]string{filepath.Base(to): "integration(\n"})
		m.ReloadFiles(ctx, []string{to})
		// ... then the integration moves there.
		os.Remove(from)
		hosttest.WriteFiles(t, dir, map[string]string{filepath.Base(to): ok})
		m.ReloadFiles(ctx, []string{from, to})
		from, to = to, from
	}
	stop()
	checkInvariants(t, both)
}

// A declaration moved from one existing module to another in one batch is
// a reload of the same integration from its new module, not a refusal.
func TestDeclarationMovesBetweenFiles(t *testing.T) {
	m, dir := hosttest.NewRoot(t, map[string]string{
		"a.star": "integration(name = \"x\", handlers = {\"e\": lambda e, c: 1})\nintegration(name = \"y\", handlers = {\"e\": lambda e, c: 1})\n",
		"b.star": "integration(name = \"z\", handlers = {\"e\": lambda e, c: 1})\n",
	})
	hosttest.WriteFiles(t, dir, map[string]string{
		"a.star": "integration(name = \"x\", handlers = {\"e\": lambda e, c: 1})\n",
		"b.star": "integration(name = \"z\", handlers = {\"e\": lambda e, c: 2})\nintegration(name = \"y\", handlers = {\"e\": lambda e, c: 2})\n",
	})
	outs := m.ReloadFiles(context.Background(), []string{filepath.Join(dir, "a.star"), filepath.Join(dir, "b.star")})
	t.Logf("outcomes %+v", outs)
	if !m.IsAvailable("y") {
		t.Errorf("y is declared by b.star on disk but is not live after the batch; names %v", m.Names())
	}
}
