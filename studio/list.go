package studio

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/starhost"
)

// rowStatus is what the list's status icon shows.
type rowStatus int

const (
	statusLive        rowStatus = iota // loaded, last reload fine
	statusFailed                       // the last reload failed; the previous version serves
	statusMissingLoad                  // a library it loads was removed; the previous version serves
	statusLoadFailed                   // the module never loaded; nothing serves
)

// String names the status as the list's filter matches it.
func (st rowStatus) String() string {
	return [...]string{"live", "failed", "removed load", "not loaded"}[st]
}

// integrationRow is one line of the list.
type integrationRow struct {
	// key identifies the row, for selection and actions: the
	// integration's name, or the full path of a module that never loaded
	// (two a.star in two folders are two rows).
	key string
	// label is what the row shows: the integration's name, or the
	// module's file name, with as many of its folders as tell it apart
	// from another row of the same file name.
	label      string
	priority   string // "" for a module that never loaded
	generation int
	status     rowStatus
	module     string
	message    string // the error, for failed rows
	// off is set for an integration that is switched off
	// (DisableIntegration): loaded, given no events.
	off bool
	// shadow is its shadow mode's note ("shadow on", "shadow: 3 diff");
	// "" when the mode is off (see Studio.shadowNotes).
	shadow string
}

// countRows counts rows for the status bar: live (switched on and fine),
// off (switched off and fine) and failed (whatever their switch: their
// error needs attention). The three add up to len(rows).
func countRows(rows []integrationRow) (live, off, failed int) {
	for _, r := range rows {
		switch {
		case r.status != statusLive:
			failed++
		case r.off:
			off++
		default:
			live++
		}
	}
	return live, off, failed
}

