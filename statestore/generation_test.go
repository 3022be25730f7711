package statestore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestGenerationRoundTrip: Save stores each record's generation with its
// state; Load and LoadAll read it back, also after a reopen; a later Save
// with a zero generation keeps the one stored, one with a generation
// replaces it.
func TestGenerationRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		saves []int // the generations saved, in order
		want  int
	}{
		{"first load", []int{1}, 1},
		{"reloaded", []int{1, 2, 7}, 7},
		{"never given", []int{0}, 0},
		{"zero keeps the stored one", []int{4, 0}, 4},
		{"a lower one replaces it", []int{9, 1}, 1},
		{"large", []int{1 << 40}, 1 << 40},
	}
	s := open(t, "", Options{})
	for _, tt := range tests {
		for _, g := range tt.saves {
			must(t, s.Save(context.Background(), Record{Name: tt.name, State: []byte(`{}`), ModuleHash: "h", Generation: g}))
		}
	}
	check := func(s *Store, when string) {
		t.Helper()
		all, err := s.LoadAll()
		must(t, err)
		byName := map[string]Record{}
		for _, r := range all {
			byName[r.Name] = r
		}
		for _, tt := range tests {
			if got := load(t, s, tt.name).Generation; got != tt.want {
				t.Errorf("%s: %s: Load generation %d, want %d", when, tt.name, got, tt.want)
			}
			if got := byName[tt.name].Generation; got != tt.want {
				t.Errorf("%s: %s: LoadAll generation %d, want %d", when, tt.name, got, tt.want)
			}
		}
	}
	check(s, "saved")
	check(reopen(t, s, Options{}), "reopened")
}

// TestGenerationAbsentReadsZero: a record written before generations
// were stored (no generation key) opens and reads as generation 0, with
// the rest of it as it was; a later Save adds the key.
func TestGenerationAbsentReadsZero(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	saved := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	boltFile(t, path, func(tx *bbolt.Tx) error {
		if err := withFormat("1")(tx); err != nil {
			return err
		}
		b, err := tx.Bucket([]byte(integrationsBucket)).CreateBucket([]byte("old"))
		for k, v := range map[string]string{stateKey: `{"n":3}`, hashKey: "h1", savedKey: saved.Format(time.RFC3339Nano), enabledKey: "false"} {
			if err == nil {
				err = b.Put([]byte(k), []byte(v))
			}
		}
		return err
	})
	s := open(t, path, Options{})
	rec := load(t, s, "old")
	if rec.Generation != 0 || string(rec.State) != `{"n":3}` || rec.ModuleHash != "h1" || !rec.SavedAt.Equal(saved) || rec.Enabled {
		t.Fatalf("old record: %+v", rec)
	}
	if all, err := s.LoadAll(); err != nil || len(all) != 1 || all[0].Generation != 0 {
		t.Fatalf("LoadAll of the old record: %+v, %v", all, err)
	}
	must(t, s.Save(context.Background(), Record{Name: "old", State: []byte(`{"n":4}`), ModuleHash: "h1", Generation: 2}))
	if rec := load(t, reopen(t, s, Options{}), "old"); rec.Generation != 2 || rec.Enabled {
		t.Fatalf("after a save: %+v", rec)
	}
}

// TestGenerationDamaged: a generation that is not a non-negative decimal
// makes the file fail to open as ErrCorrupt, naming the integration; Save
// refuses a negative generation.
func TestGenerationDamaged(t *testing.T) {
	for _, bad := range []string{"x", "-1", "", "1.5"} {
		t.Run(bad, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			boltFile(t, path, func(tx *bbolt.Tx) error {
				if err := withFormat("1")(tx); err != nil {
					return err
				}
				b, err := tx.Bucket([]byte(integrationsBucket)).CreateBucket([]byte("broken"))
				if err == nil {
					err = b.Put([]byte(generationKey), []byte(bad))
				}
				return err
			})
			_, err := Open(path, Options{})
			if !errors.Is(err, ErrCorrupt) || !containsAll(err.Error(), `"broken"`, "bad generation", path) {
				t.Fatalf("Open = %v, want ErrCorrupt naming the integration, the generation and the file", err)
			}
		})
	}
	s := open(t, "", Options{})
	err := s.Save(context.Background(), Record{Name: "neg", State: []byte(`{}`), Generation: -1})
	if err == nil || !containsAll(err.Error(), `"neg"`, "negative generation", s.Path()) {
		t.Fatalf("Save of a negative generation = %v", err)
	}
}

// TestWriterSavesGeneration: the generation collect returns is saved by
// the writer's flush, and a later flush of a new generation replaces it
// although the state is the same.
func TestWriterSavesGeneration(t *testing.T) {
	s := open(t, "", Options{})
	var mu sync.Mutex
	gen := 3
	w := NewWriter(s, func(names []string) []Record {
		mu.Lock()
		defer mu.Unlock()
		var recs []Record
		for _, n := range names {
			recs = append(recs, Record{Name: n, State: []byte(`{"same":true}`), ModuleHash: "h", Generation: gen})
		}
		return recs
	}, WriterOptions{Interval: time.Hour})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	for _, want := range []int{3, 4} {
		mu.Lock()
		gen = want
		mu.Unlock()
		must(t, w.Sync(context.Background(), "a"))
		if rec := load(t, s, "a"); rec.Generation != want || string(rec.State) != `{"same":true}` {
			t.Fatalf("after a flush of generation %d: %+v", want, rec)
		}
	}
	mu.Lock()
	gen = 5
	mu.Unlock()
	w.Changed("a")
	must(t, w.Close(context.Background())) // the final flush saves it too
	if rec := load(t, reopen(t, s, Options{}), "a"); rec.Generation != 5 {
		t.Fatalf("after Close: generation %d, want 5", rec.Generation)
	}
}

// containsAll reports whether s contains every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
