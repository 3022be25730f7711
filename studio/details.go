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

// detailSnapshot is everything the detail pane shows for one row, read
// from the host off the UI goroutine with the list's rows (see readHost).
type detailSnapshot struct {
	key      string                // the row's key (see integrationRow); "" for no row
	title    string                // the row's label
	info     *starhost.Info        // set for an integration
	failed   *starhost.ModuleError // set for a module that never loaded
	state    *stateData            // nil when it could not be read
	stateErr error
	errLine  string // the source line of the error, if any
}

// detailsActions are what the detail pane's buttons do.
type detailsActions struct {
	openError   func(*starhost.Diagnostic)
	resetState  func(name string)
	forgetState func(name string)
	exportState func(name string)
	importState func(name string)
	reload      func(key string)
	shadow      shadowActions
}

// detailsPane shows the selected row: for an integration, its facts,
// latency and live state; for a module that never loaded, what is known
// of it: its file, when it was tried, and its errors. It runs on the UI
// goroutine.
type detailsPane struct {
	act     detailsActions
	current detailSnapshot

	title    *widget.Label
	subtitle *widget.Label

	live   *fyne.Container // an integration's facts, latency and state
	fields map[string]*widget.Label
	chart  *latencyChart
	shadow *shadowView
	tests  *testsView
	// testRuns are the last outcome of each module's tests, and testSeqs
	// the run it came from (see Studio.runTests).
	testRuns  map[string]testOutcome
	testSeqs  map[string]uint64
	state     *stateTree
	stateMsg  *widget.Label
	resetBtn  *widget.Button
	forgetBtn *widget.Button
	exportBtn *widget.Button
	importBtn *widget.Button

	module   *fyne.Container // a module that never loaded: its file and when
	file     *widget.Label
	failedAt *widget.Label

	errBox    *fyne.Container
	errTitle  *widget.Label
	errPos    *widget.Label
	errMsg    *widget.Label
	errMore   *widget.Label // the other errors of a module, one per line
	errSource *widget.Label
	openBtn   *widget.Button

	reloadBtn *widget.Button
	body      fyne.CanvasObject
	empty     fyne.CanvasObject
	root      *fyne.Container
}

// detailFields are the rows of an integration's facts grid, in order; the
// first six are the first column.
var detailFields = []string{"Description", "Module", "Class", "Priority", "Subscriptions", "Dependencies", "Generation", "Loaded at", "Last reload", "Calls", "Errors", "Latency mean", "Latency p99"}

// newDetailsPane builds the pane, showing nothing selected.
func newDetailsPane(act detailsActions) *detailsPane {
	d := &detailsPane{act: act, fields: map[string]*widget.Label{}, testRuns: map[string]testOutcome{}, testSeqs: map[string]uint64{}}
	d.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.title.SizeName = theme.SizeNameSubHeadingText
	d.subtitle = widget.NewLabel("")
	d.reloadBtn = widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), func() { d.act.reload(d.current.key) })
	header := container.NewBorder(nil, nil, nil, container.NewVBox(d.reloadBtn), container.NewVBox(d.title, d.subtitle))
	top := container.NewVBox(header, widget.NewSeparator(), d.buildModule(), d.buildError(), d.buildLive())
	d.body = container.NewVScroll(container.NewPadded(top))
	d.empty = container.NewCenter(widget.NewLabel("Select an integration, or drop .star files here."))
	d.root = container.NewStack(d.empty)
	d.shadow.relayout = d.relayout
	d.tests.relayout = d.relayout
	return d
}

// buildLive builds an integration's part: two columns of facts (what it
// is, how it is doing), the latency chart and the state tree.
func (d *detailsPane) buildLive() fyne.CanvasObject {
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
	d.shadow = newShadowView(d.act.shadow)
	d.tests = newTestsView(func(at *starhost.Diagnostic) { d.act.openError(at) })
	d.chart = newLatencyChart()
	d.state = newStateTree()
	d.stateMsg = widget.NewLabel("")
	d.resetBtn = widget.NewButtonWithIcon("Reset state…", theme.ContentClearIcon(), func() { d.act.resetState(d.current.key) })
	d.forgetBtn = widget.NewButtonWithIcon("Forget state…", theme.DeleteIcon(), func() { d.act.forgetState(d.current.key) })
	d.exportBtn = widget.NewButtonWithIcon("Export state…", theme.DocumentSaveIcon(), func() { d.act.exportState(d.current.key) })
	d.importBtn = widget.NewButtonWithIcon("Import state…", theme.FolderOpenIcon(), func() { d.act.importState(d.current.key) })
	stateHeader := container.NewHBox(widget.NewLabelWithStyle("State", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), d.stateMsg)
	stateButtons := container.NewHBox(d.resetBtn, d.forgetBtn, widget.NewSeparator(), d.exportBtn, d.importBtn)
	treeBox := container.NewGridWrap(fyne.NewSize(560, 240), d.state.tree)
	d.live = container.NewVBox(d.tests.root, d.shadow.object(), widget.NewSeparator(), grid,
		widget.NewLabelWithStyle("Handler latency", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), d.chart,
		stateHeader, stateButtons, treeBox)
	return d.live
}

// buildModule builds the part for a module that never loaded: its file
// and when it was tried.
func (d *detailsPane) buildModule() fyne.CanvasObject {
	d.file = widget.NewLabel("")
	d.file.Selectable = true
	d.file.Wrapping = fyne.TextWrapBreak
	d.failedAt = widget.NewLabel("")
	bold := fyne.TextStyle{Bold: true}
	d.module = container.New(layout.NewFormLayout(),
		widget.NewLabelWithStyle("File", fyne.TextAlignTrailing, bold), d.file,
		widget.NewLabelWithStyle("Tried at", fyne.TextAlignTrailing, bold), d.failedAt)
	d.module.Hide()
	return d.module
}

