package studio

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// sentEvent is one call of fakeSender.send.
type sentEvent struct {
	event string
	data  map[string]any
}

// fakeSender records what the console sends and answers with canned
// results.
type fakeSender struct {
	mu      sync.Mutex
	calls   []sentEvent
	results []starhost.Result
	err     error
}

func (f *fakeSender) send(_ context.Context, event string, data map[string]any) ([]starhost.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, sentEvent{event, data})
	return f.results, f.err
}

func (f *fakeSender) sent() []sentEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func cannedResults() []starhost.Result {
	return []starhost.Result{
		{Integration: "analytics", Event: "mission_failed", Generation: 1, OK: true, Value: map[string]any{"status": "failed", "count": int64(3)}, Duration: starhost.Duration(420 * time.Microsecond)},
		{Integration: "alerts", Event: "mission_failed", Generation: 2, Error: &starhost.Diagnostic{File: "alerts.star", Line: 12, Col: 5, Msg: "boom <here>"}, Duration: starhost.Duration(2500 * time.Microsecond)},
		{Integration: "audit", Event: "alert_raised", Generation: 1, Depth: 1, OK: true, Value: map[string]any{"total": int64(7)}, Duration: starhost.Duration(80 * time.Microsecond)},
	}
}

// newTestConsole builds a console in a test window.
func newTestConsole(t *testing.T, send func(context.Context, string, map[string]any) ([]starhost.Result, error), known func() []string) *eventConsole {
	c, _ := newTestConsoleWindow(t, send, known)
	return c
}

func newTestConsoleWindow(t *testing.T, send func(context.Context, string, map[string]any) ([]starhost.Result, error), known func() []string) (*eventConsole, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	c := newEventConsole(send, known)
	w := test.NewTempWindow(t, c.object())
	w.Resize(fyne.NewSize(1000, 800))
	return c, w
}

// choose picks option from the event field's drop-down, as a person
// would: open it, then tap the item.
func choose(t *testing.T, w fyne.Window, e *widget.SelectEntry, option string) {
	t.Helper()
	test.Tap(e.ActionItem.(fyne.Tappable))
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("the drop-down did not open")
	}
	for _, o := range test.LaidOutObjects(top) {
		item, ok := o.(fyne.Tappable)
		if !ok {
			continue
		}
		if _, isWidget := o.(fyne.Widget); !isWidget {
			continue
		}
		r := test.WidgetRenderer(o.(fyne.Widget))
		for _, child := range r.Objects() {
			if txt, ok := child.(*canvas.Text); ok && txt.Text == option {
				test.Tap(item)
				return
			}
		}
	}
	t.Fatalf("the drop-down has no item %q", option)
}

// sendAndWait presses Send and waits for the results to be shown.
func sendAndWait(t *testing.T, c *eventConsole, press func()) {
	t.Helper()
	before := c.shown.Load()
	press()
	hosttest.Eventually(t, uiWait, func() bool { return c.shown.Load() > before }, "the results of a send")
}

