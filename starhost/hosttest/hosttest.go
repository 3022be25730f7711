// Package hosttest holds the fixtures that the tests of afstudio's
// packages share, the way Tilt's starkit fixture serves its Starlark
// plugins: files written into a temporary folder, a loaded host, polling
// for a condition, a buffer for output written by another goroutine or
// process (Buffer), and the one concurrency check of reloads against
// emitters (ReloadRace, with CounterModule).
//
// It is imported only by tests. It depends on starhost alone, so that the
// packages above starhost (control, the front ends) can use it without a
// cycle; they pass what is theirs (the embedded defaults, an HTTP client)
// in as options and functions.
package hosttest

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/afstudio/afstudio/blackbox"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/statestore"
)

// WriteFiles writes each name -> content of files into dir, creating the
// folders on the way. Names use forward slashes ("lib/stats.star"). A
// write that fails fails the test, so call it from the test's goroutine.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		WriteFile(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}
}

// WriteFile writes content to the file at path (mode 0644), creating its
// folders; an existing file is replaced. A write that fails fails the
// test, so call it from the test's goroutine.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An Option changes how New builds a host.
type Option func(*config)

type config struct {
	opts     starhost.Options
	loadErr  *error
	unloaded bool
}

// Roots appends user integration folders to the host's roots.
func Roots(dirs ...string) Option {
	return func(c *config) { c.opts.Roots = append(c.opts.Roots, dirs...) }
}

// Defaults gives the host embedded default integrations (for example
// integrations.FS); without it the host has none.
func Defaults(fsys fs.FS) Option {
	return func(c *config) { c.opts.Defaults = fsys }
}

// SkipDefaultIntegrations keeps the defaults' integrations from loading;
// their libraries stay loadable (starhost.Options.SkipDefaultIntegrations).
func SkipDefaultIntegrations() Option {
	return func(c *config) { c.opts.SkipDefaultIntegrations = true }
}

// Limits sets the host's limits; zero fields keep their defaults.
func Limits(l starhost.Limits) Option {
	return func(c *config) { c.opts.Limits = l }
}

// Logger gives the host a logger for its own logs
// (starhost.Options.Logger); without it they are discarded.
func Logger(l *slog.Logger) Option {
	return func(c *config) { c.opts.Logger = l }
}

// Parallel sets how many of one event's handler calls may run at once
// (starhost.Options.Parallel).
func Parallel(n int) Option {
	return func(c *config) { c.opts.Parallel = n }
}

// Recorder gives the host a flight recorder (starhost.Options.Recorder),
// as a supervised worker has.
func Recorder(r *blackbox.Recorder) Option {
	return func(c *config) { c.opts.Recorder = r }
}

// EventIDWindow bounds the host's window of handled event ids
// (starhost.Options.EventIDLimit and EventIDAge).
func EventIDWindow(limit int, age time.Duration) Option {
	return func(c *config) { c.opts.EventIDLimit, c.opts.EventIDAge = limit, age }
}

// Store gives the host a state store (starhost.Options.Store); the test
// closes the host (Manager.Close) and then the store.
func Store(st *statestore.Store) Option {
	return func(c *config) { c.opts.Store = st }
}

// FlushInterval sets how long a changed state waits before it is written
// (starhost.Options.FlushInterval).
func FlushInterval(d time.Duration) Option {
	return func(c *config) { c.opts.FlushInterval = d }
}

// SyncWrites makes Emit wait until the states are on disk
// (starhost.Options.SyncWrites).
func SyncWrites(on bool) Option {
	return func(c *config) { c.opts.SyncWrites = on }
}

// HoldFollowUps sets Options.HoldFollowUps.
func HoldFollowUps(on bool) Option {
	return func(c *config) { c.opts.HoldFollowUps = on }
}

// OnEvent sets Options.OnEvent.
func OnEvent(f func(starhost.AcceptedEvent)) Option {
	return func(c *config) { c.opts.OnEvent = f }
}

// Unloaded makes New return the host before LoadDefaultIntegrations, with
// no integration live, for a test that subscribes to the host first (a
// front end that must see the "loaded" notices); the test then calls Load.
// LoadError has no effect with it.
func Unloaded() Option {
	return func(c *config) { c.unloaded = true }
}

// LoadError makes New store the error of LoadDefaultIntegrations in *err
// instead of failing the test, for tests of modules that must not load.
func LoadError(err *error) Option {
	return func(c *config) { c.loadErr = err }
}

// New returns a host built with starhost.New from the options, after
// LoadDefaultIntegrations (unless Unloaded): the defaults (with Defaults)
// and every module in the roots are live. An error fails the test, a load
// error too unless LoadError says where to keep it.
func New(t testing.TB, opts ...Option) *starhost.Manager {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	m, err := starhost.New(c.opts)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case c.unloaded:
	case c.loadErr != nil:
		*c.loadErr = m.LoadDefaultIntegrations(context.Background())
	default:
		Load(t, m)
	}
	return m
}

// Load calls m.LoadDefaultIntegrations, for a host from New with
// Unloaded; an error fails the test.
func Load(t testing.TB, m *starhost.Manager) {
	t.Helper()
	if err := m.LoadDefaultIntegrations(context.Background()); err != nil {
		t.Fatalf("load: %v", err)
	}
}

// NewRoot writes files into a fresh temporary folder and returns New's
// host with that folder as its first root, and the folder. files may be
// nil for an empty root.
func NewRoot(t testing.TB, files map[string]string, opts ...Option) (*starhost.Manager, string) {
	t.Helper()
	dir := TempDir(t, files)
	return New(t, append([]Option{Roots(dir)}, opts...)...), dir
}

// TempDir returns a fresh temporary folder (t.TempDir) holding files,
// written as WriteFiles writes them; files may be nil.
func TempDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	WriteFiles(t, dir, files)
	return dir
}

// pollEvery is how often Eventually checks its condition.
const pollEvery = 5 * time.Millisecond

// Eventually calls cond every few milliseconds until it returns true, and
// fails the test if it has not within timeout. what names the awaited
// condition in the failure ("greeter answers v2"). cond runs on the test's
// goroutine, so it may itself fail the test (an answer that must never
// appear).
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(pollEvery)
	}
}

// Emit emits event with data on m and returns the results; an error from
// Emit (a bad event, not a failed handler) fails the test.
func Emit(t testing.TB, m *starhost.Manager, event string, data map[string]any) []starhost.Result {
	t.Helper()
	rs, err := m.Emit(context.Background(), event, data)
	if err != nil {
		t.Fatalf("emit %s: %v", event, err)
	}
	return rs
}

// ResultOf returns the first result of the named integration in rs, and
// fails the test if there is none.
func ResultOf(t testing.TB, rs []starhost.Result, integration string) starhost.Result {
	t.Helper()
	for _, r := range rs {
		if r.Integration == integration {
			return r
		}
	}
	t.Fatalf("no result from %s in %+v", integration, rs)
	return starhost.Result{}
}
