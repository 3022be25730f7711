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
	filteredList[streamRow] // the last streamMax events and those matching filter
	paused                  bool
	skipped                 int
	notShown                int // events dropped before the stream could show them (a storm)

	recordBtn *widget.Button // Record…/Stop (record.go)
	recordMsg *widget.Label  // what the recording holds; hidden before the first
	pauseBtn  *widget.Button
	clearBtn  *widget.Button
	root      fyne.CanvasObject
}

// newEventStream builds an empty event stream; record is what its
// Record…/Stop button does.
func newEventStream(record func()) *eventStream {
	s := &eventStream{}
	s.filteredList = filteredList[streamRow]{limit: streamMax, show: s.matches, describe: s.statusText}
	s.build("Filter by event name…", newRowList(s.rows, newStreamRowView))
	s.recordBtn = newRecordButton(record)
	s.recordMsg = widget.NewLabel("")
	s.recordMsg.Truncation = fyne.TextTruncateEllipsis
	s.recordMsg.Hide()
	s.pauseBtn = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), func() { s.setPaused(!s.paused) })
	s.clearBtn = widget.NewButtonWithIcon("Clear", theme.DeleteIcon(), s.clear)
	s.root = container.NewBorder(nil, container.NewPadded(s.recordMsg), nil, nil, s.layout("Event stream", s.recordBtn, s.pauseBtn, s.clearBtn))
	return s
}

// setRecording shows what the recording holds, and the button as Stop
// while one runs (on) or Record… when none does.
func (s *eventStream) setRecording(msg string, on bool) {
	s.recordMsg.SetText(msg)
	s.recordMsg.Show()
	setStopButton(s.recordBtn, on, "Stop", "Record…", theme.MediaRecordIcon())
}

// object returns the stream's UI.
func (s *eventStream) object() fyne.CanvasObject { return s.root }

// add appends one event notice (Kind == starhost.NoticeEvent); other
// kinds are ignored.
func (s *eventStream) add(n starhost.Notice) {
	if n.Kind != starhost.NoticeEvent {
		return
	}
	s.addRows([]streamRow{streamRowOf(n)}, 0)
}

// streamRowOf formats an event notice as a stream row (any goroutine);
// the stream numbers it when it adds it.
func streamRowOf(n starhost.Notice) streamRow {
	at := n.Time
	if at.IsZero() {
		at = time.Now()
	}
	return streamRow{at: at, event: n.Event, depth: n.Depth, source: n.Integration, data: clipRunes(oneLineJSON(n.Data), streamDataChars)}
}

// addRows appends a batch of rows (oldest first) and counts notShown
// events that were dropped before they reached the stream; the list and
// the status line are updated once for the whole batch.
func (s *eventStream) addRows(rows []streamRow, notShown int) {
	if s.paused {
		s.skipped += len(rows) + notShown
		s.updateStatus()
		return
	}
	s.notShown += notShown
	for i := range rows {
		s.seq++
		rows[i].seq = s.seq
	}
	s.addAll(rows)
}

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

// clear forgets every event and the count of skipped ones.
func (s *eventStream) clear() {
	s.skipped = 0
	s.notShown = 0
	s.filteredList.clear()
}

// matches reports whether the filter (by event name) lets r through.
func (s *eventStream) matches(r streamRow) bool {
	return s.filter == "" || strings.Contains(strings.ToLower(r.event), s.filter)
}

// statusText is the status line: how many events are kept and shown.
func (s *eventStream) statusText() string {
	var msg string
	switch {
	case len(s.all) == 0:
		msg = "No events yet. Send one from the event console."
	case s.filter != "":
		msg = fmt.Sprintf("%d of %d events match %q", len(s.shown), len(s.all), s.filter)
	default:
		msg = fmt.Sprintf("%d events (the last %d are kept)", len(s.all), streamMax)
	}
	if s.notShown > 0 {
		msg += fmt.Sprintf(" · %d events not shown", s.notShown)
	}
	if s.paused {
		msg = fmt.Sprintf("paused, %d events skipped · %s", s.skipped, msg)
	}
	return msg
}

// streamRowView shows one streamRow: time, event (indented for
// follow-ups), source and data, in columns.
type streamRowView struct {
	widget.BaseWidget
	at, event, source, data *widget.Label
}

func newStreamRowView() *streamRowView {
	v := &streamRowView{
		at:     newCell(fyne.TextStyle{Monospace: true}, widget.LowImportance, fyne.TextTruncateOff),
		event:  newCell(fyne.TextStyle{Bold: true}, widget.MediumImportance, fyne.TextTruncateClip),
		source: newCell(fyne.TextStyle{Italic: true}, widget.LowImportance, fyne.TextTruncateClip),
		data:   newCell(fyne.TextStyle{Monospace: true}, widget.MediumImportance, fyne.TextTruncateOff),
	}
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
