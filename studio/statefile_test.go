package studio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/statestore"
)

// storeStudio is a studio over a host that keeps its state in a real
// state file, written before each event is answered (sync), with the
// messages and confirmations it showed.
type storeStudio struct {
	s        *Studio
	m        *starhost.Manager
	store    *statestore.Store
	notes    *[]string // what notify showed
	confirms *[]string // what confirm asked (answered yes)
}

func newStoreStudio(t *testing.T, files map[string]string) storeStudio {
	t.Helper()
	a := test.NewTempApp(t)
	store, err := statestore.Open(filepath.Join(t.TempDir(), statestore.FileName), statestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, dir := hosttest.NewRoot(t, files, hosttest.Store(store), hosttest.SyncWrites(true))
	t.Cleanup(func() {
		if err := m.Close(context.Background()); err != nil {
			t.Error(err)
		}
		store.Close()
	})
	s := New(a, m, nil, Options{Dirs: []string{dir}, RunOnUI: runOnUI})
	var notes, confirms []string
	s.confirm = func(_, msg string, ok func()) { confirms = append(confirms, msg); ok() }
	s.notify = func(title, msg string) { notes = append(notes, title+": "+msg) }
	runOnUI(s.Start)
	t.Cleanup(s.Stop)
	return storeStudio{s, m, store, &notes, &confirms}
}

func (ss storeStudio) stateJSON(t *testing.T, name string) string {
	t.Helper()
	b, err := ss.m.StateJSON(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// saveTo makes Export state… write to path, exporting all integrations
// or only the selected one.
func (ss storeStudio) saveTo(t *testing.T, path string, all bool) {
	ss.s.stateDialogs.exportScope = func(_ string, _ int, done func(bool)) { done(all) }
	ss.s.stateDialogs.save = func(_ string, done func(fyne.URIWriteCloser)) {
		w, err := storage.Writer(storage.NewFileURI(path))
		if err != nil {
			t.Error(err)
			return
		}
		done(w)
	}
}

// openFrom makes Import state… read path.
func (ss storeStudio) openFrom(t *testing.T, path string) {
	ss.s.stateDialogs.open = func(done func(fyne.URIReadCloser)) {
		r, err := storage.Reader(storage.NewFileURI(path))
		if err != nil {
			t.Error(err)
			return
		}
		done(r)
	}
}

var twoCounters = map[string]string{"mine.star": counterModule("mine"), "other.star": counterModule("other")}

// TestForgetStateDeletesTheStoredCopy: Forget state… asks, saying the
// stored copy goes too, then empties the state and deletes its record in
// the state file.
func TestForgetStateDeletesTheStoredCopy(t *testing.T) {
	ss := newStoreStudio(t, twoCounters)
	hosttest.Emit(t, ss.m, "ping", nil)
	if rec, ok, err := ss.store.Load("mine"); err != nil || !ok || string(rec.State) != `{"pings":1}` {
		t.Fatalf("stored before: %s %v %v", rec.State, ok, err)
	}
	runOnUI(func() { ss.s.selectRow("mine") })
	eventually(t, "mine's state shown", func() bool { return ss.s.details.state.labelOf("/pings") == "pings: 1" })
	runOnUI(func() { test.Tap(ss.s.details.forgetBtn) })
	eventually(t, "the state forgotten in the studio", func() bool {
		return ss.s.details.state.labelOf(stateRoot) == "state: {0}" && ss.s.status.msg.Text == "Forgot the state of mine"
	})
	if len(*ss.confirms) != 1 || !strings.Contains((*ss.confirms)[0], "stored copy is deleted") {
		t.Errorf("the confirmation %q does not say the stored copy is deleted", *ss.confirms)
	}
	if got := ss.stateJSON(t, "mine"); got != "{}" {
		t.Errorf("mine's state %s after Forget", got)
	}
	if rec, ok, err := ss.store.Load("mine"); err != nil || ok {
		t.Errorf("mine's record is still in the state file: %s %v %v", rec.State, ok, err)
	}
	if rec, ok, _ := ss.store.Load("other"); !ok || string(rec.State) != `{"pings":1}` {
		t.Errorf("other's record changed: %s %v", rec.State, ok)
	}
}

// TestExportStateWritesTheSharedFormat: Export state… writes the
// selected integration's state (or every one's) in the format of afstudio
// state export, as the host holds it.
func TestExportStateWritesTheSharedFormat(t *testing.T) {
	ss := newStoreStudio(t, twoCounters)
	hosttest.Emit(t, ss.m, "ping", nil)
	hosttest.Emit(t, ss.m, "ping", nil)
	runOnUI(func() { ss.s.selectRow("mine") })
	eventually(t, "mine selected", func() bool { return ss.s.details.title.Text == "mine" })
	dir := t.TempDir()
	for _, c := range []struct {
		all  bool
		want []string
	}{{false, []string{"mine"}}, {true, []string{"mine", "other"}}} {
		path := filepath.Join(dir, strings.Join(c.want, "+")+".json")
		runOnUI(func() {
			ss.saveTo(t, path, c.all)
			test.Tap(ss.s.details.exportBtn)
		})
		eventually(t, "the export written", func() bool { return strings.HasSuffix(ss.s.status.msg.Text, " to "+path) })
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		export, err := starhost.ReadStateExport(data)
		if err != nil {
			t.Fatalf("%s is not a state export: %v\n%s", path, err, data)
		}
		if !bytes.Contains(data, []byte(`"format": "afstudio-state"`)) || export.Version != 1 || export.ExportedAt.IsZero() {
			t.Errorf("the header of %s: %s", path, data)
		}
		var names []string
		for name, st := range export.Integrations {
			names = append(names, name)
			var compact bytes.Buffer
			if err := json.Compact(&compact, st.State); err != nil || compact.String() != ss.stateJSON(t, name) || st.ModuleHash == "" {
				t.Errorf("%s in %s: state %s hash %q, want %s and a hash", name, path, st.State, st.ModuleHash, ss.stateJSON(t, name))
			}
		}
		if slices.Sort(names); !slices.Equal(names, c.want) {
			t.Errorf("all=%v exported %v, want %v", c.all, names, c.want)
		}
	}
}

// TestImportStateAllOrNothing: Import state… reads an export file, asks,
// and replaces every state it holds; a file that is wrong in any way
// changes nothing and the error says what is wrong.
func TestImportStateAllOrNothing(t *testing.T) {
	ss := newStoreStudio(t, twoCounters)
	hosttest.Emit(t, ss.m, "ping", nil)
	runOnUI(func() { ss.s.selectRow("mine") })
	eventually(t, "mine selected", func() bool { return ss.s.details.title.Text == "mine" })
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		hosttest.WriteFile(t, p, content)
		return p
	}
	head := `{"format": "afstudio-state", "version": 1, "exported_at": "2026-01-02T03:04:05Z", "integrations": `
	for _, bad := range []struct{ path, want string }{
		{write("ghost.json", head+`{"mine": {"state": {"pings": 7}}, "ghost": {"state": {}}}}`), `no such integration "ghost"`},
		{write("list.json", head+`{"mine": {"state": {"pings": 7}}, "other": {"state": [1]}}}`), "import state of other"},
		{write("v2.json", `{"format": "afstudio-state", "version": 2, "integrations": {}}`), `version 2, want "afstudio-state" version 1`},
		{write("cut.json", head+`{"mine": {"state": {"pings": 7}}`), "not an afstudio state export"},
	} {
		*ss.notes = nil
		runOnUI(func() {
			ss.openFrom(t, bad.path)
			test.Tap(ss.s.details.importBtn)
		})
		eventually(t, "the error of "+filepath.Base(bad.path), func() bool {
			return len(*ss.notes) == 1 && strings.Contains((*ss.notes)[0], "Import state failed: "+bad.path) &&
				strings.Contains((*ss.notes)[0], bad.want) && strings.Contains((*ss.notes)[0], "nothing was imported")
		})
		if a, b := ss.stateJSON(t, "mine"), ss.stateJSON(t, "other"); a != `{"pings":1}` || b != `{"pings":1}` {
			t.Fatalf("%s changed the states: %s %s", bad.path, a, b)
		}
	}

	good := write("good.json", head+`{"mine": {"state": {"pings": 40, "f": 2.0}}, "other": {"state": {}}}}`)
	*ss.confirms = nil
	runOnUI(func() {
		ss.openFrom(t, good)
		test.Tap(ss.s.details.importBtn)
	})
	eventually(t, "the imported state shown", func() bool {
		return ss.s.details.state.labelOf("/f") == "f: 2.0" && ss.s.details.state.labelOf("/pings") == "pings: 40"
	})
	if len(*ss.confirms) != 1 || !strings.Contains((*ss.confirms)[0], "Replace the state of mine and other with the one in "+good) {
		t.Errorf("the confirmation: %q", *ss.confirms)
	}
	if a, b := ss.stateJSON(t, "mine"), ss.stateJSON(t, "other"); a != `{"pings":40,"f":2.0}` || b != `{}` {
		t.Fatalf("imported: %s %s", a, b)
	}
	if rec, _, _ := ss.store.Load("mine"); string(rec.State) != `{"pings":40,"f":2.0}` {
		t.Errorf("the imported state is not in the state file: %s", rec.State)
	}
	if r := hosttest.ResultOf(t, hosttest.Emit(t, ss.m, "ping", nil), "mine"); fmt.Sprint(r.Value) != "41" {
		t.Errorf("the imported count did not go on: %v (%T)", r.Value, r.Value)
	}
}
