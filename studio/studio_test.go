package studio

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/starhost/watch"
)

// newTestStudio builds a studio over a host with the defaults and a user
// folder holding files; it answers confirmations with yes and records
// messages.
func newTestStudio(t *testing.T, files map[string]string) (*Studio, *starhost.Manager, string, *[]string) {
	t.Helper()
	a := test.NewTempApp(t)
	var loadErr error // a test may give a module that does not load: the studio shows it
	m, dir := hosttest.NewRoot(t, files, hosttest.Defaults(integrations.FS), hosttest.LoadError(&loadErr))
	if loadErr != nil {
		t.Logf("load: %v", loadErr)
	}
	s := New(a, m, nil, Options{Dirs: []string{dir}, RunOnUI: runOnUI, OpenEditor: func(path string, line int) error {
		return nil
	}})
	var notes []string
	s.confirm = func(_, _ string, ok func()) { ok() }
	s.notify = func(title, msg string) { notes = append(notes, title+": "+msg) }
	runOnUI(s.Start)
	t.Cleanup(s.Stop)
	return s, m, dir, &notes
}

// uiMu serialises what the test does to the UI with the studio's updates
// from its goroutines: Fyne's test driver runs fyne.Do on the calling
// goroutine, so without it the two would race.
var uiMu sync.Mutex

func runOnUI(fn func()) {
	uiMu.Lock()
	defer uiMu.Unlock()
	fn()
}

// uiWait bounds each wait for the studio to show something.
const uiWait = 5 * time.Second

// eventually is hosttest.Eventually with cond read on the UI (under
// runOnUI), since the studio's goroutines update what cond reads.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	hosttest.Eventually(t, uiWait, func() bool {
		ok := false
		runOnUI(func() { ok = cond() })
		return ok
	}, what)
}

func dropOnUI(s *Studio, uris []fyne.URI) { runOnUI(func() { s.HandleDrop(uris) }) }

// rowLabels returns what the visible rows show.
func rowLabels(s *Studio) []string {
	var labels []string
	for _, r := range s.list.rows() {
		labels = append(labels, r.label)
	}
	return labels
}

// rowNamed returns the visible row that shows label.
func rowNamed(s *Studio, label string) (integrationRow, bool) {
	for _, r := range s.list.rows() {
		if r.label == label {
			return r, true
		}
	}
	return integrationRow{}, false
}

func goodModule(name, result string) string {
	return "def h(event, ctx):\n    return \"" + result + "\"\n\nintegration(name = \"" + name + "\", priority = \"HIGH\", handlers = {\"ping\": h})\n"
}

func TestListShowsDefaultsInPriorityOrder(t *testing.T) {
	s, _, _, _ := newTestStudio(t, nil)
	eventually(t, "the defaults", func() bool { return len(s.list.rows()) == 4 })
	if got := strings.Join(rowLabels(s), ","); got != "analytics,alerts,afterimage,audit" {
		t.Fatalf("rows %s", got)
	}
	// The filter narrows the list.
	runOnUI(func() { test.Type(s.list.filter, "aud") })
	eventually(t, "the filter", func() bool { return len(s.list.rows()) == 1 && s.list.rows()[0].label == "audit" })
}

func TestSelectingShowsDetails(t *testing.T) {
	s, m, _, _ := newTestStudio(t, nil)
	eventually(t, "the defaults", func() bool { return len(s.list.rows()) == 4 })
	m.Emit(context.Background(), "response_received", map[string]any{"mission_id": "m1", "latency_ms": 120})
	runOnUI(func() { s.selectRow("analytics") })
	eventually(t, "analytics details", func() bool {
		return s.details.title.Text == "analytics" && s.details.fields["Priority"].Text == "CRITICAL" &&
			s.details.fields["Calls"].Text == "1" && strings.Contains(s.details.fields["Dependencies"].Text, "lib/stats.star")
	})
	eventually(t, "the state tree", func() bool {
		return strings.HasPrefix(s.details.state.labelOf("/missions"), "missions: {1}")
	})
	eventually(t, "one sample in the latency chart", func() bool { return len(s.details.chart.samples) == 1 })
}

