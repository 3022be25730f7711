package statestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// open opens a store in a new temporary folder (or at path) and closes it
// at the end of the test.
func open(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), FileName)
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// reopen closes s and opens its file again.
func reopen(t testing.TB, s *Store, opts Options) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return open(t, s.Path(), opts)
}

func load(t testing.TB, s *Store, name string) Record {
	t.Helper()
	rec, ok, err := s.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("Load(%q): no record", name)
	}
	return rec
}

func TestRoundTrip(t *testing.T) {
	tests := []struct{ name, state string }{
		{"counter", `{"n":1}`},
		{"big numbers", `{"i":123456789012345678901234567890,"f":0.1000000000000000055511151231257827}`},
		{"nested", `{"a":[1,[2,{"b":null}],true,"x"],"t":{"u":"ü€😀\n"}}`},
		{"empty", `{}`},
		{"large", `{"s":"` + strings.Repeat("x", 100_000) + `"}`},
		{"name with / and spaces", `[]`},
	}
	s := open(t, "", Options{})
	before := time.Now().UTC()
	for _, tt := range tests {
		if err := s.Save(context.Background(), Record{Name: tt.name, State: []byte(tt.state), ModuleHash: "h-" + tt.name}); err != nil {
			t.Fatal(err)
		}
	}
	after := time.Now().UTC()
	check := func(s *Store) {
		for _, tt := range tests {
			rec := load(t, s, tt.name)
			if string(rec.State) != tt.state || rec.ModuleHash != "h-"+tt.name || !rec.Enabled || !rec.RemovedAt.IsZero() {
				t.Errorf("%s: got %+v", tt.name, rec)
			}
			if rec.SavedAt.Before(before) || rec.SavedAt.After(after) {
				t.Errorf("%s: SavedAt %v not within [%v, %v]", tt.name, rec.SavedAt, before, after)
			}
		}
		all, err := s.LoadAll()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range all {
			names = append(names, r.Name)
		}
		want := "big numbers,counter,empty,large,name with / and spaces,nested"
		if got := strings.Join(names, ","); got != want {
			t.Errorf("LoadAll names = %s, want %s", got, want)
		}
	}
	check(s)
	check(reopen(t, s, Options{}))
}

func TestLoadAbsent(t *testing.T) {
	s := open(t, "", Options{})
	rec, ok, err := s.Load("nobody")
	if err != nil || ok || rec.Name != "nobody" || !rec.Enabled || rec.State != nil {
		t.Errorf("Load(absent) = %+v, %v, %v; want the default record, false, nil", rec, ok, err)
	}
}

func TestSaveRejects(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"bad JSON", Record{Name: "a", State: []byte(`{"n":`)}, `save: integration "a": the state is not valid JSON`},
		{"no state", Record{Name: "a"}, `integration "a": the state is not valid JSON (0 bytes)`},
		{"no name", Record{State: []byte(`1`)}, "without an integration name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, "", Options{})
			err := s.Save(context.Background(), Record{Name: "ok", State: []byte(`1`)}, tt.rec)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), s.Path()) {
				t.Errorf("Save = %v, want an error naming the file and containing %q", err, tt.want)
			}
			if _, ok, _ := s.Load("ok"); ok {
				t.Error("a batch with a bad record was partly written")
			}
		})
	}
}

// failingCtx is cancelled from its n-th Err call on: Save checks it before
// each record, so it fails a batch after earlier records of it were
// written into bbolt's transaction.
type failingCtx struct {
	context.Context
	n int
}

func (c *failingCtx) Err() error {
	if c.n--; c.n <= 0 {
		return context.Canceled
	}
	return nil
}

// TestSaveBatchIsAtomic fails a batch inside bbolt's transaction: none of
// its records may reach the file.
func TestSaveBatchIsAtomic(t *testing.T) {
	s := open(t, "", Options{})
	ctx := context.Background()
	must(t, s.Save(ctx, Record{Name: "a", State: []byte(`"old a"`)}))
	err := s.Save(&failingCtx{ctx, 3},
		Record{Name: "a", State: []byte(`"new a"`)},
		Record{Name: "b", State: []byte(`"new b"`)},
		Record{Name: "c", State: []byte(`"new c"`)},
	)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Save = %v, want Canceled", err)
	}
	s = reopen(t, s, Options{})
	if got := load(t, s, "a").State; string(got) != `"old a"` {
		t.Errorf("a = %s after a failed batch, want the old state", got)
	}
	for _, name := range []string{"b", "c"} {
		if _, ok, _ := s.Load(name); ok {
			t.Errorf("%s was written by a failed batch", name)
		}
	}
}

