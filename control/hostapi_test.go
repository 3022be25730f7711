package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

const brokenSrc = `def h(event, ctx):
    return undefined_name

integration(name = "broken", handlers = {"x": h})
`

// TestHostAPIEndpoints drives the endpoints of hostapi.go through the
// client against a real server on a loopback port: each answers what the
// Manager method it reaches returns, and its errors carry the Manager's
// meaning (404 for an unknown name, 422 with diagnostics).
func TestHostAPIEndpoints(t *testing.T) {
	f := newFixture(t, map[string]string{"greeter.star": greeterV1, "tally.star": tallySrc})
	c, ctx := f.c, context.Background()
	hosttest.Emit(t, f.m, "tick", nil)

	// GET /v1/view: the Snapshot and the recent latencies.
	hv, err := c.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hv.Integrations) != len(f.m.Names()) {
		t.Fatalf("view has %d integrations, the host %d", len(hv.Integrations), len(f.m.Names()))
	}
	if len(hv.Recent["tally"]) != 1 || hv.Recent["tally"][0] <= 0 {
		t.Fatalf("recent latencies of tally: %v", hv.Recent["tally"])
	}

	// GET and PUT /v1/state.
	e, err := c.ExportStates(ctx, "tally")
	if err != nil || len(e.Integrations) != 1 || string(e.Integrations["tally"].State) != `{"n":1}` {
		t.Fatalf("export: %+v %v", e, err)
	}
	all, err := c.ExportStates(ctx)
	if err != nil || len(all.Integrations) != len(f.m.Names()) {
		t.Fatalf("export of all: %d states, %v", len(all.Integrations), err)
	}
	if _, err := c.ExportStates(ctx, "tally", "ghost"); apiStatus(err) != http.StatusNotFound {
		t.Fatalf("export of an unknown name: %v", err)
	}
	e.Integrations["tally"] = starhost.ExportedState{State: json.RawMessage(`{"n":41}`)}
	if err := c.ImportStates(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.m.StateJSON("tally"); string(got) != `{"n":41}` {
		t.Fatalf("after import: %s", got)
	}
	e.Integrations["ghost"] = starhost.ExportedState{State: json.RawMessage(`{}`)}
	e.Integrations["tally"] = starhost.ExportedState{State: json.RawMessage(`{"n":0}`)}
	if err := c.ImportStates(ctx, e); apiStatus(err) != http.StatusNotFound {
		t.Fatalf("import with an unknown name: %v", err)
	}
	if got, _ := f.m.StateJSON("tally"); string(got) != `{"n":41}` {
		t.Fatalf("a refused import changed a state: %s", got)
	}

	// POST /v1/integrations/{name}/state/reset.
	if err := c.ResetState(ctx, "tally"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.m.StateJSON("tally"); string(got) != `{}` {
		t.Fatalf("after reset: %s", got)
	}
	if err := c.ResetState(ctx, "ghost"); apiStatus(err) != http.StatusNotFound {
		t.Fatalf("reset of an unknown name: %v", err)
	}

	// POST /v1/files/reload: a broken file reports its diagnostics, a
	// deleted one its removal.
	greeter := filepath.Join(f.root, "greeter.star")
	hosttest.WriteFile(t, greeter, strings.Replace(greeterV1, `"v1"`, `undefined_name`, 1))
	outs, err := c.ReloadFiles(ctx, []string{greeter})
	if err != nil || len(outs) != 1 || outs[0].Integration != "greeter" || outs[0].Error == "" ||
		len(outs[0].Diagnostics) != 1 || outs[0].Diagnostics[0].Line != 2 {
		t.Fatalf("reload of a broken file: %+v %v", outs, err)
	}
	broken := filepath.Join(f.root, "broken.star")
	hosttest.WriteFile(t, broken, brokenSrc)
	outs, err = c.ReloadFiles(ctx, []string{broken})
	if err != nil || len(outs) != 1 || outs[0].Module != broken || outs[0].Error == "" {
		t.Fatalf("reload of a new broken module: %+v %v", outs, err)
	}
	if v := f.m.Snapshot(); len(v.FailedModules) != 1 {
		t.Fatalf("failed modules: %+v", v.FailedModules)
	}

	// POST /v1/modules/remove: forgets the failure.
	names, err := c.RemoveModule(ctx, broken)
	if err != nil || len(names) != 0 {
		t.Fatalf("remove module: %v %v", names, err)
	}
	if v := f.m.Snapshot(); len(v.FailedModules) != 0 {
		t.Fatalf("failed modules after the removal: %+v", v.FailedModules)
	}
	names, err = c.RemoveModule(ctx, "tally.star")
	if err != nil || len(names) != 1 || names[0] != "tally" {
		t.Fatalf("remove module tally.star: %v %v", names, err)
	}

	// POST /v1/roots: the folder's modules load; a broken one is a 422
	// with its diagnostics, the folder added all the same.
	dir := hosttest.TempDir(t, map[string]string{"echo.star": echoSrc})
	roots, err := c.AddRoot(ctx, dir)
	if err != nil || len(roots) != 2 {
		t.Fatalf("add root: %v %v", roots, err)
	}
	if !f.m.IsAvailable("echo") {
		t.Fatal("the new folder's module did not load")
	}
	dir2 := hosttest.TempDir(t, map[string]string{"broken.star": brokenSrc})
	_, err = c.AddRoot(ctx, dir2)
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || ae.Body.Diagnostic == nil || ae.Body.Diagnostic.Line != 2 {
		t.Fatalf("add a folder with a broken module: %v", err)
	}
	if len(f.m.Roots()) != 3 {
		t.Fatalf("roots: %v", f.m.Roots())
	}
}

// TestHostAPIBadInput checks that the endpoints of hostapi.go refuse bad
// input with a 400 whose message names the field or parameter at fault.
func TestHostAPIBadInput(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/v1/files/reload", `{}`, 400, `field "paths" is required`},
		{"POST", "/v1/files/reload", `{"paths": ["a.star"]}`, 400, `field "paths": paths[0] "a.star" must be an absolute path`},
		{"POST", "/v1/files/reload", `{"paths": "a"}`, 400, `field "paths" must be`},
		{"POST", "/v1/files/reload", `{"path": []}`, 400, `unknown field "path"`},
		{"POST", "/v1/modules/remove", `{}`, 400, `field "module" is required`},
		{"POST", "/v1/modules/remove", `{"module": 3}`, 400, `field "module" must be`},
		{"POST", "/v1/roots", `{}`, 400, `field "dir" is required`},
		{"POST", "/v1/roots", `{"dir": "rel"}`, 400, `field "dir": "rel" must be an absolute path`},
		{"POST", "/v1/roots", `{"dir": "/no/such/folder"}`, 400, `field "dir": /no/such/folder is not a folder`},
		{"POST", "/v1/roots", ``, 400, `request body is empty`},
		{"GET", "/v1/state?names=a", ``, 400, `unknown query parameter "names"`},
		{"GET", "/v1/state?name=", ``, 400, `query parameter name[0] is empty`},
		{"PUT", "/v1/state", ``, 400, `request body is empty`},
		{"PUT", "/v1/state", `{"integrations": {}}`, 400, `format "" version 0`},
		{"PUT", "/v1/state", `{"format": "afstudio-state", "version": 1, "integrations": {"greeter": {}}}`, 400, `integrations["greeter"]: no state`},
		{"PUT", "/v1/state", `{"format": "afstudio-state", "version": 1, "integrations": {"greeter": {"state": [1]}}}`, 400, `import state of greeter`},
		{"PUT", "/v1/state", `{"format": "afstudio-state", "version": 1, "extra": 1}`, 400, `unknown field "extra"`},
		{"POST", "/v1/integrations/ghost/state/reset", ``, 404, `no such integration "ghost"`},
		{"DELETE", "/v1/state", ``, 405, `does not accept DELETE`},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			r := f.authed(t, tc.method, tc.path, tc.body)
			wantStatus(t, r, tc.status)
			if msg := r.errorText(t); !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q, want it to contain %q", msg, tc.want)
			}
		})
	}
	// Every endpoint needs the token.
	for _, p := range []struct{ method, path string }{{"GET", "/v1/view"}, {"POST", "/v1/files/reload"}, {"POST", "/v1/modules/remove"}, {"POST", "/v1/roots"}, {"GET", "/v1/state"}, {"PUT", "/v1/state"}, {"POST", "/v1/integrations/greeter/state/reset"}} {
		wantStatus(t, f.request(t, p.method, p.path, "", ""), http.StatusUnauthorized)
	}
}
