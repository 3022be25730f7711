package main

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/afstudio/afstudio/internal/screen"
	"github.com/afstudio/afstudio/recording"
)

// TestWindowRecordReplay records and replays in the real window: Record…
// in the event stream records the events sent to the studio's control
// API (the screen shows the count while it records, and what it holds
// after Stop); Replay recording… in the event console suggests that
// recording, asks before it changes state (naming the count), and shows
// the replay's summary.
func TestWindowRecordReplay(t *testing.T) {
	st := startStudioTest(t)
	st.write(filepath.Join(st.dir, "meter.star"), meterWindowSrc(35, 1))
	addr := freePort(t)
	st.start("--no-defaults", "--dir", st.dir, "--data", filepath.Join(st.home, "data"), "--listen", addr)
	p := st.waitFor("meter live", st.shows(on{"meter", "g1"}, on{"Event stream"}))

	st.click(p, "the Event stream tab", regexp.MustCompile(`(?i)(event)?stream`))
	p = st.waitFor("the event stream", st.shows(on{"Record"}, on{"Pause"}))
	st.click(p, "the Record… button", regexp.MustCompile(`(?i)record\W*`))
	st.waitFor("the Record events dialog with its limit", st.shows(on{"Record the events into"}, on{"256 MiB"}))
	st.do(st.d.Key(st.ctx, "Return")) // the path is focused: Enter starts (OCR misses the blue button's label)
	st.waitFor("the recording running", st.shows(on{"Recording to", "0 events"}, on{"Stop"}))

	c := apiClient(t, st, addr)
	for range 3 {
		if _, err := c.Emit(st.ctx, "ping", map[string]any{"mission_id": "m7"}); err != nil {
			t.Fatal(err)
		}
	}
	p = st.waitFor("the count while recording", st.shows(on{"Recording to", "3 events"}))
	st.click(p, "the Stop button", screen.Loose("Stop"))
	st.waitFor("what the recording holds", st.shows(on{"Recorded 3 events"}, on{"Record"}))
	recs, err := filepath.Glob(filepath.Join(st.home, "afstudio", "recordings", "*.jsonl"))
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings in ~/afstudio/recordings: %v, %v; want one", recs, err)
	}
	if entries, err := recording.ReadFile(recs[0]); err != nil || len(entries) != 3 {
		t.Fatalf("the recording holds %d entries (%v); want the 3 pings", len(entries), err)
	}

	p = st.waitFor("the event console tab", st.shows(on{"Event console"}))
	st.click(p, "the Event console tab", regexp.MustCompile(`(?i)(event)?console`))
	p = st.waitFor("the console", st.shows(on{"Replay", "recording"}))
	st.click(p, "Replay recording…", regexp.MustCompile(`(?i)recording\W*`))
	st.waitFor("the replay dialog suggesting the recording", st.shows(on{"Replay the events of the recording"}, on{"afstudio/recordings"}))
	st.do(st.d.Key(st.ctx, "Return")) // Open
	p = st.waitFor("the question before the replay", st.shows(on{"Replaying 3 events into the running host"}))
	no, ok := p.FindWord(st.ctx, regexp.MustCompile(`(?i)x?no`)) // its icon may read as an x
	if !ok {
		t.Fatalf("the No button is not on the screen (%s):\n%s", p.Shot, p.Text())
	}
	st.do(st.d.Click(st.ctx, no.X+no.W+60, no.Y+no.H/2)) // Yes, right of No (OCR misses the blue button's label)
	// The status bar says it too, in a colour OCR reads better than the results header's grey.
	st.waitFor("the replay's summary", st.shows(on{"Replayed 3 of 3 events in", "3 calls"}))
}
