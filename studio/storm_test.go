package studio

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// slowUI is a RunOnUI that runs each update on its own goroutine after a
// delay (under uiMu), like a window that draws slower than events come:
// it counts how many updates wait at most.
type slowUI struct {
	delay         time.Duration
	waiting, most atomic.Int64
	wg            sync.WaitGroup
}

func (u *slowUI) do(fn func()) {
	n := u.waiting.Add(1)
	for m := u.most.Load(); n > m && !u.most.CompareAndSwap(m, n); m = u.most.Load() {
	}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		time.Sleep(u.delay)
		runOnUI(fn)
		u.waiting.Add(-1)
	}()
}

// TestStormIsBoundedAndCounted: a storm of events far faster than the
// (slow) UI draws leaves the views bounded, never queues more than a few
// updates on the UI, and every event is either in the stream or counted
// in its "N events not shown"; a UI action during the storm still
// answers (the figure is logged).
func TestStormIsBoundedAndCounted(t *testing.T) {
	a := test.NewTempApp(t)
	m, dir := hosttest.NewRoot(t, nil, hosttest.Defaults(integrations.FS))
	ui := &slowUI{delay: 30 * time.Millisecond}
	s := New(a, m, nil, Options{Dirs: []string{dir}, RunOnUI: ui.do, Tab: "events"})
	runOnUI(s.Start)
	t.Cleanup(func() { s.Stop(); ui.wg.Wait() })
	eventually(t, "the defaults", func() bool { return len(s.list.rows()) == 4 })

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	const workers, each = 4, 7500 // 30,000 events
	ctx := context.Background()
	var wg sync.WaitGroup
	var sent atomic.Int64
	start := time.Now()
	var selectLatency time.Duration
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := m.Emit(ctx, "response_received", map[string]any{"mission_id": "m1", "latency_ms": 5}); err != nil {
					t.Error(err)
					return
				}
				sent.Add(1)
			}
		}()
	}
	// A UI action in the middle of the storm: select audit, wait for its details.
	for sent.Load() < workers*each/3 {
		time.Sleep(time.Millisecond)
	}
	t0 := time.Now()
	runOnUI(func() { s.selectRow("audit") })
	eventually(t, "audit's details during the storm", func() bool { return s.details.title.Text == "audit" })
	selectLatency = time.Since(t0)
	wg.Wait()
	elapsed := time.Since(start)

	var total int
	eventually(t, "every event shown or counted as not shown", func() bool {
		total = int(s.stream.seq) + s.stream.notShown
		return total >= workers*each
	})
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	runOnUI(func() {
		if n := len(s.stream.all); n > streamMax {
			t.Errorf("the stream keeps %d rows, more than %d", n, streamMax)
		}
		if n := len(s.logs.all); n > logMax {
			t.Errorf("the log keeps %d lines, more than %d", n, logMax)
		}
		if s.stream.notShown == 0 {
			t.Errorf("no event counted as not shown after %d events to a slow UI", workers*each)
		}
		if st := s.stream.status.Text; !strings.Contains(st, "events not shown") {
			t.Errorf("status %q does not say how many events are not shown", st)
		}
	})
	if total != workers*each {
		t.Errorf("%d events shown or counted, want %d (none lost, none doubled)", total, workers*each)
	}
	if most := ui.most.Load(); most > 4 {
		t.Errorf("up to %d UI updates waited at once; the studio must not queue more than it draws", most)
	}
	t.Logf("%d events in %v (%.0f/s) to a UI drawing every %v: %d shown, %d not shown; at most %d UI updates waiting; heap in use %d MB before, %d MB after; selecting an integration during the storm answered in %v",
		workers*each, elapsed.Round(time.Millisecond), float64(workers*each)/elapsed.Seconds(), ui.delay,
		s.stream.seq, s.stream.notShown, ui.most.Load(), before.HeapInuse>>20, during.HeapInuse>>20, selectLatency.Round(time.Millisecond))
}

// TestStreamShowsNotShownCount: events dropped before the stream are
// counted on its status line, until Clear.
func TestStreamShowsNotShownCount(t *testing.T) {
	s := newTestStream(t)
	rows := []streamRow{streamRowOf(eventNotice("a", 0, "", nil)), streamRowOf(eventNotice("b", 0, "", nil))}
	s.addRows(rows, 1234)
	if got := streamEvents(s); strings.Join(got, ",") != "a,b" {
		t.Errorf("rows %v, want a,b", got)
	}
	if st := s.status.Text; !strings.Contains(st, "1234 events not shown") {
		t.Errorf("status %q, want it to count 1234 events not shown", st)
	}
	s.clear()
	if st := s.status.Text; strings.Contains(st, "not shown") {
		t.Errorf("status after Clear %q still counts events not shown", st)
	}
}

// TestPendingIsBounded: what follow gathers between two deliveries stays
// within what the views keep, however many notices come.
func TestPendingIsBounded(t *testing.T) {
	var p pending
	for i := 0; i < 50*streamMax; i++ {
		p.addEvent(eventNotice("e", 0, "", map[string]any{"i": i}))
		p.addNotice(starhost.Notice{Kind: starhost.NoticeLog, Message: "x"})
		if len(p.events) >= 2*streamMax || len(p.lines) >= 2*logMax {
			t.Fatalf("pending holds %d events, %d log lines", len(p.events), len(p.lines))
		}
	}
	p.trim()
	if len(p.events) != streamMax || p.eventsDropped != 49*streamMax {
		t.Errorf("%d events kept, %d dropped; want %d, %d", len(p.events), p.eventsDropped, streamMax, 49*streamMax)
	}
	if len(p.lines) != logMax || p.linesDropped != 50*streamMax-logMax {
		t.Errorf("%d log lines kept, %d dropped", len(p.lines), p.linesDropped)
	}
}
