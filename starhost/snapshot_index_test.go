package starhost

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// referenceSnapshot is newSnapshot as it was written first (one pass over
// the slots per event), kept as the reference for the one-pass version.
func referenceSnapshot(slots []*slot) *snapshot {
	sn := &snapshot{byName: make(map[string]*slot, len(slots)), byEvent: map[string][]*slot{}}
	ordered := append([]*slot(nil), slots...)
	sort.Slice(ordered, func(i, j int) bool {
		vi, vj := ordered[i].current.Load(), ordered[j].current.Load()
		if vi.decl.priority != vj.decl.priority {
			return vi.decl.priority < vj.decl.priority
		}
		return ordered[i].name < ordered[j].name
	})
	sn.ordered = ordered
	events := map[string]bool{}
	for _, s := range ordered {
		sn.byName[s.name] = s
		for _, ev := range s.current.Load().decl.events {
			events[ev] = true
		}
	}
	for _, s := range ordered {
		if s.current.Load().subscribes(Wildcard) {
			sn.wildcard = append(sn.wildcard, s)
		}
	}
	for ev := range events {
		if ev == Wildcard {
			continue
		}
		for _, s := range ordered {
			if s.current.Load().subscribes(ev) {
				sn.byEvent[ev] = append(sn.byEvent[ev], s)
			}
		}
	}
	return sn
}

// TestNewSnapshotMatchesReference compares newSnapshot's indexes with the
// reference's on random sets of integrations: priorities, named events,
// wildcard subscribers with and without named events of their own.
func TestNewSnapshotMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	events := []string{"a", "b", "c", "d", Wildcard}
	for round := range 500 {
		var slots []*slot
		for i := range rng.IntN(12) {
			d := &declaration{name: fmt.Sprintf("s%02d", i), priority: Priority(rng.IntN(4)), handlers: map[string]starlark.Callable{}}
			for _, ev := range events {
				if rng.IntN(3) == 0 {
					d.handlers[ev] = nil
					d.events = append(d.events, ev)
				}
			}
			sort.Strings(d.events)
			s := newSlot(d.name)
			s.current.Store(&version{decl: d})
			slots = append(slots, s)
		}
		rng.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
		got, want := newSnapshot(slots, nil), referenceSnapshot(slots)
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"ordered", got.ordered, want.ordered},
			{"byName", got.byName, want.byName},
			{"byEvent", got.byEvent, want.byEvent},
			{"wildcard", got.wildcard, want.wildcard},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Fatalf("round %d: %s differs:\n got  %v\n want %v", round, c.what, c.got, c.want)
			}
		}
	}
}

// TestPublishedIndexesAfterReloads reloads integrations over and over,
// each time changing only their code or also their priority, their
// events or their wildcard subscription, and checks after each reload
// that the published snapshot indexes its slots exactly as newSnapshot
// would from scratch (a reload that keeps priority and events reuses the
// indexes; any other reindexes), and that events reach whom they should.
func TestPublishedIndexesAfterReloads(t *testing.T) {
	dir := t.TempDir()
	priorities := []string{"CRITICAL", "HIGH", "NORMAL", "LOW"}
	eventSets := [][]string{{"a"}, {"a", "b"}, {"b"}, {"*"}, {"a", "*"}}
	type shape struct{ prio, events, rev int }
	shapes := map[string]shape{}
	write := func(name string, sh shape) {
		var handlers []string
		for _, ev := range eventSets[sh.events] {
			handlers = append(handlers, fmt.Sprintf("%q: h", ev))
		}
		src := fmt.Sprintf("def h(event, ctx):\n    return %d\n\nintegration(name = %q, priority = %q, handlers = {%s})\n",
			sh.rev, name, priorities[sh.prio], strings.Join(handlers, ", "))
		if err := os.WriteFile(filepath.Join(dir, name+".star"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		shapes[name] = sh
	}
	names := []string{"i0", "i1", "i2", "i3", "i4", "i5"}
	for k, name := range names {
		write(name, shape{prio: k % 4, events: k % len(eventSets)})
	}
	m, err := New(Options{Roots: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		name := names[rng.IntN(len(names))]
		sh := shapes[name]
		sh.rev++
		switch rng.IntN(4) {
		case 0:
			sh.prio = rng.IntN(len(priorities))
		case 1:
			sh.events = rng.IntN(len(eventSets))
		} // otherwise only the code changes
		write(name, sh)
		if err := m.ReloadIntegration(ctx, name); err != nil {
			t.Fatal(err)
		}
		got := m.snap.Load()
		want := newSnapshot(got.ordered, nil)
		if !reflect.DeepEqual(got.ordered, want.ordered) || !reflect.DeepEqual(got.byEvent, want.byEvent) || !reflect.DeepEqual(got.wildcard, want.wildcard) || !reflect.DeepEqual(got.byName, want.byName) {
			t.Fatalf("round %d (%s now %+v): the published indexes differ from a fresh index", round, name, sh)
		}
		for _, ev := range []string{"a", "b", "other"} {
			var subscribed []string
			for _, r := range mustEmit(t, m, ev) {
				subscribed = append(subscribed, r.Integration)
				if r.Value != int64(shapes[r.Integration].rev) {
					t.Fatalf("round %d: %s answered %v, from an old version", round, r.Integration, r.Value)
				}
			}
			var want []string
			for _, s := range newSnapshot(got.ordered, nil).subscribers(ev) {
				want = append(want, s.name)
			}
			if !slices.Equal(subscribed, want) {
				t.Fatalf("round %d: %s reached %v, want %v", round, ev, subscribed, want)
			}
		}
	}
}

// mustEmit emits event on m and fails the test on an error.
func mustEmit(t *testing.T, m *Manager, event string) []Result {
	t.Helper()
	rs, err := m.Emit(context.Background(), event, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