// buildError builds the error box: position, message, the source line
// and a button that opens the editor there.
func (d *detailsPane) buildError() fyne.CanvasObject {
	d.errTitle = widget.NewLabelWithStyle("Last error", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.errPos = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.errPos.Importance = widget.DangerImportance
	d.errPos.Wrapping = fyne.TextWrapBreak
	d.errMsg = widget.NewLabel("")
	d.errMsg.Wrapping = fyne.TextWrapWord
	d.errMsg.Selectable = true
	d.errMore = widget.NewLabel("")
	d.errMore.Wrapping = fyne.TextWrapWord
	d.errMore.Selectable = true
	d.errSource = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	d.openBtn = widget.NewButtonWithIcon("Open in editor", theme.DocumentCreateIcon(), func() { d.act.openError(d.currentError()) })
	d.errBox = container.NewVBox(d.errTitle, d.errPos, d.errMsg, d.errSource, d.errMore, container.NewHBox(d.openBtn))
	return d.errBox
}

// relayout lays the pane out again: a part that was hidden and shows
// (or the other way round) does not resize its parents by itself.
func (d *detailsPane) relayout() { d.body.Refresh() }

// object returns the pane's UI.
func (d *detailsPane) object() fyne.CanvasObject { return d.root }

// currentError is the error shown: an integration's last reload error,
// or the first error of a module that never loaded (at the module's file
// when the error names none); nil when there is none.
func (d *detailsPane) currentError() *starhost.Diagnostic {
	if d.current.info != nil && d.current.info.LastError != nil {
		return d.current.info.LastError
	}
	if fm := d.current.failed; fm != nil {
		e := starhost.Diagnostic{File: fm.Module, Msg: "does not load"}
		if len(fm.Errors) > 0 {
			e = fm.Errors[0]
		}
		if e.File == "" {
			e.File = fm.Module
		}
		return &e
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
	d.title.SetText(s.title)
	if s.info != nil {
		d.showIntegration(s)
	} else {
		d.showModule(s.failed)
	}
	d.showError(s)
}

// showIntegration fills in an integration's facts, chart and state.
func (d *detailsPane) showIntegration(s detailSnapshot) {
	in := s.info
	status := "Live"
	if in.Failed {
		status = "Last reload failed: generation " + fmt.Sprint(in.Generation) + " keeps serving"
	}
	if !in.Enabled {
		status = "Switched off: it gets no events until its switch in the list is on"
		if in.Failed {
			status = "Switched off, and its last reload failed"
		}
	}
	d.subtitle.SetText(status)
	set := func(k, v string) { d.fields[k].SetText(v) }
	set("Description", orDash(in.Description))
	set("Module", in.Module)
	set("Class", in.Class)
	set("Priority", in.Priority.String())
	set("Subscriptions", strings.Join(in.Subscriptions, ", "))
	set("Generation", fmt.Sprint(in.Generation))
	set("Loaded at", in.LoadedAt.Format("2006-01-02 15:04:05"))
	set("Last reload", formatDuration(in.LastReload.Std()))
	set("Dependencies", orDash(strings.Join(in.Dependencies, "\n")))
	set("Calls", fmt.Sprint(in.Calls))
	set("Errors", fmt.Sprint(in.Errors))
	set("Latency mean", formatDuration(in.LatencyMean.Std()))
	set("Latency p99", formatDuration(in.LatencyP99.Std()))
	d.chart.setSamples(in.Recent)
	o, ok := d.testRuns[in.Module]
	d.tests.show(o, ok)
	if d.shadow.name != in.Name {
		d.shadow.clear(in.Name) // until its report is read (see followShadow)
	}
	if s.stateErr != nil {
		d.stateMsg.SetText(s.stateErr.Error())
	} else {
		n := 0
		if s.state != nil {
			n = len(s.state.root)
		}
		d.stateMsg.SetText(fmt.Sprintf("%d top-level keys, refreshed live", n))
		d.state.set(s.state)
	}
	d.errTitle.SetText("Last error")
	d.module.Hide()
	d.live.Show()
}

// showModule shows what is known of a module that never loaded.
func (d *detailsPane) showModule(fm *starhost.ModuleError) {
	d.subtitle.SetText("Not loaded: fix the error below and save; it loads on its own")
	d.file.SetText(fm.Module)
	d.failedAt.SetText(fm.At.Format("2006-01-02 15:04:05"))
	d.errTitle.SetText("Error")
	d.live.Hide()
	d.module.Show()
}

// showError shows the current error, if any, with its source line and,
// for a module, its other errors.
func (d *detailsPane) showError(s detailSnapshot) {
	e := d.currentError()
	if e == nil {
		d.errBox.Hide()
		return
	}
	d.errPos.SetText(e.Position())
	d.errMsg.SetText(e.Msg)
	d.errSource.SetText(strings.TrimSpace(s.errLine))
	d.errSource.Hidden = s.errLine == ""
	var more []string
	if s.failed != nil && len(s.failed.Errors) > 1 {
		for _, o := range s.failed.Errors[1:] {
			more = append(more, o.Error())
		}
	}
	d.errMore.SetText(strings.Join(more, "\n"))
	d.errMore.Hidden = len(more) == 0
	d.errBox.Show()
	d.errBox.Refresh()
}

// setTests keeps the outcome of run seq of module's tests, unless a later
// run's is kept already, and shows it when the integration shown is of
// module.
func (d *detailsPane) setTests(module string, o testOutcome, seq uint64) {
	if seq < d.testSeqs[module] {
		return
	}
	d.testSeqs[module], d.testRuns[module] = seq, o
	if d.current.info != nil && d.current.info.Module == module {
		d.tests.show(o, true)
	}
}
