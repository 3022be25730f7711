// Package studio is afstudio's desktop window: a list of integrations, a
// detail pane with live state and latency, an event console, a live event
// stream and a log, over a starhost.Manager.
//
// The studio holds no host logic. It talks to the host through its public
// API and lifecycle notices only; every host call runs off the UI
// goroutine and every UI update from another goroutine goes through
// fyne.Do. Each read of the host is one Manager.Snapshot, from which the
// list and the details are built together, so that they never disagree.
// It never imports fyne.io/fyne/v2/app, so it builds and is tested
// without cgo or a display (fyne.io/fyne/v2/test).
//
// One file for each thing the user sees, and for what they share:
//
//	studio.go     the window, its options, Start and Stop
//	hostview.go   following the host: notices, one read for list and details
//	memory.go     giving back the memory a storm of events took
//	frame.go      knowing when Fyne paints a frame
//	trace.go      timing user actions in the real window (Options.TraceUI)
//	actions.go    reload, remove, reset state, new integration, shortcuts
//	add.go        adding files: drops, Add…, the hand-off, the last session
//	actionbar.go  the toolbar
//	list.go       the integration list: rows, their keys and labels
//	switch.go     the on/off switch of a row in the list
//	details.go    the detail pane
//	shadow.go     the details' shadow mode: its switch and comparison
//	shadowfollow.go  reading the shadow report; promote and discard
//	statefile.go  the details' Forget, Export and Import state…
//	chart.go      the latency chart in the details
//	statetree.go  the state tree in the details
//	console.go    the event console tab
//	replay.go     the console's Replay recording…
//	samples.go    the console's standard events and sample payloads
//	stream.go     the event stream tab
//	record.go     the stream's Record… and Stop: recording the events
//	logpane.go    the log tab
//	settings.go   the settings tab (the control API)
//	clusterview.go  the cluster tab of a cluster host's partition
//	statusbar.go  the status bar
//	rowlist.go    the bounded, filtered row list of the log and the stream
//	columns.go    the rows of every list: table-like columns, their cells
//	format.go     how durations, times, counts and JSON are written
//	tests.go      the tests on save, and their line in the details
//	editor.go     opening a file at a line in the user's editor
//	template.go   the new integration template
//	prefs.go      what is remembered between sessions
package studio

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/startest"
)

// Watcher is the part of the file watcher the studio controls
// (*watch.Watcher implements it).
type Watcher interface {
	// SetPaused pauses (true) or resumes (false) reloading on changes.
	SetPaused(bool)
	// Paused reports whether the watcher is paused.
	Paused() bool
	// AddRoot watches one more folder; it is safe to call from any
	// goroutine while the watcher runs.
	AddRoot(dir string)
}

