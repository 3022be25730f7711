package starhost_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hostbench"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// The program cache (progcache.go) lets a reload skip parsing and
// compiling a file whose content it compiled before. These tests check
// that a reload still means what it meant without the cache: the top
// level runs again into fresh globals, a changed file (or library) is
// compiled afresh, errors are the same, and the cache stays bounded.

// stampModule prints and keeps the time its top level ran, and loads a
// library that keeps the time its own top level ran; its handler returns
// both, so each execution of either top level is visible.
const stampModule = `load("lib/clock.star", "LIB_STAMP")

STAMP = str(time.now())
print("top level ran at", STAMP)

def h(event, ctx):
    return [STAMP, LIB_STAMP]

integration(name = "stamp", handlers = {"e": h})
`

// clockLibrary is the library stampModule loads.
const clockLibrary = "LIB_STAMP = str(time.now())\n"

// valueOf emits event and returns the named integration's result value.
func valueOf(t *testing.T, m *starhost.Manager, event, name string) any {
	t.Helper()
	r := hosttest.ResultOf(t, hosttest.Emit(t, m, event, nil), name)
	if !r.OK {
		t.Fatalf("%s: %v", name, r.Error)
	}
	return r.Value
}

// logLines drains the notices already delivered to sub and returns the
// messages of the log notices among them.
func logLines(sub *starhost.Subscription) []string {
	var out []string
	for {
		select {
		case n := <-sub.C:
			if n.Kind == starhost.NoticeLog {
				out = append(out, n.Message)
			}
		default:
			return out
		}
	}
}

func TestProgramCacheReloadRunsTheTopLevelAgain(t *testing.T) {
	m, _ := hosttest.NewRoot(t, map[string]string{"stamp.star": stampModule, "lib/clock.star": clockLibrary})
	ctx := context.Background()
	sub := m.Subscribe(1024)
	defer sub.Close()
	stamps := func() (module, library any) {
		v := valueOf(t, m, "e", "stamp").([]any)
		return v[0], v[1]
	}
	mod, lib := stamps()
	seen := map[string]map[any]bool{"module": {mod: true}, "library": {lib: true}}
	const reloads = 5
	for i := range reloads {
		// Wait for the wall clock to move on (it is coarse on some
		// systems), so that a new execution has a new stamp.
		for start := time.Now().Round(0); !time.Now().Round(0).After(start); {
			time.Sleep(time.Millisecond)
		}
		before := starhost.ProgramCacheOf(m)
		if err := m.ReloadIntegration(ctx, "stamp"); err != nil {
			t.Fatal(err)
		}
		after := starhost.ProgramCacheOf(m)
		if after.Hits != before.Hits+2 || after.Compiles != before.Compiles {
			t.Fatalf("reload %d of unchanged files: hits %d -> %d, compiles %d -> %d; want two hits (module and library) and no compile", i, before.Hits, after.Hits, before.Compiles, after.Compiles)
		}
		mod, lib := stamps()
		for what, v := range map[string]any{"module": mod, "library": lib} {
			if seen[what][v] {
				t.Fatalf("reload %d: the %s's stamp %v is from an earlier execution: its top level did not run again into fresh globals", i, what, v)
			}
			seen[what][v] = true
		}
	}
	var printed int
	for _, line := range logLines(sub) {
		if strings.HasPrefix(line, "top level ran at") {
			printed++
		}
	}
	if printed != reloads {
		t.Fatalf("the top level printed %d times in %d reloads of a cached program", printed, reloads)
	}
}

func TestProgramCacheCompilesAChangedFile(t *testing.T) {
	module := func(answer string) string {
		return fmt.Sprintf("def h(event, ctx):\n    return %q\n\nintegration(name = \"answer\", handlers = {\"e\": h})\n", answer)
	}
	m, dir := hosttest.NewRoot(t, map[string]string{"answer.star": module("v1")})
	ctx := context.Background()
	// The versions have the same length: only the content tells them apart.
	for i, answer := range []string{"v2", "v3", "v1", "v1"} {
		hosttest.WriteFiles(t, dir, map[string]string{"answer.star": module(answer)})
		before := starhost.ProgramCacheOf(m)
		if err := m.ReloadIntegration(ctx, "answer"); err != nil {
			t.Fatal(err)
		}
		after := starhost.ProgramCacheOf(m)
		if got := valueOf(t, m, "e", "answer"); got != answer {
			t.Fatalf("step %d: after the change to %s the handler returns %v", i, answer, got)
		}
		wantCompiles := before.Compiles + 1
		if i == 3 { // the same content as the step before: reused
			wantCompiles = before.Compiles
		}
		if after.Compiles != wantCompiles {
			t.Fatalf("step %d (%s): compiles %d -> %d, want %d", i, answer, before.Compiles, after.Compiles, wantCompiles)
		}
	}
}

