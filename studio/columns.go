package studio

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// A rowSetter is the view of one row of a list, shown anew with set when
// the list reuses it for another row.
type rowSetter[T any] interface {
	fyne.CanvasObject
	set(T)
}

// newRowList is a list of the rows that rows returns, each drawn by a view
// from newView; rows is read on the UI goroutine whenever the list draws.
func newRowList[T any, V rowSetter[T]](rows func() []T, newView func() V) *widget.List {
	return widget.NewList(
		func() int { return len(rows()) },
		func() fyne.CanvasObject { return newView() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if r := rows(); id >= 0 && id < len(r) {
				o.(V).set(r[id])
			}
		},
	)
}

// newCell is an empty label for one column of a row view, leading, in
// style, with importance and truncation.
func newCell(style fyne.TextStyle, importance widget.Importance, truncation fyne.TextTruncation) *widget.Label {
	l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, style)
	l.Importance = importance
	l.Truncation = truncation
	return l
}

// columnsLayout lays objects out left to right, each in a fixed width; a
// width of 0 takes the space left over (at most one column should). Rows
// built with the same widths line up like a table, and new text in a row
// needs no new layout. The flexible column asks for no width: text too
// long for it runs on and is cut off at the list's edge, which costs far
// less than a label's truncation on rows that change many times a second.
type columnsLayout struct{ widths []float32 }

// newColumns builds a row of objects in fixed widths (see columnsLayout).
func newColumns(widths []float32, objects ...fyne.CanvasObject) *fyne.Container {
	return container.New(columnsLayout{widths}, objects...)
}

// MinSize is the fixed widths and the gaps, by the tallest object.
func (l columnsLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for i, o := range objects {
		if i < len(l.widths) {
			w += l.widths[i]
		}
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(w+l.gaps(len(objects)), h)
}

// Layout places the objects left to right in their widths.
func (l columnsLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	fixed := l.gaps(len(objects))
	for i := range objects {
		if i < len(l.widths) {
			fixed += l.widths[i]
		}
	}
	pad := theme.Size(theme.SizeNamePadding)
	var x float32
	for i, o := range objects {
		w := float32(0)
		if i < len(l.widths) {
			w = l.widths[i]
		}
		if w == 0 {
			w = max(0, size.Width-fixed)
		}
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w + pad
	}
}

func (l columnsLayout) gaps(n int) float32 {
	if n < 2 {
		return 0
	}
	return float32(n-1) * theme.Size(theme.SizeNamePadding)
}

// labelWidth is the width a label needs to show sample in style.
func labelWidth(sample string, style fyne.TextStyle) float32 {
	return fyne.MeasureText(sample, theme.TextSize(), style).Width + 2*theme.Size(theme.SizeNameInnerPadding)
}
