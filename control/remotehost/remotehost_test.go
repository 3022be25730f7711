package remotehost_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/remotehost"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// testToken is the bearer token of every test server.
var testToken = strings.Repeat("cd", 32)

const greeterSrc = `def h(event, ctx):
    return "hello " + event.data.get("who", "world")

integration(name = "greeter", handlers = {"ping": h})
`

const greeterBroken = `def h(event, ctx):
    return undefined_name

integration(name = "greeter", handlers = {"ping": h})
`

const tallySrc = `def h(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return {"n": ctx.state["n"], "x": 1.5, "s": "<&>"}

integration(name = "tally", priority = "HIGH", handlers = {"tick": h, "ping": h})
`

const failingSrc = `def h(event, ctx):
    return 1 // 0

integration(name = "failing", handlers = {"boom": h})
`

const extraSrc = `def h(event, ctx):
    return "extra"

integration(name = "extra", handlers = {"ping": h})
`

const brokenSrc = `def h(event, ctx):
    return nope

integration(name = "broken", handlers = {"x": h})
`

// hostAPI is the studio's Host (package studio cannot be imported here:
// it would pull Fyne into control's tests); studio/host_test.go checks
// that *remotehost.Host is one.
type hostAPI interface {
	Snapshot() starhost.View
	Names() []string
	IntegrationInfo(name string) (starhost.Info, bool)
	IsAvailable(name string) bool
	Subscribe(buffer int) *starhost.Subscription
	Emit(ctx context.Context, event string, data map[string]any) ([]starhost.Result, error)
	ReloadIntegration(ctx context.Context, name string) error
	ReloadAllIntegrations(ctx context.Context) map[string]error
	ReloadFiles(ctx context.Context, paths []string) []starhost.Outcome
	AddIntegration(ctx context.Context, module, class string) ([]starhost.Info, error)
	AddRoot(ctx context.Context, dir string) error
	RemoveIntegration(ctx context.Context, name string) error
	RemoveModule(ctx context.Context, module string) ([]string, error)
	EnableIntegration(name string) error
	DisableIntegration(name string) error
	StateJSON(name string) ([]byte, error)
	ResetState(name string) error
	ForgetState(name string) error
	ExportStates(names ...string) (starhost.StateExport, error)
	ImportStates(ctx context.Context, states map[string][]byte) error
	StartShadow(name string) error
	ShadowReport(name string) (starhost.ShadowReport, error)
	PromoteShadow(ctx context.Context, name string) error
	DiscardShadow(name string) error
}

var (
	_ hostAPI = (*starhost.Manager)(nil)
	_ hostAPI = (*remotehost.Host)(nil)
)

// rig is a host served by the control API on a loopback port, and a
// remote host attached to it.
type rig struct {
	m    *starhost.Manager
	root string
	addr string
	srv  atomic.Pointer[control.Server]
	h    *remotehost.Host
	wrap func(http.Handler) http.Handler
}

