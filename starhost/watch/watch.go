// Package watch turns file-system events in integration folders into
// batches of changed .star files, the way editors and tools really save:
// in place, truncate-then-write, write-a-temporary-and-rename, rename the
// original away and write anew, JetBrains "safe write", cp over, and git
// checkouts that change many files at once.
//
// It knows nothing of Starlark. It watches folders (not files, which
// rename-saving editors break), including sub-folders and folders created
// later; coalesces each burst of events into one batch after a short quiet
// window; skips files whose content hash did not change; ignores editor
// temporaries and swap files; and marks a vanished file missing for a grace
// period before reporting it removed, because many saves are a remove
// followed by a create.
//
// ForHost connects a watcher to a starhost.Manager: each batch goes to
// Manager.ReloadFiles, and problems become notices. New gives a watcher
// for any other consumer.
package watch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/afstudio/afstudio/starhost"
)

// Options configure a Watcher. The zero value watches nothing (add folders
// with AddRoot) with the default timings: zero durations take their
// defaults.
type Options struct {
	// Roots are the folders to watch, with all their sub-folders except
	// hidden ones; relative paths are made absolute, duplicates dropped.
	// A root that does not exist yet is reported as a Problem and
	// watched once it appears.
	Roots []string
	// Quiet is how long a burst of events must be silent before its
	// batch is handed over. Default 25ms.
	Quiet time.Duration
	// MaxDelay bounds how long a batch waits while events keep coming.
	// Default 250ms.
	MaxDelay time.Duration
	// MissingGrace is how long a vanished file is only "missing" before
	// it is reported removed. Default 1s.
	MissingGrace time.Duration
	// Poll is how often missing roots and missing files are looked at.
	// Default 250ms.
	Poll time.Duration
	// Loaded, if set, returns the SHA-256 of every file the consumer has
	// already loaded, by absolute path; Run calls it once, at start. A file that changed between that load and the
	// start of watching is then reported in the first batch instead of
	// being taken as the baseline. Nil: the files found at start are the
	// baseline.
	Loaded func() map[string][32]byte
	// Logger receives the watcher's logs (each event and batch at debug
	// level); nil discards them.
	Logger *slog.Logger
	// AfterBatch, if set, is called by ForHost's watcher after it applied
	// each batch to the host, with the batch (a front end runs the tests
	// of the modules and test files in it).
	AfterBatch func(ctx context.Context, b Batch)
}

