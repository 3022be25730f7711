package studio

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/recording"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// echoSrc counts pings in its state and emits a follow-up for each.
const echoSrc = `def on_ping(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    ctx.emit("pong", {"n": ctx.state["n"]})
    return ctx.state["n"]

def on_pong(event, ctx):
    return "pong"

integration(name = "echo", handlers = {"ping": on_ping, "pong": on_pong})
`

// recordStudio is a studio over echo whose Record… dialog answers with
// a file in a temporary folder (returned) and reports the limit it said.
func recordStudio(t *testing.T) (*Studio, *starhost.Manager, string, *int64) {
	t.Helper()
	s, m, _, _ := newTestStudio(t, map[string]string{"echo.star": echoSrc})
	path := filepath.Join(t.TempDir(), "sub", "rec.jsonl")
	var said int64
	runOnUI(func() {
		s.recDialogs.start = func(suggested string, limit int64, done func(string)) {
			said = limit
			done(path)
		}
	})
	return s, m, path, &said
}

// TestRecordAndStop: Record… writes every event sent to the host (not
// the follow-ups) to the file, showing the count and size as it goes;
// Stop closes it and says what it holds.
func TestRecordAndStop(t *testing.T) {
	s, m, path, said := recordStudio(t)
	runOnUI(func() { test.Tap(s.stream.recordBtn) })
	eventually(t, "the recording started", func() bool { return s.stream.recordBtn.Text == "Stop" })
	if *said != recording.DefaultLimit {
		t.Errorf("the dialog said a limit of %d; want recording.DefaultLimit", *said)
	}
	for i := range 3 {
		hosttest.Emit(t, m, "ping", map[string]any{"i": i})
	}
	eventually(t, "the count and size while recording", func() bool {
		return strings.HasPrefix(s.stream.recordMsg.Text, "Recording to "+path+": 3 events, ") &&
			strings.HasSuffix(s.stream.recordMsg.Text, " of 256 MiB")
	})
	runOnUI(func() { test.Tap(s.stream.recordBtn) })
	eventually(t, "the recording stopped", func() bool {
		return s.stream.recordBtn.Text == "Record…" && strings.HasPrefix(s.stream.recordMsg.Text, "Recorded 3 events, ")
	})
	hosttest.Emit(t, m, "ping", map[string]any{"i": 9}) // after Stop: not recorded
	var suggested string
	runOnUI(func() {
		s.recDialogs.open = func(p string, _ func(string)) { suggested = p }
		test.Tap(s.console.replayFile)
	})
	eventually(t, "Replay recording… suggesting the recording", func() bool { return suggested == path })
	entries, err := recording.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("recorded %d entries, want the 3 pings (no pongs, nothing after Stop): %+v", len(entries), entries)
	}
	for i, e := range entries {
		if e.Event != "ping" || string(e.Data) != `{"i":`+string(rune('0'+i))+`}` || e.Time.IsZero() {
			t.Errorf("entry %d: %s %s %v", i, e.Event, e.Data, e.Time)
		}
	}
}

// TestRecordStopsAtItsLimit: a recording that reaches its size limit
// stops by itself and says so; the file holds whole lines under it.
func TestRecordStopsAtItsLimit(t *testing.T) {
	s, m, path, said := recordStudio(t)
	runOnUI(func() { s.opts.RecordLimit = 300 })
	runOnUI(func() { test.Tap(s.stream.recordBtn) })
	eventually(t, "the recording started", func() bool { return s.stream.recordBtn.Text == "Stop" })
	if *said != 300 {
		t.Errorf("the dialog said a limit of %d; want 300", *said)
	}
	for i := range 10 {
		hosttest.Emit(t, m, "ping", map[string]any{"i": i})
	}
	eventually(t, "the stop at the limit", func() bool {
		return s.stream.recordBtn.Text == "Record…" && strings.HasPrefix(s.stream.recordMsg.Text, "Stopped at the size limit (300 B): ")
	})
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := recording.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 300 || len(entries) == 0 || len(entries) >= 10 {
		t.Fatalf("file of %d bytes with %d entries; want at most 300 bytes, some but not all 10 events", st.Size(), len(entries))
	}
}

// writeRecording writes n pings to a recording and returns its path.
func writeRecording(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	w, err := recording.Create(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		data, _ := json.Marshal(map[string]any{"i": i})
		if err := w.Write(recording.Entry{Event: "ping", Data: data, Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// echoCount is echo's count of pings, from its state.
func echoCount(t *testing.T, m *starhost.Manager) string {
	t.Helper()
	b, err := m.StateJSON("echo")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReplayRecording: Replay recording… asks first, naming the count;
// a No sends nothing; a Yes sends every event (their follow-ups made
// again by the handlers) and shows a summary.
func TestReplayRecording(t *testing.T) {
	s, m, _, _ := newTestStudio(t, map[string]string{"echo.star": echoSrc})
	path := writeRecording(t, 4)
	var asked []string
	yes := false
	runOnUI(func() {
		s.recDialogs.open = func(_ string, done func(string)) { done(path) }
		s.confirm = func(title, msg string, ok func()) {
			asked = append(asked, msg)
			if yes {
				ok()
			}
		}
	})
	runOnUI(func() { test.Tap(s.console.replayFile) })
	eventually(t, "the question", func() bool { return len(asked) == 1 })
	if want := "Replaying 4 events into the running host changes its integrations' state. Replay?"; asked[0] != want {
		t.Fatalf("asked %q, want %q", asked[0], want)
	}
	time.Sleep(100 * time.Millisecond)
	if got := echoCount(t, m); got != "{}" {
		t.Fatalf("after a No, echo's state is %s; want {}", got)
	}

	runOnUI(func() { yes = true; test.Tap(s.console.replayFile) })
	defer func() {
		if t.Failed() {
			t.Logf("summary %q", s.console.summary.Text)
		}
	}()
	eventually(t, "the summary", func() bool {
		return strings.HasPrefix(s.console.summary.Text, "Replayed 4 of 4 events in ") &&
			strings.HasSuffix(s.console.summary.Text, " calls, 0 failed") // echo and the defaults that take every event && s.console.replayFile.Text == "Replay recording…"
	})
	if got := echoCount(t, m); got != `{"n":4}` {
		t.Fatalf("after the replay, echo's state is %s; want {\"n\":4}", got)
	}
}

// TestReplayBadRecording: a recording with a bad line is refused with
// its position, before anything is sent.
func TestReplayBadRecording(t *testing.T) {
	s, m, _, notes := newTestStudio(t, map[string]string{"echo.star": echoSrc})
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	hosttest.WriteFile(t, path, `{"event":"ping","data":{}}`+"\n"+`{"event": ping}`+"\n")
	runOnUI(func() { s.recDialogs.open = func(_ string, done func(string)) { done(path) } })
	runOnUI(func() { test.Tap(s.console.replayFile) })
	eventually(t, "the error", func() bool {
		return len(*notes) == 1 && strings.Contains((*notes)[0], path+":2:")
	})
	if _, err := m.Emit(context.Background(), "noop", nil); err != nil {
		t.Fatal(err)
	}
	if got := echoCount(t, m); got != "{}" {
		t.Fatalf("a bad recording sent events: echo's state is %s", got)
	}
}