func TestReloadRemoveAndAddActOnTheHost(t *testing.T) {
	s, m, dir, _ := newTestStudio(t, map[string]string{"mine.star": goodModule("mine", "v1")})
	eventually(t, "mine", func() bool { _, ok := rowNamed(s, "mine"); return ok })
	hosttest.WriteFile(t, filepath.Join(dir, "mine.star"), goodModule("mine", "v2"))
	runOnUI(func() { s.selectRow("mine") })
	runOnUI(func() { test.Tap(s.bar.reload) })
	eventually(t, "generation 2 in the list", func() bool { r, _ := rowNamed(s, "mine"); return r.generation == 2 })
	eventually(t, "the reload in the status bar", func() bool { return strings.HasPrefix(s.status.last.Text, "last: mine reloaded") })
	eventually(t, "the reload in the log", func() bool {
		return slices.ContainsFunc(s.logs.lines(), func(l string) bool { return strings.Contains(l, "mine: reloaded") })
	})
	rs, _ := m.Emit(context.Background(), "ping", nil)
	if rs[0].Value != "v2" {
		t.Fatalf("after reload: %v", rs[0].Value)
	}
	runOnUI(func() { test.Tap(s.bar.remove) })
	eventually(t, "mine removed", func() bool { _, ok := rowNamed(s, "mine"); return !ok })
	if m.IsAvailable("mine") {
		t.Fatal("still available on the host")
	}
	// Add it back through a drop of its URI.
	dropOnUI(s, []fyne.URI{storage.NewFileURI(filepath.Join(dir, "mine.star"))})
	eventually(t, "mine added again", func() bool { _, ok := rowNamed(s, "mine"); return ok })
	if !m.IsAvailable("mine") {
		t.Fatal("not available on the host after the drop")
	}
}

func TestDropAddsStarFilesAndRefusesOthers(t *testing.T) {
	s, m, _, notes := newTestStudio(t, nil)
	other := t.TempDir()
	good := filepath.Join(other, "dropped.star")
	bad := filepath.Join(other, "broken.star")
	txt := filepath.Join(other, "notes.txt")
	hosttest.WriteFile(t, good, goodModule("dropped", "d"))
	hosttest.WriteFile(t, bad, "def h(event, ctx)\n")
	hosttest.WriteFile(t, txt, "hello")
	dropOnUI(s, []fyne.URI{storage.NewFileURI(good), storage.NewFileURI(bad), storage.NewFileURI(txt)})
	eventually(t, "dropped and broken rows", func() bool {
		_, okGood := rowNamed(s, "dropped")
		r, okBad := rowNamed(s, "broken.star")
		return okGood && okBad && r.status == statusLoadFailed && strings.Contains(r.message, "broken.star:2:1")
	})
	if !m.IsAvailable("dropped") {
		t.Fatal("dropped integration not live")
	}
	eventually(t, "the refusal message and the remembered files", func() bool {
		return len(*notes) == 1 && strings.Contains((*notes)[0], "notes.txt: not a .star file") &&
			len(RememberedFiles(s.app.Preferences())) == 2
	})
	// Selecting the failed file shows its error and source line.
	runOnUI(func() { s.selectRow(bad) })
	eventually(t, "the error in the details", func() bool {
		return s.details.errPos.Text == bad+":2:1" && s.details.errSource.Text == ""
	})
}

func TestFailedReloadShowsErrorAndOldVersionServes(t *testing.T) {
	s, m, dir, _ := newTestStudio(t, map[string]string{"mine.star": goodModule("mine", "v1")})
	path := filepath.Join(dir, "mine.star")
	hosttest.WriteFile(t, path, "def h(event, ctx):\n    return undefined_thing\n\nintegration(name = \"mine\", handlers = {\"ping\": h})\n")
	runOnUI(func() { s.selectRow("mine") })
	runOnUI(func() { test.Tap(s.bar.reload) })
	eventually(t, "the failed row", func() bool { r, _ := rowNamed(s, "mine"); return r.status == statusFailed })
	eventually(t, "the error in the details", func() bool {
		return s.details.errPos.Text == path+":2:12" && strings.Contains(s.details.errMsg.Text, "undefined: undefined_thing") &&
			s.details.errSource.Text == "return undefined_thing" && !s.details.errBox.Hidden
	})
	rs, _ := m.Emit(context.Background(), "ping", nil)
	if rs[0].Value != "v1" {
		t.Fatalf("the old version must serve: %v", rs[0].Value)
	}
	var opened []string
	runOnUI(func() {
		s.opts.OpenEditor = func(p string, line int) error { opened = append(opened, fmt.Sprintf("%s:%d", p, line)); return nil }
		test.Tap(s.details.openBtn)
	})
	eventually(t, "the editor at the error's line", func() bool { return len(opened) == 1 && opened[0] == path+":2" })
}