// TestSaveKeepsSwitchAndRemoval: a save (a write-behind flush racing the
// host) never undoes a switch or a removal.
func TestSaveKeepsSwitchAndRemoval(t *testing.T) {
	s := open(t, "", Options{})
	removed := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	must(t, s.SetEnabled("a", false))
	must(t, s.Save(context.Background(), Record{Name: "a", State: []byte(`1`)}))
	must(t, s.MarkRemoved("a", removed))
	must(t, s.Save(context.Background(), Record{Name: "a", State: []byte(`2`), Enabled: true}))
	rec := load(t, reopen(t, s, Options{}), "a")
	if rec.Enabled || !rec.RemovedAt.Equal(removed) || string(rec.State) != "2" {
		t.Errorf("got %+v, want disabled, removed at %v, state 2", rec, removed)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestEnabledSurvivesReopen(t *testing.T) {
	tests := []struct {
		name     string
		switches []bool
		state    bool // saved a state before the switches
		want     bool
	}{
		{"never switched", nil, true, true},
		{"off", []bool{false}, true, false},
		{"off without state", []bool{false}, false, false},
		{"off and on", []bool{false, true}, true, true},
		{"on", []bool{true}, false, true},
	}
	s := open(t, "", Options{})
	for _, tt := range tests {
		if tt.state {
			must(t, s.Save(context.Background(), Record{Name: tt.name, State: []byte(`{}`)}))
		}
		for _, on := range tt.switches {
			must(t, s.SetEnabled(tt.name, on))
		}
	}
	s = reopen(t, s, Options{})
	for _, tt := range tests {
		rec := load(t, s, tt.name)
		if rec.Enabled != tt.want {
			t.Errorf("%s: Enabled = %v, want %v", tt.name, rec.Enabled, tt.want)
		}
		if !tt.state && rec.State != nil {
			t.Errorf("%s: a switch made state %s", tt.name, rec.State)
		}
	}
}

func TestRetention(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		retention time.Duration
		removed   time.Duration // ago; 0: not removed
		readded   bool
		kept      bool
	}{
		{"present", 0, 0, false, true},
		{"removed 29 days ago", 0, 29 * day, false, true},
		{"removed 31 days ago", 0, 31 * day, false, false},
		{"removed 31 days ago and re-added", 0, 31 * day, true, true},
		{"removed 2h ago, retention 1h", time.Hour, 2 * time.Hour, false, false},
		{"removed 30m ago, retention 1h", time.Hour, 30 * time.Minute, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, "", Options{Retention: tt.retention})
			must(t, s.Save(context.Background(), Record{Name: "x", State: []byte(`{"kept":true}`)}))
			must(t, s.SetEnabled("x", false))
			if tt.removed != 0 {
				must(t, s.MarkRemoved("x", now.Add(-tt.removed)))
			}
			if tt.readded {
				must(t, s.MarkAdded("x"))
			}
			s = reopen(t, s, Options{Retention: tt.retention})
			rec, ok, err := s.Load("x")
			must(t, err)
			if ok != tt.kept {
				t.Fatalf("kept = %v, want %v", ok, tt.kept)
			}
			if ok && (string(rec.State) != `{"kept":true}` || rec.Enabled) {
				t.Errorf("restored %+v, want the state and the switch", rec)
			}
			if ok && tt.readded && !rec.RemovedAt.IsZero() {
				t.Errorf("re-added, but RemovedAt = %v", rec.RemovedAt)
			}
		})
	}
}

