// Package studio is afstudio's desktop window: a list of integrations, a
// detail pane with live state and latency, an event console, a live event
// stream and a log, over a starhost.Manager.
//
// The studio holds no host logic. It talks to the host through its public
// API and lifecycle notices only; every host call runs off the UI
// goroutine and every UI update from another goroutine goes through
// fyne.Do. It never imports fyne.io/fyne/v2/app, so it builds and is
// tested without cgo or a display (fyne.io/fyne/v2/test).
package studio

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"

	"github.com/afstudio/afstudio/starhost"
)

// Watcher is the part of the file watcher the studio controls.
type Watcher interface {
	SetPaused(bool)
	Paused() bool
	AddRoot(dir string)
}

// Options configure a Studio.
type Options struct {
	// Dirs are the user's integration folders, shown in the status bar;
	// Dirs[0] is where "New integration" creates files.
	Dirs []string
	// OpenEditor opens a file at a line in the user's editor; nil uses
	// $VISUAL, $EDITOR or the desktop's opener (see openInEditor).
	OpenEditor func(path string, line int) error
	// Tab is the tab to show first: "details", "console", "events" or
	// "log". Select is the integration to select first.
	Tab, Select string
	// Logger receives the studio's own logs; nil discards them.
	Logger *slog.Logger
	// API is the control API the settings tab turns on and off; nil when
	// there is none.
	API ControlAPI
	// RunOnUI runs a UI update from another goroutine; nil means fyne.Do.
	// Tests pass a runner that serialises updates with their own reads,
	// since Fyne's test driver runs fyne.Do on the calling goroutine.
	RunOnUI func(func())
}

// Studio is the main window and everything in it.
type Studio struct {
	app  fyne.App
	win  fyne.Window
	m    *starhost.Manager
	w    Watcher
	opts Options
	log  *slog.Logger

	list     *integrationList
	details  *detailsPane
	console  *eventConsole
	stream   *eventStream
	logs     *logPane
	status   *statusBar
	settings *settingsView
	bar      *actionBar
	tabs     *container.AppTabs
	split    *container.Split

	selected string       // the selected integration or failed module; UI goroutine only
	current  atomic.Value // the same, as a string, for the refresh goroutine

	// confirm asks before a destructive action; tests replace it.
	confirm func(title, message string, ok func())
	// notify shows a message that needs no answer; tests replace it.
	notify func(title, message string)

	do     func(func()) // runs UI updates from other goroutines (Options.RunOnUI)
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds the studio window for a host; w may be nil when nothing is
// watched. Call Start to begin following the host, and ShowAndRun (or
// Window().Show) to show it.
func New(a fyne.App, m *starhost.Manager, w Watcher, opts Options) *Studio {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OpenEditor == nil {
		opts.OpenEditor = openInEditor
	}
	if opts.RunOnUI == nil {
		opts.RunOnUI = fyne.Do
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Studio{app: a, m: m, w: w, opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, do: opts.RunOnUI}
	s.win = a.NewWindow("afstudio")
	s.win.SetIcon(a.Metadata().Icon)
	s.confirm = func(title, message string, ok func()) {
		dialog.ShowConfirm(title, message, func(yes bool) {
			if yes {
				ok()
			}
		}, s.win)
	}
	s.notify = func(title, message string) { dialog.ShowInformation(title, message, s.win) }
	s.build()
	return s
}

// Window returns the studio's window.
func (s *Studio) Window() fyne.Window { return s.win }

func (s *Studio) build() {
	s.list = newIntegrationList(s.selectIntegration)
	s.details = newDetailsPane(detailsActions{
		openError:  s.openError,
		resetState: s.resetState,
		reload:     func(name string) { s.reload(name) },
	})
	s.console = newEventConsole(s.m.Emit, s.knownEvents)
	s.console.do = s.do
	s.stream = newEventStream()
	s.logs = newLogPane(func(text string) { s.app.Clipboard().SetContent(text) })
	s.status = newStatusBar()
	s.settings = newSettingsView(s.opts.API, s.app.Preferences(), s.do, func(text string) { s.app.Clipboard().SetContent(text) })
	s.bar = newActionBar(actionBarHandlers{
		reload:    func() { s.reload(s.selected) },
		reloadAll: s.reloadAll,
		add:       s.showAddDialog,
		remove:    func() { s.askRemove(s.selected) },
		create:    s.newIntegration,
		pause:     s.toggleWatching,
	}, s.w != nil)

	s.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Details", theme.InfoIcon(), s.details.object()),
		container.NewTabItemWithIcon("Event console", theme.MailSendIcon(), s.console.object()),
		container.NewTabItemWithIcon("Event stream", theme.ListIcon(), s.stream.object()),
		container.NewTabItemWithIcon("Log", theme.DocumentIcon(), s.logs.object()),
		container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), s.settings.object()),
	)
	s.tabs.OnSelected = func(t *container.TabItem) {
		switch t.Text {
		case "Event console":
			s.console.refreshEvents()
		case "Settings":
			s.settings.showState()
		}
	}
	s.split = container.NewHSplit(s.list.object(), s.tabs)
	s.split.Offset = 0.3
	s.win.SetContent(container.NewBorder(s.bar.object(), s.status.object(), nil, nil, s.split))
	s.win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { s.HandleDrop(uris) })
	s.addShortcuts()
	s.restoreLayout()
	s.win.SetCloseIntercept(func() {
		s.saveLayout()
		s.Stop()
		s.win.Close()
	})
}

