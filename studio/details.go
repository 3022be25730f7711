package studio

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/starhost"
)

// detailSnapshot is everything the detail pane shows, read from the host
// off the UI goroutine.
type detailSnapshot struct {
	name     string
	info     *starhost.Info        // nil for a module that never loaded
	failed   *starhost.ModuleError // set for a module that never loaded
	state    map[string]any
	stateErr error
	errLine  string // the source line of the error, if any
}

// detailsActions are what the detail pane's buttons do.
type detailsActions struct {
	openError  func(*starhost.Diagnostic)
	resetState func(name string)
	reload     func(name string)
}

// detailsPane shows the selected integration.
type detailsPane struct {
	act     detailsActions
	current detailSnapshot

	title    *widget.Label
	subtitle *widget.Label
	fields   map[string]*widget.Label
	chart    *latencyChart
	state    *stateTree
	stateMsg *widget.Label

	errBox    *fyne.Container
	errPos    *widget.Label
	errMsg    *widget.Label
	errSource *widget.Label
	openBtn   *widget.Button

	resetBtn  *widget.Button
	reloadBtn *widget.Button
	body      fyne.CanvasObject
	empty     fyne.CanvasObject
	root      *fyne.Container
}

// detailFields are the rows of the facts grid, in order.
var detailFields = []string{"Description", "Module", "Export", "Priority", "Subscriptions", "Dependencies", "Generation", "Loaded at", "Last reload", "Calls", "Errors", "Latency mean", "Latency p99"}

func newDetailsPane(act detailsActions) *detailsPane {
	d := &detailsPane{act: act, fields: map[string]*widget.Label{}}
	d.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.title.SizeName = theme.SizeNameSubHeadingText
	d.subtitle = widget.NewLabel("")
	// Two columns of facts: what it is, and how it is doing.
	forms := [2]*fyne.Container{container.New(layout.NewFormLayout()), container.New(layout.NewFormLayout())}
	for i, f := range detailFields {
		v := widget.NewLabel("")
		v.Wrapping = fyne.TextWrapWord
		v.Selectable = true
		d.fields[f] = v
		col := forms[0]
		if i >= 6 {
			col = forms[1]
		}
		col.Add(widget.NewLabelWithStyle(f, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
		col.Add(v)
	}
	grid := container.NewGridWithColumns(2, forms[0], forms[1])
	d.chart = newLatencyChart()
	d.state = newStateTree()
	d.stateMsg = widget.NewLabel("")

	d.errPos = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.errPos.Importance = widget.DangerImportance
	d.errMsg = widget.NewLabel("")
	d.errMsg.Wrapping = fyne.TextWrapWord
	d.errMsg.Selectable = true
	d.errSource = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	d.openBtn = widget.NewButtonWithIcon("Open in editor", theme.DocumentCreateIcon(), func() { d.act.openError(d.currentError()) })
	d.errBox = container.NewVBox(
		widget.NewLabelWithStyle("Last error", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		d.errPos, d.errMsg, d.errSource, container.NewHBox(d.openBtn))

	d.resetBtn = widget.NewButtonWithIcon("Reset state…", theme.ContentClearIcon(), func() { d.act.resetState(d.current.name) })
	d.reloadBtn = widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), func() { d.act.reload(d.current.name) })
	header := container.NewBorder(nil, nil, nil, container.NewVBox(d.reloadBtn), container.NewVBox(d.title, d.subtitle))
	stateHeader := container.NewBorder(nil, nil, widget.NewLabelWithStyle("State", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), d.resetBtn, d.stateMsg)
	treeBox := container.NewGridWrap(fyne.NewSize(560, 240), d.state.tree)
	top := container.NewVBox(header, widget.NewSeparator(), d.errBox, grid,
		widget.NewLabelWithStyle("Handler latency", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), d.chart,
		stateHeader, treeBox)
	d.body = container.NewVScroll(container.NewPadded(top))
	d.empty = container.NewCenter(widget.NewLabel("Select an integration, or drop .star files here."))
	d.root = container.NewStack(d.empty)
	return d
}

func (d *detailsPane) object() fyne.CanvasObject { return d.root }

func (d *detailsPane) currentError() *starhost.Diagnostic {
	if d.current.info != nil && d.current.info.LastError != nil {
		return d.current.info.LastError
	}
	if d.current.failed != nil && len(d.current.failed.Errors) > 0 {
		return &d.current.failed.Errors[0]
	}
	return nil
}

// show displays a snapshot (UI goroutine).
func (d *detailsPane) show(s detailSnapshot) {
	d.current = s
	if s.info == nil && s.failed == nil {
		d.root.Objects = []fyne.CanvasObject{d.empty}
		d.root.Refresh()
		return
	}
	if len(d.root.Objects) != 1 || d.root.Objects[0] != d.body {
		d.root.Objects = []fyne.CanvasObject{d.body}
		d.root.Refresh()
	}
	d.title.SetText(s.name)
	set := func(k, v string) { d.fields[k].SetText(v) }
	if in := s.info; in != nil {
		status := "Live"
		if in.Failed {
			status = "Last reload failed: generation " + fmt.Sprint(in.Generation) + " keeps serving"
		}
		d.subtitle.SetText(status)
		set("Description", orDash(in.Description))
		set("Module", in.Module)
		set("Export", in.Class)
		set("Priority", in.Priority.String())
		set("Subscriptions", strings.Join(in.Subscriptions, ", "))
		set("Generation", fmt.Sprint(in.Generation))
		set("Loaded at", in.LoadedAt.Format("2006-01-02 15:04:05"))
		set("Last reload", fmtDuration(in.LastReload.Std()))
		set("Dependencies", orDash(strings.Join(in.Dependencies, "\n")))
		set("Calls", fmt.Sprint(in.Calls))
		set("Errors", fmt.Sprint(in.Errors))
		set("Latency mean", fmtDuration(in.LatencyMean.Std()))
		set("Latency p99", fmtDuration(in.LatencyP99.Std()))
		d.chart.setSamples(in.Recent)
		d.reloadBtn.Enable()
		d.resetBtn.Enable()
		switch {
		case s.stateErr != nil:
			d.stateMsg.SetText(s.stateErr.Error())
		default:
			d.stateMsg.SetText(fmt.Sprintf("%d top-level keys, refreshed live", len(s.state)))
			d.state.set(s.state)
		}
	} else {
		d.subtitle.SetText("Not loaded: fix the error below and save; it loads on its own")
		for _, f := range detailFields {
			set(f, "–")
		}
		set("Module", s.failed.Module)
		d.chart.setSamples(nil)
		d.state.set(nil)
		d.stateMsg.SetText("")
		d.resetBtn.Disable()
	}
	if e := d.currentError(); e != nil {
		d.errPos.SetText(e.Position())
		d.errMsg.SetText(e.Msg)
		d.errSource.SetText(strings.TrimSpace(s.errLine))
		d.errSource.Hidden = s.errLine == ""
		d.errBox.Show()
	} else {
		d.errBox.Hide()
	}
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