func TestFileChangeUpdatesListThroughWatcher(t *testing.T) {
	s, m, dir, _ := newTestStudio(t, map[string]string{"mine.star": goodModule("mine", "v1")})
	w := watch.ForHost(m, watch.Options{Roots: m.Roots()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond)
	for i := 2; i <= 4; i++ {
		hosttest.WriteFile(t, filepath.Join(dir, "mine.star"), goodModule("mine", "v"+string(rune('0'+i))))
		want := i
		eventually(t, "the new generation in the list", func() bool { r, _ := rowNamed(s, "mine"); return r.generation == want })
	}
	// A new file shows up on its own.
	hosttest.WriteFile(t, filepath.Join(dir, "fresh.star"), goodModule("fresh", "f"))
	eventually(t, "fresh", func() bool { _, ok := rowNamed(s, "fresh"); return ok })
}

func TestNewIntegrationCreatesFileFromTemplate(t *testing.T) {
	s, m, dir, _ := newTestStudio(t, nil)
	var opened []string
	runOnUI(func() {
		s.opts.OpenEditor = func(p string, line int) error { opened = append(opened, p); return nil }
		test.Tap(s.bar.create)
	})
	eventually(t, "my_integration", func() bool { _, ok := rowNamed(s, "my_integration"); return ok })
	if !m.IsAvailable("my_integration") {
		t.Fatal("the template does not load")
	}
	if _, err := os.Stat(filepath.Join(dir, "my_integration.star")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the editor on the new file", func() bool {
		return len(opened) == 1 && opened[0] == filepath.Join(dir, "my_integration.star")
	})
	rs, _ := m.Emit(context.Background(), "response_received", map[string]any{"latency_ms": 42})
	found := false
	for _, r := range rs {
		found = found || (r.Integration == "my_integration" && r.OK)
	}
	if !found {
		t.Fatalf("the template's handler did not run: %+v", rs)
	}
}

func TestEditorCommand(t *testing.T) {
	cases := []struct {
		env  string
		want string
	}{
		{"", "xdg-open /x/a.star"},
		{"code --wait", "code --wait -g /x/a.star:7"},
		{"vim", "x-terminal-emulator -e vim +7 /x/a.star"},
		{"gedit", "gedit +7 /x/a.star"},
		{"subl", "subl /x/a.star:7"},
		{"/usr/bin/emacs", "/usr/bin/emacs +7 /x/a.star"},
		{"myeditor", "myeditor /x/a.star"},
	}
	for _, c := range cases {
		if got := strings.Join(editorCommand(c.env, "/x/a.star", 7), " "); got != c.want {
			t.Errorf("editorCommand(%q) = %q, want %q", c.env, got, c.want)
		}
	}
}

// fakeAPI is a ControlAPI that records what the settings view asks.
type fakeAPI struct {
	mu   sync.Mutex
	addr string
	fail error
}

func (f *fakeAPI) Serve(addr string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	f.addr = addr
	return addr, nil
}
func (f *fakeAPI) Stop() error   { f.mu.Lock(); defer f.mu.Unlock(); f.addr = ""; return nil }
func (f *fakeAPI) Addr() string  { f.mu.Lock(); defer f.mu.Unlock(); return f.addr }
func (f *fakeAPI) Token() string { return "secret-token" }

func TestSettingsTurnTheAPIOnAndOff(t *testing.T) {
	api := &fakeAPI{}
	a := test.NewTempApp(t)
	var copied string
	v := newSettingsView(api, a.Preferences(), runOnUI, func(s string) { copied = s })
	runOnUI(func() {
		v.addr.SetText("127.0.0.1:9999")
		test.Tap(v.enabled)
	})
	eventually(t, "serving", func() bool {
		return api.Addr() == "127.0.0.1:9999" && strings.Contains(v.status.Text, "Serving on http://127.0.0.1:9999")
	})
	if on, addr := APIEnabled(a.Preferences()); !on || addr != "127.0.0.1:9999" {
		t.Fatalf("preferences: %v %q", on, addr)
	}
	runOnUI(func() { test.Tap(v.enabled) })
	eventually(t, "stopped", func() bool { return api.Addr() == "" && v.status.Text == "Off" })
	api.fail = fmt.Errorf("address in use")
	runOnUI(func() { test.Tap(v.enabled) })
	eventually(t, "the error", func() bool { return strings.Contains(v.status.Text, "address in use") && !v.enabled.Checked })
	if on, _ := APIEnabled(a.Preferences()); on {
		t.Fatal("a failed start must not be remembered as on")
	}
	runOnUI(func() { v.copy(api.Token()) })
	if copied != "secret-token" {
		t.Fatalf("copied %q", copied)
	}
}

