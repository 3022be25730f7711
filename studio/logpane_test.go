package studio

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/starhost"
)

func newTestLogPane(t *testing.T) (*logPane, *[]string) {
	t.Helper()
	return newTestLogPaneSized(t, fyne.NewSize(900, 600))
}

// newTestLogPaneSized shows a log pane in a test window of the given size
// (small windows draw few rows, which keeps bulk tests fast).
func newTestLogPaneSized(t *testing.T, size fyne.Size) (*logPane, *[]string) {
	t.Helper()
	test.NewTempApp(t)
	var copied []string
	p := newLogPane(func(s string) { copied = append(copied, s) })
	w := test.NewTempWindow(t, p.object())
	w.Resize(size)
	return p, &copied
}

var logTime = time.Date(2025, 6, 3, 9, 41, 7, 250e6, time.Local)

func sampleNotices() []starhost.Notice {
	diag := &starhost.Diagnostic{File: "/home/me/integrations/alerts.star", Line: 12, Col: 5, Msg: "key \"x\" not in dict"}
	return []starhost.Notice{
		{Kind: starhost.NoticeLoaded, Time: logTime, Integration: "analytics", Module: "analytics.star", Generation: 1, Duration: starhost.Duration(270 * time.Microsecond)},
		{Kind: starhost.NoticeReloaded, Time: logTime, Integration: "alerts", Generation: 3, Duration: starhost.Duration(310 * time.Microsecond)},
		{Kind: starhost.NoticeReloadFailed, Time: logTime, Integration: "alerts", Module: "alerts.star", Error: &starhost.Diagnostic{File: "alerts.star", Line: 4, Col: 1, Msg: "undefined: foo"}, Message: "undefined: foo"},
		{Kind: starhost.NoticeHandlerFailed, Time: logTime, Integration: "alerts", Event: "mission_failed", Error: diag, Message: diag.Error()},
		{Kind: starhost.NoticeLog, Time: logTime, Integration: "alerts", Level: "warn", Message: "alert: slow_response for mission m-1"},
		{Kind: starhost.NoticeLog, Time: logTime, Integration: "audit", Level: "debug", Message: "kept 12 entries"},
		{Kind: starhost.NoticeStateReset, Time: logTime, Integration: "afterimage", Message: "state reset"},
		{Kind: starhost.NoticeWatchError, Time: logTime, Module: "/home/me/integrations/broken", Message: "permission denied"},
		{Kind: starhost.NoticeRemoved, Time: logTime, Integration: "old", Module: "old.star"},
		{Kind: starhost.NoticeEvent, Time: logTime, Event: "mission_failed"},
	}
}

func TestLogPaneLines(t *testing.T) {
	p, _ := newTestLogPane(t)
	for _, n := range sampleNotices() {
		p.add(n)
	}
	want := []string{
		"09:41:07.250 INFO  analytics: loaded generation 1 in 0.27 ms",
		"09:41:07.250 INFO  alerts: reloaded generation 3 in 0.31 ms",
		"09:41:07.250 ERROR alerts: reload failed, the previous version still serves: alerts.star:4:1: undefined: foo",
		`09:41:07.250 ERROR alerts: handler for mission_failed failed: /home/me/integrations/alerts.star:12:5: key "x" not in dict`,
		"09:41:07.250 WARN  alerts: alert: slow_response for mission m-1",
		"09:41:07.250 DEBUG audit: kept 12 entries",
		"09:41:07.250 WARN  afterimage: state reset",
		"09:41:07.250 ERROR broken: watcher: permission denied",
		"09:41:07.250 INFO  old: removed",
	}
	got := p.lines()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	p.addLine("warn", "drop", "notes.txt: not a .star file")
	if last := p.lines()[len(p.lines())-1]; !strings.HasSuffix(last, "WARN  drop: notes.txt: not a .star file") {
		t.Errorf("addLine gave %q", last)
	}

	// The drawn rows carry the level's icon and color.
	icons := map[string]bool{}
	for _, o := range test.LaidOutObjects(p.list) {
		if v, ok := o.(*logRowView); ok && v.Visible() && v.icon.Resource != nil {
			icons[v.icon.Resource.Name()] = true
		}
	}
	for _, want := range []string{"error", "warning", "info"} {
		found := false
		for name := range icons {
			found = found || strings.Contains(strings.ToLower(name), want)
		}
		if !found {
			t.Errorf("no %s icon among the drawn rows (%v)", want, icons)
		}
	}
}