// Start follows the host: it subscribes to notices, fills the list, and
// refreshes the selected integration's details and state twice a second.
func (s *Studio) Start() {
	sub := s.m.Subscribe(4096)
	s.wg.Go(func() { s.pumpNotices(sub) })
	s.wg.Go(s.refreshLoop)
	s.refreshList()
	if s.opts.Select != "" {
		s.selectIntegration(s.opts.Select)
	}
	s.showTab(s.opts.Tab)
	s.status.setWatching(s.w != nil && !s.w.Paused(), s.w != nil)
	s.status.setFolders(s.opts.Dirs)
}

// Stop ends the background goroutines Start began. The window stays.
func (s *Studio) Stop() {
	s.cancel()
	s.wg.Wait()
}

// ShowAndRun shows the window, starts following the host and runs the
// application's event loop until the window is closed.
func (s *Studio) ShowAndRun() {
	s.Start()
	s.win.ShowAndRun()
	s.Stop()
}

func (s *Studio) showTab(name string) {
	idx := map[string]int{"details": 0, "console": 1, "events": 2, "stream": 2, "log": 3, "settings": 4}
	if i, ok := idx[name]; ok {
		s.tabs.SelectIndex(i)
		if i == 1 {
			s.console.refreshEvents()
		}
	}
}

// pumpNotices moves host notices to the UI in batches (at most one
// fyne.Do every 50ms), so that a storm of events cannot flood the UI
// goroutine.
func (s *Studio) pumpNotices(sub *starhost.Subscription) {
	defer sub.Close()
	var batch []starhost.Notice
	flush := time.NewTicker(50 * time.Millisecond)
	defer flush.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case n := <-sub.C:
			batch = append(batch, n)
		case <-flush.C:
			if len(batch) == 0 {
				continue
			}
			b := batch
			batch = nil
			rows := s.rowsFromHost() // host calls stay off the UI goroutine
			s.do(func() { s.applyNotices(b, rows) })
		}
	}
}

// applyNotices runs on the UI goroutine.
func (s *Studio) applyNotices(batch []starhost.Notice, rows []integrationRow) {
	changed := false
	for _, n := range batch {
		switch n.Kind {
		case starhost.NoticeEvent:
			s.stream.add(n)
			continue
		case starhost.NoticeLoaded, starhost.NoticeReloaded, starhost.NoticeAdded, starhost.NoticeRemoved, starhost.NoticeReloadFailed:
			changed = true
			s.status.lastChange(n)
		case starhost.NoticeHandlerFailed, starhost.NoticeStateReset:
			changed = true
		}
		s.logs.add(n)
	}
	if changed {
		s.setRows(rows)
	}
}

