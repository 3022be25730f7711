package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/watch"
	"github.com/afstudio/afstudio/studio"
)

// cmdStudio opens the studio window: `afstudio [flags] [FILE.star...]`.
// The files are added (and remembered) as if dropped on the window.
func cmdStudio(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("studio", stderr, "[--dir DIR]... [--no-defaults] [--no-watch] [--listen ADDR [--allow-remote]] [--tab TAB] [--select NAME] [FILE.star...]")
	var hf hostFlags
	hf.register(fs)
	noWatch := fs.Bool("no-watch", false, "do not watch the integration folders")
	tab := fs.String("tab", "details", "the tab to show first: details, console, events or log")
	sel := fs.String("select", "", "the integration to select first")
	listen := fs.String("listen", "", "serve the control API on this address (also switchable in the Settings tab), e.g. 127.0.0.1:7777")
	allowRemote := fs.Bool("allow-remote", false, "allow --listen on an address other than loopback")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range fs.Args() {
		if !strings.HasSuffix(f, ".star") {
			return fmt.Errorf("%w: %s is not a .star file (afstudio opens integration files; see afstudio help)", errUsage, f)
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if fs.NArg() > 0 {
		// A studio already running for this user takes the files.
		handed, err := handOff(ctx, fs.Args())
		if err != nil {
			return err
		}
		if handed {
			log.Info("handed the files to the running studio", "files", fs.Args())
			return nil
		}
	}
	if err := checkDisplay(); err != nil {
		return err
	}
	a := newApp()
	prefs := a.Preferences()
	if len(hf.dirs) == 0 {
		dir, err := defaultIntegrationDir()
		if err != nil {
			return err
		}
		hf.dirs = append(hf.dirs, dir)
	}
	for _, d := range studio.RememberedFolders(prefs) {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			hf.dirs = append(hf.dirs, d)
		}
	}
	m, err := hf.newManager(log)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	hctx, stopHost := context.WithCancel(ctx)
	defer stopHost()
	logNotices(hctx, &wg, m, log)
	loadReporting(hctx, m, stderr)
	files := append(studio.RememberedFiles(prefs), fs.Args()...)
	for _, f := range files {
		if _, err := m.AddIntegration(hctx, f, ""); err != nil {
			log.Warn("could not load a remembered file", "file", f, "error", err)
		}
	}

	var w *watch.Watcher
	if !*noWatch {
		w = watch.ForHost(m, watch.Options{Logger: log})
		for _, f := range files {
			w.AddRoot(filepath.Dir(f))
		}
		wg.Go(func() {
			if err := w.Run(hctx); err != nil {
				m.Notify(starhost.Notice{Kind: starhost.NoticeWatchError, Message: err.Error()})
			}
		})
	}
	var sw studio.Watcher
	if w != nil {
		sw = w
	}
	var s *studio.Studio
	api, err := newAPIServer(m, func(files []string) error { return s.OpenFiles(files) }, *allowRemote, log)
	if err != nil {
		return err
	}
	defer api.Stop()
	s = studio.New(a, m, sw, studio.Options{Dirs: hf.dirs, Tab: *tab, Select: *sel, Logger: log, API: api})
	stopInstance := serveInstance(api.handler, log)
	defer stopInstance()
	if on, addr := studio.APIEnabled(prefs); *listen != "" || on {
		if *listen != "" {
			addr = *listen
		}
		if _, err := api.Serve(addr); err != nil {
			log.Warn("control API not started", "error", err)
		}
	}
	for _, f := range fs.Args() {
		s.Remember(f)
	}
	// A signal closes the window like the user would.
	closed := make(chan struct{})
	defer close(closed)
	go func() {
		select {
		case <-ctx.Done():
			fyne.Do(func() { s.Window().Close() })
		case <-closed:
		}
	}()
	log.Info("studio window open", "integrations", len(m.Names()), "folders", hf.dirs)
	s.ShowAndRun()
	stopHost()
	return nil
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
func logNotices(ctx context.Context, wg *sync.WaitGroup, m *starhost.Manager, log *slog.Logger) {
	sub := m.Subscribe(1024)
	wg.Go(func() {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-sub.C:
				switch n.Kind {
				case starhost.NoticeLog, starhost.NoticeHandlerFailed, starhost.NoticeWatchError, starhost.NoticeStateReset:
				default:
					continue // events are not logged; the host logs its own lifecycle
				}
				log.Info(n.String(), "kind", string(n.Kind))
			}
		}
	})
}
