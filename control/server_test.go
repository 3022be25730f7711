package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// testToken is the bearer token of every test server.
var testToken = strings.Repeat("ab", 32)

const greeterV1 = `def h(event, ctx):
    return "v1"

integration(name = "greeter", handlers = {"ping": h})
`

const echoSrc = `def h(event, ctx):
    return event.data

integration(name = "echo", priority = "HIGH", handlers = {"echo": h})
`

// fixture is a host with the default integrations and a temporary root,
// served by the API through httptest.
type fixture struct {
	m    *starhost.Manager
	root string
	srv  *httptest.Server
	c    *client.Client
}

func newFixture(t *testing.T, files map[string]string, opts ...func(*control.Options)) *fixture {
	t.Helper()
	if files == nil {
		files = map[string]string{"greeter.star": greeterV1, "echo.star": echoSrc}
	}
	m, root := hosttest.NewRoot(t, files, hosttest.Defaults(integrations.FS))
	o := control.Options{Token: testToken, Version: "test"}
	for _, f := range opts {
		f(&o)
	}
	srv := httptest.NewServer(control.NewHandler(m, o))
	t.Cleanup(srv.Close)
	return &fixture{m: m, root: root, srv: srv, c: client.New(srv.URL, testToken)}
}

// response is a raw HTTP response with its body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as a JSON object, failing the test otherwise.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("status %d: body is not a JSON object: %v: %q", r.status, err, r.body)
	}
	return v
}

// errorText returns the "error" field of a JSON error body, checking the
// content type on the way.
func (r response) errorText(t *testing.T) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error response content type %q, want application/json", ct)
	}
	msg, ok := r.json(t)["error"].(string)
	if !ok || msg == "" {
		t.Fatalf("error body has no error message: %s", r.body)
	}
	return msg
}

