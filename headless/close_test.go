package headless

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestServeAfterClose: Serve on a closed Host returns ErrClosed at once
// and runs no event, also when no integration handles the events.
func TestServeAfterClose(t *testing.T) {
	m := newManager(t)
	var out bytes.Buffer
	h := New(m, &out, Options{})
	hosttest.Load(t, m)
	h.Close()
	st, _ := m.State("echo")
	err := h.Serve(context.Background(), strings.NewReader(`{"event": "nobody"}`+"\n"+`{"event": "ping", "data": {"n": 1}}`+"\n"))
	if st2, _ := m.State("echo"); len(st2) != len(st) {
		t.Errorf("an event ran on a closed host: state before %v, after %v", st, st2)
	}
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Serve on a closed Host returned %v, want ErrClosed", err)
	}
	err = h.Serve(context.Background(), strings.NewReader(`{"event": "nobody"}`+"\n"))
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Serve on a closed Host (events nobody handles) returned %v, want ErrClosed; input consumed", err)
	}
}