// withDefaults returns o with every unset duration and the logger at
// their defaults.
func (o Options) withDefaults() Options {
	if o.Quiet <= 0 {
		o.Quiet = 25 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 250 * time.Millisecond
	}
	if o.MissingGrace <= 0 {
		o.MissingGrace = time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// A Batch is what changed in one burst: absolute paths of module files
// (starhost.IsModuleFile) and of test files (starhost.IsTestFile), each
// list sorted, a path in at most one list. A batch handed over is never
// empty.
type Batch struct {
	// Changed files appeared or have new content (by SHA-256).
	Changed []string
	// Removed files have been gone for longer than the grace period, or
	// were renamed away while another file appeared in the same burst.
	Removed []string
	// Missing files just vanished; they are reported removed unless they
	// come back within the grace period.
	Missing []string
	// Tests are test files (NAME_test.star) that appeared or have new
	// content: the host loads none of them; a front end may run them.
	Tests []string
}

// empty reports whether b holds no path.
func (b Batch) empty() bool {
	return len(b.Changed)+len(b.Removed)+len(b.Missing)+len(b.Tests) == 0
}

// watched reports whether the file name is one the watcher reports: a
// module or library, or a test file.
func watched(name string) bool { return starhost.IsModuleFile(name) || starhost.IsTestFile(name) }

// A Problem is a watcher failure: a root that vanished or cannot be read,
// the inotify watch limit, an event queue overflow. The watcher keeps
// running after every problem.
type Problem struct {
	// Path is the folder or file concerned: a root, a sub-folder, or the
	// watched roots joined with ", " for a failure of the whole watcher.
	Path string
	// Err is what went wrong; never nil. For the watch limit it says how
	// to raise it; fsnotify.ErrEventOverflow is matched with errors.Is.
	Err error
}

// Error returns "watch PATH: ERR".
func (p *Problem) Error() string { return fmt.Sprintf("watch %s: %v", p.Path, p.Err) }

// Unwrap returns Err, for errors.Is and errors.As.
func (p *Problem) Unwrap() error { return p.Err }

// A Watcher watches roots and calls its handlers from the goroutine that
// runs Run, one call at a time; a handler that blocks delays the next
// batch, and events keep being gathered meanwhile. Get one from New or
// ForHost; the zero value is not usable. Its methods are safe for
// concurrent use.
type Watcher struct {
	opts      Options
	onBatch   func(context.Context, Batch)
	onProblem func(*Problem)
	paused    atomic.Bool
	batches   atomic.Uint64
	addMu     sync.Mutex
	toAdd     []string      // roots added while running, for Run to pick up
	wake      chan struct{} // signals toAdd

	// Owned by the Run goroutine.
	fsw         *fsnotify.Watcher
	known       map[string][32]byte // last content hash handed over, per file
	missing     map[string]time.Time
	pending     map[string]bool
	firstEvent  time.Time
	dirs        map[string]bool // folders with a watch
	rootMissing map[string]bool
}

// New returns a watcher of opts.Roots; Run starts it. onBatch receives
// each non-empty batch and must not be nil; onProblem receives each
// failure (nil ignores them).
func New(opts Options, onBatch func(context.Context, Batch), onProblem func(*Problem)) *Watcher {
	if onProblem == nil {
		onProblem = func(*Problem) {}
	}
	opts = opts.withDefaults()
	roots := opts.Roots
	opts.Roots = nil
	for _, r := range roots {
		if abs, err := filepath.Abs(r); err == nil {
			r = abs
		}
		if !slices.Contains(opts.Roots, r) {
			opts.Roots = append(opts.Roots, r)
		}
	}
	return &Watcher{opts: opts, onBatch: onBatch, onProblem: onProblem, wake: make(chan struct{}, 1)}
}

// AddRoot starts watching another folder (and its sub-folders). It is
// safe to call at any time, also before Run.
func (w *Watcher) AddRoot(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	w.addMu.Lock()
	w.toAdd = append(w.toAdd, abs)
	w.addMu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// takeRoots returns the roots added since the last call, skipping those
// already watched.
func (w *Watcher) takeRoots() []string {
	w.addMu.Lock()
	defer w.addMu.Unlock()
	var out []string
	for _, r := range w.toAdd {
		if !slices.Contains(w.opts.Roots, r) {
			w.opts.Roots = append(w.opts.Roots, r)
			out = append(out, r)
		}
	}
	w.toAdd = nil
	return out
}

// SetPaused pauses or resumes delivery. While paused, changes accumulate
// and are delivered as one batch on resume.
func (w *Watcher) SetPaused(p bool) { w.paused.Store(p) }

// Paused reports whether delivery is paused.
func (w *Watcher) Paused() bool { return w.paused.Load() }

// Batches returns how many batches have been delivered to onBatch.
func (w *Watcher) Batches() uint64 { return w.batches.Load() }

// Run watches until ctx is cancelled; it returns nil then, or an error if
// the watcher could not be created at all. It calls the handlers given to
// New from its own goroutine, one call at a time. Call it once.
func (w *Watcher) Run(ctx context.Context) error {
	fsw, err := fsnotify.NewBufferedWatcher(1024)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer fsw.Close()
	changedSinceLoad := w.start(fsw)
	quiet := time.NewTimer(time.Hour) // fires when the pending batch is due
	quiet.Stop()
	if changedSinceLoad {
		quiet.Reset(0)
	}
	defer quiet.Stop()
	poll := time.NewTicker(w.opts.Poll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fsw.Events:
			if !ok {
				return nil
			}
			if w.handle(ev) {
				w.burst(quiet)
			}
		case err, ok := <-fsw.Errors:
			if !ok {
				return nil
			}
			w.fsError(err, quiet)
		case <-w.wake:
			w.addRoots(w.takeRoots())
		case <-quiet.C:
			w.flush(ctx)
		case <-poll.C:
			w.tick(quiet)
		}
	}
}

// start sets up the state the Run goroutine owns and watches the roots,
// recording the hash of every file found as the baseline. It reports
// whether files changed between the consumer's load and now
// (Options.Loaded), so that their batch is due at once.
func (w *Watcher) start(fsw *fsnotify.Watcher) bool {
	w.fsw = fsw
	w.known, w.missing, w.pending = map[string][32]byte{}, map[string]time.Time{}, map[string]bool{}
	w.dirs, w.rootMissing = map[string]bool{}, map[string]bool{}
	w.takeRoots()
	w.addRoots(w.roots())
	return w.changedSinceLoad()
}

// addRoots watches each root; a root that cannot be watched is reported
// and looked at again on every poll.
func (w *Watcher) addRoots(roots []string) {
	for _, root := range roots {
		if err := w.addTree(root, false); err != nil {
			w.rootMissing[root] = true
			w.onProblem(&Problem{Path: root, Err: err})
		}
	}
}

// changedSinceLoad makes pending every file whose content differs from
// the hash Options.Loaded reports for it, and reports whether there was
// one.
func (w *Watcher) changedSinceLoad() bool {
	if w.opts.Loaded == nil {
		return false
	}
	changed := false
	for p, sum := range w.opts.Loaded() {
		if cur, ok := w.known[p]; ok && cur != sum {
			w.known[p] = sum
			w.pending[p] = true
			changed = true
		}
	}
	return changed
}

// burst (re)starts the quiet window after an event that made a file
// pending: the batch is due after Options.Quiet of silence, and no later
// than Options.MaxDelay after the burst's first event.
func (w *Watcher) burst(quiet *time.Timer) {
	if w.firstEvent.IsZero() {
		w.firstEvent = time.Now()
	}
	wait := min(w.opts.Quiet, time.Until(w.firstEvent.Add(w.opts.MaxDelay)))
	quiet.Reset(max(wait, 0))
}

// fsError reports an error of the file-system watcher. After a queue
// overflow events were lost, so every file is looked at again.
func (w *Watcher) fsError(err error, quiet *time.Timer) {
	w.onProblem(&Problem{Path: strings.Join(w.roots(), ", "), Err: err})
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.rescan()
		quiet.Reset(w.opts.Quiet)
	}
}

// tick is the periodic look (Options.Poll) at missing roots and files;
// it makes the batch due at once when the look found changes, or when
// delivery was resumed with changes waiting.
func (w *Watcher) tick(quiet *time.Timer) {
	if w.poll() {
		quiet.Reset(0)
	}
	if !w.Paused() && len(w.pending) > 0 && w.firstEvent.IsZero() {
		quiet.Reset(0) // resumed with changes waiting
	}
}

// roots returns the watched roots.
func (w *Watcher) roots() []string {
	w.addMu.Lock()
	defer w.addMu.Unlock()
	return slices.Clone(w.opts.Roots)
}

// handle records one event; it reports whether a file became pending.
func (w *Watcher) handle(ev fsnotify.Event) bool {
	w.opts.Logger.Debug("fs event", "op", ev.Op.String(), "path", ev.Name)
	path := ev.Name
	if ev.Has(fsnotify.Create) {
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			// A new folder: watch it, and pick up files created in it
			// before the watch existed.
			if err := w.addTree(path, true); err != nil {
				w.onProblem(&Problem{Path: path, Err: err})
			}
			return true
		}
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if w.dirs[path] {
			w.dropTree(path)
			if slices.Contains(w.roots(), path) {
				w.rootMissing[path] = true
				w.onProblem(&Problem{Path: path, Err: errors.New("the folder was removed or renamed; its integrations keep serving and it is watched again when it reappears")})
			}
			return true
		}
	}
	if !watched(filepath.Base(path)) {
		return false
	}
	w.pending[path] = true
	return true
}

