package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/afstudio/afstudio/control/instance"
	"github.com/afstudio/afstudio/internal/fynecache"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/studio"
)

// studioOptions are the flags of the studio window (no command).
type studioOptions struct {
	host        hostFlags
	noWatch     bool
	tab         string
	sel         string
	listen      string
	allowRemote bool
	worker      workerFlags
	connect     string // a host elsewhere to show
	tokenFile   string
	// saved hands the watcher's batches to the window, for its tests on
	// save (studiotests.go); nil hands nothing.
	saved *savedFiles
}

func (o *studioOptions) register(fs *flag.FlagSet) {
	o.host.registerWithState(fs)
	fs.BoolVar(&o.noWatch, "no-watch", false, "do not watch the integration folders")
	fs.StringVar(&o.tab, "tab", "details", "the `TAB` to show first: details, console, events, log, settings, or cluster (attached to a cluster host)")
	fs.StringVar(&o.sel, "select", "", "the integration `NAME` to select first")
	registerListen(fs, &o.listen, &o.allowRemote, "serve the control API on `ADDR` (also switchable in the Settings tab), e.g. 127.0.0.1:7777")
	o.worker.registerLimit(fs)
	fs.StringVar(&o.connect, "connect", "", "show the host whose control API is at `URL` (e.g. http://server:7777, a run --headless --listen elsewhere; of a cluster host, one partition at a time, URL/p/N for partition N) instead of running integrations here")
	fs.StringVar(&o.tokenFile, "token-file", "", "with --connect, read the host's token (afstudio token on its machine) from `FILE` (default $AFSTUDIO_TOKEN, else this user's token)")
}

// cmdStudio opens the studio window: `afstudio [flags] [FILE.star...]`.
// The files are added (and remembered) as if dropped on the window; when
// a studio already runs for this user, it gets them instead.
func cmdStudio(ctx context.Context, args []string, std stdio) error {
	var o studioOptions
	fs := newFlagSet("", std.stderr)
	o.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	files, err := starFiles(fs.Args())
	if err != nil {
		return err
	}
	log := newLogger(std.stderr, slog.LevelInfo)
	if handed, err := handOff(ctx, files, log); handed || err != nil {
		return err
	}
	if err := checkDisplay(); err != nil {
		return err
	}
	a := newApp()
	if !flagGiven(fs, "memory-limit") {
		o.worker.limitFromSetting(studio.MemoryLimitSetting(a.Preferences()), log)
	}
	hctx, stopHost := context.WithCancel(ctx)
	defer stopHost()
	o.saved = &savedFiles{}
	sh, err := o.openHost(hctx, a.Preferences(), std, log)
	if err != nil {
		return err
	}
	defer sh.stop()
	sopts := studio.Options{Dirs: o.host.dirs, Files: files, Tab: o.tab, Select: o.sel, Logger: log, HostLabel: sh.label, MemoryLimit: sh.memoryLimit,
		TextureLifetime: fynecache.Lifetime(), ReleaseMemory: releaseCMemory, TraceUI: traceUI(os.Getenv(envTraceUI), log),
		RunTests: runStudioTests, Cluster: sh.cluster}
	if sh.api != nil {
		sopts.API = sh.api // stopped by sh.stop
	}
	s := studio.New(a, sh.host, sh.w, sopts)
	*sh.open = s.OpenFiles
	o.saved.set(s.FilesSaved)
	a.Lifecycle().SetOnStarted(sh.started) // the studio follows the host by then
	if sh.api != nil {
		defer instance.Serve(sh.handoff, log)()
		serveAPIAtStart(sh.api, o.listen, a.Preferences(), log)
	}
	defer closeOnSignal(ctx, s.Window())()
	log.Info("studio window open", "integrations", len(sh.host.Names()), "folders", o.host.dirs)
	s.ShowAndRun()
	return nil
}

// envTraceUI, when set to anything, has the studio log how fast each
// user action showed (studio.UITrace): one "ui action" line on standard
// error per selection or tab switch. scripts/studio-under-load.sh reads
// them.
const envTraceUI = "AFSTUDIO_TRACE_UI"

