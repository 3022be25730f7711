package studio

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/recording"
	"github.com/afstudio/afstudio/starhost"
)

// The event stream's Record… and Stop: the events the host dispatches
// from a front end (event notices of depth 0, not the follow-ups their
// handlers queue: a replay makes those again) are written to a recording
// (package recording, the format of afstudio replay and run --headless)
// as they come, by the goroutine that follows the host, not by the
// stream, which may drop events in a storm. The recording stops by
// itself at its size limit (Options.RecordLimit), which the dialog and
// the stream's status say.

// recorder writes the top-level events to one recording. follow writes
// (record), the UI reads its progress; it is safe for concurrent use.
type recorder struct {
	w      *recording.Writer
	start  time.Time
	missed atomic.Int64 // notices the studio's subscription dropped while it recorded
	full   atomic.Bool  // the limit stopped it
}

// record writes one event notice of depth 0; others are ignored. It
// reports whether the recording is full (then nothing more is written).
func (r *recorder) record(n starhost.Notice) (full bool) {
	if n.Kind != starhost.NoticeEvent || n.Depth != 0 {
		return false
	}
	data, err := json.Marshal(n.Data)
	if err == nil {
		err = r.w.Write(recording.Entry{Event: n.Event, Data: data, ID: n.ID, Time: n.Time.UTC()})
	}
	if errors.Is(err, recording.ErrFull) {
		r.full.Store(true)
		return true
	}
	return false
}

// progress says what the recording holds, for the stream's status.
func (r *recorder) progress() string {
	st := r.w.Stats()
	msg := fmt.Sprintf("%s, %s of %s", countNoun(st.Entries, "event", "events"), formatBytes(st.Bytes), formatBytes(r.w.Limit()))
	if m := r.missed.Load(); m > 0 {
		msg += fmt.Sprintf(" · the studio fell behind: up to %d events not recorded", m)
	}
	if st.Err != nil {
		msg += " · " + st.Err.Error()
	}
	return msg
}

// recordDialogs are the dialogs of Record… and Replay…; nil ones are
// Fyne's (see recordingDialogs). Tests replace them.
type recordDialogs struct {
	// start asks where to record, suggesting path, and says the limit;
	// done is not called when the user cancels.
	start func(path string, limit int64, done func(path string))
	// open asks for a recording to replay, suggesting path (the last
	// one recorded, or the recordings folder); done is not called when
	// the user cancels.
	open func(path string, done func(path string))
}

// recordingDialogs returns s.recDialogs with Fyne's dialogs in place of
// nil ones.
func (s *Studio) recordingDialogs() recordDialogs {
	d := s.recDialogs
	if d.start == nil {
		d.start = func(path string, limit int64, done func(string)) {
			file := widget.NewEntry()
			file.SetText(path)
			note := widget.NewLabel(fmt.Sprintf("Records every event sent to the host (not the follow-ups its integrations emit: a replay makes them again), "+
				"one JSON line each, until you press Stop or the file reaches %s.", formatBytes(limit)))
			note.Wrapping = fyne.TextWrapWord
			body := container.NewVBox(widget.NewLabel("Record the events into:"), file, note)
			dlg := dialog.NewCustomConfirm("Record events", "Start recording", "Cancel", body, func(ok bool) {
				if ok {
					done(file.Text)
				}
			}, s.win)
			showPathDialog(s.win, dlg, file)
		}
	}
	if d.open == nil {
		d.open = func(path string, done func(string)) {
			file := widget.NewEntry()
			file.SetText(path)
			choose := widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), func() {
				fd := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
					if err == nil && r != nil {
						_ = r.Close()
						file.SetText(r.URI().Path())
					}
				}, s.win)
				fd.Resize(fileDialogSize(s.win))
				fd.Show()
			})
			body := container.NewVBox(widget.NewLabel("Replay the events of the recording:"), container.NewBorder(nil, nil, nil, choose, file))
			dlg := dialog.NewCustomConfirm("Replay recording", "Open", "Cancel", body, func(ok bool) {
				if ok {
					done(file.Text)
				}
			}, s.win)
			showPathDialog(s.win, dlg, file)
		}
	}
	return d
}

