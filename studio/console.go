package studio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/internal/plural"
	"github.com/afstudio/afstudio/starhost"
)

const (
	// historyMax is how many sent events the console remembers.
	historyMax = 50
	// sendTimeout bounds one send, follow-ups included; each handler
	// call has its own, much shorter, limit in the host.
	sendTimeout = time.Minute
	// resultChars is how much of a result a row shows; selecting the row
	// shows all of it.
	resultChars = 300
)

// consoleEntry is one event sent from the console, as its history keeps
// it.
type consoleEntry struct {
	seq     int
	at      time.Time
	event   string
	payload string
	summary string // "5 calls, 1 failed"; empty while the event is sent
}

// eventConsole sends events to the host by hand, the way the mission
// engine would, and shows the result of every handler call, follow-ups
// included. Its fields and methods belong to the UI goroutine; sending
// runs on a goroutine of its own and shows the results through fyne.Do.
type eventConsole struct {
	// do runs a UI update from the send goroutine: fyne.Do, or the
	// studio's Options.RunOnUI.
	do          func(func())
	send        func(ctx context.Context, event string, data map[string]any) ([]starhost.Result, error)
	knownEvents func() []string

	event    *widget.SelectEntry
	payload  *widget.Entry
	errLabel *widget.Label
	sendBtn  *widget.Button
	replay   *widget.Button
	// replayFile is Replay recording… (replay.go); the studio sets what
	// it does.
	replayFile *widget.Button
	summary    *widget.Label
	resultsL   *widget.List
	detail     *widget.Label
	historyL   *widget.List
	root       fyne.CanvasObject

	options    []string // the event names offered
	lastSample string   // the sample last put in the payload entry
	sending    bool
	seq        int

	// results are the handler calls of the last send; history the sent
	// events, newest first.
	results []starhost.Result
	history []consoleEntry

	inflight sync.WaitGroup
	// shown counts the sends whose results are shown; tests poll it.
	shown atomic.Int64
}

// newEventConsole builds the console. send dispatches an event (a
// Manager's Emit); it is called off the UI goroutine. knownEvents lists
// the events integrations subscribe to; it is called on the UI goroutine
// (by refreshEvents), so it must not wait (Manager.Snapshot never waits for a
// handler).
func newEventConsole(send func(ctx context.Context, event string, data map[string]any) ([]starhost.Result, error), knownEvents func() []string) *eventConsole {
	c := &eventConsole{send: send, knownEvents: knownEvents, do: fyne.Do}

	c.event = widget.NewSelectEntry(nil)
	c.event.SetPlaceHolder("Event name, e.g. mission_started")
	c.event.OnChanged = c.eventChanged
	c.payload = widget.NewMultiLineEntry()
	c.payload.TextStyle = fyne.TextStyle{Monospace: true}
	c.payload.SetPlaceHolder(`{"mission_id": "m-1024"}`)
	c.payload.SetMinRowsVisible(8)
	c.payload.OnChanged = func(string) { c.showError("") }
	c.errLabel = widget.NewLabel("")
	c.errLabel.Importance = widget.DangerImportance
	c.errLabel.Wrapping = fyne.TextWrapWord
	c.errLabel.Hide()

	c.sendBtn = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), c.sendNow)
	c.sendBtn.Importance = widget.HighImportance
	c.replay = widget.NewButtonWithIcon("Replay last", theme.MediaReplayIcon(), c.replayLast)
	c.replay.Disable()
	c.replayFile = newReplayButton(nil)

	c.summary = widget.NewLabel("Nothing sent yet.")
	c.summary.Importance = widget.LowImportance
	c.summary.Truncation = fyne.TextTruncateEllipsis
	c.resultsL = newRowList(func() []starhost.Result { return c.results }, newResultRowView)
	c.resultsL.OnSelected = func(id widget.ListItemID) {
		if id >= 0 && id < len(c.results) {
			c.detail.SetText(resultDetail(c.results[id]))
		}
	}
	c.detail = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	c.detail.Wrapping = fyne.TextWrapBreak
	c.detail.Selectable = true
	c.clearDetail()

	c.historyL = newRowList(func() []consoleEntry { return c.history }, newHistoryRowView)
	c.historyL.OnSelected = func(id widget.ListItemID) {
		if id >= 0 && id < len(c.history) {
			c.load(c.history[id])
		}
		c.historyL.UnselectAll() // so that the same entry can be tapped again
	}

	c.setEventOptions(nil)
	c.root = c.build()
	return c
}

