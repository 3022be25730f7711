package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/afstudio/afstudio/recording"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/supervise"
)

// recordFlags are run --headless's --record and --record-limit.
type recordFlags struct {
	path  string
	limit fileSize
}

// fileSize is a flag holding a size in bytes: "64MiB", "1GiB", "512KiB",
// "1024" (also GB, MB, KB, G, M, K as powers of 1024); 0 for no limit.
type fileSize int64

func (s *fileSize) String() string {
	if *s == 0 {
		return "0"
	}
	return strings.ReplaceAll(supervise.FormatBytes(int64(*s)), " ", "")
}

func (s *fileSize) Set(v string) error {
	units := []struct {
		suffix string
		shift  uint
	}{{"GIB", 30}, {"MIB", 20}, {"KIB", 10}, {"GB", 30}, {"MB", 20}, {"KB", 10}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0}}
	num, shift := strings.ToUpper(strings.TrimSpace(v)), uint(0)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(rest), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return fmt.Errorf("%q is not a size: write a whole number of bytes with a unit, e.g. 64MiB or 1GiB (0: no limit)", v)
	}
	*s = fileSize(n << shift)
	return nil
}

func (r *recordFlags) register(fs *flag.FlagSet) {
	r.limit = recording.DefaultLimit
	fs.StringVar(&r.path, "record", "", "record every event the host is sent (on stdin or the control API; not the follow-ups) to `FILE`, one JSON line each, replayable with afstudio replay or run --headless < FILE; FILE is replaced")
	fs.Var(&r.limit, "record-limit", "stop recording when the --record file would grow past `SIZE` (e.g. 64MiB; 0: no limit); the events left out are counted and reported")
}

// An eventRecorder writes the events a host accepts to a recording
// (starhost.Options.OnEvent), and says so once when the recording is full
// or cannot be written.
type eventRecorder struct {
	w      *recording.Writer
	log    *slog.Logger
	notify func(starhost.Notice) // set once the host exists, before any event
	warned atomic.Bool
}

// startRecording opens the --record file: created (replaced) by the
// process that owns the recording, appended to by a supervisor's worker,
// which continues it after a predecessor that died. nil without --record.
func (r *recordFlags) startRecording(appendTo bool, log *slog.Logger) (*eventRecorder, error) {
	if r.path == "" {
		return nil, nil
	}
	open := recording.Create
	if appendTo {
		open = recording.Append
	}
	w, err := open(r.path, int64(r.limit))
	if err != nil {
		return nil, fmt.Errorf("--record %s: %w", r.path, err)
	}
	return &eventRecorder{w: w, log: log}, nil
}

// attach opens the --record file (see startRecording) and makes the
// host's manager tell it of every event it accepts; nil without --record.
func (r *recordFlags) attach(h *hostFlags, appendTo bool, log *slog.Logger) (*eventRecorder, error) {
	rec, err := r.startRecording(appendTo, log)
	if rec != nil {
		h.onEvent = rec.record
	}
	return rec, err
}

// follow publishes the recorder's warnings to m's notice stream; call it
// before m handles events. A nil recorder does nothing.
func (er *eventRecorder) follow(m *starhost.Manager) {
	if er != nil {
		er.notify = m.Notify
	}
}

// record writes one accepted event: starhost.Options.OnEvent.
func (er *eventRecorder) record(e starhost.AcceptedEvent) {
	data, err := json.Marshal(e.Data)
	if err == nil {
		err = er.w.Write(recording.Entry{Event: e.Event, Data: data, ID: e.ID, Time: e.Time.UTC()})
	}
	if err == nil || !er.warned.CompareAndSwap(false, true) {
		return
	}
	msg := fmt.Sprintf("the recording %s cannot take event %q: %v; this and later events are not recorded (the count is logged at the end)", er.w.Path(), e.Event, err)
	if errors.Is(err, recording.ErrFull) {
		limit := fileSize(er.w.Limit())
		msg = fmt.Sprintf("the recording %s reached its limit of %s: event %q and later events are not recorded (the count is logged at the end); raise --record-limit to record more",
			er.w.Path(), limit.String(), e.Event)
	}
	er.log.Warn(msg)
	if er.notify != nil {
		er.notify(starhost.Notice{Kind: starhost.NoticeLog, Level: "warn", Message: msg})
	}
}

// close closes the recording and logs what it holds and what it left
// out.
func (er *eventRecorder) close() error {
	if er == nil {
		return nil
	}
	err := er.w.Close()
	st := er.w.Stats()
	if st.Dropped > 0 {
		er.log.Warn("events not recorded", "file", er.w.Path(), "recorded", st.Entries, "not_recorded", st.Dropped, "bytes", st.Bytes)
	} else {
		er.log.Info("recording closed", "file", er.w.Path(), "recorded", st.Entries, "bytes", st.Bytes)
	}
	return err
}
