package studio

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/watch"
)

// newTestStudio builds a studio over a host with the defaults and a user
// folder holding files; it answers confirmations with yes and records
// messages.
func newTestStudio(t *testing.T, files map[string]string) (*Studio, *starhost.Manager, string, *[]string) {
	t.Helper()
	a := test.NewTempApp(t)
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := starhost.New(starhost.Options{Defaults: integrations.FS, Roots: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	_ = m.LoadDefaultIntegrations(context.Background())
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

// eventually polls cond on the UI until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok := false
		runOnUI(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dropOnUI(s *Studio, uris []fyne.URI) { runOnUI(func() { s.HandleDrop(uris) }) }

func rowNames(s *Studio) []string {
	var names []string
	for _, r := range s.list.rows() {
		names = append(names, r.name)
	}
	return names
}

func rowNamed(s *Studio, name string) (integrationRow, bool) {
	for _, r := range s.list.rows() {
		if r.name == name {
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
	if got := strings.Join(rowNames(s), ","); got != "analytics,alerts,afterimage,audit" {
		t.Fatalf("rows %s", got)
	}
	// The filter narrows the list.
	runOnUI(func() { test.Type(s.list.filter, "aud") })
	eventually(t, "the filter", func() bool { return len(s.list.rows()) == 1 && s.list.rows()[0].name == "audit" })
}

func TestSelectingShowsDetails(t *testing.T) {
	s, m, _, _ := newTestStudio(t, nil)
	eventually(t, "the defaults", func() bool { return len(s.list.rows()) == 4 })
	m.Emit(context.Background(), "response_received", map[string]any{"mission_id": "m1", "latency_ms": 120})
	runOnUI(func() { s.selectIntegration("analytics") })
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
	os.WriteFile(filepath.Join(dir, "mine.star"), []byte(goodModule("mine", "v2")), 0o644)
	runOnUI(func() { s.selectIntegration("mine") })
	runOnUI(func() { test.Tap(s.bar.reload) })
	eventually(t, "generation 2 in the list", func() bool { r, _ := rowNamed(s, "mine"); return r.generation == 2 })
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
	os.WriteFile(good, []byte(goodModule("dropped", "d")), 0o644)
	os.WriteFile(bad, []byte("def h(event, ctx)\n"), 0o644)
	os.WriteFile(txt, []byte("hello"), 0o644)
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
	runOnUI(func() { s.selectIntegration("broken.star") })
	eventually(t, "the error in the details", func() bool {
		return s.details.errPos.Text == bad+":2:1" && s.details.errSource.Text == ""
	})
}

func TestFailedReloadShowsErrorAndOldVersionServes(t *testing.T) {
	s, m, dir, _ := newTestStudio(t, map[string]string{"mine.star": goodModule("mine", "v1")})
	path := filepath.Join(dir, "mine.star")
	os.WriteFile(path, []byte("def h(event, ctx):\n    return undefined_thing\n\nintegration(name = \"mine\", handlers = {\"ping\": h})\n"), 0o644)
	runOnUI(func() { s.selectIntegration("mine") })
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
	w := watch.ForHost(m, watch.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond)
	for i := 2; i <= 4; i++ {
		os.WriteFile(filepath.Join(dir, "mine.star"), []byte(goodModule("mine", "v"+string(rune('0'+i)))), 0o644)
		want := i
		eventually(t, "the new generation in the list", func() bool { r, _ := rowNamed(s, "mine"); return r.generation == want })
	}
	// A new file shows up on its own.
	os.WriteFile(filepath.Join(dir, "fresh.star"), []byte(goodModule("fresh", "f")), 0o644)
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
	os.WriteFile(f, []byte(goodModule("opened", "o")), 0o644)
	if err := s.OpenFiles([]string{f}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "opened", func() bool { _, ok := rowNamed(s, "opened"); return ok })
	if !m.IsAvailable("opened") {
		t.Fatal("not live")
	}
}