// addTree watches dir and every folder under it. With markFiles, every
// source file found is made pending (it may have been created before the
// watch); otherwise its hash is recorded as known.
func (w *Watcher) addTree(dir string, markFiles bool) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			w.onProblem(&Problem{Path: p, Err: err})
			return nil
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !w.dirs[p] {
				if err := w.fsw.Add(p); err != nil {
					if p == dir {
						return limitHint(err)
					}
					w.onProblem(&Problem{Path: p, Err: limitHint(err)})
					return filepath.SkipDir
				}
				w.dirs[p] = true
			}
			return nil
		}
		if watched(filepath.Base(p)) {
			if markFiles {
				w.pending[p] = true
			} else if data, err := os.ReadFile(p); err == nil {
				w.known[p] = sha256.Sum256(data)
			}
		}
		return nil
	})
}

// limitHint adds how to raise the inotify watch limit to an error that
// hit it.
func limitHint(err error) error {
	if errors.Is(err, syscallENOSPC) {
		return fmt.Errorf("%w: the inotify watch limit is reached; raise it with sysctl fs.inotify.max_user_watches=524288", err)
	}
	return err
}

// dropTree forgets the watches of dir and below, and makes the files known
// under it pending so that the next flush sees them missing.
func (w *Watcher) dropTree(dir string) {
	for d := range w.dirs {
		if d == dir || strings.HasPrefix(d, dir+string(filepath.Separator)) {
			_ = w.fsw.Remove(d)
			delete(w.dirs, d)
		}
	}
	for p := range w.known {
		if strings.HasPrefix(p, dir+string(filepath.Separator)) {
			w.pending[p] = true
		}
	}
}