func (c *eventConsole) build() fyne.CanvasObject {
	bold := fyne.TextStyle{Bold: true}
	hint := widget.NewLabel("Send an event to every subscribed integration, as the mission engine would.")
	hint.Importance = widget.LowImportance
	hint.Truncation = fyne.TextTruncateEllipsis
	eventRow := container.NewBorder(nil, nil, widget.NewLabelWithStyle("Event", fyne.TextAlignLeading, bold), nil, c.event)
	input := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabelWithStyle("Event console", fyne.TextAlignLeading, bold), nil, hint),
		eventRow,
		widget.NewLabelWithStyle("Payload (a JSON object)", fyne.TextAlignLeading, bold),
		c.payload,
		c.errLabel,
		container.NewHBox(c.sendBtn, c.replay, layout.NewSpacer(), c.replayFile),
		widget.NewSeparator(),
	)

	detail := container.NewVScroll(c.detail)
	detail.SetMinSize(fyne.NewSize(0, 96))
	results := container.NewBorder(
		container.NewBorder(nil, nil, widget.NewLabelWithStyle("Results", fyne.TextAlignLeading, bold), nil, c.summary),
		detail, nil, nil, c.resultsL)
	history := container.NewBorder(widget.NewLabelWithStyle("History", fyne.TextAlignLeading, bold), nil, nil, nil, c.historyL)
	split := container.NewHSplit(results, history)
	split.Offset = 0.72
	return container.NewPadded(container.NewBorder(input, nil, nil, nil, split))
}

// object returns the console's UI.
func (c *eventConsole) object() fyne.CanvasObject { return c.root }

// refreshEvents offers the events integrations subscribe to now, with the
// standard ones. The main window calls it when the console is shown.
func (c *eventConsole) refreshEvents() {
	if c.knownEvents != nil {
		c.setEventOptions(c.knownEvents())
	}
}

// setEventOptions offers the standard events, in lifecycle order, then the
// other names sorted.
func (c *eventConsole) setEventOptions(known []string) {
	opts := slices.Clone(standardEvents)
	var extra []string
	for _, e := range known {
		if e != "" && e != starhost.Wildcard && !slices.Contains(opts, e) && !slices.Contains(extra, e) {
			extra = append(extra, e)
		}
	}
	slices.Sort(extra)
	opts = append(opts, extra...)
	if slices.Equal(opts, c.options) {
		return
	}
	c.options = opts
	c.event.SetOptions(opts)
}

// eventChanged fills the payload with the sample of a chosen event, unless
// the user has written a payload of their own.
func (c *eventConsole) eventChanged(name string) {
	c.showError("")
	name = strings.TrimSpace(name)
	if !slices.Contains(c.options, name) {
		return
	}
	cur := c.payload.Text
	if strings.TrimSpace(cur) != "" && cur != c.lastSample && !isSamplePayload(cur) {
		return
	}
	c.lastSample = samplePayload(name)
	c.payload.SetText(c.lastSample)
}

// sendNow sends the event and payload in the fields (the Send button).
func (c *eventConsole) sendNow() {
	c.dispatch(strings.TrimSpace(c.event.Text), c.payload.Text)
}

// replayLast sends the last sent event again (the Replay last button).
func (c *eventConsole) replayLast() {
	if len(c.history) > 0 {
		c.dispatch(c.history[0].event, c.history[0].payload)
	}
}

// dispatch validates an event and sends it on a goroutine; the results
// come back through fyne.Do. One send runs at a time.
func (c *eventConsole) dispatch(event, payload string) {
	if c.sending {
		return
	}
	if event == "" {
		c.showError("Enter an event name, such as mission_started.")
		return
	}
	data, err := starhost.DecodeEventData([]byte(payload))
	if err != nil {
		c.showError(err.Error())
		return
	}
	c.showError("")
	c.seq++
	seq := c.seq
	c.history = append([]consoleEntry{{seq: seq, at: time.Now(), event: event, payload: payload}}, c.history...)
	if len(c.history) > historyMax {
		c.history = c.history[:historyMax]
	}
	c.historyL.Refresh()
	c.sending = true
	c.updateButtons()
	c.summary.SetText("Sending " + event + "…")

	send := c.send
	c.inflight.Add(1)
	go func() {
		defer c.inflight.Done()
		ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		defer cancel()
		start := time.Now()
		results, err := send(ctx, event, data)
		took := time.Since(start)
		c.do(func() {
			c.showResults(seq, event, results, err, took)
			c.shown.Add(1)
		})
	}()
}

