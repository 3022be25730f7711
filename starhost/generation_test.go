package starhost_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/statestore"
)

// storedRecord reads name's record from the state file at path (the host
// using it must be stopped).
func storedRecord(t *testing.T, path, name string) (statestore.Record, bool) {
	t.Helper()
	store, err := statestore.Open(path, statestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, ok, err := store.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return rec, ok
}

// TestGenerationSurvivesRestart: an integration's generation is saved with
// its state and continues after a restart (as after a crash of the
// worker): the same code comes back at the same generation, code changed
// while the host was stopped comes back one generation on, and after
// ForgetState (the record is gone) it starts again at 1.
func TestGenerationSurvivesRestart(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"tally.star": tally(0, migrateMarks)})
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := context.Background()

	// A reload changes the generation, not the state: the record is
	// saved again all the same, without waiting for a stop.
	store, err := statestore.Open(path, statestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := hosttest.New(t, hosttest.Roots(dir), hosttest.Store(store), hosttest.FlushInterval(time.Millisecond))
	if g := gen(t, m, "tally"); g != 1 {
		t.Fatalf("first load: generation %d, want 1", g)
	}
	hosttest.Emit(t, m, "tick", nil)
	hosttest.Eventually(t, 10*time.Second, func() bool {
		rec, _, err := store.Load("tally")
		return err == nil && strings.HasPrefix(string(rec.State), `{"n":1,`) && rec.Generation == 1
	}, "the state written behind") // so that only the reloads can write generation 3
	for range 2 {
		if err := m.ReloadIntegration(ctx, "tally"); err != nil {
			t.Fatal(err)
		}
	}
	if g := gen(t, m, "tally"); g != 3 {
		t.Fatalf("after two reloads: generation %d, want 3", g)
	}
	hosttest.Eventually(t, 10*time.Second, func() bool {
		rec, _, err := store.Load("tally")
		return err == nil && rec.Generation == 3
	}, "the reloaded generation written behind")
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name   string
		change func(t *testing.T, m *starhost.Manager) // before the stop; nil: none
		file   string                                  // written while stopped; "": unchanged
		want   int                                     // the generation after the start
		state  string                                  // how the state after the start begins
	}{
		{name: "same code", want: 3, state: `{"n":1,`},
		{name: "code changed while stopped", file: tally(1, migrateMarks), want: 4, state: `{"n":2,`},
		{name: "same code again", want: 4, state: `{"n":3,`},
		{
			name: "a reload, then a restart",
			change: func(t *testing.T, m *starhost.Manager) {
				if err := m.ReloadIntegration(ctx, "tally"); err != nil {
					t.Fatal(err)
				}
			},
			want: 5, state: `{"n":4,`,
		},
		{
			name: "forgotten",
			change: func(t *testing.T, m *starhost.Manager) {
				if err := m.ForgetState("tally"); err != nil {
					t.Fatal(err)
				}
				if g := gen(t, m, "tally"); g != 5 {
					t.Fatalf("ForgetState changed the running generation to %d", g)
				}
			},
			want: 1, state: `{}`,
		},
		{name: "after the forget, same code", want: 1, state: `{"n":1,`},
	}
	m, stop := durableHost(t, dir, path)
	for _, st := range steps {
		if st.change != nil {
			st.change(t, m)
		}
		stop()
		if st.file != "" {
			hosttest.WriteFile(t, filepath.Join(dir, "tally.star"), st.file)
		}
		m, stop = durableHost(t, dir, path)
		if g := gen(t, m, "tally"); g != st.want {
			t.Fatalf("%s: generation %d after the start, want %d", st.name, g, st.want)
		}
		if got := stateJSON(t, m, "tally"); !strings.HasPrefix(got, st.state) {
			t.Fatalf("%s: state %s, want it to start with %s", st.name, got, st.state)
		}
		if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "tally"); r.Generation != st.want {
			t.Fatalf("%s: the event was handled by generation %d, want %d", st.name, r.Generation, st.want)
		}
	}
	stop()
	if rec, ok := storedRecord(t, path, "tally"); !ok || rec.Generation != 1 {
		t.Fatalf("record at the end: %+v, %v", rec, ok)
	}
}

// TestGenerationRestoredFromRecord: the generation a start gives an
// integration, for each kind of stored record: its generation with the
// module's hash, one more with another hash (code changed while the host
// was down), and 1 without a stored generation (a record of an older
// afstudio) or without a record.
func TestGenerationRestoredFromRecord(t *testing.T) {
	tests := []struct {
		name     string
		gen      int  // stored; 0: no generation key
		sameHash bool // the stored hash is the module's
		noRecord bool
		want     int
		migrated bool
	}{
		{name: "same code", gen: 7, sameHash: true, want: 7},
		{name: "changed code", gen: 7, want: 8, migrated: true},
		{name: "older afstudio, same code", sameHash: true, want: 1},
		{name: "older afstudio, changed code", want: 1, migrated: true},
		{name: "no record", noRecord: true, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := hosttest.TempDir(t, map[string]string{"tally.star": tally(0, migrateMarks)})
			path := filepath.Join(t.TempDir(), "state.db")
			m, stop := durableHost(t, dir, path)
			hosttest.Emit(t, m, "tick", nil)
			stop()
			rec, ok := storedRecord(t, path, "tally")
			if !ok || rec.Generation != 1 {
				t.Fatalf("record of the first run: %+v, %v", rec, ok)
			}
			store, err := statestore.Open(path, statestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := store.Purge("tally"); err != nil { // so that a zero generation leaves no key
				t.Fatal(err)
			}
			if !tt.noRecord {
				rec.Generation = tt.gen
				if !tt.sameHash {
					rec.ModuleHash = "another module"
				}
				if err := store.Save(context.Background(), rec); err != nil {
					t.Fatal(err)
				}
			}
			if err := store.Close(); err != nil {
				t.Fatal(err)
			}
			m, _ = durableHost(t, dir, path)
			if g := gen(t, m, "tally"); g != tt.want {
				t.Fatalf("generation %d, want %d", g, tt.want)
			}
			if got := stateJSON(t, m, "tally"); strings.Contains(got, `"migrated"`) != tt.migrated {
				t.Fatalf("state %s: migrated should be %v", got, tt.migrated)
			}
		})
	}
}
