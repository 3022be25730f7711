package studio

import (
	"fmt"
	"image/color"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
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

func (st rowStatus) String() string {
	return [...]string{"live", "failed", "removed load", "not loaded"}[st]
}

// integrationRow is one line of the list.
type integrationRow struct {
	name       string
	priority   string
	generation int
	status     rowStatus
	module     string
	message    string // the error, for failed rows
}

// rowsFor turns the host's view into list rows: modules that never loaded
// first (they need attention), then integrations in dispatch order.
func rowsFor(infos []starhost.Info, failed []starhost.ModuleError) []integrationRow {
	var rows []integrationRow
	for _, fm := range failed {
		r := integrationRow{name: failedRowName(fm.Module), priority: "–", status: statusLoadFailed, module: fm.Module}
		if len(fm.Errors) > 0 {
			r.message = fm.Errors[0].Error()
		}
		rows = append(rows, r)
	}
	for _, in := range infos {
		r := integrationRow{name: in.Name, priority: in.Priority.String(), generation: in.Generation, module: in.Module, status: statusLive}
		if in.LastError != nil {
			r.message = in.LastError.Error()
			r.status = statusFailed
			if strings.Contains(in.LastError.Msg, "no such file") || strings.Contains(in.LastError.Msg, "cannot read") {
				r.status = statusMissingLoad
			}
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return (rows[i].status == statusLoadFailed) && rows[j].status != statusLoadFailed
	})
	return rows
}

// integrationList is the left pane: a search field and the list.
type integrationList struct {
	all      []integrationRow
	shown    []integrationRow
	filter   *widget.Entry
	list     *widget.List
	onSelect func(name string)
	selected string
	quiet    bool // set while selecting programmatically
	box      fyne.CanvasObject
}

func newIntegrationList(onSelect func(string)) *integrationList {
	l := &integrationList{onSelect: onSelect}
	l.filter = widget.NewEntry()
	l.filter.SetPlaceHolder("Filter integrations…")
	l.filter.ActionItem = widget.NewIcon(theme.SearchIcon())
	l.filter.OnChanged = func(string) { l.apply() }
	l.list = widget.NewList(
		func() int { return len(l.shown) },
		func() fyne.CanvasObject { return newRowView() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(l.shown) {
				o.(*rowView).set(l.shown[id])
			}
		})
	l.list.OnSelected = func(id widget.ListItemID) {
		if id < len(l.shown) && !l.quiet {
			l.selected = l.shown[id].name
			l.onSelect(l.selected)
		}
	}
	title := widget.NewLabelWithStyle("Integrations", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.box = container.NewBorder(container.NewVBox(title, l.filter), nil, nil, nil, l.list)
	return l
}

func (l *integrationList) object() fyne.CanvasObject { return l.box }

func (l *integrationList) setRows(rows []integrationRow) {
	l.all = rows
	l.apply()
}

// apply filters the rows by the search text (name, priority, status or
// module) and keeps the selection.
func (l *integrationList) apply() {
	q := strings.ToLower(strings.TrimSpace(l.filter.Text))
	l.shown = l.shown[:0]
	for _, r := range l.all {
		hay := strings.ToLower(r.name + " " + r.priority + " " + r.status.String() + " " + r.module)
		if q == "" || strings.Contains(hay, q) {
			l.shown = append(l.shown, r)
		}
	}
	l.list.Refresh()
	l.selectName(l.selected)
}

func (l *integrationList) selectName(name string) {
	l.selected = name
	l.quiet = true
	defer func() { l.quiet = false }()
	for i, r := range l.shown {
		if r.name == name {
			l.list.Select(i)
			return
		}
	}
	l.list.UnselectAll()
}

// rows returns the visible rows (for tests).
func (l *integrationList) rows() []integrationRow { return l.shown }

// rowView draws one row: status icon, name, priority badge, generation.
type rowView struct {
	widget.BaseWidget
	icon  *widget.Icon
	name  *widget.Label
	note  *canvas.Text
	badge *priorityBadge
	gen   *widget.Label
}

func newRowView() *rowView {
	v := &rowView{icon: widget.NewIcon(theme.ConfirmIcon()), name: widget.NewLabel("integration"), badge: newPriorityBadge(), gen: widget.NewLabel("g0")}
	v.name.Truncation = fyne.TextTruncateEllipsis
	v.note = canvas.NewText("", theme.Color(theme.ColorNameError))
	v.note.TextSize = theme.CaptionTextSize()
	v.ExtendBaseWidget(v)
	return v
}

func (v *rowView) CreateRenderer() fyne.WidgetRenderer {
	right := container.NewHBox(v.badge, v.gen)
	mid := container.NewVBox(v.name)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, v.icon, right, container.NewStack(mid, container.NewVBox(layout.NewSpacer(), v.note))))
}

func (v *rowView) set(r integrationRow) {
	v.name.SetText(r.name)
	v.gen.SetText(fmt.Sprintf("g%d", r.generation))
	v.badge.set(r.priority)
	v.note.Text = ""
	v.name.TextStyle = fyne.TextStyle{}
	switch r.status {
	case statusLive:
		v.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	case statusFailed:
		v.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		v.name.TextStyle = fyne.TextStyle{Bold: true}
		v.note.Text = "reload failed"
	case statusMissingLoad:
		v.icon.SetResource(theme.NewWarningThemedResource(theme.WarningIcon()))
		v.name.TextStyle = fyne.TextStyle{Bold: true}
		v.note.Text = "removed load"
	case statusLoadFailed:
		v.icon.SetResource(theme.NewErrorThemedResource(theme.CancelIcon()))
		v.name.TextStyle = fyne.TextStyle{Bold: true}
		v.note.Text = "not loaded"
		v.gen.SetText("")
	}
	v.name.Refresh()
	v.note.Refresh()
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

func (b *priorityBadge) set(p string) {
	b.text.Text = p
	c, ok := priorityColors[p]
	if !ok {
		c = color.NRGBA{A: 0}
	}
	b.bg.FillColor = c
	b.Refresh()
}

func (b *priorityBadge) MinSize() fyne.Size {
	s := fyne.MeasureText("CRITICAL", b.text.TextSize, b.text.TextStyle)
	return fyne.NewSize(s.Width+theme.Padding()*2, s.Height+theme.Padding())
}

func (b *priorityBadge) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewCenter(container.NewStack(b.bg, container.NewPadded(b.text))))
}