// rowsFor turns one read of the host into list rows: modules that never
// loaded first (they need attention), then integrations in dispatch
// order.
func rowsFor(v starhost.View) []integrationRow {
	rows := make([]integrationRow, 0, len(v.FailedModules)+len(v.Integrations))
	labels := moduleLabels(v.FailedModules)
	for _, fm := range v.FailedModules {
		r := integrationRow{key: fm.Module, label: labels[fm.Module], status: statusLoadFailed, module: fm.Module}
		if len(fm.Errors) > 0 {
			r.message = fm.Errors[0].Error()
		}
		rows = append(rows, r)
	}
	for _, in := range v.Integrations {
		r := integrationRow{key: in.Name, label: in.Name, priority: in.Priority.String(), generation: in.Generation, module: in.Module, status: statusLive, off: !in.Enabled}
		if in.LastError != nil {
			r.message = in.LastError.Error()
			r.status = statusFailed
			if in.LastError.Kind == starhost.ErrorMissingFile {
				r.status = statusMissingLoad
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// moduleLabels names modules by their file name, adding as many parent
// folders as it takes to tell apart modules of the same file name
// ("one/a.star", "two/a.star").
func moduleLabels(failed []starhost.ModuleError) map[string]string {
	labels := make(map[string]string, len(failed))
	for depth := 1; ; depth++ {
		count := map[string]int{}
		for _, fm := range failed {
			count[pathTail(fm.Module, depth)]++
		}
		clash := false
		for _, fm := range failed {
			if _, done := labels[fm.Module]; done {
				continue
			}
			tail := pathTail(fm.Module, depth)
			if count[tail] == 1 || tail == filepath.ToSlash(fm.Module) {
				labels[fm.Module] = tail
			} else {
				clash = true
			}
		}
		if !clash {
			return labels
		}
	}
}

// pathTail is the last n elements of a path, joined by "/".
func pathTail(p string, n int) string {
	parts := strings.Split(filepath.ToSlash(p), "/")
	if n < len(parts) {
		parts = parts[len(parts)-n:]
	}
	return strings.Join(parts, "/")
}

// integrationList is the left pane: a search field and the list. It runs
// on the UI goroutine.
type integrationList struct {
	all      []integrationRow
	shown    []integrationRow
	filter   *widget.Entry
	list     *widget.List
	onSelect func(key string)
	onSwitch func(key string, on bool)
	selected string // the selected row's key
	quiet    bool   // set while selecting programmatically
	box      fyne.CanvasObject
}

// newIntegrationList builds an empty list; onSelect receives the key of a
// row the user selects, onSwitch the key and new position of a row whose
// switch the user flipped.
func newIntegrationList(onSelect func(key string), onSwitch func(key string, on bool)) *integrationList {
	l := &integrationList{onSelect: onSelect, onSwitch: onSwitch}
	l.filter = newFilterEntry("Filter integrations…", func(string) { l.apply() })
	l.list = newRowList(l.rows, func() *rowView { return newRowView(l.switched) })
	l.list.OnSelected = func(id widget.ListItemID) {
		if id < len(l.shown) && !l.quiet {
			l.selected = l.shown[id].key
			l.onSelect(l.selected)
		}
	}
	title := widget.NewLabelWithStyle("Integrations", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.box = container.NewBorder(container.NewVBox(title, l.filter), nil, nil, nil, l.list)
	return l
}

// object returns the list's UI.
func (l *integrationList) object() fyne.CanvasObject { return l.box }

// setRows shows new rows; the same rows again change nothing.
func (l *integrationList) setRows(rows []integrationRow) {
	if slices.Equal(rows, l.all) {
		return
	}
	l.all = rows
	l.apply()
}

// switched passes a flip of a row's switch on to onSwitch.
func (l *integrationList) switched(key string, on bool) {
	if l.onSwitch != nil {
		l.onSwitch(key, on)
	}
}

// apply filters the rows by the search text (label, priority, status,
// "off", or module) and keeps the selection.
func (l *integrationList) apply() {
	q := normFilter(l.filter.Text)
	l.shown = l.shown[:0]
	for _, r := range l.all {
		hay := strings.ToLower(r.label + " " + r.priority + " " + r.status.String() + " " + r.module + " " + r.shadow)
		if r.off {
			hay += " off"
		}
		if q == "" || strings.Contains(hay, q) {
			l.shown = append(l.shown, r)
		}
	}
	l.list.Refresh()
	l.selectKey(l.selected)
}

// selectKey selects the row with this key, without calling onSelect.
func (l *integrationList) selectKey(key string) {
	l.selected = key
	l.quiet = true
	defer func() { l.quiet = false }()
	for i, r := range l.shown {
		if r.key == key {
			l.list.Select(i)
			return
		}
	}
	l.list.UnselectAll()
}

// redraw draws every row again from the rows it has.
func (l *integrationList) redraw() { l.list.Refresh() }

// label returns what the row with key shows, or the key when the list
// has no such row (yet).
func (l *integrationList) label(key string) string {
	for _, r := range l.all {
		if r.key == key {
			return r.label
		}
	}
	return key
}

// rows returns the visible rows (for tests).
func (l *integrationList) rows() []integrationRow { return l.shown }

// rowView draws one row on one line: status icon, label, a note for
// failed rows ("reload failed", "not loaded", in red) and switched-off
// ones ("off"), the on/off switch, priority badge and generation. The label gives way (it is cut with an ellipsis) so that the
// note never covers it. A switched-off row is dimmed: grey italic name,
// pause icon, faded badge.
type rowView struct {
	widget.BaseWidget
	icon  *widget.Icon
	name  *widget.Label
	note  *widget.Label
	noteC *fyne.Container // the note, centred on the name's line
	badge *priorityBadge
	gen   *widget.Label
	sw    *onOffSwitch
	swBox *fyne.Container // the switch, or its empty place on a row that has none
	key   string          // the row shown, for the switch
}

// newRowView builds a row view; onSwitch receives the key of the row
// shown and the switch's new position when the user flips it.
func newRowView(onSwitch func(key string, on bool)) *rowView {
	v := &rowView{icon: widget.NewIcon(theme.ConfirmIcon()), name: widget.NewLabel("integration"), note: widget.NewLabel(""), badge: newPriorityBadge(), gen: widget.NewLabel("g0")}
	v.name.Truncation = fyne.TextTruncateEllipsis
	v.note.Importance = widget.DangerImportance
	v.note.SizeName = theme.SizeNameCaptionText
	v.note.Hide()
	v.noteC = container.NewCenter(v.note)
	v.noteC.Hide()
	v.sw = newOnOffSwitch(func(on bool) {
		if onSwitch != nil && v.key != "" {
			onSwitch(v.key, on)
		}
	})
	place := canvas.NewRectangle(color.Transparent)
	place.SetMinSize(v.sw.MinSize())
	v.swBox = container.NewStack(place, v.sw)
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer lays the row out in columns: the icon, then the label,
// which takes the space the note, switch, badge and generation leave.
// (The switch stands beside its "off" note, and the row still ends in
// text, which keeps it apart from the pane beside it, for eyes and for
// the window test's OCR.)
func (v *rowView) CreateRenderer() fyne.WidgetRenderer {
	right := container.NewHBox(v.noteC, v.swBox, v.badge, v.gen)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, v.icon, right, v.name))
}

// set shows one row.
func (v *rowView) set(r integrationRow) {
	v.key = r.key
	v.name.SetText(r.label)
	v.gen.SetText(fmt.Sprintf("g%d", r.generation))
	v.badge.set(r.priority, r.off)
	v.sw.set(!r.off)
	v.swBox.Hidden = r.status == statusLoadFailed // nothing to switch: its name gets the room
	note := ""
	v.name.TextStyle = fyne.TextStyle{}
	v.name.Importance = widget.MediumImportance
	v.note.Importance = widget.DangerImportance
	switch r.status {
	case statusLive:
		v.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		if r.off {
			v.icon.SetResource(theme.NewDisabledResource(theme.MediaPauseIcon()))
			v.note.Importance = widget.MediumImportance
			note = "off"
		}
	case statusFailed:
		v.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		v.name.TextStyle = fyne.TextStyle{Bold: true}
		note = "reload failed"
	case statusMissingLoad:
		v.icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		v.name.TextStyle = fyne.TextStyle{Bold: true}
		note = "removed load"
	case statusLoadFailed:
		v.icon.SetResource(theme.NewErrorThemedResource(theme.CancelIcon()))
		v.name.TextStyle = fyne.TextStyle{Bold: true}
		note = "not loaded"
		v.gen.SetText("")
	}
	if note == "" && r.shadow != "" { // a failed or switched-off row says that first
		note = r.shadow
		v.note.Importance = widget.WarningImportance
	}
	if r.off { // a failed row keeps its red note: the grey name and the switch say it is off
		v.name.Importance = widget.LowImportance
		v.name.TextStyle.Italic = true
	}
	v.note.SetText(note)
	v.note.Hidden = note == ""
	v.noteC.Hidden = v.note.Hidden
	v.name.Refresh()
	v.Refresh() // the note's width changes the layout
}

// priorityBadge is a small coloured label with the priority's name.
type priorityBadge struct {
	widget.BaseWidget
	bg   *canvas.Rectangle
	text *canvas.Text
}

func newPriorityBadge() *priorityBadge {
	b := &priorityBadge{bg: canvas.NewRectangle(color.Transparent), text: canvas.NewText("NORMAL", color.White)}
	b.bg.CornerRadius = 4
	b.text.TextSize = theme.CaptionTextSize()
	b.text.TextStyle = fyne.TextStyle{Bold: true}
	b.text.Alignment = fyne.TextAlignCenter
	b.ExtendBaseWidget(b)
	return b
}

var priorityColors = map[string]color.NRGBA{
	"CRITICAL": {R: 0xc6, G: 0x28, B: 0x28, A: 0xff},
	"HIGH":     {R: 0xe6, G: 0x7e, B: 0x22, A: 0xff},
	"NORMAL":   {R: 0x1e, G: 0x63, B: 0xc4, A: 0xff},
	"LOW":      {R: 0x75, G: 0x75, B: 0x75, A: 0xff},
}

// set shows priority p; faded for a switched-off integration.
func (b *priorityBadge) set(p string, faded bool) {
	b.text.Text = p
	c, ok := priorityColors[p]
	if !ok {
		c = color.NRGBA{A: 0}
	}
	b.text.Color = color.White
	if faded && ok {
		c.A = 0x50
		b.text.Color = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xa0}
	}
	b.bg.FillColor = c
	b.Refresh()
}

// MinSize is as wide as the widest priority, so that badges line up.
func (b *priorityBadge) MinSize() fyne.Size {
	s := fyne.MeasureText("CRITICAL", b.text.TextSize, b.text.TextStyle)
	return fyne.NewSize(s.Width+theme.Padding()*2, s.Height+theme.Padding())
}

// CreateRenderer centres the coloured label.
func (b *priorityBadge) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewCenter(container.NewStack(b.bg, container.NewPadded(b.text))))
}
