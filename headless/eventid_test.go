package headless

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/afstudio/afstudio/starhost/hosttest"
	"github.com/afstudio/afstudio/statestore"
)

// TestServeEventIDAcrossRestart: input lines with ids, read by a host
// with a state file, then by a new host on the same file: an id handled
// by the first is a duplicate for the second.
func TestServeEventIDAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), statestore.FileName)
	runs := []struct {
		input string
		want  []string
	}{
		{`{"event": "ping", "id": "e1"}` + "\n" + `{"event": "ping", "id": "e1"}` + "\n" + `{"event": "ping", "data": {"n": 2}, "id": "e2"}`,
			[]string{"loaded echo", "log echo: ping 0", `result echo ping {"pong":0} id e1`, "duplicate ping e1", "log echo: ping 2", `result echo ping {"pong":2} id e2`}},
		{`{"event": "ping", "id": "e2"}` + "\n" + `{"event": "ping", "id": "e3"}` + "\n" + `{"event": "ping", "id": "e1"}`,
			[]string{"loaded echo", "duplicate ping e2", "log echo: ping 0", `result echo ping {"pong":0} id e3`, "duplicate ping e1"}},
	}
	for i, run := range runs {
		store, err := statestore.Open(path, statestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := hosttest.New(t, hosttest.Defaults(fstest.MapFS{"echo.star": {Data: []byte(echoModule)}}), hosttest.Unloaded(), hosttest.Store(store))
		var out bytes.Buffer
		h := New(m, &out, Options{})
		hosttest.Load(t, m)
		if err := h.Serve(context.Background(), strings.NewReader(run.input)); err != nil {
			t.Fatal(err)
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range decodeLines(t, out.String()) {
			got = append(got, brief(n))
		}
		if strings.Join(got, "\n") != strings.Join(run.want, "\n") {
			t.Errorf("run %d:\n%s\nwant:\n%s", i+1, strings.Join(got, "\n"), strings.Join(run.want, "\n"))
		}
	}
}