// newRig starts a host with files in a temporary root, serves it on a
// free loopback port and connects a remote host to it.
func newRig(t *testing.T, files map[string]string, opts remotehost.Options, wrap func(http.Handler) http.Handler) *rig {
	t.Helper()
	m, root := hosttest.NewRoot(t, files)
	r := &rig{m: m, root: root, wrap: wrap, addr: "127.0.0.1:0"}
	r.serve(t)
	h, err := remotehost.New(context.Background(), "http://"+r.addr, testToken, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.h = h
	t.Cleanup(func() {
		h.Close()
		if s := r.srv.Load(); s != nil {
			s.Close()
		}
	})
	return r
}

// serve starts the API server on r.addr (the same port after the first
// time).
func (r *rig) serve(t *testing.T) {
	t.Helper()
	var h http.Handler = control.NewHandler(r.m, control.Options{Token: testToken, Version: "test"})
	if r.wrap != nil {
		h = r.wrap(h)
	}
	srv, err := control.Listen(r.addr, h, false)
	if err != nil {
		t.Fatal(err)
	}
	r.addr = srv.Addr()
	r.srv.Store(srv)
}

// stop shuts the API server down.
func (r *rig) stop(t *testing.T) {
	t.Helper()
	if err := r.srv.Swap(nil).Close(); err != nil {
		t.Fatal(err)
	}
}

// errInfo is what an error means to the studio: whether there is one,
// the sentinels errors.Is finds in it, and its positioned diagnostics
// (files by base name, for hosts whose folders differ).
type errInfo struct {
	Err      bool
	NotFound bool
	NotSaved bool
	NoShadow bool
	Diags    []starhost.Diagnostic
}

// infoOf returns err's meaning.
func infoOf(err error) errInfo {
	e := errInfo{Err: err != nil, NotFound: errors.Is(err, starhost.ErrNotFound), NotSaved: errors.Is(err, starhost.ErrStateNotSaved), NoShadow: errors.Is(err, starhost.ErrNoShadow)}
	for _, d := range starhost.Diagnose(err, "") {
		if d.Line == 0 && d.File == "" {
			continue // no position: the message alone, which each side words its own way
		}
		dd := *d
		dd.File = filepath.Base(dd.File)
		e.Diags = append(e.Diags, dd)
	}
	return e
}

// jsonOf returns v's JSON form, for comparisons of values that travel as
// JSON.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stable zeroes the fields of infos that change with every load or call,
// for outcomes of changes made once on each side.
func stable(ins []starhost.Info) []starhost.Info {
	out := slices.Clone(ins)
	for i := range out {
		out[i].Generation, out[i].LoadedAt, out[i].LastReload = 0, time.Time{}, 0
		out[i].Calls, out[i].Errors, out[i].LatencyMean, out[i].LatencyP99, out[i].Recent = 0, 0, 0, 0, nil
	}
	return out
}

// results returns rs without their durations, as JSON.
func results(t *testing.T, rs []starhost.Result) string {
	t.Helper()
	rs = slices.Clone(rs)
	for i := range rs {
		rs[i].Duration = 0
	}
	return jsonOf(t, rs)
}

// TestRemoteMatchesManager calls every Host method on the Manager and on
// a remote host attached to it over HTTP, and compares the outcomes:
// values, errors by errors.Is and diagnostics, states. Each case runs
// setup, the call on the Manager, setup again, the call on the remote.
func TestRemoteMatchesManager(t *testing.T) {
	r := newRig(t, map[string]string{"greeter.star": greeterSrc, "tally.star": tallySrc, "failing.star": failingSrc}, remotehost.Options{}, nil)
	ctx := context.Background()
	greeter := filepath.Join(r.root, "greeter.star")
	extra := filepath.Join(r.root, "extra.star")
	broken := filepath.Join(r.root, "broken.star")
	hosttest.Emit(t, r.m, "tick", nil)
	hosttest.Emit(t, r.m, "boom", nil)
	restore := func() {
		if err := r.m.DiscardShadow("greeter"); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(greeter); string(b) != greeterSrc { // a reload only when broken: generations stay
			hosttest.WriteFile(t, greeter, greeterSrc)
			r.m.ReloadFiles(ctx, []string{greeter})
		}
		r.m.RemoveModule(ctx, extra)
		r.m.RemoveModule(ctx, broken)
		if err := r.m.EnableIntegration("tally"); err != nil {
			t.Fatal(err)
		}
		if err := r.m.ImportStates(ctx, map[string][]byte{"tally": []byte(`{"n": 5}`)}); err != nil {
			t.Fatal(err)
		}
	}
	breakGreeter := func() {
		restore()
		hosttest.WriteFile(t, greeter, greeterBroken)
	}
	addExtra := func() {
		restore()
		hosttest.WriteFile(t, extra, extraSrc)
		if _, err := r.m.AddIntegration(ctx, extra, ""); err != nil {
			t.Fatal(err)
		}
	}
	shadowGreeter := func() { // a shadow answering "hi"
		restore()
		if err := r.m.StartShadow("greeter"); err != nil {
			t.Fatal(err)
		}
		hosttest.WriteFile(t, greeter, strings.Replace(greeterSrc, `"hello "`, `"hi "`, 1))
		r.m.ReloadFiles(ctx, []string{greeter})
		hosttest.Emit(t, r.m, "ping", map[string]any{"who": "you"})
		if err := r.m.WaitShadow(ctx, "greeter"); err != nil {
			t.Fatal(err)
		}
	}
	// Folders for AddRoot: one for each side, with the same content.
	rootDirs := []string{
		hosttest.TempDir(t, map[string]string{"b.star": brokenSrc}),
		hosttest.TempDir(t, map[string]string{"b.star": brokenSrc}),
	}
	emptyDirs := []string{hosttest.TempDir(t, nil), hosttest.TempDir(t, nil)}

	type outcome struct {
		Value string
		Err   errInfo
	}
	cases := []struct {
		name  string
		setup func()
		call  func(t *testing.T, h hostAPI, side int) outcome
	}{
		// The outcomes of cases named "... unknown" must wrap ErrNotFound,
		// those named "... broken" carry diagnostics (checked below), so
		// that equal outcomes are not equally empty.
		{"Snapshot", nil, func(t *testing.T, h hostAPI, _ int) outcome {
			v := h.Snapshot()
			recent := map[string][]time.Duration{}
			for _, in := range v.Integrations {
				recent[in.Name] = in.Recent
			}
			return outcome{Value: jsonOf(t, v) + jsonOf(t, recent)}
		}},
		{"Snapshot with a failed module", func() {
			restore()
			hosttest.WriteFile(t, broken, brokenSrc)
			r.m.ReloadFiles(ctx, []string{broken})
		}, func(t *testing.T, h hostAPI, _ int) outcome {
			v := h.Snapshot()
			var errs []errInfo
			for i, fm := range v.FailedModules {
				errs = append(errs, infoOf(fm.Err))
				v.FailedModules[i].At = time.Time{} // each side's setup loads it again
			}
			return outcome{Value: jsonOf(t, v.FailedModules) + jsonOf(t, errs)}
		}},
		{"Names", nil, func(t *testing.T, h hostAPI, _ int) outcome { return outcome{Value: jsonOf(t, h.Names())} }},
		{"IntegrationInfo", nil, func(t *testing.T, h hostAPI, _ int) outcome {
			in, ok := h.IntegrationInfo("tally")
			in.Recent = nil // not in the JSON of one Info
			return outcome{Value: jsonOf(t, in) + jsonOf(t, ok)}
		}},
		{"IntegrationInfo of a ghost", nil, func(t *testing.T, h hostAPI, _ int) outcome {
			in, ok := h.IntegrationInfo("ghost")
			return outcome{Value: jsonOf(t, in) + jsonOf(t, ok)}
		}},
		{"IsAvailable", func() { restore(); _ = r.m.DisableIntegration("tally") }, func(t *testing.T, h hostAPI, _ int) outcome {
			return outcome{Value: jsonOf(t, []bool{h.IsAvailable("greeter"), h.IsAvailable("tally"), h.IsAvailable("ghost")})}
		}},
		{"Emit", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			rs, err := h.Emit(ctx, "ping", map[string]any{"who": "you", "n": 3})
			return outcome{Value: results(t, rs), Err: infoOf(err)}
		}},
		{"Emit to a failing handler", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			rs, err := h.Emit(ctx, "boom", nil)
			return outcome{Value: results(t, rs), Err: infoOf(err)}
		}},
		{"Emit a bad event name", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			rs, err := h.Emit(ctx, "not an event!", nil)
			return outcome{Value: results(t, rs), Err: infoOf(err)}
		}},
		{"ReloadIntegration", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			return outcome{Err: infoOf(h.ReloadIntegration(ctx, "greeter"))}
		}},
		{"ReloadIntegration broken", breakGreeter, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.ReloadIntegration(ctx, "greeter")
			in, _ := h.IntegrationInfo("greeter")
			return outcome{Value: jsonOf(t, in.LastError) + jsonOf(t, in.Failed), Err: infoOf(err)}
		}},
		{"ReloadIntegration unknown", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			return outcome{Err: infoOf(h.ReloadIntegration(ctx, "ghost"))}
		}},
		{"ReloadAllIntegrations", breakGreeter, func(t *testing.T, h hostAPI, _ int) outcome {
			res := h.ReloadAllIntegrations(ctx)
			m := map[string]errInfo{}
			for name, err := range res {
				m[name] = infoOf(err)
			}
			return outcome{Value: jsonOf(t, m)}
		}},
		{"ReloadFiles", breakGreeter, func(t *testing.T, h hostAPI, _ int) outcome {
			hosttest.WriteFile(t, broken, brokenSrc)
			type o struct {
				Integration, Module string
				Removed             bool
				Err                 errInfo
			}
			var out []o
			for _, x := range h.ReloadFiles(ctx, []string{greeter, broken}) {
				out = append(out, o{x.Integration, x.Module, x.Removed, infoOf(x.Err)})
			}
			slices.SortFunc(out, func(a, b o) int { return strings.Compare(a.Module+a.Integration, b.Module+b.Integration) })
			return outcome{Value: jsonOf(t, out)}
		}},
		{"ReloadFiles of a deleted module", addExtra, func(t *testing.T, h hostAPI, _ int) outcome {
			hosttest.WriteFile(t, extra, extraSrc) // setup added it; now delete it
			if err := removeFile(extra); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, x := range h.ReloadFiles(ctx, []string{extra}) {
				out = append(out, jsonOf(t, []any{x.Integration, x.Module, x.Removed, infoOf(x.Err)}))
			}
			return outcome{Value: jsonOf(t, out)}
		}},
		{"AddIntegration", func() { restore(); hosttest.WriteFile(t, extra, extraSrc) }, func(t *testing.T, h hostAPI, _ int) outcome {
			ins, err := h.AddIntegration(ctx, "extra.star", "")
			return outcome{Value: jsonOf(t, stable(ins)), Err: infoOf(err)}
		}},
		{"AddIntegration broken", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			hosttest.WriteFile(t, broken, brokenSrc)
			ins, err := h.AddIntegration(ctx, broken, "")
			return outcome{Value: jsonOf(t, stable(ins)), Err: infoOf(err)}
		}},
		{"AddIntegration unknown class", func() { restore(); hosttest.WriteFile(t, extra, extraSrc) }, func(t *testing.T, h hostAPI, _ int) outcome {
			ins, err := h.AddIntegration(ctx, "extra.star", "ghost")
			return outcome{Value: jsonOf(t, stable(ins)), Err: infoOf(err)}
		}},
		{"AddRoot", restore, func(t *testing.T, h hostAPI, side int) outcome {
			return outcome{Err: infoOf(h.AddRoot(ctx, emptyDirs[side]))}
		}},
		{"AddRoot with a broken module", restore, func(t *testing.T, h hostAPI, side int) outcome {
			return outcome{Err: infoOf(h.AddRoot(ctx, rootDirs[side]))}
		}},
		{"RemoveIntegration", addExtra, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.RemoveIntegration(ctx, "extra")
			return outcome{Value: jsonOf(t, h.Names()), Err: infoOf(err)}
		}},
		{"RemoveIntegration unknown", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			return outcome{Err: infoOf(h.RemoveIntegration(ctx, "ghost"))}
		}},
		{"RemoveModule", addExtra, func(t *testing.T, h hostAPI, _ int) outcome {
			names, err := h.RemoveModule(ctx, extra)
			return outcome{Value: jsonOf(t, names) + jsonOf(t, h.Names()), Err: infoOf(err)}
		}},
		{"DisableIntegration", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.DisableIntegration("tally")
			in, _ := h.IntegrationInfo("tally")
			return outcome{Value: jsonOf(t, []bool{in.Enabled, in.Available}), Err: infoOf(err)}
		}},
		{"EnableIntegration", func() { restore(); _ = r.m.DisableIntegration("tally") }, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.EnableIntegration("tally")
			in, _ := h.IntegrationInfo("tally")
			return outcome{Value: jsonOf(t, []bool{in.Enabled, in.Available}), Err: infoOf(err)}
		}},
		{"Enable and DisableIntegration unknown", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			return outcome{Value: jsonOf(t, []errInfo{infoOf(h.EnableIntegration("ghost")), infoOf(h.DisableIntegration("ghost"))})}
		}},
		{"StateJSON", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			b, err := h.StateJSON("tally")
			return outcome{Value: string(b), Err: infoOf(err)}
		}},
		{"StateJSON unknown", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			b, err := h.StateJSON("ghost")
			return outcome{Value: string(b), Err: infoOf(err)}
		}},
		{"ResetState", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.ResetState("tally")
			b, _ := r.m.StateJSON("tally")
			return outcome{Value: string(b), Err: infoOf(err)}
		}},
		{"ForgetState", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.ForgetState("tally")
			b, _ := r.m.StateJSON("tally")
			return outcome{Value: string(b), Err: infoOf(err)}
		}},
		{"Reset and ForgetState unknown", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			return outcome{Value: jsonOf(t, []errInfo{infoOf(h.ResetState("ghost")), infoOf(h.ForgetState("ghost"))})}
		}},
		{"ExportStates", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			e, err := h.ExportStates("tally")
			return outcome{Value: jsonOf(t, e.Integrations) + e.Format, Err: infoOf(err)}
		}},
		{"ExportStates of all", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			e, err := h.ExportStates()
			return outcome{Value: jsonOf(t, e.Integrations), Err: infoOf(err)}
		}},
		{"ExportStates unknown", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			e, err := h.ExportStates("tally", "ghost")
			return outcome{Value: jsonOf(t, e.Integrations), Err: infoOf(err)}
		}},
		{"ImportStates", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.ImportStates(ctx, map[string][]byte{"tally": []byte(`{"n": 9, "s": "<&>"}`)})
			b, _ := r.m.StateJSON("tally")
			return outcome{Value: string(b), Err: infoOf(err)}
		}},
		{"ImportStates all or nothing", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.ImportStates(ctx, map[string][]byte{"tally": []byte(`{"n": 1}`), "ghost": []byte(`{}`)})
			b, _ := r.m.StateJSON("tally")
			return outcome{Value: string(b), Err: infoOf(err)}
		}},
		{"ImportStates invalid", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.ImportStates(ctx, map[string][]byte{"tally": []byte(`[1]`)})
			b, _ := r.m.StateJSON("tally")
			return outcome{Value: string(b), Err: infoOf(err)}
		}},
		{"ShadowReport", shadowGreeter, func(t *testing.T, h hostAPI, _ int) outcome {
			rep, err := h.ShadowReport("greeter")
			// What differs between the two sides' setups: times and generations.
			rep.Since, rep.ServingP50, rep.ShadowP50, rep.ServingGeneration, rep.ShadowGeneration = time.Time{}, 0, 0, 0, 0
			for i := range rep.Differences {
				d := &rep.Differences[i]
				d.Time, d.Serving.Duration, d.Shadow.Duration, d.Serving.Generation, d.Shadow.Generation = time.Time{}, 0, 0, 0, 0
			}
			if rep.Different != 1 {
				t.Fatalf("report %+v: want one difference", rep)
			}
			return outcome{Value: jsonOf(t, rep), Err: infoOf(err)}
		}},
		{"StartShadow", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.StartShadow("greeter")
			rep, _ := r.m.ShadowReport("greeter")
			return outcome{Value: jsonOf(t, []bool{rep.On, rep.Active}), Err: infoOf(err)}
		}},
		{"PromoteShadow", shadowGreeter, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.PromoteShadow(ctx, "greeter")
			rs := hosttest.Emit(t, r.m, "ping", nil)
			return outcome{Value: jsonOf(t, rs[0].Value), Err: infoOf(err)}
		}},
		{"PromoteShadow without a shadow", func() { restore(); _ = r.m.StartShadow("greeter") }, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.PromoteShadow(ctx, "greeter")
			if !errors.Is(err, starhost.ErrNoShadow) {
				t.Fatalf("promote without a shadow: %v; want ErrNoShadow", err)
			}
			return outcome{Err: infoOf(err)}
		}},
		{"DiscardShadow", shadowGreeter, func(t *testing.T, h hostAPI, _ int) outcome {
			err := h.DiscardShadow("greeter")
			rep, _ := r.m.ShadowReport("greeter")
			rs := hosttest.Emit(t, r.m, "ping", nil)
			return outcome{Value: jsonOf(t, []any{rep.On, rep.Active, rs[0].Value}), Err: infoOf(err)}
		}},
		{"Shadow unknown", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			_, err := h.ShadowReport("ghost")
			return outcome{Value: jsonOf(t, []errInfo{infoOf(h.StartShadow("ghost")), infoOf(err), infoOf(h.PromoteShadow(ctx, "ghost")), infoOf(h.DiscardShadow("ghost"))})}
		}},
		{"Subscribe", restore, func(t *testing.T, h hostAPI, _ int) outcome {
			sub := h.Subscribe(4096) // as the studio does: the relay may deliver a backlog in a burst
			defer sub.Close()
			if err := r.m.ResetState("tally"); err != nil {
				t.Fatal(err)
			}
			n := next(t, sub, func(n starhost.Notice) bool { return n.Kind == starhost.NoticeStateReset && n.Message == "state reset" })
			return outcome{Value: n.Integration + ": " + n.Summary()}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]outcome
			for side, h := range []hostAPI{r.m, r.h} {
				if tc.setup != nil {
					tc.setup()
				}
				got[side] = tc.call(t, h, side)
			}
			switch {
			case strings.HasSuffix(tc.name, " unknown") && !got[0].Err.NotFound && !strings.Contains(got[0].Value, `"NotFound":true`):
				t.Fatalf("no ErrNotFound: %+v", got[0])
			case strings.Contains(tc.name, "broken") && len(got[0].Err.Diags) == 0 && !strings.Contains(got[0].Value, `"line":2`):
				t.Fatalf("no diagnostics: %+v", got[0])
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Fatalf("the Manager and the remote host differ:\nmanager: %+v\nremote:  %+v", got[0], got[1])
			}
		})
	}
}

// next returns the next notice on sub that match accepts, failing the
// test after five seconds.
func next(t *testing.T, sub *starhost.Subscription, match func(starhost.Notice) bool) starhost.Notice {
	t.Helper()
	deadline := time.After(5 * time.Second)
	var seen []string
	for {
		select {
		case n, ok := <-sub.C:
			if !ok {
				t.Fatal("subscription closed")
			}
			if match(n) {
				return n
			}
			seen = append(seen, n.String())
		case <-deadline:
			t.Fatalf("no matching notice within 5s; saw %q", seen)
		}
	}
}

// removeFile deletes a file.
func removeFile(path string) error { return os.Remove(path) }