// rescan marks every known and every present file pending.
func (w *Watcher) rescan() {
	for p := range w.known {
		w.pending[p] = true
	}
	for _, root := range w.roots() {
		if !w.rootMissing[root] {
			_ = w.addTree(root, true)
		}
	}
}

// poll re-watches roots that reappeared and reports files missing for
// longer than the grace period; it reports whether files became pending.
func (w *Watcher) poll() bool {
	added := false
	for root := range w.rootMissing {
		if st, err := os.Stat(root); err == nil && st.IsDir() {
			if err := w.addTree(root, true); err == nil {
				delete(w.rootMissing, root)
				w.opts.Logger.Info("watching again", "root", root)
				added = true
			}
		}
	}
	for p, since := range w.missing {
		if _, err := os.Stat(p); err == nil {
			w.pending[p] = true
			added = true
		} else if time.Since(since) >= w.opts.MissingGrace && !w.pending[p] {
			w.pending[p] = true // the flush reports it removed
			added = true
		}
	}
	return added
}

// flush hands over the pending files as one batch, sorted, unless
// delivery is paused (they then stay pending) or nothing really changed.
func (w *Watcher) flush(ctx context.Context) {
	if w.Paused() {
		w.firstEvent = time.Time{}
		return
	}
	b := w.takeBatch()
	if b.empty() {
		return
	}
	slices.Sort(b.Changed)
	slices.Sort(b.Removed)
	slices.Sort(b.Missing)
	slices.Sort(b.Tests)
	w.batches.Add(1)
	w.opts.Logger.Debug("batch", "changed", b.Changed, "removed", b.Removed, "missing", b.Missing)
	w.onBatch(ctx, b)
}

// takeBatch sorts every pending file into the batch and clears the
// pending set: a file with new content is changed; one that vanished is
// missing, or removed when it has been missing past the grace period or
// when another file appeared in the same burst (a rename); an unchanged
// file and a temporary that came and went are left out.
func (w *Watcher) takeBatch() Batch {
	var b Batch
	appeared := false
	var vanished []string
	for p := range w.pending {
		data, err := os.ReadFile(p)
		if err != nil && starhost.IsTestFile(filepath.Base(p)) {
			delete(w.known, p) // a test file gone: nothing to run, nothing to remove
			continue
		}
		if err != nil {
			if w.unreadable(p, &b) {
				vanished = append(vanished, p)
			}
			continue
		}
		delete(w.missing, p)
		sum := sha256.Sum256(data)
		old, wasKnown := w.known[p]
		if wasKnown && old == sum {
			continue // a chmod, a touch, or saving unchanged content
		}
		w.known[p] = sum
		if starhost.IsTestFile(filepath.Base(p)) {
			b.Tests = append(b.Tests, p)
			continue
		}
		appeared = appeared || !wasKnown
		b.Changed = append(b.Changed, p)
	}
	clear(w.pending)
	w.firstEvent = time.Time{}
	for _, p := range vanished {
		if appeared {
			// Renamed away while another file appeared: a remove plus
			// an add, so the new file can take the old one's names.
			b.Removed = append(b.Removed, p)
			delete(w.known, p)
		} else {
			w.missing[p] = time.Now()
			b.Missing = append(b.Missing, p)
		}
	}
	return b
}

// unreadable settles a pending file that cannot be read. It reports
// whether the file just vanished (it was known and is not missing yet).
// A file never known (a temporary that came and went) is forgotten; one
// missing past the grace period is added to b.Removed.
func (w *Watcher) unreadable(p string, b *Batch) (vanished bool) {
	if _, wasKnown := w.known[p]; !wasKnown {
		delete(w.missing, p)
		return false
	}
	if since, ok := w.missing[p]; ok {
		if time.Since(since) >= w.opts.MissingGrace {
			b.Removed = append(b.Removed, p)
			delete(w.missing, p)
			delete(w.known, p)
		}
		return false
	}
	return true
}
