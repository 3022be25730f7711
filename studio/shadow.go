package studio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/jsondiff"
	"github.com/afstudio/afstudio/starhost"
)

// The details' shadow mode (starhost's StartShadow, ShadowReport,
// PromoteShadow and DiscardShadow): a switch under an integration's
// facts turns it on and off; while a shadow runs, a panel shows what it
// does differently from the serving version, refreshed while it is
// visible (see followShadow), with Promote and Discard.
//
// Discard asks first when a shadow runs (its comparison so far is lost,
// and the saved file no longer serves anywhere until the next save or
// reload); turning the switch off with a shadow running is a Discard.
// Promote does not ask: it does what a save does without shadow mode.

const (
	// shadowShown is how many of a report's differences the panel shows
	// in full (the report keeps the first 20).
	shadowShown = 3
	// shadowJSONLines is how many lines of a result's JSON it shows.
	shadowJSONLines = 24
	// shadowStateShown and shadowLogsShown are how many state
	// differences and log lines it shows.
	shadowStateShown = 10
	shadowLogsShown  = 10
	// shadowHint is what the panel says while the mode is on and no
	// shadow runs yet.
	shadowHint = "Save the file to start a shadow: the serving version keeps serving"
)

// shadowActions are what the shadow part's controls do; each gets the
// integration's name.
type shadowActions struct {
	toggle  func(name string, on bool)
	promote func(name string)
	discard func(name string)
}

// shadowView is the shadow part of the details pane: the switch and,
// while a shadow runs, the comparison. It runs on the UI goroutine.
type shadowView struct {
	act shadowActions
	// relayout lays the details out again after the panel changed size
	// (a hidden part shown does not resize its parents by itself).
	relayout func()
	name     string                // the integration whose report is shown
	report   starhost.ShadowReport // the report shown
	shown    int                   // how many differences diffs shows (-1: none built)

	toggle     *onOffSwitch
	hint       *widget.Label
	panel      *fyne.Container
	gens       *widget.Label
	counts     *widget.Label
	timing     *widget.Label
	promoteBtn *widget.Button
	discardBtn *widget.Button
	diffTitle  *widget.Label
	diffs      *fyne.Container // one block per difference shown
	state      *widget.Label
	logs       *widget.Label
	root       *fyne.Container
}

// newShadowView builds the shadow part, switched off.
func newShadowView(act shadowActions) *shadowView {
	v := &shadowView{act: act, shown: -1, relayout: func() {}}
	v.toggle = newOnOffSwitch(func(on bool) {
		if v.name != "" {
			v.act.toggle(v.name, on)
		}
	})
	v.toggle.On = false
	bold := fyne.TextStyle{Bold: true}
	v.hint = widget.NewLabel(shadowHint)
	v.hint.Importance = widget.MediumImportance
	v.hint.Hide()
	v.gens = widget.NewLabelWithStyle("", fyne.TextAlignLeading, bold)
	v.counts = widget.NewLabel("")
	v.timing = widget.NewLabel("")
	v.promoteBtn = widget.NewButtonWithIcon("Promote shadow", theme.ConfirmIcon(), func() { v.act.promote(v.name) })
	v.promoteBtn.Importance = widget.HighImportance
	v.discardBtn = widget.NewButtonWithIcon("Discard shadow…", theme.CancelIcon(), func() { v.act.discard(v.name) })
	v.diffTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, bold)
	v.diffs = container.NewVBox()
	v.state = monoLabel()
	v.logs = monoLabel()
	// Compact: the panel stands above the facts and its first difference
	// should fit on the screen with them.
	v.panel = container.NewVBox(
		container.NewBorder(nil, nil, nil, container.NewHBox(v.promoteBtn, v.discardBtn), v.gens),
		container.NewHBox(v.counts, widget.NewSeparator(), v.timing),
		container.NewBorder(nil, nil, container.NewVBox(widget.NewLabelWithStyle("State differences", fyne.TextAlignLeading, bold)), nil, v.state),
		v.diffTitle, v.diffs,
		widget.NewLabelWithStyle("Shadow log", fyne.TextAlignLeading, bold), v.logs)
	v.panel.Hide()
	header := container.NewHBox(v.toggle, widget.NewLabelWithStyle("Shadow mode", fyne.TextAlignLeading, bold), v.hint)
	v.root = container.NewVBox(header, v.panel)
	return v
}