func TestOpenFilesAddsLikeADrop(t *testing.T) {
	s, m, _, _ := newTestStudio(t, nil)
	f := filepath.Join(t.TempDir(), "opened.star")
	hosttest.WriteFile(t, f, goodModule("opened", "o"))
	if err := s.OpenFiles([]string{f}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "opened", func() bool { _, ok := rowNamed(s, "opened"); return ok })
	if !m.IsAvailable("opened") {
		t.Fatal("not live")
	}
}

// visibleTexts returns the text of every label and button that is drawn
// under o: hidden objects and what they hold are left out.
func visibleTexts(o fyne.CanvasObject) []string {
	if o == nil || !o.Visible() {
		return nil
	}
	switch w := o.(type) {
	case *widget.Label:
		return []string{w.Text}
	case *widget.Button:
		return []string{w.Text}
	case *fyne.Container:
		var out []string
		for _, c := range w.Objects {
			out = append(out, visibleTexts(c)...)
		}
		return out
	case *container.Scroll:
		return visibleTexts(w.Content)
	case fyne.Widget:
		var out []string
		for _, c := range test.WidgetRenderer(w).Objects() {
			out = append(out, visibleTexts(c)...)
		}
		return out
	}
	return nil
}

// TestTwoModulesOfTheSameFileName drops two broken a.star from two
// folders: each is its own row (keyed by its path, labelled with its
// folder), and selecting, retrying and removing one leaves the other
// alone.
func TestTwoModulesOfTheSameFileName(t *testing.T) {
	s, m, _, _ := newTestStudio(t, nil)
	root := t.TempDir()
	one, two := filepath.Join(root, "one", "a.star"), filepath.Join(root, "two", "a.star")
	for _, p := range []string{one, two} {
		hosttest.WriteFile(t, p, "def h(event, ctx)\n")
	}
	dropOnUI(s, []fyne.URI{storage.NewFileURI(one), storage.NewFileURI(two)})
	eventually(t, "two rows for the two a.star", func() bool {
		r1, ok1 := rowNamed(s, "one/a.star")
		r2, ok2 := rowNamed(s, "two/a.star")
		return ok1 && ok2 && r1.key == one && r2.key == two && r1.status == statusLoadFailed && r2.status == statusLoadFailed
	})

	runOnUI(func() { s.selectRow(two) })
	eventually(t, "the second a.star's details", func() bool {
		return s.details.title.Text == "two/a.star" && s.details.file.Text == two && s.details.errPos.Text == two+":2:1"
	})

	// Fixing the first and retrying it loads it; the second stays failed.
	hosttest.WriteFile(t, one, goodModule("first_a", "1"))
	runOnUI(func() { s.selectRow(one) })
	runOnUI(func() { test.Tap(s.bar.reload) })
	eventually(t, "first_a live and selected, two/a.star still failed", func() bool {
		_, live := rowNamed(s, "first_a")
		r2, ok2 := rowNamed(s, "a.star") // the only a.star left needs no folder
		return live && ok2 && r2.key == two && s.selected == "first_a"
	})
	if !m.IsAvailable("first_a") {
		t.Fatal("first_a is not live on the host")
	}

	// Removing the failed one removes it alone, and forgets its file.
	runOnUI(func() { s.selectRow(two) })
	runOnUI(func() { test.Tap(s.bar.remove) })
	eventually(t, "the second a.star removed", func() bool {
		_, ok := rowNamed(s, "a.star")
		_, live := rowNamed(s, "first_a")
		return !ok && live
	})
	if fm := m.Snapshot().FailedModules; len(fm) != 0 {
		t.Fatalf("failed modules left on the host: %v", fm)
	}
	eventually(t, "only the first a.star remembered", func() bool {
		return slices.Equal(RememberedFiles(s.app.Preferences()), []string{one})
	})
}

