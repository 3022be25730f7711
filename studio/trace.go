package studio

import "time"

// Measuring how fast user actions show, in the real window
// (Options.TraceUI). Each selection of a row by the user and each switch
// of tabs is timed from the studio's callback to the first frame drawn
// after its result was put in the widgets. What happens before the
// callback (the window system delivering the click, Fyne's event loop
// reaching it) is not seen here: scripts/studio-under-load.sh times that
// too, from the click it sends with xdotool.

// UITrace is how one user action showed (Options.TraceUI).
type UITrace struct {
	// Action names it: "select NAME" (a row of the list) or "tab TITLE".
	Action string
	// Callback is when the studio's callback for it ran: the list's
	// OnSelected, or the tabs' OnUnselected (called before the switch).
	Callback time.Time
	// Shown is when its result was in the widgets: for a tab, when the
	// tabs' OnSelected ran (after the new tab's content was laid out);
	// for a row, when the details read from the host for it were shown.
	Shown time.Time
	// Painted is when Fyne, painting the first frame after Shown, drew
	// the frame probe (frame.go): the probe is drawn last, over the
	// window's content, so the content is drawn by then; the buffer swap
	// that puts the frame on screen follows.
	Painted time.Time
}

// uiTracer times user actions; all its methods run on the UI goroutine
// and do nothing when no one traces.
type uiTracer struct {
	report func(UITrace) // Options.TraceUI; nil when not tracing
	paint  func(func(time.Time))
	tab    *UITrace // a tab switch between OnUnselected and OnSelected
	row    *UITrace // a selection waiting for its details
	rowKey string
}

// selectStarts records that the user selected the row with key.
func (t *uiTracer) selectStarts(key string) {
	if t.report != nil {
		t.row, t.rowKey = &UITrace{Action: "select " + key, Callback: time.Now()}, key
	}
}

// detailsShown records that the details of the row with key were shown.
func (t *uiTracer) detailsShown(key string) {
	if t.row != nil && t.rowKey == key {
		t.shown(t.row)
		t.row = nil
	}
}

// tabLeaves records that the user left a tab (the switch begins).
func (t *uiTracer) tabLeaves() {
	if t.report != nil {
		t.tab = &UITrace{Callback: time.Now()}
	}
}

// tabShown records that the tab titled title is shown.
func (t *uiTracer) tabShown(title string) {
	if t.tab != nil {
		t.tab.Action = "tab " + title
		t.shown(t.tab)
		t.tab = nil
	}
}

// shown stamps tr as shown now and reports it once the next frame is
// painted.
func (t *uiTracer) shown(tr *UITrace) {
	tr.Shown = time.Now()
	t.paint(func(painted time.Time) {
		tr.Painted = painted
		t.report(*tr)
	})
}
