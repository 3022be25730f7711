package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/afstudio/afstudio/jsondiff"
	"github.com/afstudio/afstudio/recording"
	"github.com/afstudio/afstudio/starhost"
)

// replayFlags are the flags of `afstudio replay`.
type replayFlags struct {
	hostFlags
	speed     float64
	fastest   bool
	asJSON    bool
	stateFile string
}

func (f *replayFlags) register(fs *flag.FlagSet) {
	f.hostFlags.register(fs)
	fs.Float64Var(&f.speed, "speed", 0, "replay at `N` times the recorded pace (1: as fast as the events came; 0: as fast as possible)")
	fs.BoolVar(&f.fastest, "as-fast-as-possible", false, "send each event as soon as the previous one is handled, whatever the recorded times (the default)")
	fs.BoolVar(&f.asJSON, "json", false, "print each handler call as the result line run --headless writes (JSON), and the summary on stderr")
	fs.StringVar(&f.stateFile, "state", "", "start the integrations with the states in `FILE` (written by afstudio state export or the studio's Export state…) instead of empty ones")
}

// replayStats count what a replay did.
type replayStats struct {
	events, calls, failed, refused, duplicates int
}

// cmdReplay feeds a recording to a fresh host (no state file, no API) and
// prints every handler call's result and a summary. Exit status 1 when a
// handler failed or an event was refused, 2 for a bad recording.
func cmdReplay(ctx context.Context, args []string, std stdio) error {
	var f replayFlags
	fs := newFlagSet("replay", std.stderr)
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return badUsage(fs)
	}
	if f.speed < 0 || f.speed > 0 && f.fastest {
		return usagef("--speed %v: give a speed above 0 (1 is the recorded pace), or --as-fast-as-possible, not both", f.speed)
	}
	path := fs.Arg(0)
	n, err := checkRecording(path)
	if err != nil {
		return err
	}
	m, _, err := f.newManager(newLogger(std.stderr, slog.LevelError))
	if err != nil {
		return err
	}
	loadReporting(ctx, m, std.stderr)
	if err := f.importStates(ctx, m); err != nil {
		return err
	}
	out := newReplayPrinter(std.stdout, f.asJSON)
	start := time.Now()
	st, err := replay(ctx, m, path, f.speed, out, std.stderr)
	took := time.Since(start)
	summary := std.stdout
	if f.asJSON {
		summary = std.stderr
	}
	fmt.Fprintf(summary, "replayed %d of %d events from %s in %s (%.0f events/s): %d handler calls, %d failed; %d events refused, %d duplicates\n",
		st.events, n, path, took.Round(10*time.Microsecond), float64(st.events)/took.Seconds(), st.calls, st.failed, st.refused, st.duplicates)
	if err != nil {
		return err
	}
	if st.failed > 0 || st.refused > 0 {
		return exitStatus(1)
	}
	return nil
}

// checkRecording reads the whole recording at path and returns how many
// events it holds; a bad line is a usage error (exit status 2) naming
// FILE:LINE:COL.
func checkRecording(path string) (int, error) {
	n := 0
	err := eachEntry(path, func(int, recording.Entry) error { n++; return nil })
	var le *recording.LineError
	if errors.As(err, &le) {
		return n, usagef("%v", err)
	}
	return n, err
}

// eachEntry is recording.Each, with a file that cannot be opened a usage
// error (exit status 2).
func eachEntry(path string, fn func(line int, e recording.Entry) error) error {
	err := recording.Each(path, fn)
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		return usagef("%v", err)
	}
	return err
}

// importStates gives the integrations the states of --state, if given.
func (f *replayFlags) importStates(ctx context.Context, m *starhost.Manager) error {
	if f.stateFile == "" {
		return nil
	}
	data, err := os.ReadFile(f.stateFile)
	if err != nil {
		return usagef("--state: %v", err)
	}
	export, err := starhost.ReadStateExport(data)
	if err != nil {
		return usagef("--state %s: %v", f.stateFile, err)
	}
	if err := m.ImportStates(ctx, export.States()); err != nil {
		return usagef("--state %s: %v", f.stateFile, err)
	}
	return nil
}

// replay emits every entry of the recording at path to m, at speed times
// the recorded pace (0: as fast as possible), and prints each result.
func replay(ctx context.Context, m *starhost.Manager, path string, speed float64, out *replayPrinter, stderr io.Writer) (replayStats, error) {
	var st replayStats
	var first time.Time
	start := time.Now()
	err := eachEntry(path, func(line int, e recording.Entry) error {
		if speed > 0 && !e.Time.IsZero() {
			if first.IsZero() {
				first = e.Time
			}
			if err := sleepUntil(ctx, start.Add(time.Duration(float64(e.Time.Sub(first))/speed))); err != nil {
				return err
			}
		}
		data, err := starhost.DecodeEventData(e.Data)
		if err == nil {
			var rs []starhost.Result
			rs, err = m.EmitID(ctx, e.ID, e.Event, data)
			st.events++
			for _, r := range rs {
				st.calls++
				if !r.OK {
					st.failed++
				}
				if err := out.print(line, e.ID, r); err != nil {
					return err
				}
			}
		}
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("replay interrupted at %s:%d: %w", path, line, ctx.Err())
		case errors.Is(err, starhost.ErrDuplicateEvent):
			st.duplicates++
		case err != nil:
			st.refused++
			fmt.Fprintf(stderr, "%s:%d:1: event %q refused: %v\n", path, line, e.Event, err)
		}
		return nil
	})
	return st, err
}

// sleepUntil waits until t or the end of ctx.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A replayPrinter prints a replay's results: as text, one call a line
// ("LINE EVENT INTEGRATION ok VALUE"), or as the result notices of run
// --headless.
type replayPrinter struct {
	w      io.Writer
	enc    *json.Encoder
	asJSON bool
}

func newReplayPrinter(w io.Writer, asJSON bool) *replayPrinter {
	return &replayPrinter{w: w, enc: json.NewEncoder(w), asJSON: asJSON}
}

// print prints the result r of the event on line of the recording.
func (p *replayPrinter) print(line int, id string, r starhost.Result) error {
	if p.asJSON {
		n := r.Notice()
		n.Time, n.ID = time.Now(), id
		return p.enc.Encode(n)
	}
	event := r.Event
	if r.Depth > 0 {
		event += fmt.Sprintf(" (follow-up, depth %d)", r.Depth)
	}
	outcome := "ok " + jsondiff.Format(r.Value)
	if r.Error != nil {
		outcome = "failed " + r.Error.Error()
	}
	_, err := fmt.Fprintf(p.w, "%d %s %s %s\n", line, event, r.Integration, outcome)
	return err
}