// wait blocks until the sends in flight have returned from send. (Their
// results are shown through fyne.Do, which the test driver runs at once.)
func (c *eventConsole) wait() { c.inflight.Wait() }

// showResults shows the outcome of send number seq.
func (c *eventConsole) showResults(seq int, event string, results []starhost.Result, err error, took time.Duration) {
	c.sending = false
	c.results = results
	failed := 0
	for _, r := range results {
		if !r.OK {
			failed++
		}
	}
	var summary, short string
	switch {
	case err != nil && len(results) == 0:
		summary, short = event+": not sent", "not sent"
	case len(results) == 0:
		summary, short = event+": no integration handles this event", "no handlers"
	default:
		short = plural.Count(len(results), "call")
		if failed > 0 {
			short += fmt.Sprintf(", %d failed", failed)
		}
		summary = fmt.Sprintf("%s: %s in %s", event, short, formatDuration(took))
	}
	if err != nil {
		c.showError(err.Error())
	}
	c.summary.SetText(summary)
	for i := range c.history {
		if c.history[i].seq == seq {
			c.history[i].summary = short
		}
	}
	c.resultsL.UnselectAll()
	c.clearDetail()
	c.resultsL.Refresh()
	c.resultsL.ScrollToTop()
	c.historyL.Refresh()
	c.updateButtons()
}

// setReplaying shows a replay's progress or summary in the results'
// header, and the Replay recording… button as Stop replay while one runs.
func (c *eventConsole) setReplaying(on bool, msg string) {
	c.summary.SetText(msg)
	setStopButton(c.replayFile, on, "Stop replay", "Replay recording…", theme.MediaFastForwardIcon())
}

// setStopButton shows b as the red Stop button (stop) of something
// running, or as the button that starts it (start, with its icon).
func setStopButton(b *widget.Button, running bool, stop, start string, startIcon fyne.Resource) {
	if running {
		b.SetText(stop)
		b.SetIcon(theme.MediaStopIcon())
		b.Importance = widget.DangerImportance
	} else {
		b.SetText(start)
		b.SetIcon(startIcon)
		b.Importance = widget.MediumImportance
	}
	b.Refresh()
}

// load puts a history entry in the fields.
func (c *eventConsole) load(e consoleEntry) {
	c.event.SetText(e.event) // may fill in a sample first
	c.payload.SetText(e.payload)
	c.showError("")
}

func (c *eventConsole) updateButtons() {
	if c.sending {
		c.sendBtn.Disable()
		c.replay.Disable()
		return
	}
	c.sendBtn.Enable()
	if len(c.history) > 0 {
		c.replay.Enable()
	} else {
		c.replay.Disable()
	}
}

// showError shows msg in red under the payload; "" hides it.
func (c *eventConsole) showError(msg string) {
	if msg == c.errLabel.Text {
		return
	}
	c.errLabel.SetText(msg)
	if msg == "" {
		c.errLabel.Hide()
	} else {
		c.errLabel.Show()
	}
}

func (c *eventConsole) clearDetail() {
	c.detail.SetText("Select a result to see it in full.")
}

// resultText is a handler call's result as compact JSON, or its error
// (file:line:col: message).
func resultText(r starhost.Result) string {
	if !r.OK {
		if r.Error == nil {
			return "failed"
		}
		return strings.ReplaceAll(r.Error.Error(), "\n", " ")
	}
	return clipRunes(oneLineJSON(r.Value), resultChars)
}

// resultDetail is everything about one handler call: the result as
// indented JSON, or the error with its Starlark backtrace.
func resultDetail(r starhost.Result) string {
	head := fmt.Sprintf("%s (generation %d) handled %s, depth %d, in %s\n\n", r.Integration, r.Generation, r.Event, r.Depth, formatDuration(r.Duration.Std()))
	if !r.OK {
		if r.Error == nil {
			return head + "failed"
		}
		text := r.Error.Error()
		if r.Error.Backtrace != "" {
			text += "\n\n" + r.Error.Backtrace
		}
		return head + text
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.Value); err != nil {
		return head + fmt.Sprintf("%v", r.Value)
	}
	return head + strings.TrimSuffix(buf.String(), "\n")
}