// Options configure a Studio.
type Options struct {
	// Dirs are the user's integration folders, shown in the status bar;
	// Dirs[0] is where "New integration" creates files. With none, "New
	// integration" says to start with --dir.
	Dirs []string
	// OpenEditor opens a file at a line in the user's editor; nil uses
	// $VISUAL, $EDITOR or the desktop's opener (see openInEditor).
	OpenEditor func(path string, line int) error
	// Files are .star files to add at start (typically the command
	// line's), with the files the user added in earlier sessions
	// (RememberedFiles); they are added as if dropped on the window, and
	// remembered for the next start. Relative paths are taken from the
	// working directory. A file whose module the host has already loaded
	// (one in a folder it loads) is not added again. nil adds only the
	// remembered files.
	Files []string
	// Tab is the tab to show first: "details", "console", "events",
	// "log", "settings" or (with Cluster) "cluster"; "" shows the
	// details.
	Tab string
	// Select is the row to select first: an integration's name, or the
	// path of a module; "" selects the first row.
	Select string
	// Logger receives the studio's own logs; nil discards them.
	Logger *slog.Logger
	// MemoryLimit is the memory limit of the worker process the
	// integrations run in ("1 GiB"), shown and changeable (for the next
	// start) in the Settings tab; "" when they do not run in this
	// studio's worker.
	MemoryLimit string
	// HostLabel names the host the window shows when it is not in this
	// process (a URL, for --connect): shown in the title and the status
	// bar. "" for the host in this process.
	HostLabel string
	// API is the control API the settings tab turns on and off; nil when
	// there is none.
	API ControlAPI
	// TextureLifetime is how long Fyne keeps the texture of a text it no
	// longer draws (the FYNE_CACHE environment variable, read when Fyne's
	// packages are initialized); 0 means Fyne's default, a minute. The
	// studio has the window painted once that long after a storm of
	// events, so that Fyne frees what the storm drew (see memory.go).
	TextureLifetime time.Duration
	// ReleaseMemory returns to the operating system memory freed outside
	// the Go heap (cmd/afstudio passes glibc's malloc_trim); the studio
	// calls it after a storm, after debug.FreeOSMemory. nil does nothing.
	ReleaseMemory func()
	// TraceUI, when set, receives how fast each user action showed:
	// selecting a row of the list, switching tabs (see UITrace). It is
	// called on the UI goroutine and must return at once.
	TraceUI func(UITrace)
	// RecordLimit is the size limit of a recording made with the event
	// stream's Record…; 0 means recording.DefaultLimit (256 MiB).
	RecordLimit int64
	// RecordingsDir is where Record… suggests to write recordings; ""
	// means ~/afstudio/recordings.
	RecordingsDir string
	// RunTests runs the tests of an integration module (startest.Run
	// with the module as its path, in harnesses of its own: not on the
	// host), for the tests on save (FilesSaved); nil runs none.
	RunTests func(ctx context.Context, module string) (startest.Report, error)
	// Cluster is the cluster of the attached host when it is a cluster
	// host: the window then has a Cluster tab (see Cluster); nil for
	// any other host.
	Cluster Cluster
	// RunOnUI runs a UI update from another goroutine; nil means fyne.Do.
	// Tests pass a runner that serialises updates with their own reads,
	// since Fyne's test driver runs fyne.Do on the calling goroutine.
	RunOnUI func(func())
}