// traceUI returns the studio's Options.TraceUI for the value of
// envTraceUI: nil when it is empty, else a function that logs each
// action with when its callback ran (Unix µs, to line it up with the
// click that caused it) and the milliseconds to its result shown and to
// the next frame painted.
func traceUI(env string, log *slog.Logger) func(studio.UITrace) {
	if env == "" {
		return nil
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	return func(tr studio.UITrace) {
		log.Info("ui action", "action", tr.Action, "callback_unix_us", tr.Callback.UnixMicro(),
			"shown_ms", ms(tr.Shown.Sub(tr.Callback)), "painted_ms", ms(tr.Painted.Sub(tr.Callback)))
	}
}

// startHost creates the studio's host over the folders of the flags (or
// the default folder) and those of earlier sessions, follows its notices
// in the log, loads it and watches it (w is nil with --no-watch). The
// studio adds single files (remembered and given) itself. stop stops the
// watching and the logging, then writes the last states and closes the
// state store.
func (o *studioOptions) startHost(ctx context.Context, prefs fyne.Preferences, stderr io.Writer, log *slog.Logger) (m *starhost.Manager, w studio.Watcher, stop func(), err error) {
	if o.host.dirs, err = studioDirs(o.host.dirs, prefs); err != nil {
		return nil, nil, nil, err
	}
	m, stopHost, err := o.host.newManager(log)
	if err != nil {
		return nil, nil, nil, err
	}
	stopLogging := logNotices(ctx, m, log)
	stopState := func() {
		stopLogging()
		if err := stopHost(); err != nil {
			log.Error("the last states were not all saved", "err", err)
		}
	}
	loadReporting(ctx, m, stderr)
	if o.noWatch {
		return m, nil, stopState, nil
	}
	watcher, stopWatching := watchHost(ctx, m, m.Roots(), 0, log, o.saved.afterBatch)
	return m, watcher, func() { stopWatching(); stopState() }, nil
}

// starFiles checks that every argument is a .star file and returns them
// made absolute.
func starFiles(args []string) ([]string, error) {
	files := make([]string, len(args))
	for i, f := range args {
		if !hasStarSuffix(f) {
			return nil, usagef("%s is not a .star file (afstudio opens integration files; see afstudio help)", f)
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", f, err)
		}
		files[i] = abs
	}
	return files, nil
}

// handOff gives files to a studio already running for this user, if
// there are files and one runs; handed is true when it took them.
func handOff(ctx context.Context, files []string, log *slog.Logger) (handed bool, err error) {
	if len(files) == 0 {
		return false, nil
	}
	handed, err = instance.HandOff(ctx, files)
	if handed {
		log.Info("handed the files to the running studio", "files", files)
	}
	return handed, err
}

// studioDirs returns the integration folders of the studio: those given
// with --dir, or the default folder, then the folders the user added in
// earlier sessions that still exist.
func studioDirs(dirs []string, prefs fyne.Preferences) ([]string, error) {
	if len(dirs) == 0 {
		dir, err := defaultIntegrationDir()
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, dir)
	}
	for _, d := range studio.RememberedFolders(prefs) {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// serveAPIAtStart serves the control API when --listen asks for it or the
// Settings tab left it on.
func serveAPIAtStart(api studio.ControlAPI, listen string, prefs fyne.Preferences, log *slog.Logger) {
	on, addr := apiAtStart(listen, prefs)
	if !on {
		return
	}
	if _, err := api.Serve(addr); err != nil {
		log.Warn("control API not started", "error", err)
	}
}

// apiAtStart says whether, and where, the control API serves at start:
// --listen, or as the Settings tab left it.
func apiAtStart(listen string, prefs fyne.Preferences) (on bool, addr string) {
	if listen != "" {
		return true, listen
	}
	return studio.APIEnabled(prefs)
}

// closeOnSignal closes the window when ctx ends (SIGINT, SIGTERM), as
// the user would; call the returned function once the window is closed.
func closeOnSignal(ctx context.Context, win fyne.Window) (stop func()) {
	closed := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			fyne.Do(win.Close)
		case <-closed:
		}
	}()
	return func() { close(closed) }
}

// checkDisplay tells a user without a display (an SSH session, a
// container) what to do, where the window system would otherwise panic
// deep inside GLFW. Windows and macOS always have one.
func checkDisplay() error {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return nil
	}
	// The window system is X11 (Fyne is built without its wayland tag);
	// a Wayland desktop runs it through Xwayland, which sets DISPLAY.
	if os.Getenv("DISPLAY") == "" {
		return errors.New("no display to open the studio window on (DISPLAY is not set): " +
			"start afstudio in a desktop session, or run the host without a window: afstudio run --headless")
	}
	return nil
}

// defaultIntegrationDir is the user's integration folder when no --dir is
// given: ~/afstudio/integrations, created on first start.
func defaultIntegrationDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home folder for the default integration folder (use --dir): %w", err)
	}
	dir := filepath.Join(home, "afstudio", "integrations")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s (use --dir): %w", dir, err)
	}
	return dir, nil
}

// logNotices writes integration logs, handler failures and watcher
// problems to the log (standard error), so that what the window shows can
// also be followed in a terminal; the host logs loads and reloads itself.
// It follows the host until ctx ends or stop is called.
func logNotices(ctx context.Context, m *starhost.Manager, log *slog.Logger) (stop func()) {
	sub := m.Subscribe(1024)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-sub.C:
				switch n.Kind {
				case starhost.NoticeLog, starhost.NoticeHandlerFailed, starhost.NoticeWatchError, starhost.NoticeStateReset:
					log.Info(n.String(), "kind", string(n.Kind))
				}
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
