package statestore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// handledIDs returns the ids LoadHandled gives, oldest first.
func handledIDs(t *testing.T, s *Store) []string {
	t.Helper()
	hs, err := s.LoadHandled()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.ID)
	}
	return ids
}

// TestHandledSavedWithStates: the ids of events ended before a flush are
// saved by it with the states, and survive a reopen of the file; an id
// without a changed state is saved too.
func TestHandledSavedWithStates(t *testing.T) {
	s := open(t, "", Options{})
	h := newTestHost()
	w, errs := newWriter(t, s, h, time.Hour)
	ctx := context.Background()
	for i, id := range []string{"e1", "e2", ""} {
		w.BeginEvent()
		h.set("a", i+1)
		w.Changed("a")
		w.EndEvent(id, time.Now())
	}
	must(t, w.Flush(ctx))
	w.BeginEvent()
	w.EndEvent("nothing-changed", time.Now())
	must(t, w.Flush(ctx))
	must(t, w.Close(ctx))
	if e := errs.get(); len(e) > 0 {
		t.Fatal(e)
	}
	s = reopen(t, s, Options{})
	if got, want := handledIDs(t, s), []string{"e1", "e2", "nothing-changed"}; !slices.Equal(got, want) {
		t.Errorf("handled ids %q, want %q", got, want)
	}
	if n := stored(t, s, "a"); n != 3 {
		t.Errorf("a = %d, want 3", n)
	}
}

// TestHandledBound: the store keeps the last HandledLimit ids and none
// older than HandledAge, on disk (pruned at each save) and in LoadHandled.
func TestHandledBound(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		opts  Options
		saves [][]Handled
		want  []string
	}{
		{"under the limit", Options{HandledLimit: 5}, [][]Handled{{{"a", now}, {"b", now}}}, []string{"a", "b"}},
		{"the last ones past the limit", Options{HandledLimit: 3}, [][]Handled{{{"a", now}, {"b", now}}, {{"c", now}, {"d", now}, {"e", now}}}, []string{"c", "d", "e"}},
		{"none older than the age", Options{HandledAge: time.Hour}, [][]Handled{{{"old", now.Add(-2 * time.Hour)}, {"new", now}}}, []string{"new"}},
		{"the default limit", Options{}, [][]Handled{{{"a", now.Add(-23 * time.Hour)}}}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, "", tt.opts)
			for _, hs := range tt.saves {
				must(t, s.save(context.Background(), nil, hs))
			}
			if got := handledIDs(t, s); !slices.Equal(got, tt.want) {
				t.Errorf("handled ids %q, want %q", got, tt.want)
			}
			// On disk too: a store with no bound of its own reads them.
			s = reopen(t, s, Options{HandledLimit: 1 << 30, HandledAge: 1 << 62})
			if got := handledIDs(t, s); !slices.Equal(got, tt.want) {
				t.Errorf("after reopen: handled ids %q, want %q", got, tt.want)
			}
		})
	}
	if DefaultHandledLimit != 100_000 || DefaultHandledAge != 24*time.Hour {
		t.Errorf("the documented window is 100,000 ids or 24 h, got %d or %v", DefaultHandledLimit, DefaultHandledAge)
	}
}

// TestFlushWaitsForEvents: a flush does not take the states while an event
// begun runs, so that it saves all of its changes with its id or none.
func TestFlushWaitsForEvents(t *testing.T) {
	s := open(t, "", Options{})
	h := newTestHost()
	w, _ := newWriter(t, s, h, time.Hour)
	w.BeginEvent()
	h.set("a", 1)
	w.Changed("a") // the event changed a; b comes next
	flushed := make(chan error, 1)
	go func() { flushed <- w.Flush(context.Background()) }()
	select {
	case err := <-flushed:
		t.Fatalf("the flush did not wait for the event (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	h.set("b", 1)
	w.Changed("b")
	w.EndEvent("e1", time.Now())
	select {
	case err := <-flushed:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the flush did not end after the event")
	}
	if a, b := stored(t, s, "a"), stored(t, s, "b"); a != 1 || b != 1 {
		t.Errorf("a = %d, b = %d: want both changes of the event", a, b)
	}
	if got := handledIDs(t, s); !slices.Equal(got, []string{"e1"}) {
		t.Errorf("handled ids %q, want [e1]", got)
	}
}

// TestHandledRetriedAfterFailure: ids of a failed save are saved by the
// next flush, with the states.
func TestHandledRetriedAfterFailure(t *testing.T) {
	s := open(t, "", Options{})
	h := newTestHost()
	w, _ := newWriter(t, s, h, time.Hour)
	failed := false
	save := w.save
	w.save = func(ctx context.Context, recs []Record, ids []Handled) error {
		if !failed {
			failed = true
			return fmt.Errorf("disk full")
		}
		return save(ctx, recs, ids)
	}
	w.BeginEvent()
	h.set("a", 1)
	w.Changed("a")
	w.EndEvent("e1", time.Now())
	if err := w.Flush(context.Background()); err == nil {
		t.Fatal("the first flush did not fail")
	}
	if got := handledIDs(t, s); len(got) != 0 {
		t.Fatalf("handled ids %q saved by a failed flush", got)
	}
	must(t, w.Flush(context.Background()))
	if got := handledIDs(t, s); !slices.Equal(got, []string{"e1"}) || stored(t, s, "a") != 1 {
		t.Errorf("after the retry: handled ids %q, a = %d; want [e1] and 1", got, stored(t, s, "a"))
	}
}
