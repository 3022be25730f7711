package studio

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestReadPolicy: the host is read every refreshEvery while it may have
// changed (a notice came, or the last read saw new calls), and no more
// once a read with no notice before it sees the same calls as the last.
func TestReadPolicy(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r := readPolicy{stale: true}
	steps := []struct {
		what   string
		do     func() bool
		wantOK bool
	}{
		{"a fresh studio reads at once", func() bool { return r.due(at(0)) }, true},
		{"the first read sees calls: changed", func() bool { return r.read(at(0), 5) }, true},
		{"not again within refreshEvery", func() bool { return r.due(at(100)) }, false},
		{"again after refreshEvery, since the last read saw new calls", func() bool { return r.due(at(500)) }, true},
		{"the same calls and no notice: unchanged", func() bool { return r.read(at(500), 5) }, false},
		{"then idle: no read due, however long", func() bool { return r.due(at(60_000)) }, false},
		{"a notice makes a read due", func() bool { r.notice(); return r.due(at(60_000)) }, true},
		{"a read after a notice may show something new", func() bool { return r.read(at(60_000), 5) }, true},
		{"so one more read is due", func() bool { return r.due(at(60_500)) }, true},
		{"which sees calls that ended after the notice", func() bool { return r.read(at(60_500), 7) }, true},
		{"and one more", func() bool { return r.due(at(61_000)) }, true},
		{"that sees nothing new", func() bool { return r.read(at(61_000), 7) }, false},
		{"idle again", func() bool { return r.due(at(120_000)) }, false},
	}
	for _, s := range steps {
		if got := s.do(); got != s.wantOK {
			t.Fatalf("%s: got %v, want %v", s.what, got, s.wantOK)
		}
	}
}

// TestIdleStudioHandsTheUINothing: once the host is idle, the studio
// stops reading it and updating the UI (it used to read the host and
// rebuild the details twice a second), after showing the last calls.
func TestIdleStudioHandsTheUINothing(t *testing.T) {
	a := test.NewTempApp(t)
	m, dir := hosttest.NewRoot(t, nil, hosttest.Defaults(integrations.FS))
	var updates atomic.Int64
	do := func(fn func()) { updates.Add(1); runOnUI(fn) }
	s := New(a, m, nil, Options{Dirs: []string{dir}, RunOnUI: do, Select: "audit"})
	runOnUI(s.Start)
	t.Cleanup(s.Stop)
	eventually(t, "audit's details", func() bool { return s.details.title.Text == "audit" })
	const events = 20
	for range events {
		if _, err := m.Emit(context.Background(), "response_received", map[string]any{"mission_id": "m1", "latency_ms": 5}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "audit's calls", func() bool {
		n, _ := strconv.Atoi(s.details.fields["Calls"].Text)
		return n == events
	})
	quiet := func() bool { // no UI update over four refresh periods
		n := updates.Load()
		time.Sleep(4 * refreshEvery)
		return updates.Load() == n
	}
	hosttest.Eventually(t, uiWait, quiet, "the studio to stop updating the UI once the host is idle")
}

// TestTraceUITimesSelectionsAndTabs: with Options.TraceUI, a selection by
// the user is reported once its details are shown and a frame painted,
// and so is a switch of tabs; the times are in order.
func TestTraceUITimesSelectionsAndTabs(t *testing.T) {
	a := test.NewTempApp(t)
	m, dir := hosttest.NewRoot(t, nil, hosttest.Defaults(integrations.FS))
	var traces []UITrace // UI goroutine
	s := New(a, m, nil, Options{Dirs: []string{dir}, RunOnUI: runOnUI, TraceUI: func(tr UITrace) { traces = append(traces, tr) }})
	runOnUI(s.Start)
	t.Cleanup(s.Stop)
	eventually(t, "the defaults", func() bool { return len(s.list.rows()) == 4 })
	paint := func() { runOnUI(func() { s.win.Canvas().Capture() }) }
	paint()
	runOnUI(func() { s.list.list.Select(3) }) // as a click on audit's row does
	eventually(t, "audit's details", func() bool { return s.details.title.Text == "audit" })
	paint()
	runOnUI(func() { s.tabs.SelectIndex(3) }) // as a click on the Log tab does
	paint()
	runOnUI(func() {
		var actions []string
		for _, tr := range traces {
			actions = append(actions, tr.Action)
			if tr.Callback.IsZero() || tr.Shown.Before(tr.Callback) || tr.Painted.Before(tr.Shown) {
				t.Errorf("%s: callback %v, shown %v, painted %v: not in order", tr.Action, tr.Callback, tr.Shown, tr.Painted)
			}
		}
		if strings.Join(actions, ", ") != "select audit, tab Log" {
			t.Errorf("traced %q, want select audit, tab Log", actions)
		}
	})
}