// TestModuleThatNeverLoadedShowsWhatIsKnown: its details are its error
// (file:line:col and message), its file and "Open in editor", not a
// grid of dashes.
func TestModuleThatNeverLoadedShowsWhatIsKnown(t *testing.T) {
	s, _, dir, _ := newTestStudio(t, map[string]string{"broken.star": "x = 1\n\ndef h(event, ctx)\n    return x\n"})
	path := filepath.Join(dir, "broken.star")
	runOnUI(func() { s.selectRow(path) })
	var texts []string
	eventually(t, "the broken module's details", func() bool {
		texts = visibleTexts(s.details.object())
		return s.details.title.Text == "broken.star"
	})
	joined := strings.Join(texts, "\n")
	for _, want := range []string{path, path + ":4:1", "got newline, want ':'", "return x", "Open in editor"} {
		if !slices.Contains(texts, want) {
			t.Errorf("the details do not show %q:\n%s", want, joined)
		}
	}
	for _, text := range texts {
		if text == "–" || slices.Contains(detailFields, text) && text != "Module" {
			t.Errorf("the details show an integration's field %q for a module that never loaded:\n%s", text, joined)
		}
	}
	var opened []string
	runOnUI(func() {
		s.opts.OpenEditor = func(p string, line int) error { opened = append(opened, fmt.Sprintf("%s:%d", p, line)); return nil }
		test.Tap(s.details.openBtn)
	})
	if len(opened) != 1 || opened[0] != path+":4" {
		t.Fatalf("Open in editor opened %v, want %s:4", opened, path)
	}
}

// TestStartAddsRememberedAndGivenFiles: at start the studio adds the files
// of earlier sessions and Options.Files (relative to the working
// directory), remembers the given ones, and leaves alone a file the host
// has loaded already (adding it would reload it).
func TestStartAddsRememberedAndGivenFiles(t *testing.T) {
	a := test.NewTempApp(t)
	dir, elsewhere := t.TempDir(), t.TempDir()
	inRoot := filepath.Join(dir, "in_root.star")
	remembered := filepath.Join(elsewhere, "remembered.star")
	given := filepath.Join(elsewhere, "given.star")
	hosttest.WriteFile(t, inRoot, goodModule("in_root", "r"))
	hosttest.WriteFile(t, remembered, goodModule("remembered", "m"))
	hosttest.WriteFile(t, given, goodModule("given", "g"))
	rememberFile(a.Preferences(), remembered)
	rememberFile(a.Preferences(), inRoot)

	m := hosttest.New(t, hosttest.Roots(dir))
	t.Chdir(elsewhere)
	w := &fakeWatcher{}
	s := New(a, m, w, Options{Dirs: []string{dir}, Files: []string{"given.star"}, RunOnUI: runOnUI})
	runOnUI(s.Start)
	t.Cleanup(s.Stop)
	eventually(t, "the three integrations", func() bool {
		_, ok1 := rowNamed(s, "in_root")
		_, ok2 := rowNamed(s, "remembered")
		_, ok3 := rowNamed(s, "given")
		return ok1 && ok2 && ok3
	})
	if in, _ := m.IntegrationInfo("in_root"); in.Generation != 1 {
		t.Errorf("in_root was loaded again at start: generation %d", in.Generation)
	}
	eventually(t, "the given file remembered", func() bool {
		return slices.Equal(RememberedFiles(a.Preferences()), []string{remembered, inRoot, given})
	})
	if got := w.roots(); !slices.Contains(got, elsewhere) {
		t.Errorf("the watcher watches %v, not the folder of the added files %s", got, elsewhere)
	}
}

// fakeWatcher records the folders the studio asks it to watch.
type fakeWatcher struct {
	mu     sync.Mutex
	paused bool
	added  []string
}

func (w *fakeWatcher) SetPaused(p bool) { w.mu.Lock(); defer w.mu.Unlock(); w.paused = p }
func (w *fakeWatcher) Paused() bool     { w.mu.Lock(); defer w.mu.Unlock(); return w.paused }
func (w *fakeWatcher) AddRoot(dir string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.added = append(w.added, dir)
}
func (w *fakeWatcher) roots() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.added)
}