// showPathDialog shows a dialog that asks for a path in entry file, with
// the entry focused: Enter confirms.
func showPathDialog(w fyne.Window, dlg *dialog.ConfirmDialog, file *widget.Entry) {
	file.OnSubmitted = func(string) { dlg.Confirm() }
	dlg.Resize(fyne.NewSize(640, 0))
	dlg.Show()
	w.Canvas().Focus(file)
}

// recordLimit is the size limit of a recording (Options.RecordLimit).
func (s *Studio) recordLimit() int64 {
	if s.opts.RecordLimit > 0 {
		return s.opts.RecordLimit
	}
	return recording.DefaultLimit
}

// recordingsDir is where recordings go unless the user says otherwise:
// Options.RecordingsDir, or ~/afstudio/recordings.
func (s *Studio) recordingsDir() string {
	if s.opts.RecordingsDir != "" {
		return s.opts.RecordingsDir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, "afstudio", "recordings")
}

// defaultRecording is where a recording goes unless the user says
// otherwise: Options.RecordingsDir (~/afstudio/recordings), named for now.
func (s *Studio) defaultRecording() string {
	return filepath.Join(s.recordingsDir(), time.Now().Format("2006-01-02-150405")+".jsonl")
}

// toggleRecording starts a recording (Record…, after its dialog) or
// stops the one running (Stop).
func (s *Studio) toggleRecording() {
	if r := s.recView; r != nil {
		s.stopRecording(r, false)
		return
	}
	limit := s.recordLimit()
	s.recordingDialogs().start(s.defaultRecording(), limit, func(path string) {
		s.wg.Go(func() {
			err := os.MkdirAll(filepath.Dir(path), 0o755)
			var w *recording.Writer
			if err == nil {
				w, err = recording.Create(path, limit)
			}
			s.do(func() {
				if err != nil {
					s.report("Cannot record", err)
					return
				}
				r := &recorder{w: w, start: time.Now()}
				s.recView = r
				s.rec.Store(r)
				s.stream.setRecording(fmt.Sprintf("Recording to %s: %s", path, r.progress()), true)
			})
		})
	})
}

// stopRecording ends recording r: Stop, or its limit (full). The file is
// closed off the UI goroutine; the stream then says what it holds.
func (s *Studio) stopRecording(r *recorder, full bool) {
	s.rec.CompareAndSwap(r, nil)
	s.recView = nil
	s.lastRecording = r.w.Path()
	s.stream.setRecording("Stopping the recording…", false)
	s.wg.Go(func() {
		err := r.w.Close()
		s.do(func() {
			why := "Recorded"
			if full {
				why = fmt.Sprintf("Stopped at the size limit (%s):", formatBytes(r.w.Limit()))
			}
			msg := fmt.Sprintf("%s %s in %s", why, r.progress(), r.w.Path())
			if err != nil {
				msg += ": " + err.Error()
			}
			s.stream.setRecording(msg, false)
			s.status.message(msg)
		})
	})
}

// showRecording updates the stream's recording status (UI goroutine,
// with each batch of notices): the count and size, or the end at the
// limit.
func (s *Studio) showRecording() {
	r := s.recView
	if r == nil {
		return
	}
	if r.full.Load() {
		s.stopRecording(r, true)
		return
	}
	s.stream.setRecording(fmt.Sprintf("Recording to %s: %s", r.w.Path(), r.progress()), true)
}

// recordButton is the stream's Record…/Stop button.
func newRecordButton(tapped func()) *widget.Button {
	return widget.NewButtonWithIcon("Record…", theme.MediaRecordIcon(), tapped)
}