func TestProgramCacheChangedLibraryGivesDependentsFreshGlobals(t *testing.T) {
	dependent := func(name string, factor int) string {
		return fmt.Sprintf(`load("lib/shared.star", "BASE")

VALUE = BASE * %d

def h(event, ctx):
    return VALUE

integration(name = %q, handlers = {"e": h})
`, factor, name)
	}
	m, dir := hosttest.NewRoot(t, map[string]string{
		"lib/shared.star": "BASE = 1\n",
		"a.star":          dependent("a", 10),
		"b.star":          dependent("b", 100),
	})
	ctx := context.Background()
	lib := filepath.Join(dir, "lib", "shared.star")
	for base := 2; base <= 4; base++ {
		hosttest.WriteFiles(t, dir, map[string]string{"lib/shared.star": fmt.Sprintf("BASE = %d\n", base)})
		before := starhost.ProgramCacheOf(m)
		for _, o := range m.ReloadFiles(ctx, []string{lib}) {
			if o.Err != nil {
				t.Fatalf("%s: %v", o.Integration, o.Err)
			}
		}
		after := starhost.ProgramCacheOf(m)
		// Four executions: a, b, and the library for each. The dependents'
		// own files did not change and are reused; the library is
		// compiled for the first dependent built, or for both when they
		// are built at the same time (in parallel), and reused otherwise.
		compiles, hits := after.Compiles-before.Compiles, after.Hits-before.Hits
		if compiles < 1 || compiles > 2 || compiles+hits != 4 {
			t.Fatalf("BASE = %d: %d compiles and %d hits; want the library compiled once or twice, everything else reused", base, compiles, hits)
		}
		for name, factor := range map[string]int{"a": 10, "b": 100} {
			if got := valueOf(t, m, "e", name); got != int64(base*factor) {
				t.Fatalf("BASE = %d: %s returns %v, want %d", base, name, got, base*factor)
			}
		}
	}
}

// A scenario is a sequence of sources of one module and its libraries;
// run executes it on a host and records every outcome as text.
type scenario struct {
	name   string
	limits starhost.Limits
	steps  []map[string]string // files to write before each reload
}

// good is a module that loads fine.
const good = `def h(event, ctx):
    return 1

integration(name = "m", handlers = {"e": h})
`

// errorScenarios go from a good module to a broken one and back; each
// broken version is reloaded twice (the second time unchanged).
var errorScenarios = []scenario{
	{name: "syntax error", steps: []map[string]string{
		{"m.star": "def h(event, ctx)\n    return 1\n\nintegration(name = \"m\", handlers = {\"e\": h})\n"},
	}},
	{name: "undefined names", steps: []map[string]string{
		{"m.star": "def h(event, ctx):\n    return nope + never\n\nintegration(name = \"m\", handlers = {\"e\": h})\nalso_not_there()\n"},
	}},
	{name: "runtime error in the top level", steps: []map[string]string{
		{"m.star": "X = 1 // 0\n" + good},
	}},
	{name: "step budget", limits: starhost.Limits{Steps: 5000}, steps: []map[string]string{
		{"m.star": "def spin():\n    n = 0\n    for i in range(100000):\n        n += i\n    return n\n\nN = spin()\n" + good},
	}},
	{name: "bad declaration", steps: []map[string]string{
		{"m.star": "def h(event):\n    return 1\n\nintegration(name = \"m\", handlers = {\"e\": h})\n"},
	}},
	{name: "missing library", steps: []map[string]string{
		{"m.star": "load(\"lib/gone.star\", \"X\")\n" + good},
	}},
	{name: "library with a syntax error", steps: []map[string]string{
		{"lib/l.star": "X = (1\n", "m.star": "load(\"lib/l.star\", \"X\")\n" + good},
	}},
	{name: "load cycle", steps: []map[string]string{
		{"lib/a.star": "load(\"lib/b.star\", \"B\")\nA = 1\n", "lib/b.star": "load(\"lib/a.star\", \"A\")\nB = 2\n", "m.star": "load(\"lib/a.star\", \"A\")\n" + good},
	}},
}