func TestConsoleSendShowsResults(t *testing.T) {
	f := &fakeSender{results: cannedResults()}
	c, w := newTestConsoleWindow(t, f.send, nil)
	if !c.replay.Disabled() {
		t.Error("Replay last is enabled before anything was sent")
	}

	choose(t, w, c.event, "mission_failed")
	if c.event.Text != "mission_failed" {
		t.Fatalf("event field = %q after choosing mission_failed", c.event.Text)
	}
	if c.payload.Text != samplePayloads["mission_failed"] {
		t.Fatalf("choosing mission_failed filled the payload with %q", c.payload.Text)
	}
	sendAndWait(t, c, func() { test.Tap(c.sendBtn) })

	calls := f.sent()
	if len(calls) != 1 || calls[0].event != "mission_failed" {
		t.Fatalf("sent %+v, want one mission_failed", calls)
	}
	if got := calls[0].data["mission_id"]; got != "m-1024" {
		t.Errorf("sent mission_id %v, want m-1024", got)
	}
	if len(c.results) != 3 {
		t.Fatalf("shows %d results, want 3", len(c.results))
	}
	if c.replay.Disabled() || c.sendBtn.Disabled() {
		t.Error("Send or Replay last is disabled after the send finished")
	}
	if got := c.summary.Text; !strings.Contains(got, "3 calls, 1 failed") {
		t.Errorf("summary %q does not count the calls and failures", got)
	}
	if len(c.history) != 1 || c.history[0].event != "mission_failed" || c.history[0].summary != "3 calls, 1 failed" {
		t.Errorf("history = %+v", c.history)
	}

	// The rows as drawn.
	var rows []*resultRowView
	for _, o := range test.LaidOutObjects(c.resultsL) {
		if v, ok := o.(*resultRowView); ok && v.Visible() && v.name.Text != "" {
			rows = append(rows, v)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("%d result rows drawn, want 3", len(rows))
	}
	want := []struct{ name, event, body, took string }{
		{"analytics", "mission_failed", `{"count":3,"status":"failed"}`, "420 µs"},
		{"alerts", "mission_failed", "alerts.star:12:5: boom <here>", "2.50 ms"},
		{"audit", "↳ alert_raised", `{"total":7}`, "80 µs"},
	}
	for i, w := range want {
		r := rows[i]
		event := r.event.Text
		if r.name.Text != w.name || event != w.event || r.body.Text != w.body || r.taken.Text != w.took {
			t.Errorf("row %d = %q %q %q %q, want %q %q %q %q", i, r.name.Text, event, r.body.Text, r.taken.Text, w.name, w.event, w.body, w.took)
		}
	}

	// Selecting a row shows it in full.
	c.resultsL.Select(1)
	if got := c.detail.Text; !strings.Contains(got, "alerts.star:12:5: boom <here>") || !strings.Contains(got, "generation 2") {
		t.Errorf("detail of the failed call = %q", got)
	}
	c.resultsL.Select(0)
	if got := c.detail.Text; !strings.Contains(got, "\"status\": \"failed\"") {
		t.Errorf("detail of the analytics call = %q", got)
	}
}

func TestConsoleBadPayloadIsNotSent(t *testing.T) {
	f := &fakeSender{}
	c := newTestConsole(t, f.send, nil)

	c.event.SetText("mission_started")
	c.payload.SetText("")
	test.Type(c.payload, `{"mission_id": "m1",}`)
	c.sendNow()
	if !c.errLabel.Visible() || !strings.Contains(c.errLabel.Text, "not valid JSON") {
		t.Errorf("error label = %q (visible %v), want the JSON error", c.errLabel.Text, c.errLabel.Visible())
	}

	c.payload.SetText(`["not", "an", "object"]`)
	if c.errLabel.Visible() {
		t.Error("editing the payload did not clear the error")
	}
	c.sendNow()
	if !strings.Contains(c.errLabel.Text, "must be a JSON object") || !strings.Contains(c.errLabel.Text, "an array") {
		t.Errorf("error label = %q, want the not-an-object error", c.errLabel.Text)
	}

	c.event.SetText("  ")
	c.payload.SetText(`{}`)
	c.sendNow()
	if !strings.Contains(c.errLabel.Text, "event name") {
		t.Errorf("error label = %q, want the missing event name", c.errLabel.Text)
	}

	c.wait()
	if n := len(f.sent()); n != 0 {
		t.Errorf("send was called %d times for bad input", n)
	}
	if len(c.history) != 0 || !c.replay.Disabled() {
		t.Errorf("bad input went into the history (%d entries) or enabled Replay", len(c.history))
	}
	if c.shown.Load() != 0 {
		t.Error("results were shown for bad input")
	}
}

func TestConsoleSendError(t *testing.T) {
	f := &fakeSender{err: fmt.Errorf(`bad event name "a b"`)}
	c := newTestConsole(t, f.send, nil)
	c.event.SetText("a b")
	c.payload.SetText(`{}`)
	sendAndWait(t, c, c.sendNow)
	if !c.errLabel.Visible() || !strings.Contains(c.errLabel.Text, `bad event name "a b"`) {
		t.Errorf("error label = %q", c.errLabel.Text)
	}
	if len(c.history) != 1 || c.history[0].summary != "not sent" {
		t.Errorf("history = %+v", c.history)
	}
}

func TestConsoleHistoryAndReplay(t *testing.T) {
	f := &fakeSender{results: cannedResults()[:1]}
	c := newTestConsole(t, f.send, nil)

	for _, ev := range []string{"mission_started", "response_received", "mission_completed"} {
		c.event.SetText(ev)
		sendAndWait(t, c, c.sendNow)
	}
	if got := historyEvents(c); !slices.Equal(got, []string{"mission_completed", "response_received", "mission_started"}) {
		t.Fatalf("history = %v, want newest first", got)
	}

	// Edit the fields, then replay: the last sent event goes again.
	c.event.SetText("something_else")
	c.payload.SetText(`{"x": 1}`)
	sendAndWait(t, c, func() { test.Tap(c.replay) })
	calls := f.sent()
	last := calls[len(calls)-1]
	if len(calls) != 4 || last.event != "mission_completed" || last.data["outcome"] != "success" {
		t.Errorf("replay sent %+v", last)
	}
	if c.history[0].event != "mission_completed" || len(c.history) != 4 {
		t.Errorf("history after replay = %v", historyEvents(c))
	}

	// Tapping a history entry loads it into the fields.
	c.historyL.Select(2) // response_received
	if c.event.Text != "response_received" || c.payload.Text != samplePayloads["response_received"] {
		t.Errorf("loaded %q with %q", c.event.Text, c.payload.Text)
	}
	c.event.SetText("custom")
	c.payload.SetText(`{"mine": true}`)
	sendAndWait(t, c, c.sendNow)
	c.event.SetText("mission_started")
	c.historyL.Select(0) // the custom one, which keeps its own payload
	if c.event.Text != "custom" || c.payload.Text != `{"mine": true}` {
		t.Errorf("loaded %q with %q", c.event.Text, c.payload.Text)
	}

	// The history keeps the last 50 sends.
	for i := range 60 {
		c.event.SetText(fmt.Sprintf("bulk_%02d", i))
		sendAndWait(t, c, c.sendNow)
	}
	if len(c.history) != historyMax {
		t.Fatalf("history holds %d entries, want %d", len(c.history), historyMax)
	}
	if c.history[0].event != "bulk_59" || c.history[historyMax-1].event != "bulk_10" {
		t.Errorf("history runs from %s to %s", c.history[0].event, c.history[historyMax-1].event)
	}
}

func historyEvents(c *eventConsole) []string {
	var out []string
	for _, e := range c.history {
		out = append(out, e.event)
	}
	return out
}

func TestConsoleSamplesAndOptions(t *testing.T) {
	known := []string{"zeta_event", "mission_started", "*", "custom_event"}
	c := newTestConsole(t, (&fakeSender{}).send, func() []string { return known })

	if !slices.Equal(c.options, standardEvents) {
		t.Errorf("options before refresh = %v", c.options)
	}
	c.refreshEvents()
	want := append(slices.Clone(standardEvents), "custom_event", "zeta_event")
	if !slices.Equal(c.options, want) {
		t.Errorf("options = %v, want %v", c.options, want)
	}
	known = append(known, "added_later")
	c.refreshEvents()
	if !slices.Contains(c.options, "added_later") {
		t.Errorf("refresh did not pick up a new event: %v", c.options)
	}

	// Typing a name fills nothing until it is a known event.
	test.Type(c.event, "mission_sta")
	if c.payload.Text != "" {
		t.Errorf("a partial name filled the payload: %q", c.payload.Text)
	}
	test.Type(c.event, "rted")
	if c.payload.Text != samplePayloads["mission_started"] {
		t.Errorf("payload = %q, want the mission_started sample", c.payload.Text)
	}
	// An unchanged sample is replaced by the next event's sample.
	c.event.SetText("response_received")
	if c.payload.Text != samplePayloads["response_received"] {
		t.Errorf("payload = %q, want the response_received sample", c.payload.Text)
	}
	c.event.SetText("custom_event")
	if c.payload.Text != samplePayload("custom_event") || c.payload.Text != defaultSamplePayload {
		t.Errorf("payload = %q, want the default sample", c.payload.Text)
	}
	// A payload the user wrote is kept.
	c.payload.SetText(`{"mission_id": "mine"}`)
	c.event.SetText("mission_failed")
	if c.payload.Text != `{"mission_id": "mine"}` {
		t.Errorf("choosing an event replaced the user's payload with %q", c.payload.Text)
	}
	// Every sample is a valid payload.
	for ev, p := range samplePayloads {
		if _, err := starhost.DecodeEventData([]byte(p)); err != nil {
			t.Errorf("sample for %s: %v", ev, err)
		}
	}
}

func TestConsoleWithManager(t *testing.T) {
	m := hosttest.New(t, hosttest.Defaults(integrations.FS))
	known := func() []string {
		var out []string
		for _, in := range m.Snapshot().Integrations {
			out = append(out, in.Subscriptions...)
		}
		return out
	}
	c := newTestConsole(t, m.Emit, known)
	c.refreshEvents()

	c.event.SetText("mission_failed")
	sendAndWait(t, c, func() { test.Tap(c.sendBtn) })
	if c.errLabel.Visible() {
		t.Fatalf("error: %s", c.errLabel.Text)
	}
	type row struct {
		integration, event string
		depth              int
	}
	var got []row
	for _, r := range c.results {
		if !r.OK {
			t.Errorf("%s failed: %v", r.Integration, r.Error)
		}
		got = append(got, row{r.Integration, r.Event, r.Depth})
	}
	want := []row{
		{"analytics", "mission_failed", 0},
		{"alerts", "mission_failed", 0},
		{"afterimage", "mission_failed", 0},
		{"audit", "mission_failed", 0},
		{"audit", "alert_raised", 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("results = %v, want %v", got, want)
	}
	if l := eventDepthLabel(c.results[4].Event, c.results[4].Depth); l != "↳ alert_raised" {
		t.Errorf("follow-up row label = %q", l)
	}
	if got := resultText(c.results[1]); got != `{"alerted":true}` {
		t.Errorf("alerts result = %s", got)
	}
}

func TestResultText(t *testing.T) {
	long := starhost.Result{OK: true, Value: strings.Repeat("a", 1000)}
	if got := []rune(resultText(long)); len(got) != resultChars || got[len(got)-1] != '…' {
		t.Errorf("a long result is shown as %d characters", len(got))
	}
	if got := compactPayload("{\n  \"a\": \"b  c\"\n}"); got != `{"a":"b  c"}` {
		t.Errorf("compactPayload = %q", got)
	}
}
