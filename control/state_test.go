package control_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/statestore"
)

const tallySrc = `def h(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return ctx.state["n"]

integration(name = "tally", handlers = {"tick": h})
`

// TestStateAndSwitchEndpoints drives the state and switch endpoints of a
// host with a real state file through the client: the state reads back in
// its exact form, a bad PUT changes nothing and says why, a good one
// replaces it (also on disk), DELETE forgets it, and a disabled
// integration gets no events until it is enabled again.
func TestStateAndSwitchEndpoints(t *testing.T) {
	store, err := statestore.Open(filepath.Join(t.TempDir(), "state.db"), statestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m, _ := hosttest.NewRoot(t, map[string]string{"tally.star": tallySrc}, hosttest.Store(store))
	defer m.Close(context.Background())
	srv := httptest.NewServer(control.NewHandler(m, control.Options{Token: testToken}))
	defer srv.Close()
	c := client.New(srv.URL, testToken)
	ctx := context.Background()
	wantStatus := func(err error, status int, text string) {
		t.Helper()
		var e *client.Error
		if !errors.As(err, &e) || e.Status != status || !strings.Contains(e.Body.Error, text) {
			t.Fatalf("error %v, want status %d with %q", err, status, text)
		}
	}

	hosttest.Emit(t, m, "tick", nil)
	if got, err := c.State(ctx, "tally"); err != nil || string(got) != `{"n":1}` {
		t.Fatalf("GET state: %s %v", got, err)
	}
	wantStatus(c.PutState(ctx, "tally", []byte(`{"n": [1, {"x": 1e999}]}`)), http.StatusBadRequest, "import state of tally")
	wantStatus(c.PutState(ctx, "ghost", []byte(`{}`)), http.StatusNotFound, "ghost")
	if got, _ := c.State(ctx, "tally"); string(got) != `{"n":1}` {
		t.Fatalf("a refused PUT changed the state: %s", got)
	}
	if err := c.PutState(ctx, "tally", []byte(`{"n": 41, "f": 2.0}`)); err != nil {
		t.Fatal(err)
	}
	if rec, _, _ := store.Load("tally"); string(rec.State) != `{"n":41,"f":2.0}` {
		t.Fatalf("PUT did not reach the file: %s", rec.State)
	}
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "tally"); r.Value != int64(42) {
		t.Fatalf("the count after PUT: %v", r.Value)
	}
	if err := c.ForgetState(ctx, "tally"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.State(ctx, "tally"); string(got) != `{}` {
		t.Fatalf("after DELETE: %s", got)
	}
	wantStatus(c.ForgetState(ctx, "ghost"), http.StatusNotFound, "ghost")

	in, err := c.DisableIntegration(ctx, "tally")
	if err != nil || in.Enabled || in.Available {
		t.Fatalf("disable: %+v %v", in, err)
	}
	if rs := hosttest.Emit(t, m, "tick", nil); len(rs) != 0 {
		t.Fatalf("a disabled integration got the event: %+v", rs)
	}
	if in, err = c.EnableIntegration(ctx, "tally"); err != nil || !in.Enabled || !in.Available {
		t.Fatalf("enable: %+v %v", in, err)
	}
	if rs := hosttest.Emit(t, m, "tick", nil); len(rs) != 1 {
		t.Fatalf("enabled again: %+v", rs)
	}
	_, err = c.EnableIntegration(ctx, "ghost")
	wantStatus(err, http.StatusNotFound, "ghost")
}