// monoLabel is a selectable label in a monospace font, for JSON and logs.
func monoLabel() *widget.Label {
	l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Selectable = true
	l.Wrapping = fyne.TextWrapBreak
	return l
}

// object returns the shadow part's UI.
func (v *shadowView) object() fyne.CanvasObject { return v.root }

// clear shows no integration's shadow: the switch off and no panel.
func (v *shadowView) clear(name string) {
	v.show(name, starhost.ShadowReport{Integration: name})
}

// show shows the shadow report of the integration name (UI goroutine).
// It redraws only what changed, so that the twice-a-second refresh of an
// idle shadow draws nothing new.
func (v *shadowView) show(name string, rep starhost.ShadowReport) {
	v.toggle.set(rep.On) // also after a flip the host refused
	same := name == v.name
	if same && reflect.DeepEqual(rep, v.report) {
		return
	}
	v.name = name
	defer v.relayout()
	v.hint.Hidden = !rep.On || rep.Active
	v.hint.Refresh()
	if !rep.Active {
		v.report, v.shown = rep, -1
		v.panel.Hide()
		return
	}
	redraw := !same || v.shown < 0 || rep.ShadowGeneration != v.report.ShadowGeneration || len(rep.Differences) != len(v.report.Differences)
	v.report = rep
	v.gens.SetText(fmt.Sprintf("Serving g%d · shadow g%d, since %s", rep.ServingGeneration, rep.ShadowGeneration, rep.Since.Format("15:04:05")))
	v.counts.SetText(shadowCounts(rep))
	v.timing.SetText(fmt.Sprintf("Latency p50: serving %s · shadow %s", formatDuration(rep.ServingP50.Std()), formatDuration(rep.ShadowP50.Std())))
	if redraw {
		v.showDifferences(rep)
	}
	v.state.SetText(shadowStateText(rep))
	v.logs.SetText(shadowLogText(rep.Logs))
	v.panel.Show()
}

// shadowCounts says how the compared calls split.
func shadowCounts(rep starhost.ShadowReport) string {
	s := fmt.Sprintf("%s compared: %d equal, %d different", countNoun(rep.Compared, "event", "events"), rep.Equal, rep.Different)
	if rep.ShadowFailed > 0 {
		s += fmt.Sprintf(" (%d shadow failed)", rep.ShadowFailed)
	}
	if rep.Skipped > 0 {
		s += fmt.Sprintf(" · %d skipped", rep.Skipped)
	}
	if rep.Pending > 0 {
		s += fmt.Sprintf(" · %d pending", rep.Pending)
	}
	switch {
	case rep.Throttled:
		s += " · throttled: at its CPU budget it skips calls"
	case rep.Behind:
		s += " · behind: its state misses the calls it skipped"
	}
	if rep.CaughtUp > 0 {
		s += fmt.Sprintf(" · caught up %d×", rep.CaughtUp)
	}
	return s
}