// run plays s on a host over dir, with or without the program cache, and
// returns what every step produced: the error text and its diagnostics,
// and the files (with their SHA-256) of the live version. With the cache,
// it also checks that the good version was reused at least once.
func (s scenario) run(t *testing.T, dir string, cached bool) []string {
	t.Helper()
	ctx := context.Background()
	hosttest.WriteFiles(t, dir, map[string]string{"m.star": good})
	m, err := starhost.New(starhost.Options{Roots: []string{dir}, Limits: s.limits})
	if err != nil {
		t.Fatal(err)
	}
	if !cached {
		starhost.DisableProgramCache(m)
	}
	var out []string
	record := func(what string, err error) {
		in, _ := m.IntegrationInfo("m")
		out = append(out, fmt.Sprintf("%s: err=%v diagnostics=%+v files=%v", what, err, starhost.Diagnose(err, ""), in.Files))
	}
	record("load", m.LoadDefaultIntegrations(ctx))
	record("reload unchanged", m.ReloadIntegration(ctx, "m"))
	for i, files := range s.steps {
		hosttest.WriteFiles(t, dir, files)
		for j := range 2 {
			record(fmt.Sprintf("step %d, reload %d", i, j), m.ReloadIntegration(ctx, "m"))
		}
		// A host that starts on the broken files.
		fresh, err := starhost.New(starhost.Options{Roots: []string{dir}, Limits: s.limits})
		if err != nil {
			t.Fatal(err)
		}
		if !cached {
			starhost.DisableProgramCache(fresh)
		}
		err = fresh.LoadDefaultIntegrations(ctx)
		out = append(out, fmt.Sprintf("step %d, fresh load: err=%v diagnostics=%+v", i, err, starhost.Diagnose(err, "")))
		for _, f := range fresh.Snapshot().FailedModules {
			out = append(out, fmt.Sprintf("step %d, failed module %s: %v %+v", i, f.Module, f.Err, f.Errors))
		}
	}
	hosttest.WriteFiles(t, dir, map[string]string{"m.star": good})
	record("back to good", m.ReloadIntegration(ctx, "m"))
	if st := starhost.ProgramCacheOf(m); cached && st.Hits == 0 {
		t.Errorf("the cached host reused no program: %+v", st)
	}
	return out
}

func TestProgramCacheErrorsAreTheSameAsWithout(t *testing.T) {
	for _, s := range errorScenarios {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			with := s.run(t, dir, true)
			for _, f := range []string{"m.star", "lib"} {
				if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
					t.Fatal(err)
				}
			}
			without := s.run(t, dir, false)
			if !reflect.DeepEqual(with, without) {
				t.Errorf("with the cache:\n  %s\nwithout:\n  %s", strings.Join(with, "\n  "), strings.Join(without, "\n  "))
			}
			broken := with[2] // the first reload of the broken version
			if strings.Contains(broken, "err=<nil>") {
				t.Errorf("the broken version loaded: %s", broken)
			}
		})
	}
}

func TestProgramCacheBudgetsApplyToCachedPrograms(t *testing.T) {
	spin := "def spin():\n    n = 0\n    for i in range(100000000):\n        n += i\n    return n\n\nN = spin()\n" + good
	for _, tc := range []struct {
		name   string
		limits starhost.Limits
		want   string
	}{
		{"steps", starhost.Limits{Steps: 10000}, "exceeded the step budget of 10000 steps"},
		{"timeout", starhost.Limits{Steps: 1 << 62, Timeout: 20 * time.Millisecond}, "timed out after 20ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, dir := hosttest.NewRoot(t, map[string]string{"m.star": good}, hosttest.Limits(tc.limits))
			hosttest.WriteFiles(t, dir, map[string]string{"m.star": spin})
			for i := range 2 { // compiled, then reused
				err := m.ReloadIntegration(context.Background(), "m")
				d := starhost.Diagnose(err, "")[0]
				if err == nil || d.Kind != starhost.ErrorLimit || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("reload %d: %v (kind %s), want a limit error with %q", i, err, d.Kind, tc.want)
				}
			}
			if st := starhost.ProgramCacheOf(m); st.Hits == 0 {
				t.Fatalf("the second reload did not reuse the program: %+v", st)
			}
		})
	}
}

func TestProgramCacheBuiltinDefaults(t *testing.T) {
	defaults := fstest.MapFS{
		"hello.star":     {Data: []byte("load(\"lib/greet.star\", \"greet\")\n\nMSG = greet(\"you\")\n\ndef h(event, ctx):\n    return MSG\n\nintegration(name = \"hello\", handlers = {\"e\": h})\n")},
		"lib/greet.star": {Data: []byte("def greet(who):\n    return \"hello \" + who\n")},
	}
	info := func(cached bool) (starhost.Info, starhost.ProgramCacheStats) {
		m, err := starhost.New(starhost.Options{Defaults: defaults})
		if err != nil {
			t.Fatal(err)
		}
		if !cached {
			starhost.DisableProgramCache(m)
		}
		ctx := context.Background()
		if err := m.LoadDefaultIntegrations(ctx); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := errors.Join(mapErrs(m.ReloadAllIntegrations(ctx))...); err != nil {
				t.Fatal(err)
			}
		}
		if got := valueOf(t, m, "e", "hello"); got != "hello you" {
			t.Fatalf("hello returns %v", got)
		}
		in, _ := m.IntegrationInfo("hello")
		return in, starhost.ProgramCacheOf(m)
	}
	with, st := info(true)
	without, _ := info(false)
	if st.Compiles != 2 || st.Hits != 6 {
		t.Errorf("load and three reloads of a default and its library: %d compiles, %d hits; want 2 and 6", st.Compiles, st.Hits)
	}
	if !reflect.DeepEqual(with.Files, without.Files) || len(with.Files) != 2 || with.Files[0].Path != "builtin:hello.star" {
		t.Errorf("files with the cache %+v, without %+v", with.Files, without.Files)
	}
}

