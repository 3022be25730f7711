package studio

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/recording"
	"github.com/afstudio/afstudio/starhost"
)

// The event console's Replay recording…: a recording (package recording:
// the stream's Record…, run --headless --record) is read, and after a
// confirmation (it changes the integrations' state) its events are sent
// to the running host one after the other, as fast as it takes them (not
// at the recorded pace: afstudio replay does that), through Host.Emit;
// their follow-ups are made again by the handlers. Events are sent
// without their ids, so that a host that has handled them already
// handles them again. The console shows the progress and a summary; the
// button stops a replay that runs.

// replayProgressEvery is how often a replay shows its progress, at most.
const replayProgressEvery = 100 * time.Millisecond

// replayTally counts what a replay did.
type replayTally struct {
	sent, notSent, calls, failed int
	firstErr                     error // of the first event not sent
}

// add counts one event's outcome.
func (t *replayTally) add(results []starhost.Result, err error) {
	if err != nil && len(results) == 0 {
		t.notSent++
		if t.firstErr == nil {
			t.firstErr = err
		}
		return
	}
	t.sent++
	t.calls += len(results)
	for _, r := range results {
		if !r.OK {
			t.failed++
		}
	}
}

// newReplayButton is the console's Replay recording… button.
func newReplayButton(tapped func()) *widget.Button {
	return widget.NewButtonWithIcon("Replay recording…", theme.MediaFastForwardIcon(), tapped)
}

// replayRecording replays a recording the user picks, or stops the
// replay that runs.
func (s *Studio) replayRecording() {
	if s.replayStop != nil {
		s.replayStop()
		return
	}
	suggested := s.lastRecording
	if suggested == "" {
		suggested = s.recordingsDir() + string(filepath.Separator)
	}
	s.recordingDialogs().open(suggested, func(path string) {
		s.wg.Go(func() {
			// Counted (and checked) first, off the UI goroutine, without
			// holding the events: a recording may be large.
			n := 0
			err := recording.Each(path, func(int, recording.Entry) error { n++; return nil })
			s.do(func() {
				if err != nil {
					s.report("Cannot replay "+filepath.Base(path), err)
					return
				}
				if n == 0 {
					s.notify("Replay", path+" holds no events.")
					return
				}
				s.confirm("Replay recording", fmt.Sprintf("Replaying %s into the running host changes its integrations' state. Replay?",
					countNoun(int64(n), "event", "events")), func() { s.startReplay(path, n) })
			})
		})
	})
}

// startReplay sends the n events of the recording at path to the host on
// a goroutine, showing the progress in the console (UI goroutine).
func (s *Studio) startReplay(path string, n int) {
	ctx, cancel := context.WithCancel(s.ctx)
	s.replayStop = cancel
	s.console.setReplaying(true, fmt.Sprintf("Replaying %s: 0 of %d events…", filepath.Base(path), n))
	s.wg.Go(func() {
		defer cancel()
		start := time.Now()
		var t replayTally
		last := start
		err := recording.Each(path, func(line int, e recording.Entry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			data, err := starhost.DecodeEventData(e.Data)
			var results []starhost.Result
			if err == nil {
				sendCtx, done := context.WithTimeout(ctx, sendTimeout)
				results, err = s.m.Emit(sendCtx, e.Event, data)
				done()
			}
			t.add(results, err)
			if now := time.Now(); now.Sub(last) >= replayProgressEvery {
				last = now
				msg := fmt.Sprintf("Replaying %s: %d of %d events…", filepath.Base(path), line, n)
				s.do(func() { s.console.setReplaying(true, msg) })
			}
			return nil
		})
		stopped := ctx.Err() != nil && s.ctx.Err() == nil
		msg := replaySummary(n, t, time.Since(start), stopped)
		if err != nil && !stopped {
			msg += "; " + err.Error()
		}
		s.do(func() {
			s.replayStop = nil
			s.console.setReplaying(false, msg)
			s.status.message(filepath.Base(path) + ": " + msg)
		})
	})
}

// replaySummary says what a replay of n events did.
func replaySummary(n int, t replayTally, took time.Duration, stopped bool) string {
	msg := fmt.Sprintf("Replayed %d of %d events in %s: %s, %d failed", t.sent, n, formatDuration(took),
		countNoun(int64(t.calls), "call", "calls"), t.failed)
	if t.notSent > 0 {
		msg += fmt.Sprintf("; %d not sent (the first: %v)", t.notSent, t.firstErr)
	}
	if stopped {
		msg += "; stopped"
	}
	return msg
}