// TestDetailsStayLiveDuringAnEventStorm: while events keep coming (each
// a notice), the selected integration's calls still update.
func TestDetailsStayLiveDuringAnEventStorm(t *testing.T) {
	s, m, _, _ := newTestStudio(t, nil)
	eventually(t, "the defaults", func() bool { return len(s.list.rows()) == 4 })
	runOnUI(func() { s.selectRow("analytics") })
	eventually(t, "analytics details", func() bool { return s.details.title.Text == "analytics" })
	ctx, stop := context.WithCancel(context.Background())
	storm := make(chan struct{})
	go func() {
		defer close(storm)
		for ctx.Err() == nil {
			m.Emit(ctx, "response_received", map[string]any{"mission_id": "m1", "latency_ms": 5})
			time.Sleep(2 * time.Millisecond)
		}
	}()
	defer func() { stop(); <-storm }()
	eventually(t, "the calls counted while the events keep coming", func() bool {
		n, _ := strconv.Atoi(s.details.fields["Calls"].Text)
		return n >= 50
	})
}

// TestDropFolderAndFileInIt: a folder and a file inside it dropped
// together load the file once (generation 1), not once for the folder and
// again, as a reload, for the file.
func TestDropFolderAndFileInIt(t *testing.T) {
	s, m, _, _ := newTestStudio(t, nil)
	dir := t.TempDir()
	f := filepath.Join(dir, "inside.star")
	hosttest.WriteFile(t, f, goodModule("inside", "i"))
	runOnUI(func() { s.HandleDrop([]fyne.URI{storage.NewFileURI(dir), storage.NewFileURI(f)}) })
	// addPaths remembers the folder when it has added everything.
	eventually(t, "the folder remembered", func() bool { return slices.Contains(RememberedFolders(s.app.Preferences()), dir) })
	if in, ok := m.IntegrationInfo("inside"); !ok || in.Generation != 1 {
		t.Fatalf("inside: %+v, want generation 1 (loaded once)", in)
	}
}

// TestHostLabel: a window that shows another process's host says which,
// in its title and its status bar.
func TestHostLabel(t *testing.T) {
	a := test.NewTempApp(t)
	m, _ := hosttest.NewRoot(t, nil)
	const label = "http://10.0.0.7:7777"
	s := New(a, m, nil, Options{HostLabel: label, RunOnUI: runOnUI})
	runOnUI(s.Start)
	t.Cleanup(s.Stop)
	if got := s.Window().Title(); got != "afstudio — "+label {
		t.Errorf("title %q", got)
	}
	if got := s.status.watching.Text; !strings.Contains(got, label) {
		t.Errorf("status bar %q does not name the host", got)
	}
}

// TestWorkerSettings: the Settings tab saves a valid memory limit for the
// next start, refuses a bad one with the reason (keeping the saved one),
// and is off when the integrations do not run in this studio's worker.
func TestWorkerSettings(t *testing.T) {
	a := test.NewTempApp(t)
	prefs := a.Preferences()
	off := newWorkerSettings(prefs, "")
	if !off.limit.Disabled() || !strings.Contains(off.status.Text, "do not run in its worker") {
		t.Fatalf("without a worker: disabled %v, %q", off.limit.Disabled(), off.status.Text)
	}
	w := newWorkerSettings(prefs, "1 GiB")
	if w.limit.Text != "1 GiB" || w.limit.Disabled() {
		t.Fatalf("with a worker: %q disabled %v", w.limit.Text, w.limit.Disabled())
	}
	save := func(text string) {
		test.Type(w.limit, "")
		w.limit.SetText(text)
		var btn *widget.Button
		for _, o := range test.LaidOutObjects(w.root) {
			if b, ok := o.(*widget.Button); ok && b.Text == "Save" {
				btn = b
			}
		}
		if btn == nil {
			t.Fatal("no Save button")
		}
		test.Tap(btn)
	}
	save("512MiB")
	if got := MemoryLimitSetting(prefs); got != "512MiB" || !strings.Contains(w.status.Text, "Saved: 512MiB") {
		t.Fatalf("after saving 512MiB: setting %q, status %q", got, w.status.Text)
	}
	save("10")
	if got := MemoryLimitSetting(prefs); got != "512MiB" || !strings.Contains(w.status.Text, "too small") {
		t.Fatalf("after 10: setting %q, status %q", got, w.status.Text)
	}
	save("lots")
	if !strings.Contains(w.status.Text, "not a size") {
		t.Fatalf("after lots: status %q", w.status.Text)
	}
}
