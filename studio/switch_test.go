package studio

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/starhost"
)

// counterModule counts the pings it receives in its state.
func counterModule(name string) string {
	return "def h(event, ctx):\n    ctx.state[\"pings\"] = ctx.state.get(\"pings\", 0) + 1\n    return ctx.state[\"pings\"]\n\nintegration(name = \"" + name + "\", handlers = {\"ping\": h})\n"
}

// drawnRowView returns the row view the list draws for key, or nil.
func drawnRowView(o fyne.CanvasObject, key string) *rowView {
	if o == nil {
		return nil
	}
	switch w := o.(type) {
	case *rowView:
		if w.key == key {
			return w
		}
		return nil
	case *fyne.Container:
		for _, c := range w.Objects {
			if v := drawnRowView(c, key); v != nil {
				return v
			}
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(w).Objects() {
			if v := drawnRowView(c, key); v != nil {
				return v
			}
		}
	}
	return nil
}

// reached reports whether an event reached integration name.
func reached(t *testing.T, m *starhost.Manager, name string) bool {
	t.Helper()
	rs, err := m.Emit(context.Background(), "ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Integration == name {
			return true
		}
	}
	return false
}

// TestRowSwitchTurnsTheIntegrationOffAndOn taps the switch drawn in a
// row: the host stops giving the integration events, the row shows it
// off (grey name, "off" note, switch left), the status bar counts it,
// and its state stays; tapping again turns it back on.
func TestRowSwitchTurnsTheIntegrationOffAndOn(t *testing.T) {
	s, m, _, _ := newTestStudio(t, map[string]string{"mine.star": counterModule("mine")})
	runOnUI(func() { s.win.Resize(fyne.NewSize(1400, 900)) })
	eventually(t, "mine in the list", func() bool { _, ok := rowNamed(s, "mine"); return ok })
	if !reached(t, m, "mine") {
		t.Fatal("a ping did not reach mine while it is on")
	}
	var v *rowView
	eventually(t, "mine's row drawn, switched on", func() bool {
		v = drawnRowView(s.win.Content(), "mine")
		return v != nil && v.sw.On && v.swBox.Visible()
	})
	runOnUI(func() { test.Tap(v.sw) })
	eventually(t, "mine off in the host", func() bool { return !m.IsAvailable("mine") })
	if reached(t, m, "mine") {
		t.Fatal("a ping reached mine after its switch was turned off")
	}
	eventually(t, "mine's row shows it off", func() bool {
		r, _ := rowNamed(s, "mine")
		v := drawnRowView(s.win.Content(), "mine")
		return r.off && v != nil && !v.sw.On && v.note.Visible() && v.note.Text == "off" &&
			v.name.Importance == widget.LowImportance && s.status.counts.Text == "4 live · 1 off · 0 failed"
	})
	runOnUI(func() { s.selectRow("mine") })
	eventually(t, "the details say it is off, with its state", func() bool {
		return s.details.subtitle.Text == "Switched off: it gets no events until its switch in the list is on" &&
			s.details.state.labelOf("/pings") == "pings: 1"
	})

	runOnUI(func() { test.Tap(drawnRowView(s.win.Content(), "mine").sw) })
	eventually(t, "mine on again in the host", func() bool { return m.IsAvailable("mine") })
	if !reached(t, m, "mine") {
		t.Fatal("a ping did not reach mine after its switch was turned on again")
	}
	eventually(t, "mine's row shows it on, its state counted on", func() bool {
		r, _ := rowNamed(s, "mine")
		v := drawnRowView(s.win.Content(), "mine")
		return !r.off && v.sw.On && !v.note.Visible() && v.name.Importance == widget.MediumImportance &&
			s.status.counts.Text == "5 live · 0 off · 0 failed" && s.details.state.labelOf("/pings") == "pings: 2"
	})
}

// TestSwitchingAnUnknownIntegrationShowsTheError: a switch flipped for a
// row that is gone by then reports the host's error.
func TestSwitchingAnUnknownIntegrationShowsTheError(t *testing.T) {
	s, _, _, notes := newTestStudio(t, nil)
	runOnUI(func() { s.switchIntegration("ghost", false) })
	eventually(t, "the error shown", func() bool {
		return len(*notes) == 1 && (*notes)[0] != "" && strings.Contains((*notes)[0], "Cannot switch ghost off") && strings.Contains((*notes)[0], "no such integration")
	})
}
