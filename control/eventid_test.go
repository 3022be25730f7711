package control_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// counterSrc counts its tick events.
const counterSrc = `
def on_tick(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return ctx.state["n"]

integration(name = "counter", handlers = {"tick": on_tick})
`

// count returns the counter's n.
func count(t *testing.T, f *fixture) any {
	t.Helper()
	st, err := f.m.State("counter")
	if err != nil {
		t.Fatal(err)
	}
	return st["n"]
}

// TestEmitWithID: POST /v1/events/{event} with an Idempotency-Key header
// is handled once; the retry answers 200 {"results": null, "duplicate":
// true}; a bad key is a 400 naming the header.
func TestEmitWithID(t *testing.T) {
	f := newFixture(t, map[string]string{"counter.star": counterSrc})
	ctx := context.Background()
	rs, err := f.c.EmitID(ctx, "evt-1", "tick", nil)
	if err != nil || fmt.Sprint(hosttest.ResultOf(t, rs, "counter").Value) != "1" {
		t.Fatalf("first: %v, %v", rs, err)
	}
	rs, err = f.c.EmitID(ctx, "evt-1", "tick", nil)
	if !errors.Is(err, starhost.ErrDuplicateEvent) || rs != nil {
		t.Fatalf("retry: %v, %v; want a duplicate", rs, err)
	}
	if _, err := f.c.EmitID(ctx, "evt-2", "tick", map[string]any{"x": 1}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, f); n != int64(2) {
		t.Fatalf("n = %v, want 2", n)
	}

	tests := []struct {
		name, key string
		status    int
		body      string // contained in the answer's body
	}{
		{"a duplicate", "evt-1", http.StatusOK, `{"results":null,"duplicate":true}`},
		{"a new id", "evt-3", http.StatusOK, `"ok":true`},
		{"an empty key", "", http.StatusBadRequest, `header Idempotency-Key: id: empty`},
		{"too long", strings.Repeat("k", 201), http.StatusBadRequest, `header Idempotency-Key: id: 201 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", f.srv.URL+"/v1/events/tick", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header[control.IDHeader] = []string{tt.key}
			resp, err := f.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.body) {
				t.Errorf("%d %s; want %d with %s", resp.StatusCode, b, tt.status, tt.body)
			}
		})
	}
	if n := count(t, f); n != int64(3) {
		t.Fatalf("n = %v, want 3 (evt-1, evt-2, evt-3)", n)
	}
}

// TestEmitBatchWithIDs: each event of a batch may carry an id; a
// duplicate (of an earlier request or of an event before it in the same
// batch) is marked and not handled; a bad id fails that event alone.
func TestEmitBatchWithIDs(t *testing.T) {
	f := newFixture(t, map[string]string{"counter.star": counterSrc})
	ctx := context.Background()
	if _, err := f.c.EmitID(ctx, "before", "tick", nil); err != nil {
		t.Fatal(err)
	}
	events := []control.BatchEvent{
		{Event: "tick", ID: "a"},
		{Event: "tick", ID: "before"},
		{Event: "tick", ID: "a"},
		{Event: "tick"},
		{Event: "tick", ID: "bad\x00id"},
		{Event: "tick", ID: "b"},
	}
	want := []struct {
		dup bool
		err string
	}{{}, {dup: true}, {dup: true}, {}, {err: "events[4]: id: "}, {}}
	out, err := f.c.EmitBatch(ctx, events)
	if err != nil || len(out) != len(events) {
		t.Fatalf("%d outcomes, %v", len(out), err)
	}
	for i, o := range out {
		w := want[i]
		switch {
		case o.Duplicate != w.dup:
			t.Errorf("events[%d]: duplicate %v, want %v", i, o.Duplicate, w.dup)
		case w.err != "" && !strings.Contains(o.Error, w.err):
			t.Errorf("events[%d]: error %q, want %q", i, o.Error, w.err)
		case w.err == "" && o.Error != "":
			t.Errorf("events[%d]: error %q", i, o.Error)
		case (w.dup || w.err != "") != (o.Results == nil):
			t.Errorf("events[%d]: results %v", i, o.Results)
		}
	}
	if n := count(t, f); n != int64(4) {
		t.Fatalf("n = %v, want 4 (before, a, no id, b)", n)
	}
	// Raw: the answer marks the duplicates.
	r := f.authed(t, "POST", "/v1/events", `{"events": [{"event": "tick", "id": "a"}, {"event": "tick", "id": "c"}]}`)
	wantStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(string(r.body), `{"events":[{"results":null,"duplicate":true},{"results":[{"integration":"counter"`) {
		t.Fatalf("raw batch answer %s", r.body)
	}
}

// TestEmitIDConcurrentThroughAPI: clients sending the same ids at once
// have each handled once.
func TestEmitIDConcurrentThroughAPI(t *testing.T) {
	f := newFixture(t, map[string]string{"counter.star": counterSrc})
	const clients, ids = 4, 40
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range ids {
				_, err := f.c.EmitID(context.Background(), fmt.Sprint("id-", (i+c*7)%ids), "tick", nil)
				if err != nil && !errors.Is(err, starhost.ErrDuplicateEvent) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := count(t, f); n != int64(ids) {
		t.Fatalf("n = %v, want %d", n, ids)
	}
}