// countNoun writes n with the noun that fits it.
func countNoun(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// showDifferences rebuilds the blocks of the first differences.
func (v *shadowView) showDifferences(rep starhost.ShadowReport) {
	n := min(len(rep.Differences), shadowShown)
	v.shown = n
	switch {
	case len(rep.Differences) == 0:
		v.diffTitle.SetText("No differences yet")
	case int64(len(rep.Differences)) < rep.Different:
		v.diffTitle.SetText(fmt.Sprintf("First differences (%d of %d shown)", n, rep.Different))
	default:
		v.diffTitle.SetText(fmt.Sprintf("First differences (%d of %d shown)", n, len(rep.Differences)))
	}
	objs := make([]fyne.CanvasObject, 0, n)
	for _, d := range rep.Differences[:n] {
		objs = append(objs, differenceBlock(d, rep.ServingGeneration, rep.ShadowGeneration))
	}
	v.diffs.Objects = objs
	v.diffs.Refresh()
}

// differenceBlock shows one differing call: the event, the paths where
// the results differ, and the two results side by side as indented JSON.
func differenceBlock(d starhost.ShadowDifference, serving, shadow int) fyne.CanvasObject {
	title := fmt.Sprintf("%s at %s", eventDepthLabel(d.Event, d.Depth), clockTime(d.Time))
	if d.Serving.OK && !d.Shadow.OK {
		title += " — the shadow failed"
		if d.Shadow.Error != nil && d.Shadow.Error.File != "" {
			title += " at " + d.Shadow.Error.Position()
		}
	}
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	data := monoLabel()
	data.SetText("data " + clipRunes(oneLineJSON(d.Data), 300))
	data.Wrapping = fyne.TextTruncate
	side := func(label string, r starhost.Result) fyne.CanvasObject {
		l := monoLabel()
		l.SetText(indentedJSON(comparedResult(r), shadowJSONLines))
		return container.NewVBox(widget.NewLabelWithStyle(label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l)
	}
	paths := widget.NewLabelWithStyle(differencePaths(d.Paths, d.Different), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	paths.Importance = widget.DangerImportance
	paths.Wrapping = fyne.TextWrapBreak
	paths.Selectable = true
	sides := container.NewGridWithColumns(2, side(fmt.Sprintf("Serving g%d", serving), d.Serving), side(fmt.Sprintf("Shadow g%d", shadow), d.Shadow))
	return container.NewVBox(container.NewBorder(nil, nil, head, nil, data), paths, sides) // the paths first: they say what differs
}

// comparedResult is what the shadow compares of a result (see
// starhost.CompareResults), so that the paths shown point into it.
func comparedResult(r starhost.Result) map[string]any {
	var msg any
	if r.Error != nil {
		msg = r.Error.Msg
	}
	emitted := make([]any, len(r.Emitted))
	for i, e := range r.Emitted {
		emitted[i] = map[string]any{"event": e.Event, "data": e.Data}
	}
	return map[string]any{"ok": r.OK, "result": r.Value, "error": msg, "emitted": emitted}
}

// indentedJSON formats v as indented JSON of at most maxLines lines.
func indentedJSON(v any, maxLines int) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) > maxLines {
		lines = append(lines[:maxLines-1], fmt.Sprintf("… (%d more lines)", len(lines)-maxLines+1))
	}
	return strings.Join(lines, "\n")
}

// differencePaths lists the paths where two values differ, one a line,
// and how many more there are.
func differencePaths(paths []jsondiff.Difference, total int) string {
	lines := make([]string, 0, len(paths)+1)
	for _, p := range paths {
		lines = append(lines, clipRunes(p.String(), 300))
	}
	if more := total - len(paths); more > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more", more))
	}
	return strings.Join(lines, "\n")
}

// shadowStateText lists where the shadow's state differs from the
// serving state.
func shadowStateText(rep starhost.ShadowReport) string {
	if rep.StateDifferent == 0 {
		return "none: the shadow's state equals the serving state"
	}
	n := min(len(rep.StateDifferences), shadowStateShown)
	return differencePaths(rep.StateDifferences[:n], rep.StateDifferent)
}

// shadowLogText is the shadow's last log lines.
func shadowLogText(logs []string) string {
	if len(logs) == 0 {
		return "(nothing logged)"
	}
	return strings.Join(logs[max(0, len(logs)-shadowLogsShown):], "\n")
}
