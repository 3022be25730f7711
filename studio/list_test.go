package studio

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/starhost"
)

func TestRowStatusComesFromTheErrorKind(t *testing.T) {
	live := func(name string, err *starhost.Diagnostic) starhost.Info {
		return starhost.Info{Name: name, Module: "/x/" + name + ".star", Generation: 1, Failed: err != nil, LastError: err}
	}
	v := starhost.View{Integrations: []starhost.Info{
		live("fine", nil),
		// The message does not say "no such file"; the kind says the file is missing.
		live("lost", &starhost.Diagnostic{File: "/x/lost.star", Line: 1, Col: 1, Msg: `load("lib/gone.star"): not in the roots`, Kind: starhost.ErrorMissingFile}),
		// The message mentions a missing file, but the code raised it.
		live("raised", &starhost.Diagnostic{File: "/x/raised.star", Line: 3, Col: 5, Msg: "fail: no such file in the mission", Kind: starhost.ErrorRuntime}),
	}}
	want := map[string]rowStatus{"fine": statusLive, "lost": statusMissingLoad, "raised": statusFailed}
	for _, r := range rowsFor(v) {
		if r.status != want[r.key] {
			t.Errorf("%s: status %v, want %v", r.key, r.status, want[r.key])
		}
	}
}

func TestModuleRowsAreKeyedByPathAndLabelledByName(t *testing.T) {
	failed := func(path string) starhost.ModuleError {
		return starhost.ModuleError{Module: path, Errors: []starhost.Diagnostic{{File: path, Line: 1, Col: 1, Msg: "bad"}}}
	}
	v := starhost.View{FailedModules: []starhost.ModuleError{
		failed("/home/me/one/a.star"), failed("/home/me/two/a.star"),
		failed("/p/lib/b.star"), failed("/q/lib/b.star"),
		failed("/home/me/c.star"),
	}}
	want := []struct{ key, label string }{
		{"/home/me/one/a.star", "one/a.star"},
		{"/home/me/two/a.star", "two/a.star"},
		{"/p/lib/b.star", "p/lib/b.star"},
		{"/q/lib/b.star", "q/lib/b.star"},
		{"/home/me/c.star", "c.star"},
	}
	rows := rowsFor(v)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if rows[i].key != w.key || rows[i].label != w.label || rows[i].status != statusLoadFailed {
			t.Errorf("row %d: key %q label %q status %v, want %q %q not loaded", i, rows[i].key, rows[i].label, rows[i].status, w.key, w.label)
		}
	}
}

// rect is where an object is drawn in its window.
type rect struct{ x0, y0, x1, y1 float32 }

func rectOf(o fyne.CanvasObject) rect {
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	s := o.Size()
	return rect{p.X, p.Y, p.X + s.Width, p.Y + s.Height}
}

func (a rect) overlaps(b rect) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

func (a rect) inside(b rect) bool {
	return a.x0 >= b.x0 && a.y0 >= b.y0 && a.x1 <= b.x1 && a.y1 <= b.y1
}

func (a rect) String() string { return fmt.Sprintf("(%.0f,%.0f)-(%.0f,%.0f)", a.x0, a.y0, a.x1, a.y1) }

// TestRowNoteNeverCoversTheName lays out list rows of every status at
// the widths the list pane has and checks that the red note ("reload
// failed", "not loaded") and the name are drawn side by side, inside the
// row, with the note's whole text.
func TestRowNoteNeverCoversTheName(t *testing.T) {
	test.NewTempApp(t)
	rows := []integrationRow{
		{key: "analytics", label: "analytics", priority: "CRITICAL", generation: 3, status: statusLive},
		{key: "reloaded_later", label: "reloaded_later", priority: "LOW", generation: 1, status: statusFailed},
		{key: "lost", label: "an_integration_with_a_long_name", priority: "NORMAL", generation: 12, status: statusMissingLoad},
		{key: "/x/broken_module.star", label: "broken_module.star", status: statusLoadFailed},
		{key: "paused", label: "paused_integration", priority: "HIGH", generation: 2, status: statusLive, off: true},
		{key: "paused_failed", label: "paused_and_failed", priority: "LOW", generation: 4, status: statusFailed, off: true},
	}
	for _, width := range []float32{300, 360, 600} {
		for _, r := range rows {
			v := newRowView(nil)
			w := test.NewTempWindow(t, v)
			w.SetPadded(false)
			v.set(r)
			w.Resize(fyne.NewSize(width, v.MinSize().Height))
			row := rectOf(v)
			name, note := rectOf(v.name), rectOf(v.note)
			if !name.inside(row) {
				t.Errorf("width %.0f, %s: the name %v is outside the row %v", width, r.label, name, row)
			}
			if v.swBox.Visible() == (r.status == statusLoadFailed) {
				t.Errorf("width %.0f, %s: switch shown %v; a module that never loaded has nothing to switch, the others have a switch", width, r.label, v.swBox.Visible())
			}
			if sw := rectOf(v.swBox); v.swBox.Visible() && (!sw.inside(row) || sw.overlaps(name)) {
				t.Errorf("width %.0f, %s: the switch %v is outside the row %v or covers the name %v", width, r.label, sw, row, name)
			}
			if r.status == statusLive && !r.off {
				if v.note.Visible() {
					t.Errorf("width %.0f, %s: a live row shows a note", width, r.label)
				}
				continue
			}
			if !v.note.Visible() || v.note.Text == "" {
				t.Errorf("width %.0f, %s: no note", width, r.label)
			}
			if !note.inside(row) {
				t.Errorf("width %.0f, %s: the note %v is outside the row %v", width, r.label, note, row)
			}
			if name.overlaps(note) {
				t.Errorf("width %.0f, %s: the note %v covers the name %v", width, r.label, note, name)
			}
			for what, o := range map[string]fyne.CanvasObject{"icon": v.icon, "badge": v.badge, "generation": v.gen, "switch": v.swBox} {
				if o.Visible() && (rectOf(o).overlaps(name) || rectOf(o).overlaps(note)) {
					t.Errorf("width %.0f, %s: the %s %v covers the name %v or the note %v", width, r.label, what, rectOf(o), name, note)
				}
			}
			if need := v.note.MinSize().Width; note.x1-note.x0 < need {
				t.Errorf("width %.0f, %s: the note is %.0f wide, its text needs %.0f", width, r.label, note.x1-note.x0, need)
			}
			if width >= 360 && name.x1-name.x0 < 100 {
				t.Errorf("width %.0f, %s: the name has only %.0f", width, r.label, name.x1-name.x0)
			}
		}
	}
}
