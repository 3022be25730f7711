package studio

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/starhost"
)

const (
	// streamMax is how many events the stream keeps.
	streamMax = 1000
	// streamDataChars is how much of an event's JSON data a row shows.
	streamDataChars = 120
)

// streamRow is one dispatched event as the stream shows it. The data is
// formatted when the event arrives, so the stream holds no payloads.
type streamRow struct {
	seq    uint64
	at     time.Time
	event  string
	depth  int
	source string // the integration that emitted a follow-up
	data   string // compact JSON, clipped to streamDataChars
}

func (r streamRow) sequence() uint64 { return r.seq }

// label is the event name, indented behind an arrow for follow-ups.
func (r streamRow) label() string { return eventDepthLabel(r.event, r.depth) }

// eventStream is the live event stream: every event dispatched by the
// host, follow-ups included, newest at the bottom. It keeps the last
// streamMax events; it can be paused (new events are then counted and
// dropped) and filtered by event name. All methods run on the UI
// goroutine.
type eventStream struct {
	rowBuffer[streamRow] // the last streamMax events and those matching filter
	seq                  uint64
	filter               string // lower case
	paused               bool
	skipped              int

	list     *widget.List
	filterIn *widget.Entry
	pauseBtn *widget.Button
	clearBtn *widget.Button
	status   *widget.Label
	root     fyne.CanvasObject
}

// newEventStream builds an empty event stream.
func newEventStream() *eventStream {
	s := &eventStream{}
	s.list = widget.NewList(
		func() int { return len(s.shown) },
		func() fyne.CanvasObject { return newStreamRowView() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= 0 && id < len(s.shown) {
				o.(*streamRowView).set(s.shown[id])
			}
		},
	)
	s.filterIn = widget.NewEntry()
	s.filterIn.SetPlaceHolder("Filter by event name…")
	s.filterIn.ActionItem = widget.NewIcon(theme.SearchIcon())
	s.filterIn.OnChanged = s.applyFilter
	s.pauseBtn = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), func() { s.setPaused(!s.paused) })
	s.clearBtn = widget.NewButtonWithIcon("Clear", theme.DeleteIcon(), s.clear)
	s.status = widget.NewLabel("")
	s.status.Importance = widget.LowImportance

	title := widget.NewLabelWithStyle("Event stream", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	top := container.NewBorder(nil, nil, title, container.NewHBox(s.pauseBtn, s.clearBtn), s.filterIn)
	s.root = container.NewPadded(container.NewBorder(top, s.status, nil, nil, s.list))
	s.updateStatus()
	return s
}

// object returns the stream's UI.
func (s *eventStream) object() fyne.CanvasObject { return s.root }

// add appends one event notice (Kind == starhost.NoticeEvent); other
// kinds are ignored.
func (s *eventStream) add(n starhost.Notice) {
	if n.Kind != starhost.NoticeEvent {
		return
	}
	if s.paused {
		s.skipped++
		s.updateStatus()
		return
	}
	at := n.Time
	if at.IsZero() {
		at = time.Now()
	}
	s.seq++
	r := streamRow{seq: s.seq, at: at, event: n.Event, depth: n.Depth, source: n.Integration, data: clipRunes(oneLineJSON(n.Data), streamDataChars)}
	s.push(r, s.matches(r), streamMax)
	s.updateStatus()
	s.showLatest()
}

// rows returns the events currently visible (after the filter), oldest
// first.
func (s *eventStream) rows() []streamRow { return s.shown }

// setPaused pauses or resumes the stream. Resuming resets the count of
// skipped events.
func (s *eventStream) setPaused(p bool) {
	if p == s.paused {
		return
	}
	s.paused = p
	if p {
		s.pauseBtn.SetText("Resume")
		s.pauseBtn.SetIcon(theme.MediaPlayIcon())
		s.pauseBtn.Importance = widget.HighImportance
	} else {
		s.skipped = 0
		s.pauseBtn.SetText("Pause")
		s.pauseBtn.SetIcon(theme.MediaPauseIcon())
		s.pauseBtn.Importance = widget.MediumImportance
	}
	s.pauseBtn.Refresh()
	s.updateStatus()
}

// setFilter puts f in the filter entry, which shows only the events whose
// name contains f (case insensitive).
func (s *eventStream) setFilter(f string) {
	if s.filterIn.Text != f {
		s.filterIn.SetText(f) // applies it through OnChanged
		return
	}
	s.applyFilter(f)
}

func (s *eventStream) applyFilter(f string) {
	f = normFilter(f)
	if f == s.filter {
		return
	}
	s.filter = f
	s.refilter(s.matches)
	s.updateStatus()
	s.showLatest()
}

// showLatest refreshes the list, scrolled to the newest event.
func (s *eventStream) showLatest() {
	if len(s.shown) == 0 {
		s.list.Refresh()
		return
	}
	s.list.ScrollTo(len(s.shown) - 1) // also refreshes
}

func (s *eventStream) clear() {
	s.reset()
	s.skipped = 0
	s.updateStatus()
	s.list.Refresh()
}

func (s *eventStream) matches(r streamRow) bool {
	return s.filter == "" || strings.Contains(strings.ToLower(r.event), s.filter)
}

func (s *eventStream) updateStatus() {
	var msg string
	switch {
	case len(s.all) == 0:
		msg = "No events yet. Send one from the event console."
	case s.filter != "":
		msg = fmt.Sprintf("%d of %d events match %q", len(s.shown), len(s.all), s.filter)
	default:
		msg = fmt.Sprintf("%d events (the last %d are kept)", len(s.all), streamMax)
	}
	if s.paused {
		msg = fmt.Sprintf("paused, %d events skipped · %s", s.skipped, msg)
	}
	s.status.SetText(msg)
}

// streamRowView shows one streamRow: time, event (indented for
// follow-ups), source and data, in columns.
type streamRowView struct {
	widget.BaseWidget
	at, event, source, data *widget.Label
}

func newStreamRowView() *streamRowView {
	mono, bold, italic := fyne.TextStyle{Monospace: true}, fyne.TextStyle{Bold: true}, fyne.TextStyle{Italic: true}
	v := &streamRowView{
		at:     widget.NewLabelWithStyle("", fyne.TextAlignLeading, mono),
		event:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, bold),
		source: widget.NewLabelWithStyle("", fyne.TextAlignLeading, italic),
		data:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, mono),
	}
	v.at.Importance = widget.LowImportance
	v.source.Importance = widget.LowImportance
	v.event.Truncation = fyne.TextTruncateClip
	v.source.Truncation = fyne.TextTruncateClip
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer lays the row out in columns shared by every stream row.
func (v *streamRowView) CreateRenderer() fyne.WidgetRenderer {
	widths := []float32{
		labelWidth("00:00:00.000", v.at.TextStyle),
		labelWidth("  ↳ response_received", v.event.TextStyle),
		labelWidth("from afterimage", v.source.TextStyle),
		0,
	}
	return widget.NewSimpleRenderer(newColumns(widths, v.at, v.event, v.source, v.data))
}

func (v *streamRowView) set(r streamRow) {
	v.at.SetText(clockTime(r.at))
	v.event.SetText(r.label())
	source := ""
	if r.source != "" {
		source = "from " + r.source
	}
	v.source.SetText(source)
	v.data.SetText(r.data)
}