// refreshLoop refreshes the selected integration's details twice a second,
// reading the host off the UI goroutine.
func (s *Studio) refreshLoop() {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			name, _ := s.current.Load().(string)
			s.showDetails(name, s.snapshotOf(name))
		}
	}
}

// refreshList reloads the list from the host (off the UI goroutine).
func (s *Studio) refreshList() {
	s.wg.Go(func() {
		rows := s.rowsFromHost()
		s.do(func() { s.setRows(rows) })
	})
}

func (s *Studio) setRows(rows []integrationRow) {
	s.list.setRows(rows)
	live, failed := 0, 0
	for _, r := range rows {
		if r.status == statusLive {
			live++
		} else {
			failed++
		}
	}
	s.status.setCounts(live, failed)
	if s.selected == "" && len(rows) > 0 {
		s.selectIntegration(rows[0].name)
		return
	}
	if s.selected != "" {
		s.refreshDetails(s.selected)
	}
}

// refreshDetails reads name's details from the host off the UI goroutine
// and shows them if name is still selected by then.
func (s *Studio) refreshDetails(name string) {
	s.wg.Go(func() { s.showDetails(name, s.snapshotOf(name)) })
}

// showDetails shows a snapshot read off the UI goroutine, if its row is
// still the selected one.
func (s *Studio) showDetails(name string, snap detailSnapshot) {
	s.do(func() {
		if s.selected == name {
			s.details.show(snap)
		}
	})
}

// rowsFromHost reads the list rows from the host.
func (s *Studio) rowsFromHost() []integrationRow {
	v := s.m.Snapshot()
	return rowsFor(v.Integrations, v.FailedModules)
}

// snapshotOf reads what the detail pane shows for one row.
func (s *Studio) snapshotOf(name string) detailSnapshot {
	snap := detailSnapshot{name: name}
	if name == "" {
		return snap
	}
	if info, ok := s.m.IntegrationInfo(name); ok {
		snap.info = &info
		state, err := s.m.State(name)
		snap.state, snap.stateErr = state, err
		if info.LastError != nil {
			snap.errLine = sourceLine(info.LastError.File, info.LastError.Line)
		}
		return snap
	}
	for _, fm := range s.m.Snapshot().FailedModules {
		if failedRowName(fm.Module) == name {
			f := fm
			snap.failed = &f
			if len(fm.Errors) > 0 {
				snap.errLine = sourceLine(fm.Errors[0].File, fm.Errors[0].Line)
			}
		}
	}
	return snap
}

// selectIntegration shows one row's details (UI goroutine).
func (s *Studio) selectIntegration(name string) {
	s.selected = name
	s.current.Store(name)
	s.list.selectName(name)
	s.bar.setSelection(name != "")
	s.refreshDetails(name)
}

// knownEvents lists every event some integration subscribes to.
func (s *Studio) knownEvents() []string {
	seen := map[string]bool{}
	var out []string
	for _, in := range s.m.Snapshot().Integrations {
		for _, e := range in.Subscriptions {
			if e != starhost.Wildcard && !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// report shows an error from an action in the log and as a dialog.
func (s *Studio) report(title string, err error) {
	s.log.Warn(title, "error", err)
	s.notify(title, err.Error())
}

func failedRowName(module string) string {
	return filepath.Base(module)
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000)
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	default:
		return d.Round(time.Millisecond).String()
	}
}

// OpenFiles adds files handed over by a second `afstudio FILE.star` (the
// single-instance hand-off) as if dropped on the window, and brings the
// window forward. It is safe to call from any goroutine.
func (s *Studio) OpenFiles(files []string) error {
	uris := make([]fyne.URI, len(files))
	for i, f := range files {
		uris[i] = storage.NewFileURI(f)
	}
	s.do(func() {
		s.HandleDrop(uris)
		s.win.RequestFocus()
	})
	return nil
}
