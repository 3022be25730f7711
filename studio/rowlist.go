package studio

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// sequenced rows carry the number of their arrival, so that a buffer can
// tell which shown rows have been evicted.
type sequenced interface{ sequence() uint64 }

// rowBuffer keeps the newest rows of a view that grows forever (the log,
// the event stream), bounded to limit, and the subset its filter shows,
// both oldest first. It runs on the UI goroutine.
type rowBuffer[T sequenced] struct {
	all   []T // the last limit rows
	shown []T // the ones the filter lets through
}

// push adds a row, shown or not, and evicts the oldest beyond limit.
func (b *rowBuffer[T]) push(r T, show bool, limit int) {
	b.all = append(b.all, r)
	if len(b.all) > limit {
		b.all = b.all[len(b.all)-limit:] // append copies it to a new array when full
	}
	if show {
		b.shown = append(b.shown, r)
	}
	for len(b.shown) > 0 && b.shown[0].sequence() < b.all[0].sequence() {
		b.shown = b.shown[1:] // evicted from all
	}
}

// filterBy recomputes the shown rows.
func (b *rowBuffer[T]) filterBy(show func(T) bool) {
	b.shown = nil
	for _, r := range b.all {
		if show(r) {
			b.shown = append(b.shown, r)
		}
	}
}

// reset forgets every row.
func (b *rowBuffer[T]) reset() { b.all, b.shown = nil, nil }

// normFilter is how both views compare filter text: trimmed, lower case.
func normFilter(f string) string { return strings.ToLower(strings.TrimSpace(f)) }

// filteredList is what the log pane and the event stream share: the
// newest rows of something that grows forever (a rowBuffer bounded to
// limit), shown in a list that follows the newest, under a title, the
// owner's buttons and a filter entry, over a status line. The owner
// numbers its rows (seq), says which rows its filters let through (show,
// which reads filter) and what the status line says (describe). Views
// embed it; it runs on the UI goroutine.
type filteredList[T sequenced] struct {
	rowBuffer[T]
	limit    int
	seq      uint64        // the number of the last row the owner made
	filter   string        // the filter entry's text, trimmed, lower case
	show     func(T) bool  // whether a row is shown
	describe func() string // the status line

	list     *widget.List
	filterIn *widget.Entry
	status   *widget.Label
}

// build makes the widgets: list shows the rows (newRowList over shown),
// the filter entry offers placeholder. Set limit, show and describe
// first.
func (l *filteredList[T]) build(placeholder string, list *widget.List) {
	l.list = list
	l.filterIn = newFilterEntry(placeholder, l.applyFilter)
	l.status = widget.NewLabel("")
	l.status.Importance = widget.LowImportance
}

// layout returns the view: title and buttons beside the filter entry on
// top, the list, the status line at the bottom.
func (l *filteredList[T]) layout(title string, buttons ...fyne.CanvasObject) fyne.CanvasObject {
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	top := container.NewBorder(nil, nil, head, container.NewHBox(buttons...), l.filterIn)
	l.updateStatus()
	return container.NewPadded(container.NewBorder(top, l.status, nil, nil, l.list))
}

// rows returns the rows the filters let through, oldest first.
func (l *filteredList[T]) rows() []T { return l.shown }

// add appends a row, evicting the oldest beyond limit, and shows the
// newest.
func (l *filteredList[T]) add(r T) {
	l.push(r, l.show(r), l.limit)
	l.updateStatus()
	l.showLatest()
}

// addAll appends rows (oldest first) like add, but updates the status
// line and the list once for all of them.
func (l *filteredList[T]) addAll(rows []T) {
	if len(rows) > l.limit {
		rows = rows[len(rows)-l.limit:]
	}
	for _, r := range rows {
		l.push(r, l.show(r), l.limit)
	}
	l.updateStatus()
	l.showLatest()
}

// setFilter puts f in the filter entry, which applies it.
func (l *filteredList[T]) setFilter(f string) {
	if l.filterIn.Text != f {
		l.filterIn.SetText(f) // applies it through OnChanged
		return
	}
	l.applyFilter(f)
}

// applyFilter is the filter entry's OnChanged.
func (l *filteredList[T]) applyFilter(f string) {
	f = normFilter(f)
	if f == l.filter {
		return
	}
	l.filter = f
	l.refilter()
}

// refilter shows the rows the filters let through now, after one of them
// changed.
func (l *filteredList[T]) refilter() {
	l.filterBy(l.show)
	l.updateStatus()
	l.showLatest()
}

// clear forgets every row.
func (l *filteredList[T]) clear() {
	l.reset()
	l.updateStatus()
	l.list.Refresh()
}

// showLatest refreshes the list, scrolled to the newest row.
func (l *filteredList[T]) showLatest() {
	if len(l.shown) == 0 {
		l.list.Refresh()
		return
	}
	l.list.ScrollTo(len(l.shown) - 1) // also refreshes
}

// updateStatus sets the status line to what describe says.
func (l *filteredList[T]) updateStatus() { l.status.SetText(l.describe()) }

// newFilterEntry is a search field: placeholder while empty, a search
// icon, onChanged on every edit.
func newFilterEntry(placeholder string, onChanged func(string)) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.ActionItem = widget.NewIcon(theme.SearchIcon())
	e.OnChanged = onChanged
	return e
}
