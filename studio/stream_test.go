package studio

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/starhost"
)

func newTestStream(t *testing.T) *eventStream {
	t.Helper()
	return newTestStreamSized(t, fyne.NewSize(900, 600))
}

// newTestStreamSized shows a stream in a test window of the given size
// (small windows draw few rows, which keeps bulk tests fast).
func newTestStreamSized(t *testing.T, size fyne.Size) *eventStream {
	t.Helper()
	test.NewTempApp(t)
	s := newEventStream(nil)
	w := test.NewTempWindow(t, s.object())
	w.Resize(size)
	return s
}

func eventNotice(name string, depth int, source string, data any) starhost.Notice {
	return starhost.Notice{Kind: starhost.NoticeEvent, Time: time.Date(2025, 6, 3, 14, 5, 9, 123e6, time.UTC), Event: name, Depth: depth, Integration: source, Data: data}
}

func streamEvents(s *eventStream) []string {
	var out []string
	for _, r := range s.rows() {
		out = append(out, r.event)
	}
	return out
}

func TestStreamRows(t *testing.T) {
	s := newTestStream(t)
	s.add(eventNotice("mission_failed", 0, "", map[string]any{"mission_id": "m-1", "error": "<timeout>"}))
	s.add(eventNotice("alert_raised", 1, "alerts", map[string]any{"severity": "critical"}))
	s.add(starhost.Notice{Kind: starhost.NoticeLog, Message: "not an event"})
	s.add(eventNotice("big", 0, "", map[string]any{"text": strings.Repeat("x", 500)}))

	rows := s.rows()
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	if r := rows[0]; r.label() != "mission_failed" || r.data != `{"error":"<timeout>","mission_id":"m-1"}` || clockTime(r.at) != "14:05:09.123" {
		t.Errorf("row 0 = %+v", r)
	}
	if r := rows[1]; r.label() != "↳ alert_raised" || r.source != "alerts" {
		t.Errorf("follow-up row = %+v (label %q)", r, r.label())
	}
	if d := []rune(rows[2].data); len(d) != streamDataChars || d[len(d)-1] != '…' {
		t.Errorf("long data shown as %d characters", len(d))
	}

	// The drawn rows show the same.
	var drawn []string
	for _, o := range test.LaidOutObjects(s.list) {
		if v, ok := o.(*streamRowView); ok && v.Visible() && v.event.Text != "" {
			drawn = append(drawn, strings.TrimSpace(v.at.Text+" "+v.event.Text+" "+v.source.Text))
		}
	}
	want := []string{"14:05:09.123 mission_failed", "14:05:09.123 ↳ alert_raised from alerts", "14:05:09.123 big"}
	if strings.Join(drawn, "|") != strings.Join(want, "|") {
		t.Errorf("drawn rows = %q, want %q", drawn, want)
	}
}

func TestStreamFilter(t *testing.T) {
	s := newTestStream(t)
	for _, e := range []string{"mission_started", "response_received", "alert_raised", "mission_failed", "alert_raised"} {
		s.add(eventNotice(e, 0, "", nil))
	}
	test.Type(s.filterIn, "ALERT")
	if got := streamEvents(s); strings.Join(got, ",") != "alert_raised,alert_raised" {
		t.Errorf("filtered by typing: %v", got)
	}
	s.add(eventNotice("mission_completed", 0, "", nil))
	s.add(eventNotice("alert_raised", 1, "alerts", nil))
	if got := len(s.rows()); got != 3 {
		t.Errorf("%d rows match after more events, want 3", got)
	}
	s.setFilter("mission")
	if got := streamEvents(s); strings.Join(got, ",") != "mission_started,mission_failed,mission_completed" {
		t.Errorf("filter mission: %v", got)
	}
	if s.filterIn.Text != "mission" {
		t.Errorf("setFilter left the entry at %q", s.filterIn.Text)
	}
	s.setFilter("")
	if got := len(s.rows()); got != 7 {
		t.Errorf("%d rows without a filter, want 7", got)
	}
}

func TestStreamPause(t *testing.T) {
	s := newTestStream(t)
	s.add(eventNotice("before", 0, "", nil))
	test.Tap(s.pauseBtn)
	if !s.paused || s.pauseBtn.Text != "Resume" {
		t.Fatalf("Pause did not pause (button %q)", s.pauseBtn.Text)
	}
	for i := range 3 {
		s.add(eventNotice(fmt.Sprintf("during_%d", i), 0, "", nil))
	}
	if got := streamEvents(s); strings.Join(got, ",") != "before" {
		t.Errorf("rows while paused = %v", got)
	}
	if !strings.Contains(s.status.Text, "paused, 3 events skipped") {
		t.Errorf("status = %q", s.status.Text)
	}
	test.Tap(s.pauseBtn)
	if s.paused || s.pauseBtn.Text != "Pause" || strings.Contains(s.status.Text, "paused") {
		t.Fatalf("Resume did not resume (button %q, status %q)", s.pauseBtn.Text, s.status.Text)
	}
	s.add(eventNotice("after", 0, "", nil))
	if got := streamEvents(s); strings.Join(got, ",") != "before,after" {
		t.Errorf("rows after resuming = %v", got)
	}
	s.setPaused(true)
	s.add(eventNotice("x", 0, "", nil))
	s.setPaused(false)
	s.setPaused(true)
	if !strings.Contains(s.status.Text, "paused, 0 events skipped") {
		t.Errorf("the skipped count was not reset on resume: %q", s.status.Text)
	}
}

func TestStreamBounded(t *testing.T) {
	s := newTestStreamSized(t, fyne.NewSize(900, 200))
	s.setFilter("rare")
	s.add(eventNotice("rare_event", 0, "", nil))
	for i := range streamMax + 200 {
		name := "common"
		if i == streamMax+100 {
			name = "rare_again"
		}
		s.add(eventNotice(name, 0, "", map[string]any{"i": i}))
	}
	// The first rare event was evicted with the rest of the oldest.
	if got := streamEvents(s); strings.Join(got, ",") != "rare_again" {
		t.Errorf("filtered rows = %v, want only the rare event still kept", got)
	}
	s.setFilter("")
	rows := s.rows()
	if len(rows) != streamMax || len(s.all) != streamMax {
		t.Fatalf("%d rows (%d kept), want %d", len(rows), len(s.all), streamMax)
	}
	if rows[0].data != `{"i":200}` || rows[len(rows)-1].data != fmt.Sprintf(`{"i":%d}`, streamMax+199) {
		t.Errorf("rows run from %s to %s", rows[0].data, rows[len(rows)-1].data)
	}
	test.Tap(s.clearBtn)
	if len(s.rows()) != 0 {
		t.Error("Clear left rows")
	}
}