func TestMarkRemovedAbsent(t *testing.T) {
	s := open(t, "", Options{})
	must(t, s.MarkRemoved("nobody", time.Now()))
	must(t, s.MarkAdded("nobody"))
	if _, ok, _ := s.Load("nobody"); ok {
		t.Error("MarkRemoved or MarkAdded made a record")
	}
	if err := s.MarkRemoved("x", time.Time{}); err == nil {
		t.Error("MarkRemoved with a zero time succeeded")
	}
}

func TestPurge(t *testing.T) {
	s := open(t, "", Options{})
	must(t, s.Save(context.Background(), Record{Name: "a", State: []byte(`1`)}, Record{Name: "b", State: []byte(`2`)}))
	must(t, s.Purge("a"))
	s = reopen(t, s, Options{})
	if _, ok, _ := s.Load("a"); ok {
		t.Error("a is still stored after Purge")
	}
	load(t, s, "b")
	err := s.Purge("a")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("Purge(absent) = %v, want ErrNotFound naming the file and the integration", err)
	}
}

// boltFile makes a bbolt file at path and lets fn fill it.
func boltFile(t *testing.T, path string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, db.Update(fn))
	must(t, db.Close())
}

func withFormat(version string) func(tx *bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucket([]byte(metaBucket))
		if err == nil {
			_, err = tx.CreateBucket([]byte(integrationsBucket))
		}
		if err == nil {
			err = meta.Put([]byte(formatKey), []byte(version))
		}
		return err
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name  string
		make  func(t *testing.T, path string)
		is    error
		wants []string
	}{
		{"newer format", func(t *testing.T, p string) { boltFile(t, p, withFormat("2")) },
			ErrNewerFormat, []string{"format version is 2", "reads version 1 at most", "use a newer afstudio", "move the file aside"}},
		{"bad format", func(t *testing.T, p string) { boltFile(t, p, withFormat("one")) },
			ErrCorrupt, []string{`bad format version "one"`, "move it aside"}},
		{"another program's bbolt file", func(t *testing.T, p string) {
			boltFile(t, p, func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("theirs")); return err })
		}, ErrCorrupt, []string{"another program", "move it aside"}},
		{"text file", func(t *testing.T, p string) { must(t, os.WriteFile(p, []byte("hello\n"), 0o600)) },
			ErrCorrupt, []string{"not a bbolt database", "move it aside"}},
		{"zeros", func(t *testing.T, p string) { must(t, os.WriteFile(p, make([]byte, 20000), 0o600)) },
			ErrCorrupt, []string{"not a bbolt database"}},
		{"truncated", func(t *testing.T, p string) { bigStore(t, p); truncate(t, p, 2) },
			ErrCorrupt, []string{"truncated", "move it aside"}},
		{"truncated to a tenth", func(t *testing.T, p string) { bigStore(t, p); truncate(t, p, 10) },
			ErrCorrupt, []string{"truncated"}},
		{"state overwritten", func(t *testing.T, p string) { bigStore(t, p); overwrite(t, p, []byte(`"x`), []byte(`{"`)) },
			ErrCorrupt, []string{"not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			tt.make(t, path)
			before, err := os.ReadFile(path)
			must(t, err)
			s, err := Open(path, Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open = %v, want %v naming the file", err, tt.is)
			}
			msg := strings.ReplaceAll(err.Error(), path, "PATH") // the path holds the test's name
			for _, w := range tt.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("Open = %v, want it to say %q", err, w)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("Open changed a file it refused")
			}
			// The host moves it aside and starts empty (and the lock is free).
			aside, err := MoveAside(path, time.Now())
			must(t, err)
			if _, err := os.Stat(aside); err != nil {
				t.Error(err)
			}
			open(t, path, Options{})
		})
	}
}

// bigStore writes a file of many pages.
func bigStore(t *testing.T, path string) {
	s, err := Open(path, Options{})
	must(t, err)
	var recs []Record
	for i := range 200 {
		recs = append(recs, Record{Name: fmt.Sprint("n", i), State: []byte(`"` + strings.Repeat("x", 1000) + `"`)})
	}
	must(t, s.Save(context.Background(), recs...))
	must(t, s.Close())
}

func truncate(t *testing.T, path string, fraction int64) {
	st, err := os.Stat(path)
	must(t, err)
	must(t, os.Truncate(path, st.Size()/fraction))
}