// resultRowView shows one handler call in columns: status icon, the event
// it handled (an indented arrow for follow-ups), integration, result or
// error, and duration.
type resultRowView struct {
	widget.BaseWidget
	icon                     *widget.Icon
	event, name, body, taken *widget.Label
}

func newResultRowView() *resultRowView {
	v := &resultRowView{
		icon:  widget.NewIcon(theme.ConfirmIcon()),
		event: newCell(fyne.TextStyle{}, widget.MediumImportance, fyne.TextTruncateEllipsis),
		name:  newCell(fyne.TextStyle{Bold: true}, widget.MediumImportance, fyne.TextTruncateEllipsis),
		body:  newCell(fyne.TextStyle{Monospace: true}, widget.MediumImportance, fyne.TextTruncateEllipsis),
		taken: newCell(fyne.TextStyle{Monospace: true}, widget.LowImportance, fyne.TextTruncateOff),
	}
	v.taken.Alignment = fyne.TextAlignTrailing
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer lays the row out in columns shared by every result row.
func (v *resultRowView) CreateRenderer() fyne.WidgetRenderer {
	widths := []float32{
		theme.Size(theme.SizeNameInlineIcon),
		labelWidth("↳ mission_completed", v.event.TextStyle) * 0.8,
		labelWidth("afterimage_x", v.name.TextStyle),
		0,
		labelWidth("999.99 ms", v.taken.TextStyle),
	}
	return widget.NewSimpleRenderer(newColumns(widths, container.NewCenter(v.icon), v.event, v.name, v.body, v.taken))
}

func (v *resultRowView) set(r starhost.Result) {
	if r.OK {
		v.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		v.body.Importance = widget.MediumImportance
	} else {
		v.icon.SetResource(theme.ErrorIcon())
		v.body.Importance = widget.DangerImportance
	}
	if r.Depth == 0 {
		v.event.Importance = widget.LowImportance
	} else {
		v.event.Importance = widget.MediumImportance
	}
	v.event.SetText(eventDepthLabel(r.Event, r.Depth))
	v.name.SetText(r.Integration)
	v.body.SetText(resultText(r))
	v.taken.SetText(formatDuration(r.Duration.Std()))
}

// historyRowView shows one sent event: its name and outcome over the
// time and payload.
type historyRowView struct {
	widget.BaseWidget
	at, event, summary, payload *widget.Label
}

func newHistoryRowView() *historyRowView {
	v := &historyRowView{
		at:      newCell(fyne.TextStyle{Monospace: true}, widget.LowImportance, fyne.TextTruncateOff),
		event:   newCell(fyne.TextStyle{Bold: true}, widget.MediumImportance, fyne.TextTruncateEllipsis),
		summary: newCell(fyne.TextStyle{}, widget.LowImportance, fyne.TextTruncateOff),
		payload: newCell(fyne.TextStyle{Monospace: true}, widget.LowImportance, fyne.TextTruncateEllipsis),
	}
	v.summary.Alignment = fyne.TextAlignTrailing
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer lays the row out on two lines: event and outcome, then
// time and payload.
func (v *historyRowView) CreateRenderer() fyne.WidgetRenderer {
	top := newColumns([]float32{0, labelWidth("12 calls, 1 failed", v.summary.TextStyle)}, v.event, v.summary)
	bottom := newColumns([]float32{labelWidth("00:00:00", v.at.TextStyle), 0}, v.at, v.payload)
	return widget.NewSimpleRenderer(container.NewVBox(top, bottom))
}

func (v *historyRowView) set(e consoleEntry) {
	v.at.SetText(e.at.Format("15:04:05"))
	v.event.SetText(e.event)
	v.summary.SetText(e.summary)
	v.payload.SetText(compactPayload(e.payload))
}

// compactPayload shows a JSON payload on one line.
func compactPayload(p string) string {
	if strings.TrimSpace(p) == "" {
		return "{}"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(p)) == nil {
		return buf.String()
	}
	return strings.Join(strings.Fields(p), " ")
}
