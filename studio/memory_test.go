package studio

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestAfterStormSteps: after a storm, memory is released at calm, the
// window is redrawn once the storm's textures have expired, and memory
// is released again once that frame is painted; notices delay the steps
// and a new storm starts them again.
func TestAfterStormSteps(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	a := afterStorm{lifetime: 15 * time.Second}
	if got := a.step(at(0)); got != stepNone {
		t.Fatalf("before any storm: step %v, want none", got)
	}
	a.notice(at(0))
	a.storm()
	a.notice(at(500)) // the storm goes on
	steps := []struct {
		ms   int
		want afterStormStep
	}{
		{1000, stepNone},    // 0.5 s after the last notice: not calm yet
		{1500, stepRelease}, // calm
		{1550, stepNone},
		{16000, stepNone},    // textures drawn at 0.5 s expire at 15.5 s, and calm+lifetime is 16.5 s
		{16500, stepRedraw},  // calm + lifetime after the last notice
		{16600, stepNone},    // the frame is not taken as painted yet
		{16750, stepRelease}, // paintedAfter later
		{60000, stepNone},    // and nothing more
	}
	for _, s := range steps {
		if got := a.step(at(s.ms)); got != s.want {
			t.Fatalf("at %d ms: step %v, want %v", s.ms, got, s.want)
		}
	}

	// A notice after calm delays the redraw; a new storm starts again.
	a.notice(at(70000))
	a.storm()
	if got := a.step(at(71000)); got != stepRelease {
		t.Fatalf("calm after the second storm: step %v, want release", got)
	}
	a.notice(at(75000)) // one more event, not a storm
	if got := a.step(at(86000)); got != stepNone {
		t.Fatalf("calm+lifetime after the storm but not after the last notice: step %v, want none", got)
	}
	if got := a.step(at(91000)); got != stepRedraw {
		t.Fatalf("calm+lifetime after the last notice: step %v, want redraw", got)
	}
}

// TestStormEndsInAReleaseOfMemory: a storm of events against a real host
// ends, once calm, in a release of memory, and in a second one after the
// storm's textures have expired and the window was redrawn.
func TestStormEndsInAReleaseOfMemory(t *testing.T) {
	a := test.NewTempApp(t)
	m, dir := hosttest.NewRoot(t, nil, hosttest.Defaults(integrations.FS))
	var released atomic.Int64
	s := New(a, m, nil, Options{Dirs: []string{dir}, RunOnUI: runOnUI, Tab: "events",
		TextureLifetime: 100 * time.Millisecond, ReleaseMemory: func() { released.Add(1) }})
	runOnUI(s.Start)
	t.Cleanup(s.Stop)
	eventually(t, "the defaults", func() bool { return len(s.list.rows()) == 4 })
	for range 5 * stormRows {
		if _, err := m.Emit(context.Background(), "response_received", map[string]any{"mission_id": "m1", "latency_ms": 5}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the storm in the stream", func() bool { return s.stream.seq+uint64(s.stream.notShown) >= 5*stormRows })
	hosttest.Eventually(t, uiWait, func() bool { return released.Load() >= 2 }, "two releases of memory after the storm")
	time.Sleep(4 * calmAfter)
	if n := released.Load(); n != 2 {
		t.Errorf("%d releases after one storm, want 2", n)
	}
}

// refreshRecorder is a canvas that records what is refreshed (the test
// driver's canvas ignores refreshes and paints everything on Capture).
type refreshRecorder struct {
	fyne.Canvas
	refreshed []fyne.CanvasObject
}

func (c *refreshRecorder) Refresh(o fyne.CanvasObject) { c.refreshed = append(c.refreshed, o) }

// TestFrameProbeCallsBackWhenPainted: asking for the next frame refreshes
// the probe (so that Fyne paints it again), and the function waiting for
// that frame is called when the window is painted, once.
func TestFrameProbeCallsBackWhenPainted(t *testing.T) {
	test.NewTempApp(t)
	p := newFrameProbe()
	w := test.NewWindow(p.object())
	defer w.Close()
	w.Canvas().Capture() // the first frame
	calls := 0
	c := &refreshRecorder{Canvas: w.Canvas()}
	p.next(c, func(time.Time) { calls++ })
	if len(c.refreshed) != 1 || c.refreshed[0] != p.raster {
		t.Errorf("refreshed %v, want the probe's raster", c.refreshed)
	}
	if calls != 0 {
		t.Fatalf("called %d times before a frame was painted", calls)
	}
	w.Canvas().Capture()
	w.Canvas().Capture()
	if calls != 1 {
		t.Errorf("called %d times after two frames, want once", calls)
	}
}