// overwrite replaces the first occurrence of old, past the meta pages.
func overwrite(t *testing.T, path string, old, new []byte) {
	b, err := os.ReadFile(path)
	must(t, err)
	i := bytes.Index(b[8192:], old)
	if i < 0 {
		t.Fatalf("%q not in the file", old)
	}
	copy(b[8192+i:], new)
	must(t, os.WriteFile(path, b, 0o600))
}

// TestOpenSurvivesDamage writes random bytes over random places of a
// valid file: Open may succeed (the damage hit free space or a string) or
// fail with ErrCorrupt, but must not panic or crash (which would be a
// crash loop on every start).
func TestOpenSurvivesDamage(t *testing.T) {
	good := filepath.Join(t.TempDir(), "good.db")
	bigStore(t, good)
	orig, err := os.ReadFile(good)
	must(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	failed := 0
	for i := range 60 {
		b := bytes.Clone(orig)
		off := 8192 + r.IntN(len(b)-8192-512)
		for j := range 512 {
			b[off+j] = byte(r.Uint32())
		}
		path := filepath.Join(t.TempDir(), fmt.Sprint(i, ".db"))
		must(t, os.WriteFile(path, b, 0o600))
		s, err := Open(path, Options{})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("damage at %d: Open = %v, want ErrCorrupt", off, err)
			}
			failed++
			continue
		}
		if _, err := s.LoadAll(); err != nil {
			t.Errorf("damage at %d: Open succeeded, LoadAll = %v", off, err)
		}
		must(t, s.Close())
	}
	if failed == 0 {
		t.Error("no damage was detected; the test damages nothing")
	}
}

func TestMoveAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	must(t, os.WriteFile(path, []byte("junk"), 0o600))
	now := time.Date(2026, 3, 4, 5, 6, 7, 8e6, time.UTC)
	aside, err := MoveAside(path, now)
	must(t, err)
	if want := path + ".corrupt-20260304T050607.008Z"; aside != want {
		t.Errorf("MoveAside = %s, want %s", aside, want)
	}
	if b, err := os.ReadFile(aside); err != nil || string(b) != "junk" {
		t.Errorf("moved file: %q, %v", b, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the original is still there: %v", err)
	}
	must(t, os.WriteFile(path, []byte("junk 2"), 0o600))
	if _, err := MoveAside(path, now); err == nil {
		t.Error("MoveAside overwrote an earlier moved file")
	}
}

func TestDefaultDir(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	tests := []struct {
		goos string
		env  map[string]string
		home func() (string, error)
		want string // "" for an error
	}{
		{"linux", map[string]string{"XDG_DATA_HOME": "/data"}, home, filepath.Join("/data", "afstudio")},
		{"linux", nil, home, filepath.Join("/home/u", ".local", "share", "afstudio")},
		{"linux", map[string]string{"XDG_DATA_HOME": "relative"}, home, filepath.Join("/home/u", ".local", "share", "afstudio")},
		{"darwin", nil, home, filepath.Join("/home/u", ".local", "share", "afstudio")},
		{"linux", nil, noHome, ""},
		{"windows", map[string]string{"LOCALAPPDATA": `C:\Users\u\AppData\Local`, "XDG_DATA_HOME": "/data"}, home, filepath.Join(`C:\Users\u\AppData\Local`, "afstudio")},
		{"windows", nil, home, filepath.Join("/home/u", "AppData", "Local", "afstudio")},
		{"windows", nil, noHome, ""},
	}
	for _, tt := range tests {
		got, err := defaultDir(tt.goos, func(k string) string { return tt.env[k] }, tt.home)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("%s %v: got %q, %v; want %q", tt.goos, tt.env, got, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "--data") {
			t.Errorf("%s: %v does not say what to do", tt.goos, err)
		}
	}
	if runtime.GOOS != "windows" {
		t.Setenv("XDG_DATA_HOME", "/x")
		if d, err := DefaultDir(); err != nil || d != filepath.Join("/x", "afstudio") {
			t.Errorf("DefaultDir() = %q, %v", d, err)
		}
	}
}