// mapErrs returns the non-nil errors of a ReloadAllIntegrations result.
func mapErrs(m map[string]error) []error {
	var out []error
	for _, err := range m {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func TestProgramCacheKeepsOneProgramPerFile(t *testing.T) {
	m, dir := hosttest.NewRoot(t, map[string]string{
		"edited.star": hostbench.Module(0, 0),
		"other.star":  hostbench.Module(1, 0),
	})
	ctx := context.Background()
	edited := filepath.Join(dir, "edited.star")
	const edits = 1000
	for i := 1; i <= edits; i++ {
		hosttest.WriteFiles(t, dir, map[string]string{"edited.star": hostbench.Module(0, i)})
		if err := m.ReloadIntegration(ctx, "bench_000"); err != nil {
			t.Fatal(err)
		}
	}
	st := starhost.ProgramCacheOf(m)
	if st.Paths[edited] != 1 || st.Entries != 2 {
		t.Fatalf("after %d edits of one file the cache holds %d programs for it, %d in all (%+v); want 1 and 2", edits, st.Paths[edited], st.Entries, st.Paths)
	}
	if st.Compiles != edits+2 {
		t.Fatalf("%d compiles for %d edits and two files", st.Compiles, edits)
	}
}

// benchReloadAll times ReloadAllIntegrations of 100 generated
// integrations; change, if not nil, rewrites their files before each
// (untimed).
func benchReloadAll(b *testing.B, cached bool, change func(i int, paths []string)) {
	dir := b.TempDir()
	paths, err := hostbench.WriteModules(dir, 100)
	if err != nil {
		b.Fatal(err)
	}
	m, err := starhost.New(starhost.Options{Roots: []string{dir}})
	if err != nil {
		b.Fatal(err)
	}
	if !cached {
		starhost.DisableProgramCache(m)
	}
	ctx := context.Background()
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var cpu cpuClock
	for i := 0; b.Loop(); i++ {
		if change != nil {
			b.StopTimer()
			change(i, paths)
			b.StartTimer()
		}
		cpu.start()
		for name, err := range m.ReloadAllIntegrations(ctx) {
			if err != nil {
				b.Fatal(name, err)
			}
		}
		cpu.stop()
	}
	cpu.report(b)
}

// BenchmarkReloadAllUnchanged is BenchmarkReloadAll (100 unchanged
// generated integrations) with the process's CPU time per reload as well
// (cpu-ms/op: user and system time of every thread, the GC's included,
// while ReloadAllIntegrations runs; on a machine shared with other work
// the wall time says less).
func BenchmarkReloadAllUnchanged(b *testing.B) { benchReloadAll(b, true, nil) }

// BenchmarkReloadAllUnchangedNoCache is BenchmarkReloadAllUnchanged
// without the program cache: every file is compiled again, as before it.
func BenchmarkReloadAllUnchangedNoCache(b *testing.B) { benchReloadAll(b, false, nil) }

// BenchmarkReloadAllChanged reloads 100 generated integrations whose
// files all changed since the last reload: every one is compiled.
func BenchmarkReloadAllChanged(b *testing.B) {
	benchReloadAll(b, true, func(i int, paths []string) {
		for k, p := range paths {
			if err := os.WriteFile(p, []byte(hostbench.Module(k, i+1)), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestProgramCacheGlobalsAreFrozen(t *testing.T) {
	m, _ := hosttest.NewRoot(t, map[string]string{
		"lib/shared.star": "SHARED = []\n",
		"m.star": `load("lib/shared.star", "SHARED")

OWN = []

def own(event, ctx):
    OWN.append(1)

def shared(event, ctx):
    SHARED.append(1)

integration(name = "m", handlers = {"own": own, "shared": shared})
`,
	})
	for i := range 3 { // compiled, then reused twice
		if i > 0 {
			if err := m.ReloadIntegration(context.Background(), "m"); err != nil {
				t.Fatal(err)
			}
		}
		for _, event := range []string{"own", "shared"} {
			r := hosttest.ResultOf(t, hosttest.Emit(t, m, event, nil), "m")
			if r.OK || !strings.Contains(r.Error.Msg, "frozen list") {
				t.Fatalf("build %d: appending to a %s global: %+v, want a frozen-list error", i, event, r)
			}
		}
	}
}
