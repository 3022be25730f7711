package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/afstudio/afstudio/blackbox"
	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/statestore"
)

// dirList is a repeatable --dir flag.
type dirList []string

func (d *dirList) String() string     { return strings.Join(*d, ",") }
func (d *dirList) Set(v string) error { *d = append(*d, v); return nil }

// hostFlags are the flags every command that loads a host shares.
type hostFlags struct {
	dirs       dirList
	noDefaults bool
	state      *stateFlags // nil for commands whose host keeps no state (emit without --id)
	// startNotices are what newManager found before the host existed
	// (a damaged state file kept aside), for the front end to publish once
	// it follows the host (publishStart).
	startNotices []starhost.Notice
	// recorder and quarantine are set in a supervised worker (see
	// startWorker): starhost.Options.Recorder and Quarantine.
	recorder   *blackbox.Recorder
	quarantine map[string]string
	// files are single module files loaded with the folders (run --file).
	files dirList
	// parallel is starhost.Options.Parallel (1 in a worker told to run
	// one call at a time; 0 otherwise).
	parallel int
	// onEvent is starhost.Options.OnEvent (run --record).
	onEvent func(starhost.AcceptedEvent)
}

func (h *hostFlags) register(fs *flag.FlagSet) {
	fs.Var(&h.dirs, "dir", "load the integrations in folder `DIR` (repeatable); they override defaults of the same name")
	fs.BoolVar(&h.noDefaults, "no-defaults", false, "do not load the embedded default integrations (their lib/ libraries stay loadable)")
}

// registerWithState registers the flags and those of stateFlags, for the
// long-running commands.
func (h *hostFlags) registerWithState(fs *flag.FlagSet) {
	h.register(fs)
	h.state = new(stateFlags)
	h.state.register(fs)
}

// open creates a manager and loads the integrations (see loadReporting).
func (h *hostFlags) open(ctx context.Context, stderr io.Writer, log *slog.Logger) (*starhost.Manager, error) {
	m, _, err := h.newManager(log)
	if err != nil {
		return nil, err
	}
	loadReporting(ctx, m, stderr)
	return m, nil
}

// publishStart publishes the start notices to m's subscribers: call it
// once the front end follows the host.
func (h *hostFlags) publishStart(m *starhost.Manager) {
	for _, n := range h.startNotices {
		m.Notify(n)
	}
}

// newManager creates a manager for the flags, with nothing loaded, and
// the function to call when it stops: it writes the last states and
// closes the state store (see stateFlags).
func (h *hostFlags) newManager(log *slog.Logger) (m *starhost.Manager, stop func() error, err error) {
	opts := starhost.Options{Roots: h.dirs, Logger: log, Defaults: integrations.FS, SkipDefaultIntegrations: h.noDefaults,
		Recorder: h.recorder, Quarantine: h.quarantine, Modules: h.files, Parallel: h.parallel, OnEvent: h.onEvent}
	store := (*statestore.Store)(nil)
	if h.state != nil {
		var aside string
		if store, aside, err = h.state.open(&opts); err != nil {
			return nil, nil, err
		}
		if aside != "" {
			n := starhost.Notice{Kind: starhost.NoticeLog, Level: "error", Message: fmt.Sprintf(
				"the state file %s could not be read; it was kept as %s and the integrations start with empty state", store.Path(), aside)}
			h.startNotices = append(h.startNotices, n)
		}
	}
	if m, err = starhost.New(opts); err != nil {
		if store != nil {
			store.Close()
		}
		return nil, nil, err
	}
	return m, func() error { return closeState(m, store) }, nil
}

// loadReporting loads the defaults and folders. Load problems are written
// to stderr, one PATH:LINE:COL line each; the host still serves everything
// that loaded.
func loadReporting(ctx context.Context, m *starhost.Manager, stderr io.Writer) {
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		v := m.Snapshot()
		for _, fm := range v.FailedModules {
			for _, d := range fm.Errors {
				fmt.Fprintln(stderr, d.Error())
			}
		}
		for _, in := range v.Integrations {
			if in.LastError != nil {
				fmt.Fprintln(stderr, in.LastError.Error())
			}
		}
		if len(v.FailedModules) == 0 {
			fmt.Fprintln(stderr, err)
		}
	}
}

// newLogger returns the text logger of the long-running commands.
func newLogger(stderr io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}