// request sends a raw request; auth is the Authorization header ("" for
// none).
func (f *fixture) request(t *testing.T, method, path, body, auth string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// authed sends a raw request with the right token.
func (f *fixture) authed(t *testing.T, method, path, body string) response {
	t.Helper()
	return f.request(t, method, path, body, "Bearer "+testToken)
}

// wantStatus checks a raw response's status.
func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

// apiStatus returns the status of a client error (0 for another error).
func apiStatus(err error) int {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// onlyAdded returns the one integration of an add response,
// {"integrations": [INFO]}.
func onlyAdded(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	list, _ := body["integrations"].([]any)
	if len(list) != 1 {
		t.Fatalf("add response: want one integration, got %v", body)
	}
	in, _ := list[0].(map[string]any)
	return in
}

func names(infos []starhost.Info) []string {
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.Name
	}
	return out
}

func TestHealthWithoutToken(t *testing.T) {
	f := newFixture(t, nil)
	r := f.request(t, "GET", "/v1/health", "", "")
	wantStatus(t, r, http.StatusOK)
	body := r.json(t)
	if body["ok"] != true || body["version"] != "test" || body["integrations"] != 6.0 {
		t.Fatalf("health body: %v", body)
	}
	if err := client.New(f.srv.URL, "").Health(context.Background()); err != nil {
		t.Fatalf("client health without token: %v", err)
	}
}

func TestList(t *testing.T) {
	f := newFixture(t, nil)
	view, err := f.c.Snapshot(context.Background())
	infos := view.Integrations
	if err != nil {
		t.Fatal(err)
	}
	// Dispatch order: priority, then name.
	want := []string{"analytics", "alerts", "echo", "afterimage", "greeter", "audit"}
	if got := names(infos); !slices.Equal(got, want) {
		t.Fatalf("list %v, want %v", got, want)
	}
	for _, in := range infos {
		if !in.Available || in.Generation != 1 || len(in.Subscriptions) == 0 || in.Module == "" || in.Class != in.Name {
			t.Fatalf("info of %s: %+v", in.Name, in)
		}
	}
	// The raw JSON carries the seed's keys, the priority as its name.
	r := f.authed(t, "GET", "/v1/integrations", "")
	wantStatus(t, r, http.StatusOK)
	var raw struct {
		Integrations  []map[string]any `json:"integrations"`
		FailedModules []any            `json:"failed_modules"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.FailedModules == nil || len(raw.FailedModules) != 0 {
		t.Fatalf("failed_modules should be an empty list: %s", r.body)
	}
	first := raw.Integrations[0]
	for _, key := range []string{"name", "priority", "available", "subscriptions", "module", "class", "generation", "calls", "files"} {
		if _, ok := first[key]; !ok {
			t.Fatalf("integration JSON lacks %q: %v", key, first)
		}
	}
	if first["priority"] != "CRITICAL" || first["module"] != "builtin:analytics.star" {
		t.Fatalf("analytics JSON: %v", first)
	}
}

func TestInfo(t *testing.T) {
	f := newFixture(t, nil)
	in, err := f.c.IntegrationInfo(context.Background(), "greeter")
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "greeter" || in.Class != "greeter" || in.Module != filepath.Join(f.root, "greeter.star") ||
		in.Generation != 1 || !slices.Equal(in.Subscriptions, []string{"ping"}) || in.Priority != starhost.Normal || !in.Available {
		t.Fatalf("greeter info: %+v", in)
	}

	r := f.authed(t, "GET", "/v1/integrations/nope", "")
	wantStatus(t, r, http.StatusNotFound)
	if msg := r.errorText(t); !strings.Contains(msg, `"nope"`) {
		t.Fatalf("404 message should name the integration: %q", msg)
	}
	if _, err := f.c.IntegrationInfo(context.Background(), "nope"); apiStatus(err) != http.StatusNotFound {
		t.Fatalf("client info of unknown: %v", err)
	}
}

func TestReload(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	hosttest.WriteFiles(t, f.root, map[string]string{"greeter.star": strings.Replace(greeterV1, "v1", "v2", 1)})
	in, err := f.c.ReloadIntegration(ctx, "greeter")
	if err != nil {
		t.Fatal(err)
	}
	if in.Generation != 2 || in.Failed {
		t.Fatalf("info after reload: %+v", in)
	}
	rs, err := f.c.Emit(ctx, "ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := hosttest.ResultOf(t, rs, "greeter"); r.Value != "v2" || r.Generation != 2 || !r.OK {
		t.Fatalf("after reload: %+v", r)
	}

	// A broken file: 422 with file:line:col, and v2 keeps serving.
	hosttest.WriteFiles(t, f.root, map[string]string{"greeter.star": "def h(event, ctx)\n    return 3\n"})
	r := f.authed(t, "POST", "/v1/integrations/greeter/reload", "")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := r.errorText(t); !strings.Contains(msg, "previous version keeps serving") {
		t.Fatalf("422 message: %q", msg)
	}
	var body struct {
		Diagnostic *starhost.Diagnostic `json:"diagnostic"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	d := body.Diagnostic
	if d == nil || d.File != filepath.Join(f.root, "greeter.star") || d.Line != 2 || d.Col != 1 || !strings.Contains(d.Msg, "want ':'") {
		t.Fatalf("diagnostic: %+v (%s)", d, r.body)
	}
	if !regexp.MustCompile(`greeter\.star:2:1: \S`).MatchString(d.Error()) {
		t.Fatalf("diagnostic is not file:line:col: message: %q", d.Error())
	}
	// The client reports the same.
	_, err = f.c.ReloadIntegration(ctx, "greeter")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusUnprocessableEntity || ce.Body.Diagnostic == nil || ce.Body.Diagnostic.Line != 2 ||
		!strings.Contains(err.Error(), "greeter.star:2:1: ") {
		t.Fatalf("client reload error: %v", err)
	}
	rs, err = f.c.Emit(ctx, "ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := hosttest.ResultOf(t, rs, "greeter"); r.Value != "v2" || r.Generation != 2 || !r.OK {
		t.Fatalf("the old version must keep serving after a failed reload: %+v", r)
	}
	in, err = f.c.IntegrationInfo(ctx, "greeter")
	if err != nil {
		t.Fatal(err)
	}
	if !in.Failed || in.LastError == nil || in.LastError.Line != 2 || in.Generation != 2 {
		t.Fatalf("info after the failed reload: %+v", in)
	}

	r = f.authed(t, "POST", "/v1/integrations/nope/reload", "")
	wantStatus(t, r, http.StatusNotFound)
	r.errorText(t)

	// Several problems at once: the first is the diagnostic, all are listed.
	hosttest.WriteFiles(t, f.root, map[string]string{"greeter.star": "integration(name = \"greeter\", handlers = {\"ping\": one, \"pong\": two})\n"})
	r = f.authed(t, "POST", "/v1/integrations/greeter/reload", "")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	var many struct {
		Diagnostic *starhost.Diagnostic  `json:"diagnostic"`
		Problems   []starhost.Diagnostic `json:"problems"`
	}
	if err := json.Unmarshal(r.body, &many); err != nil {
		t.Fatal(err)
	}
	if many.Diagnostic == nil || len(many.Problems) != 2 || !strings.Contains(many.Problems[0].Msg, "one") ||
		!strings.Contains(many.Problems[1].Msg, "two") || many.Problems[1].Line != 1 || many.Problems[1].Col <= many.Problems[0].Col {
		t.Fatalf("reload with two undefined names: %s", r.body)
	}
}

func TestReloadAll(t *testing.T) {
	f := newFixture(t, nil)
	hosttest.WriteFiles(t, f.root, map[string]string{"echo.star": "integration(name = \"echo\", handlers = {\"echo\": undefined_name})\n"})
	res, err := f.c.ReloadAllIntegrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 6 {
		t.Fatalf("%d results, want 6: %v", len(res), res)
	}
	for name, r := range res {
		if name == "echo" {
			if r.OK || r.Error == nil || r.Error.Line != 1 || !strings.Contains(r.Error.Msg, "undefined_name") || r.Generation != 1 {
				t.Fatalf("echo: %+v %v", r, r.Error)
			}
			continue
		}
		if !r.OK || r.Error != nil || r.Generation != 2 {
			t.Fatalf("%s: %+v", name, r)
		}
	}
	rs, err := f.c.Emit(context.Background(), "echo", map[string]any{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if r := hosttest.ResultOf(t, rs, "echo"); !r.OK || fmt.Sprint(r.Value) != "map[k:v]" {
		t.Fatalf("echo's old version must serve: %+v", r)
	}
}

func TestAdd(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	hosttest.WriteFiles(t, f.root, map[string]string{
		"more/added.star": "integration(name = \"added\", handlers = {\"ping\": lambda e, c: \"added\"})\n",
		"abs.star":        "integration(name = \"abs\", handlers = {\"ping\": lambda e, c: \"abs\"})\n",
		"two.star":        "integration(name = \"first\", handlers = {\"ping\": lambda e, c: 1})\nintegration(name = \"second\", handlers = {\"ping\": lambda e, c: 2})\n",
		"broken.star":     "integration(name = \"broken\", handlers = {\"ping\": nope})\n",
	})

	// Relative to the root, raw: 201 with the info.
	r := f.authed(t, "POST", "/v1/integrations", `{"module": "more/added.star"}`)
	wantStatus(t, r, http.StatusCreated)
	if body := onlyAdded(t, r.json(t)); body["name"] != "added" || body["module"] != filepath.Join(f.root, "more", "added.star") || body["generation"] != 1.0 {
		t.Fatalf("add response: %v", body)
	}
	// Absolute, through the client.
	added, err := f.c.AddIntegration(ctx, filepath.Join(f.root, "abs.star"), "")
	if err != nil || len(added) != 1 || added[0].Name != "abs" || !added[0].Available {
		t.Fatalf("add absolute: %+v %v", added, err)
	}
	// A module declaring two: the class picks one.
	r = f.authed(t, "POST", "/v1/integrations", `{"module": "two.star", "class": "second"}`)
	wantStatus(t, r, http.StatusCreated)
	if body := onlyAdded(t, r.json(t)); body["name"] != "second" || body["class"] != "second" {
		t.Fatalf("add with class: %v", body)
	}
	rs, err := f.c.Emit(ctx, "ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	if hosttest.ResultOf(t, rs, "added").Value != "added" || hosttest.ResultOf(t, rs, "abs").Value != "abs" || hosttest.ResultOf(t, rs, "second").Value != 2.0 {
		t.Fatalf("added integrations do not serve: %+v", rs)
	}
	if f.m.IsAvailable("first") {
		t.Fatal("only the class asked for should be added")
	}

	// A module that does not load: 422 with its position.
	r = f.authed(t, "POST", "/v1/integrations", `{"module": "broken.star"}`)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	r.errorText(t)
	var body struct {
		Diagnostic *starhost.Diagnostic `json:"diagnostic"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Diagnostic == nil || body.Diagnostic.Line != 1 ||
		!strings.HasSuffix(body.Diagnostic.File, "broken.star") {
		t.Fatalf("add of a broken module: %s", r.body)
	}
	if f.m.IsAvailable("broken") {
		t.Fatal("a broken module must not be added")
	}
}

func TestAddRejectsBadRequests(t *testing.T) {
	f := newFixture(t, nil)
	outside := t.TempDir()
	hosttest.WriteFiles(t, outside, map[string]string{"evil.star": "integration(name = \"evil\", handlers = {\"ping\": lambda e, c: \"evil\"})\n"})
	evil := filepath.Join(outside, "evil.star")
	if err := os.Symlink(evil, filepath.Join(f.root, "link.star")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(f.root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	relEscape, err := filepath.Rel(f.root, evil)
	if err != nil || !strings.HasPrefix(relEscape, "..") {
		t.Fatalf("rel %q %v", relEscape, err)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		wantMsg    []string // substrings of the error message
	}{
		{"empty body", "", 400, []string{"empty"}},
		{"missing module", `{}`, 400, []string{`"module"`, "required"}},
		{"only class", `{"class": "x"}`, 400, []string{`"module"`, "required"}},
		{"unknown field", `{"module": "greeter.star", "modul": "x"}`, 400, []string{"unknown field", `"modul"`}},
		{"wrong type", `{"module": 5}`, 400, []string{`"module"`, "string", "number"}},
		{"malformed JSON", `{"module": }`, 400, []string{"not valid JSON"}},
		{"truncated JSON", `{"module": "greeter.star"`, 400, []string{"JSON"}},
		{"not an object", `["greeter.star"]`, 400, []string{"array"}},
		{"trailing data", `{"module": "greeter.star"} {}`, 400, []string{"after the JSON value"}},
		{"not a .star file", `{"module": "greeter.py"}`, 400, []string{"not a .star file"}},
		{"missing file", `{"module": "nothing.star"}`, 400, []string{"nothing.star", "no such file"}},
		{"dot-dot escape", fmt.Sprintf(`{"module": %q}`, relEscape), 400, []string{"outside the integration folders"}},
		{"dot-dot inside a path", `{"module": "sub/../../x/../` + strings.TrimPrefix(filepath.ToSlash(relEscape), "../") + `"}`, 400, []string{"outside the integration folders"}},
		{"absolute outside", fmt.Sprintf(`{"module": %q}`, evil), 400, []string{"outside the integration folders"}},
		{"symlink out", `{"module": "link.star"}`, 400, []string{"outside the integration folders"}},
		{"symlinked folder out", `{"module": "linkdir/evil.star"}`, 400, []string{"outside the integration folders"}},
		{"oversize body", `{"module": "` + strings.Repeat("a", control.MaxBodyBytes) + `.star"}`, 413, []string{"larger than"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.authed(t, "POST", "/v1/integrations", tc.body)
			wantStatus(t, r, tc.status)
			msg := r.errorText(t)
			for _, want := range tc.wantMsg {
				if !strings.Contains(msg, want) {
					t.Fatalf("error %q lacks %q", msg, want)
				}
			}
		})
	}
	if f.m.IsAvailable("evil") || len(f.m.Names()) != 6 {
		t.Fatalf("a rejected add changed the host: %v", f.m.Names())
	}
}

// TestAddWithoutRoots: a host without integration folders adds nothing
// through the API, and says why.
func TestAddWithoutRoots(t *testing.T) {
	m := hosttest.New(t, hosttest.Defaults(integrations.FS))
	srv := httptest.NewServer(control.NewHandler(m, control.Options{Token: testToken}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "x.star")
	hosttest.WriteFiles(t, filepath.Dir(file), map[string]string{"x.star": "integration(name = \"x\", handlers = {\"e\": lambda e, c: 1})\n"})
	_, err := client.New(srv.URL, testToken).AddIntegration(context.Background(), file, "")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || !strings.Contains(ce.Body.Error, "--dir") {
		t.Fatalf("add without roots: %v", err)
	}
	if m.IsAvailable("x") {
		t.Fatal("added anyway")
	}
}

func TestRemove(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	r := f.authed(t, "DELETE", "/v1/integrations/greeter", "")
	wantStatus(t, r, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Fatalf("204 with a body: %q", r.body)
	}
	r = f.authed(t, "DELETE", "/v1/integrations/greeter", "")
	wantStatus(t, r, http.StatusNotFound)
	if msg := r.errorText(t); !strings.Contains(msg, `"greeter"`) {
		t.Fatalf("404 message: %q", msg)
	}
	if _, err := f.c.IntegrationInfo(ctx, "greeter"); apiStatus(err) != http.StatusNotFound {
		t.Fatalf("info after remove: %v", err)
	}
	rs, err := f.c.Emit(ctx, "ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Integration == "greeter" {
			t.Fatal("a removed integration still handles events")
		}
	}
	// A default through the client.
	if err := f.c.RemoveIntegration(ctx, "audit"); err != nil {
		t.Fatal(err)
	}
	if err := f.c.RemoveIntegration(ctx, "audit"); apiStatus(err) != http.StatusNotFound {
		t.Fatalf("second remove: %v", err)
	}
	// And it can be added back.
	if _, err := f.c.AddIntegration(ctx, "greeter.star", ""); err != nil {
		t.Fatal(err)
	}
}

func TestEmit(t *testing.T) {
	f := newFixture(t, nil)
	rs, err := f.c.Emit(context.Background(), "mission_failed", map[string]any{"mission_id": "m1", "error": "boom"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%s/%s/%d", r.Integration, r.Event, r.Depth))
		if !r.OK || r.Error != nil || r.Generation != 1 || r.Duration <= 0 {
			t.Fatalf("result %+v", r)
		}
	}
	want := []string{
		"analytics/mission_failed/0", "alerts/mission_failed/0", "afterimage/mission_failed/0", "audit/mission_failed/0",
		"audit/alert_raised/1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	if r := hosttest.ResultOf(t, rs, "alerts"); fmt.Sprint(r.Value) != "map[alerted:true]" {
		t.Fatalf("alerts result %v", r.Value)
	}
	if r := hosttest.ResultOf(t, rs, "analytics"); r.Value.(map[string]any)["status"] != "failed" {
		t.Fatalf("analytics result %v", r.Value)
	}

	// Raw: an empty body is no data; the response is {"results": [...]}.
	r := f.authed(t, "POST", "/v1/events/ping", "")
	wantStatus(t, r, http.StatusOK)
	var body control.EmitResponse
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Results) != 2 || body.Results[0].Integration != "greeter" || body.Results[0].Value != "v1" {
		t.Fatalf("ping: %s", r.body)
	}
}

// TestEmitHandlerError: a failing handler is reported in its result
// (and on the notices stream) with file:line:col; the others still run.
func TestEmitHandlerError(t *testing.T) {
	f := newFixture(t, map[string]string{"bomb.star": `def h(event, ctx):
    fail("boom " + event.data["why"])

integration(name = "bomb", priority = "CRITICAL", handlers = {"explode": h})
`})
	sub := f.m.Subscribe(64)
	defer sub.Close()
	rs, err := f.c.Emit(context.Background(), "explode", map[string]any{"why": "now"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Integration != "bomb" || rs[1].Integration != "audit" || !rs[1].OK {
		t.Fatalf("results %+v", rs)
	}
	bomb := rs[0]
	if bomb.OK || bomb.Value != nil || bomb.Error == nil || bomb.Error.Line != 2 ||
		!strings.HasSuffix(bomb.Error.File, "bomb.star") || !strings.Contains(bomb.Error.Msg, "boom now") {
		t.Fatalf("failed handler result %+v %+v", bomb, bomb.Error)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-sub.C:
			if n.Kind == starhost.NoticeResult && n.Integration == "bomb" {
				if n.Result == nil || n.Result.OK || n.Result.Error == nil || n.Result.Error.Line != 2 {
					t.Fatalf("result notice of a failed handler: %+v", n)
				}
				return
			}
		case <-deadline:
			t.Fatal("no result notice for the failed handler")
		}
	}
}

func TestEmitRejectsBadRequests(t *testing.T) {
	f := newFixture(t, nil)
	before, err := f.m.State("audit")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, body string
		status           int
		wantMsg          string
	}{
		{"array", "/v1/events/ping", `[1, 2]`, 400, "must be a JSON object"},
		{"string", "/v1/events/ping", `"hello"`, 400, "must be a JSON object"},
		{"null", "/v1/events/ping", `null`, 400, "must be a JSON object"},
		{"number", "/v1/events/ping", `5`, 400, "must be a JSON object"},
		{"malformed", "/v1/events/ping", `{"a": `, 400, "not valid JSON"},
		{"trailing", "/v1/events/ping", `{} {}`, 400, "trailing"},
		{"bad event name", "/v1/events/bad%20name", `{}`, 400, "invalid event name"},
		{"wildcard event name", "/v1/events/*", `{}`, 400, "invalid event name"},
		{"oversize", "/v1/events/ping", `{"a": "` + strings.Repeat("x", control.MaxBodyBytes) + `"}`, 413, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.authed(t, "POST", tc.path, tc.body)
			wantStatus(t, r, tc.status)
			if msg := r.errorText(t); !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("error %q lacks %q", msg, tc.wantMsg)
			}
		})
	}
	after, err := f.m.State("audit")
	if err != nil {
		t.Fatal(err)
	}
	if before["total"] != after["total"] {
		t.Fatalf("rejected events reached audit: total %v -> %v", before["total"], after["total"])
	}
}

func TestEmitBatch(t *testing.T) {
	f := newFixture(t, nil)
	events := []control.BatchEvent{
		{Event: "mission_started", Data: map[string]any{"mission_id": "m1"}},
		{Event: "response_received", Data: map[string]any{"mission_id": "m1", "latency_ms": 12, "response": "ok"}},
		{Event: "bad name", Data: map[string]any{}},
		{Event: "ping"},
		{Event: "", Data: map[string]any{}},
		{Event: "mission_completed", Data: map[string]any{"mission_id": "m1"}},
	}
	out, err := f.c.EmitBatch(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(events) {
		t.Fatalf("%d outcomes for %d events", len(out), len(events))
	}
	for i, o := range out {
		if i == 2 || i == 4 {
			if o.Error == "" || !strings.Contains(o.Error, fmt.Sprintf("events[%d]", i)) || !strings.Contains(o.Error, "invalid event name") || len(o.Results) != 0 {
				t.Fatalf("event %d should fail alone: %+v", i, o)
			}
			continue
		}
		if o.Error != "" || len(o.Results) == 0 {
			t.Fatalf("event %d: %+v", i, o)
		}
		for _, r := range o.Results {
			if !r.OK || r.Event != events[i].Event {
				t.Fatalf("event %d result %+v", i, r)
			}
		}
	}
	if r := hosttest.ResultOf(t, out[3].Results, "greeter"); r.Value != "v1" {
		t.Fatalf("ping in a batch: %+v", r)
	}
	last := hosttest.ResultOf(t, out[5].Results, "analytics").Value.(map[string]any)
	if last["status"] != "completed" || last["responses"] != 1.0 {
		t.Fatalf("events of a batch must be handled in order: %v", last)
	}
	st, err := f.m.State("audit")
	if err != nil {
		t.Fatal(err)
	}
	if st["total"] != int64(4) {
		t.Fatalf("audit saw %v events, want the 4 valid ones", st["total"])
	}
}

func TestEmitBatchRejectsBadRequests(t *testing.T) {
	f := newFixture(t, nil)
	var big strings.Builder
	big.WriteString(`{"events": [`)
	for i := range control.MaxBatch + 1 {
		if i > 0 {
			big.WriteString(",")
		}
		big.WriteString(`{"event": "ping"}`)
	}
	big.WriteString("]}")
	for _, tc := range []struct {
		name, body string
		status     int
		wantMsg    string
	}{
		{"too many events", big.String(), 413, fmt.Sprintf("at most %d events", control.MaxBatch)},
		{"malformed", `{"events": [`, 400, "JSON"},
		{"unknown field", `{"events": [{"event": "ping", "payload": {}}]}`, 400, `unknown field "payload"`},
		{"wrong type", `{"events": {"event": "ping"}}`, 400, `"events"`},
		{"data not an object", `{"events": [{"event": "ping", "data": [1]}]}`, 400, "data"},
		{"oversize", `{"events": [{"event": "ping", "data": {"a": "` + strings.Repeat("x", control.MaxBatchBytes) + `"}}]}`, 413, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.authed(t, "POST", "/v1/events", tc.body)
			wantStatus(t, r, tc.status)
			if msg := r.errorText(t); !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("error %q lacks %q", msg, tc.wantMsg)
			}
		})
	}
	if in, _ := f.m.IntegrationInfo("greeter"); in.Calls != 0 {
		t.Fatalf("a rejected batch was dispatched: greeter called %d times", in.Calls)
	}
}

func TestAuth(t *testing.T) {
	f := newFixture(t, nil)
	endpoints := []struct{ method, path, body string }{
		{"GET", "/v1/integrations", ""},
		{"GET", "/v1/integrations/greeter", ""},
		{"POST", "/v1/integrations/greeter/reload", ""},
		{"POST", "/v1/reload", ""},
		{"POST", "/v1/integrations", `{"module": "greeter.star"}`},
		{"DELETE", "/v1/integrations/greeter", ""},
		{"POST", "/v1/events/ping", `{}`},
		{"POST", "/v1/events", `{"events": [{"event": "ping"}]}`},
		{"GET", "/v1/notices", ""},
		{"POST", "/v1/open", `{"files": []}`},
	}
	for _, auth := range []string{"", "Bearer ", "Bearer wrong", "Bearer " + testToken + "x", "Bearer " + testToken[:63], "bearer " + testToken, testToken, "Basic " + testToken} {
		for _, e := range endpoints {
			r := f.request(t, e.method, e.path, e.body, auth)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("%s %s with Authorization %q: status %d, want 401: %s", e.method, e.path, auth, r.status, r.body)
			}
			if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
				t.Fatalf("401 without a Bearer WWW-Authenticate header: %q", h)
			}
			if msg := r.errorText(t); !strings.Contains(msg, "token") {
				t.Fatalf("401 message %q should say the token is missing or wrong", msg)
			}
		}
	}
	if !f.m.IsAvailable("greeter") || len(f.m.Names()) != 6 {
		t.Fatal("an unauthorised request changed the host")
	}
	if in, _ := f.m.IntegrationInfo("greeter"); in.Calls != 0 || in.Generation != 1 {
		t.Fatalf("an unauthorised request reached greeter: %+v", in)
	}
	if _, err := client.New(f.srv.URL, "wrong").Snapshot(context.Background()); apiStatus(err) != http.StatusUnauthorized {
		t.Fatalf("client with a wrong token: %v", err)
	}

	// A handler with no token configured refuses everything.
	srv := httptest.NewServer(control.NewHandler(f.m, control.Options{}))
	defer srv.Close()
	for _, auth := range []string{"", "Bearer ", "Bearer"} {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/integrations", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("empty configured token, Authorization %q: status %d", auth, resp.StatusCode)
		}
	}
}

func TestUnknownPath(t *testing.T) {
	f := newFixture(t, nil)
	for _, p := range []string{"/v1/nope", "/", "/v2/integrations", "/v1/integrations/greeter/nope"} {
		r := f.authed(t, "GET", p, "")
		wantStatus(t, r, http.StatusNotFound)
		if msg := r.errorText(t); !strings.Contains(msg, p) {
			t.Fatalf("404 message %q should name the path", msg)
		}
	}
}

func TestOpen(t *testing.T) {
	// Without Open (the headless host): 404.
	f := newFixture(t, nil)
	r := f.authed(t, "POST", "/v1/open", `{"files": ["/tmp/a.star"]}`)
	wantStatus(t, r, http.StatusNotFound)
	r.errorText(t)

	var mu sync.Mutex
	var opened [][]string
	fail := false
	f = newFixture(t, nil, func(o *control.Options) {
		o.Open = func(files []string) error {
			mu.Lock()
			defer mu.Unlock()
			if fail {
				return errors.New("window is busy")
			}
			opened = append(opened, files)
			return nil
		}
	})
	files := []string{filepath.Join(f.root, "a.star"), filepath.Join(f.root, "b.star")}
	if err := f.c.Open(context.Background(), files); err != nil {
		t.Fatal(err)
	}
	r = f.authed(t, "POST", "/v1/open", fmt.Sprintf(`{"files": [%q]}`, files[0]))
	wantStatus(t, r, http.StatusOK)
	if body := r.json(t); body["opened"] != 1.0 {
		t.Fatalf("open response %v", body)
	}
	for _, bad := range []string{`{"files": ["a.star"]}`, `{"files": ["../a.star"]}`, fmt.Sprintf(`{"files": [%q, "/x/readme.txt"]}`, files[0]), `{"files": "a.star"}`, `{"file": []}`} {
		r = f.authed(t, "POST", "/v1/open", bad)
		wantStatus(t, r, http.StatusBadRequest)
		r.errorText(t)
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	r = f.authed(t, "POST", "/v1/open", fmt.Sprintf(`{"files": [%q]}`, files[0]))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := r.errorText(t); !strings.Contains(msg, "window is busy") {
		t.Fatalf("open error %q", msg)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(opened) != 2 || !slices.Equal(opened[0], files) || !slices.Equal(opened[1], files[:1]) {
		t.Fatalf("Open called with %v", opened)
	}
}

// noticeLog collects notices from a stream, for polling.
type noticeLog struct {
	mu sync.Mutex
	ns []starhost.Notice
}

func (l *noticeLog) add(n starhost.Notice) {
	l.mu.Lock()
	l.ns = append(l.ns, n)
	l.mu.Unlock()
}

// waitFor polls until a notice matches, or fails the test after 10s.
func (l *noticeLog) waitFor(t *testing.T, what string, match func(starhost.Notice) bool) starhost.Notice {
	t.Helper()
	var found starhost.Notice
	hosttest.Eventually(t, 10*time.Second, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		i := slices.IndexFunc(l.ns, match)
		if i >= 0 {
			found = l.ns[i]
		}
		return i >= 0
	}, "a "+what+" notice")
	return found
}

func (l *noticeLog) has(match func(starhost.Notice) bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.ns, match)
}

func TestNoticesStream(t *testing.T) {
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // a failed check must not leave the stream open
	var log noticeLog
	done := make(chan error, 1)
	go func() { done <- f.c.Notices(ctx, log.add) }()

	// The stream is live once an emitted probe shows up on it.
	probe := func(n starhost.Notice) bool { return n.Kind == starhost.NoticeResult && n.Event == "probe" }
	hosttest.Eventually(t, 10*time.Second, func() bool {
		if _, err := f.c.Emit(ctx, "probe", nil); err != nil {
			t.Fatal(err)
		}
		return log.has(probe)
	}, "the notices stream delivers")

	hosttest.WriteFiles(t, f.root, map[string]string{"greeter.star": strings.Replace(greeterV1, "v1", "v2", 1)})
	if _, err := f.c.ReloadIntegration(ctx, "greeter"); err != nil {
		t.Fatal(err)
	}
	n := log.waitFor(t, "reloaded", func(n starhost.Notice) bool { return n.Kind == starhost.NoticeReloaded && n.Integration == "greeter" })
	if n.Generation != 2 || n.Module != filepath.Join(f.root, "greeter.star") || n.Time.IsZero() {
		t.Fatalf("reloaded notice %+v", n)
	}
	hosttest.WriteFiles(t, f.root, map[string]string{"greeter.star": "def h(\n"})
	if _, err := f.c.ReloadIntegration(ctx, "greeter"); apiStatus(err) != http.StatusUnprocessableEntity {
		t.Fatalf("broken reload: %v", err)
	}
	n = log.waitFor(t, "reload_failed", func(n starhost.Notice) bool {
		return n.Kind == starhost.NoticeReloadFailed && n.Integration == "greeter"
	})
	if n.Error == nil || n.Error.Line == 0 || !strings.HasSuffix(n.Error.File, "greeter.star") {
		t.Fatalf("reload_failed notice %+v", n)
	}

	if _, err := f.c.Emit(ctx, "ping", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	n = log.waitFor(t, "greeter result", func(n starhost.Notice) bool {
		return n.Kind == starhost.NoticeResult && n.Integration == "greeter" && n.Event == "ping"
	})
	if n.Result == nil || n.Result.Value != "v2" || n.Generation != 2 || n.Result.Generation != 2 || !n.Result.OK || n.Result.Error != nil {
		t.Fatalf("greeter result notice %+v", n)
	}
	log.waitFor(t, "audit result", func(n starhost.Notice) bool {
		return n.Kind == starhost.NoticeResult && n.Integration == "audit" && n.Event == "ping"
	})
	if _, err := f.c.EmitBatch(ctx, []control.BatchEvent{{Event: "mission_failed", Data: map[string]any{"mission_id": "m9"}}}); err != nil {
		t.Fatal(err)
	}
	n = log.waitFor(t, "follow-up result", func(n starhost.Notice) bool {
		return n.Kind == starhost.NoticeResult && n.Event == "alert_raised"
	})
	if n.Integration != "audit" || n.Result == nil || n.Result.Depth != 1 {
		t.Fatalf("follow-up result notice %+v", n)
	}
	// The lifecycle stream carries the dispatched events too.
	log.waitFor(t, "event", func(n starhost.Notice) bool { return n.Kind == starhost.NoticeEvent && n.Event == "ping" })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Notices after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Notices did not return after its context was cancelled")
	}
	if err := client.New(f.srv.URL, "wrong").Notices(context.Background(), func(starhost.Notice) {}); apiStatus(err) != http.StatusUnauthorized {
		t.Fatalf("notices with a wrong token: %v", err)
	}
}

// TestConcurrentEmitAndReloadThroughAPI: emitters deliver sequenced
// events through the API while another client reloads the integration
// through the API, alternating good and broken versions. Every event must
// be handled exactly once, in order, and the state must survive.
func TestConcurrentEmitAndReloadThroughAPI(t *testing.T) {
	f := newFixture(t, map[string]string{"counter.star": hosttest.CounterModule(0)})
	ctx := context.Background()
	hosttest.ReloadRace{
		Host: f.m, Dir: f.root, Emitters: 4, PerEmitter: 150, BrokenEvery: 3, MinReloads: 10,
		Emit: func(g, seq int) ([]starhost.Result, error) {
			data := map[string]any{"emitter": g, "seq": seq}
			if seq%10 != 9 {
				return f.c.Emit(ctx, "tick", data)
			}
			// Every tenth through the batch form.
			out, err := f.c.EmitBatch(ctx, []control.BatchEvent{{Event: "tick", Data: data}})
			switch {
			case err != nil:
				return nil, err
			case len(out) != 1 || out[0].Error != "":
				return nil, fmt.Errorf("batch: %+v", out)
			}
			return out[0].Results, nil
		},
		Reload: func() error {
			_, err := f.c.ReloadIntegration(ctx, "counter")
			return err
		},
		Refused: func(err error) bool { return apiStatus(err) == http.StatusUnprocessableEntity },
	}.Run(t)
}

// TestClientReusesConnections: an engine that sends many requests (large
// batch responses included) must not open a connection per request: each
// closed one sits in TIME_WAIT, and at batch rates that exhausts the
// ephemeral ports.
func TestClientReusesConnections(t *testing.T) {
	f := newFixture(t, nil)
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(control.NewHandler(f.m, control.Options{Token: testToken}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := client.New(srv.URL, testToken)
	ctx := context.Background()
	evs := make([]control.BatchEvent, 100)
	for i := range evs {
		evs[i] = control.BatchEvent{Event: "response_received", Data: map[string]any{"mission_id": "m1", "latency_ms": i}}
	}
	for i := range 10 {
		if _, err := c.Emit(ctx, "mission_failed", map[string]any{"mission_id": "m1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Snapshot(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.EmitBatch(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if _, err := c.IntegrationInfo(ctx, "nope"); apiStatus(err) != http.StatusNotFound {
			t.Fatal(err)
		}
		if n := conns.Load(); n != 1 {
			t.Fatalf("round %d: the client has opened %d connections for sequential requests, want 1 (a response body is closed before it was read to the end, so its connection cannot be reused)", i, n)
		}
	}
}

// TestClientOverUnixSocket: the client the single-instance hand-off uses.
func TestClientOverUnixSocket(t *testing.T) {
	f := newFixture(t, nil)
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: control.NewHandler(f.m, control.Options{Token: testToken, Open: func([]string) error { return nil }})}
	go srv.Serve(ln)
	defer srv.Close()
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
	c := client.NewDialer(dial, testToken)
	if view, err := c.Snapshot(context.Background()); err != nil || len(view.Integrations) != 6 {
		t.Fatalf("list over a Unix socket: %v %v", names(view.Integrations), err)
	}
	if err := c.Open(context.Background(), []string{filepath.Join(f.root, "greeter.star")}); err != nil {
		t.Fatal(err)
	}
	if err := client.NewDialer(dial, "wrong").Open(context.Background(), nil); apiStatus(err) != http.StatusUnauthorized {
		t.Fatalf("wrong token over the socket: %v", err)
	}
}

func TestLoadOrCreateToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", "afstudio", "token")
	tok, err := control.LoadOrCreateToken(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tok) {
		t.Fatalf("token %q is not 64 hex digits", tok)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", st.Mode().Perm())
	}
	if dst, err := os.Stat(filepath.Dir(path)); err != nil || dst.Mode().Perm()&0o077 != 0 {
		t.Fatalf("token folder: %v %v", dst.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != tok {
		t.Fatalf("file holds %q, token %q", b, tok)
	}
	again, err := control.LoadOrCreateToken(path)
	if err != nil || again != tok {
		t.Fatalf("second call: %q %v, want %q", again, err, tok)
	}
	other, err := control.LoadOrCreateToken(filepath.Join(t.TempDir(), "token"))
	if err != nil || other == tok {
		t.Fatalf("another path must get another token: %q %v", other, err)
	}

	// A token file that is too short is an error that says what to do.
	short := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := control.LoadOrCreateToken(short); err == nil || !strings.Contains(err.Error(), "delete the file") {
		t.Fatalf("short token: %v", err)
	}
}

func TestTokenPath(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	p, err := control.TokenPath()
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(cfg, "afstudio", "token") {
		t.Fatalf("token path %q", p)
	}
}

// TestLoadOrCreateTokenConcurrently: processes starting at the same time
// (the studio and `afstudio token`) must agree on one token.
func TestLoadOrCreateTokenConcurrently(t *testing.T) {
	for round := range 100 {
		path := filepath.Join(t.TempDir(), "token")
		const n = 8
		toks := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				toks[i], errs[i] = control.LoadOrCreateToken(path)
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d, caller %d: %v", round, i, errs[i])
			}
			if toks[i] != toks[0] {
				t.Fatalf("round %d: callers got different tokens %q and %q", round, toks[0], toks[i])
			}
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1":      true,
		"127.0.0.1:0":      true,
		"127.1.2.3:80":     true,
		"[::1]:1":          true,
		"localhost:1":      true,
		"0.0.0.0:1":        false,
		"192.168.1.2:1":    false,
		":8080":            false,
		"[::]:1":           false,
		"example.com:1":    false,
		"127.0.0.1":        false, // no port: not a listen address
		"localhost.evil:1": false,
	} {
		if got := control.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestListen(t *testing.T) {
	m, _ := hosttest.NewRoot(t, nil, hosttest.Defaults(integrations.FS))
	h := control.NewHandler(m, control.Options{Token: testToken, Version: "test"})
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.168.1.2:1", "[::]:0"} {
		s, err := control.Listen(addr, h, false)
		if err == nil {
			s.Close()
			t.Fatalf("Listen(%q) without allowRemote succeeded", addr)
		}
		if !strings.Contains(err.Error(), "--allow-remote") || !strings.Contains(err.Error(), addr) {
			t.Fatalf("Listen(%q) error should name the address and --allow-remote: %v", addr, err)
		}
	}
	s, err := control.Listen("127.0.0.1:0", h, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr %q", s.Addr())
	}
	c := client.New("http://"+s.Addr(), testToken)
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if view, err := c.Snapshot(context.Background()); err != nil || len(view.Integrations) != 4 {
		t.Fatalf("list over a real listener: %v %v", names(view.Integrations), err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := c.Health(context.Background()); err == nil {
		t.Fatal("the server still answers after Close")
	}
}

// TestNoticesGreeting: every notice stream opens with Options.Greeting
// (a restarted worker's reason), before the live notices.
func TestNoticesGreeting(t *testing.T) {
	greet := starhost.Notice{Kind: "worker_restarted", Level: "error", Message: "the worker ran out of memory (limit 1 GiB)", Time: time.Now().UTC()}
	f := newFixture(t, nil, func(o *control.Options) { o.Greeting = []starhost.Notice{greet} })
	for range 2 { // each new stream is greeted
		ctx, cancel := context.WithCancel(context.Background())
		var log noticeLog
		go func() { _ = f.c.Notices(ctx, log.add) }()
		hosttest.Eventually(t, 10*time.Second, func() bool {
			if _, err := f.c.Emit(ctx, "probe", nil); err != nil {
				t.Fatal(err)
			}
			return log.has(func(n starhost.Notice) bool { return n.Event == "probe" })
		}, "the notices stream delivers")
		log.mu.Lock()
		first := log.ns[0]
		log.mu.Unlock()
		cancel()
		if first.Kind != greet.Kind || first.Message != greet.Message {
			t.Fatalf("the stream opened with %+v, want the greeting %+v", first, greet)
		}
	}
}

// TestAddAnyFile: the API adds files only inside the integration folders,
// unless Options.AnyFile (a studio's private API to its worker).
func TestAddAnyFile(t *testing.T) {
	outside := hosttest.TempDir(t, map[string]string{"far.star": "integration(name = \"far\", handlers = {\"ping\": lambda e, c: \"far\"})\n"})
	far := filepath.Join(outside, "far.star")
	for _, anyFile := range []bool{false, true} {
		f := newFixture(t, nil, func(o *control.Options) { o.AnyFile = anyFile })
		_, err := f.c.AddIntegration(context.Background(), far, "")
		switch {
		case !anyFile && apiStatus(err) != http.StatusBadRequest:
			t.Errorf("AnyFile false: adding %s: %v, want 400 (outside the folders)", far, err)
		case anyFile && err != nil:
			t.Errorf("AnyFile true: adding %s: %v", far, err)
		case anyFile && !f.m.IsAvailable("far"):
			t.Errorf("AnyFile true: far is not loaded: %v", f.m.Names())
		}
	}
}

// TestNoticesLimit: a stream opened with ?limit=N sends at most about N
// events, results and logs a second and counts the others in
// notices_dropped notices, so that what it sent and what it dropped add
// up to what an unlimited stream sent; lifecycle notices always pass; a
// bad limit names the parameter.
func TestNoticesLimit(t *testing.T) {
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var all, limited noticeLog
	highVolume := func(n starhost.Notice) bool {
		return n.Kind == starhost.NoticeEvent || n.Kind == starhost.NoticeResult || n.Kind == starhost.NoticeLog || n.Kind == starhost.NoticeHandlerFailed
	}
	go func() { _ = f.c.Notices(ctx, all.add) }()
	go func() { _ = f.c.NoticeStream(ctx, client.StreamOptions{Limit: 20}, limited.add) }()
	hosttest.Eventually(t, 10*time.Second, func() bool {
		if _, err := f.c.Emit(ctx, "probe", nil); err != nil {
			t.Fatal(err)
		}
		return all.has(func(n starhost.Notice) bool { return n.Event == "probe" }) && limited.has(func(n starhost.Notice) bool { return n.Event == "probe" })
	}, "both streams deliver")
	time.Sleep(1100 * time.Millisecond) // the limited stream's budget refills
	count := func(l *noticeLog) (high, dropped int) {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, n := range l.ns {
			switch {
			case highVolume(n):
				high++
			case n.Kind == control.NoticeDropped:
				dropped += int(n.Data.(map[string]any)["dropped"].(float64))
			}
		}
		return high, dropped
	}
	allBefore, _ := count(&all)
	limBefore, dropBefore := count(&limited)
	start := time.Now()
	for range 300 {
		if _, err := f.c.Emit(ctx, "ping", nil); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	hosttest.WriteFiles(t, f.root, map[string]string{"greeter.star": strings.Replace(greeterV1, "v1", "v2", 1)})
	if _, err := f.c.ReloadIntegration(ctx, "greeter"); err != nil {
		t.Fatal(err)
	}
	limited.waitFor(t, "reloaded (a lifecycle notice passes the limit)", func(n starhost.Notice) bool { return n.Kind == starhost.NoticeReloaded })
	var sent, dropped, total int
	hosttest.Eventually(t, 10*time.Second, func() bool {
		a, _ := count(&all)
		l, d := count(&limited)
		total, sent, dropped = a-allBefore, l-limBefore, d-dropBefore
		return total > 0 && sent+dropped == total
	}, "the limited stream's sent and dropped adding up to the unlimited stream's")
	if max := 20 + int(took.Seconds()*20) + 20; sent > max || dropped == 0 {
		t.Fatalf("limit 20/s over %v: sent %d (at most %d), dropped %d of %d", took, sent, max, dropped, total)
	}
	for _, bad := range []string{"-1", "lots"} {
		r := f.authed(t, "GET", "/v1/notices?limit="+bad, "")
		wantStatus(t, r, http.StatusBadRequest)
		if msg := r.errorText(t); !strings.Contains(msg, `"limit"`) {
			t.Errorf("limit=%s: %q does not name the parameter", bad, msg)
		}
	}
}