func TestLogPaneFilters(t *testing.T) {
	p, copied := newTestLogPane(t)
	for _, n := range sampleNotices() {
		p.add(n)
	}
	test.Type(p.filterIn, "ALERTS")
	if got := len(p.lines()); got != 4 {
		t.Errorf("%d lines mention alerts, want 4: %q", got, p.lines())
	}
	p.setFilter("mission m-1")
	if got := p.lines(); len(got) != 1 || !strings.Contains(got[0], "slow_response") {
		t.Errorf("filter 'mission m-1' = %q", got)
	}
	p.setFilter("")

	levels := map[string]int{"All levels": 9, "Info and above": 8, "Warnings and above": 5, "Errors only": 3}
	for label, n := range levels {
		p.level.SetSelected(label)
		if got := len(p.lines()); got != n {
			t.Errorf("%s: %d lines, want %d", label, got, n)
		}
	}
	p.level.SetSelected("Errors only")
	p.setFilter("handler")
	if got := p.lines(); len(got) != 1 || !strings.Contains(got[0], "alerts.star:12:5:") {
		t.Errorf("errors about handlers = %q", got)
	}
	// New lines respect the filters.
	p.add(starhost.Notice{Kind: starhost.NoticeHandlerFailed, Integration: "x", Event: "e", Message: "handler broke"})
	p.add(starhost.Notice{Kind: starhost.NoticeLog, Integration: "x", Level: "info", Message: "handler fine"})
	if got := len(p.lines()); got != 2 {
		t.Errorf("%d lines after adding, want 2: %q", got, p.lines())
	}

	test.Tap(p.copyBtn)
	if len(*copied) != 1 || (*copied)[0] != strings.Join(p.lines(), "\n") {
		t.Errorf("copied %q, want the visible lines", *copied)
	}
	if !strings.Contains((*copied)[0], "\n") || strings.Contains((*copied)[0], "INFO") {
		t.Errorf("copied text is not the two visible error lines: %q", (*copied)[0])
	}

	test.Tap(p.clearBtn)
	p.level.SetSelected("All levels")
	p.setFilter("")
	if len(p.lines()) != 0 {
		t.Errorf("Clear left %d lines", len(p.lines()))
	}
}

func TestLogPaneBounded(t *testing.T) {
	p, copied := newTestLogPaneSized(t, fyne.NewSize(900, 200))
	for i := range logMax + 300 {
		level := "info"
		if i%100 == 0 {
			level = "error"
		}
		p.add(starhost.Notice{Kind: starhost.NoticeLog, Time: logTime, Integration: "bulk", Level: level, Message: fmt.Sprintf("line %d", i)})
	}
	lines := p.lines()
	if len(lines) != logMax {
		t.Fatalf("%d lines kept, want %d", len(lines), logMax)
	}
	if !strings.HasSuffix(lines[0], "line 300") || !strings.HasSuffix(lines[logMax-1], fmt.Sprintf("line %d", logMax+299)) {
		t.Errorf("lines run from %q to %q", lines[0], lines[logMax-1])
	}
	p.level.SetSelected("Errors only")
	if got := len(p.lines()); got != logMax/100 {
		t.Errorf("%d error lines kept, want %d", got, logMax/100)
	}
	// Lines evicted while filtered out of view stay evicted.
	for i := range 50 {
		p.add(starhost.Notice{Kind: starhost.NoticeLog, Integration: "more", Level: "info", Message: fmt.Sprint(i)})
	}
	if got := len(p.lines()); got != logMax/100-1 {
		t.Errorf("%d error lines after eviction, want %d", got, logMax/100-1)
	}
	test.Tap(p.copyBtn)
	if strings.Count((*copied)[0], "\n") != logMax/100-2 {
		t.Errorf("copied %d lines", strings.Count((*copied)[0], "\n")+1)
	}
}

func TestNoticeLevels(t *testing.T) {
	for _, tc := range []struct {
		n    starhost.Notice
		want string
	}{
		{starhost.Notice{Kind: starhost.NoticeHandlerFailed}, "error"},
		{starhost.Notice{Kind: starhost.NoticeReloadFailed}, "error"},
		{starhost.Notice{Kind: starhost.NoticeWatchError}, "error"},
		{starhost.Notice{Kind: starhost.NoticeStateReset}, "warn"},
		{starhost.Notice{Kind: starhost.NoticeLog, Level: "warning"}, "warn"},
		{starhost.Notice{Kind: starhost.NoticeLog, Level: "debug"}, "debug"},
		{starhost.Notice{Kind: starhost.NoticeLog}, "info"},
		{starhost.Notice{Kind: starhost.NoticeAdded}, "info"},
	} {
		if got := noticeLine(tc.n).level; got != tc.want {
			t.Errorf("%s/%q: level %q, want %q", tc.n.Kind, tc.n.Level, got, tc.want)
		}
	}
	// A failure without a diagnostic still says what went wrong.
	n := starhost.Notice{Kind: starhost.NoticeReloadFailed, Integration: "a", Message: errors.New("disk on fire").Error()}
	if got := noticeLine(n).msg; !strings.HasSuffix(got, "disk on fire") {
		t.Errorf("message = %q", got)
	}
}