// Studio is the main window and everything in it.
type Studio struct {
	app  fyne.App
	win  fyne.Window
	m    Host
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
	cluster  *clusterTab // nil unless Options.Cluster
	bar      *actionBar
	frames   *frameProbe
	trace    uiTracer
	tabs     *container.AppTabs
	split    *container.Split

	selected string       // the selected row's key (see integrationRow); UI goroutine only
	current  atomic.Value // the same, as a string, for readHost

	// shadowKick asks followShadow to read the shadow report now, and
	// detailsShown says whether the Details tab shows (see shadowfollow.go).
	shadowKick   chan struct{}
	detailsShown atomic.Bool
	// clusterShown says whether the Cluster tab shows (clusterview.go).
	clusterShown atomic.Bool
	// shadowed are the integrations whose list rows may need a shadow
	// note (shadowfollow.go).
	shadowed shadowSet

	// confirm asks before a destructive action; tests replace it.
	confirm func(title, message string, ok func())
	// notify shows a message that needs no answer; tests replace it.
	notify func(title, message string)
	// rec is the recording follow writes to, nil when none runs; recView
	// is the same for the UI goroutine, which starts and stops it.
	rec     atomic.Pointer[recorder]
	recView *recorder
	// lastRecording is the file of the last recording made, which
	// Replay recording… suggests (UI goroutine).
	lastRecording string
	// recDialogs are the dialogs of Record… and Replay… (record.go,
	// replay.go); tests replace them.
	recDialogs recordDialogs
	// testSeq numbers the runs of tests on save (tests.go).
	testSeq atomic.Uint64
	// replayStop stops the replay that runs; nil when none does (UI
	// goroutine).
	replayStop context.CancelFunc

	// stateDialogs are the file dialogs of Export/Import state… (see
	// statefile.go); tests replace them.
	stateDialogs stateDialogs

	do     func(func()) // runs UI updates from other goroutines (Options.RunOnUI)
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds the studio window for a host; w may be nil when nothing is
// watched. Call Start to begin following the host, and ShowAndRun (or
// Window().Show) to show it.
func New(a fyne.App, m Host, w Watcher, opts Options) *Studio {
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
	s := &Studio{app: a, m: m, w: w, opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, do: opts.RunOnUI, shadowKick: make(chan struct{}, 1)}
	s.detailsShown.Store(true)
	title := "afstudio"
	if opts.HostLabel != "" {
		title += " — " + opts.HostLabel
	}
	s.win = a.NewWindow(title)
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

// build creates the window's parts and lays them out.
func (s *Studio) build() {
	s.list = newIntegrationList(func(key string) {
		s.trace.selectStarts(key)
		s.selectRow(key)
	}, s.switchIntegration)
	s.details = newDetailsPane(detailsActions{
		openError:  s.openError,
		resetState: s.resetState,
		reload:     func(name string) { s.reload(name) },
		// statefile.go
		forgetState: s.forgetState, exportState: s.exportState, importState: s.importState,
		// shadowfollow.go
		shadow: shadowActions{toggle: s.toggleShadow, promote: s.promoteShadow, discard: s.askDiscardShadow},
	})
	s.console = newEventConsole(s.m.Emit, s.knownEvents)
	s.console.do, s.console.replayFile.OnTapped = s.do, s.replayRecording // replay.go
	s.stream = newEventStream(s.toggleRecording)
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

	s.buildTabs()
	s.split = container.NewHSplit(s.list.object(), s.tabs)
	s.split.Offset = 0.3
	s.frames = newFrameProbe()
	s.trace = uiTracer{report: s.opts.TraceUI, paint: func(fn func(time.Time)) { s.frames.next(s.win.Canvas(), fn) }}
	s.win.SetContent(container.NewStack(container.NewBorder(s.bar.object(), s.status.object(), nil, nil, s.split), s.frames.object()))
	s.win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { s.HandleDrop(uris) })
	s.addShortcuts()
	s.restoreLayout()
	s.win.SetCloseIntercept(func() {
		s.saveLayout()
		s.Stop()
		s.win.Close()
	})
}

// buildTabs creates the tabs right of the list: Details, Event console,
// Event stream, Log, Settings and, attached to a cluster host, Cluster.
func (s *Studio) buildTabs() {
	s.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Details", theme.InfoIcon(), s.details.object()),
		container.NewTabItemWithIcon("Event console", theme.MailSendIcon(), s.console.object()),
		container.NewTabItemWithIcon("Event stream", theme.ListIcon(), s.stream.object()),
		container.NewTabItemWithIcon("Log", theme.DocumentIcon(), s.logs.object()),
		container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), container.NewVBox(s.settings.object(),
			container.NewPadded(newWorkerSettings(s.app.Preferences(), s.opts.MemoryLimit).root))),
	)
	if s.opts.Cluster != nil {
		s.cluster = newClusterTab(func(p int) { go s.showPartition(p) })
		s.tabs.Append(container.NewTabItemWithIcon("Cluster", theme.StorageIcon(), s.cluster.root))
	}
	s.tabs.OnUnselected = func(*container.TabItem) { s.trace.tabLeaves() }
	s.tabs.OnSelected = func(t *container.TabItem) {
		defer s.trace.tabShown(t.Text)
		s.detailsShown.Store(t.Text == "Details")
		s.clusterShown.Store(t.Text == "Cluster")
		switch t.Text {
		case "Details":
			s.kickShadow()
		case "Event console":
			s.console.refreshEvents()
		case "Settings":
			s.settings.showState()
		}
	}
}

// Start follows the host: it subscribes to notices, fills the list,
// refreshes the selected integration's details and state twice a second
// while the host changes (not at all while it is idle), and adds the
// files of the last session and Options.Files. Call it on the UI
// goroutine (ShowAndRun does).
func (s *Studio) Start() {
	sub := s.m.Subscribe(4096)
	s.wg.Go(func() { s.follow(sub) })
	s.wg.Go(s.followShadow)
	if s.cluster != nil {
		s.wg.Go(s.followCluster)
	}
	if s.opts.Select != "" {
		s.selectRow(s.opts.Select)
	} else {
		s.refresh()
	}
	s.addStartFiles()
	s.showTab(s.opts.Tab)
	s.status.setWatching(s.w != nil && !s.w.Paused(), s.w != nil)
	s.status.setFolders(s.opts.Dirs)
	if s.opts.HostLabel != "" {
		s.status.setHost(s.opts.HostLabel)
	}
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

// showTab shows the tab named as in Options.Tab; other names change
// nothing.
func (s *Studio) showTab(name string) {
	idx := map[string]int{"details": 0, "console": 1, "events": 2, "stream": 2, "log": 3, "settings": 4}
	if s.cluster != nil {
		idx["cluster"] = 5
	}
	if i, ok := idx[name]; ok {
		s.tabs.SelectIndex(i)
		if i == 1 {
			s.console.refreshEvents()
		}
	}
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
