package starhost_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/afstudio/afstudio/starhost"
)

// A complete session: load a folder, emit an event, change the file,
// reload (state survives), and see a failed reload leave the old version
// serving.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "greeter.star")
	write := func(src string) { _ = os.WriteFile(path, []byte(src), 0o644) }
	write(`
def on_start(event, ctx):
    ctx.state["seen"] = ctx.state.get("seen", 0) + 1
    return "hello %s (#%d)" % (event.data["mission_id"], ctx.state["seen"])

integration(name = "greeter", priority = "HIGH", handlers = {"mission_started": on_start})
`)
	ctx := context.Background()
	m, _ := starhost.New(starhost.Options{Roots: []string{dir}})
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		fmt.Println(err)
	}
	rs, _ := m.Emit(ctx, "mission_started", map[string]any{"mission_id": "m1"})
	fmt.Println(rs[0].Integration, rs[0].Value)

	write(`
def on_start(event, ctx):
    ctx.state["seen"] = ctx.state.get("seen", 0) + 1
    return "welcome %s (#%d)" % (event.data["mission_id"], ctx.state["seen"])

integration(name = "greeter", priority = "HIGH", handlers = {"mission_started": on_start})
`)
	if err := m.ReloadIntegration(ctx, "greeter"); err != nil {
		fmt.Println(err)
	}
	rs, _ = m.Emit(ctx, "mission_started", map[string]any{"mission_id": "m2"})
	fmt.Println(rs[0].Value)

	write("def on_start(event, ctx)\n")
	err := m.ReloadIntegration(ctx, "greeter")
	d := starhost.Diagnose(err, path)[0]
	fmt.Printf("reload failed at line %d col %d: %s\n", d.Line, d.Col, d.Msg)
	rs, _ = m.Emit(ctx, "mission_started", map[string]any{"mission_id": "m3"})
	info, _ := m.IntegrationInfo("greeter")
	fmt.Println(rs[0].Value, "generation", info.Generation, "available", m.IsAvailable("greeter"))
	// Output:
	// greeter hello m1 (#1)
	// welcome m2 (#2)
	// reload failed at line 2 col 1: got newline, want ':'
	// welcome m3 (#3) generation 2 available true
}

// LoadDefaultIntegrations loads the embedded defaults and every module in
// the user folders; a user integration overrides a default of the same
// name.
func ExampleManager_LoadDefaultIntegrations() {
	defaults := fstest.MapFS{ // what the binary embeds (package integrations)
		"audit.star":   {Data: []byte("integration(name = \"audit\", handlers = {\"*\": lambda event, ctx: \"default audit\"})\n")},
		"metrics.star": {Data: []byte("integration(name = \"metrics\", priority = LOW, handlers = {\"ping\": lambda event, ctx: \"default metrics\"})\n")},
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "my_audit.star"), []byte(`
def on_any(event, ctx):
    return "my audit saw " + event.name

integration(name = "audit", priority = HIGH, handlers = {"*": on_any})
`), 0o644)

	ctx := context.Background()
	m, _ := starhost.New(starhost.Options{Defaults: defaults, Roots: []string{dir}})
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		fmt.Println(err)
	}
	for _, in := range m.Snapshot().Integrations {
		fmt.Println(in.Name, in.Priority, filepath.Base(in.Module))
	}
	rs, _ := m.Emit(ctx, "ping", nil)
	for _, r := range rs {
		fmt.Println(r.Value)
	}
	// Output:
	// audit HIGH my_audit.star
	// metrics LOW builtin:metrics.star
	// my audit saw ping
	// default metrics
}

// AddIntegration is add_integration_dynamically: class picks one of the
// integrations a module declares, "" takes every one.
func ExampleManager_AddIntegration() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "pair.star"), []byte(`
def hello(event, ctx):
    return "hello"

def goodbye(event, ctx):
    return "goodbye"

integration(name = "hello", handlers = {"ping": hello})
integration(name = "goodbye", priority = LOW, handlers = {"ping": goodbye})
`), 0o644)

	ctx := context.Background()
	m, _ := starhost.New(starhost.Options{Roots: []string{dir}}) // nothing loaded yet
	added, err := m.AddIntegration(ctx, "pair.star", "hello")    // relative to the first root
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println("added", added[0].Name, "class", added[0].Class, "generation", added[0].Generation)
	fmt.Println(m.Names())

	_, err = m.AddIntegration(ctx, "pair.star", "hullo")
	fmt.Println(err != nil, starhost.Diagnose(err, "")[0].Msg)

	added, _ = m.AddIntegration(ctx, "pair.star", "") // every integration of the module
	for _, in := range added {
		fmt.Println("now", in.Name, "generation", in.Generation)
	}
	// Output:
	// added hello class hello generation 1
	// [hello]
	// true no integration named "hullo" is declared here (it declares hello, goodbye); check the name, or rename it back
	// now hello generation 2
	// now goodbye generation 1
}

// RemoveIntegration takes an integration out; events no longer reach it,
// and a second removal reports ErrNotFound.
func ExampleManager_RemoveIntegration() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "greeter.star"), []byte("integration(name = \"greeter\", handlers = {\"ping\": lambda event, ctx: \"hi\"})\n"), 0o644)

	ctx := context.Background()
	m, _ := starhost.New(starhost.Options{Roots: []string{dir}})
	_ = m.LoadDefaultIntegrations(ctx)
	fmt.Println(m.IsAvailable("greeter"))

	if err := m.RemoveIntegration(ctx, "greeter"); err != nil {
		fmt.Println(err)
	}
	rs, _ := m.Emit(ctx, "ping", nil)
	fmt.Println(m.IsAvailable("greeter"), len(rs), "results")

	err := m.RemoveIntegration(ctx, "greeter")
	fmt.Println(errors.Is(err, starhost.ErrNotFound))
	// Output:
	// true
	// false 0 results
	// true
}

// IntegrationInfo is get_integration_info: its first six JSON keys are the
// Python dict's; IsAvailable is is_available.
func ExampleManager_IntegrationInfo() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "analytics.star"), []byte(`
def count(event, ctx):
    ctx.state[event.name] = ctx.state.get(event.name, 0) + 1

integration(
    name = "analytics",
    priority = CRITICAL,
    handlers = {"response_received": count, "mission_started": count},
)
`), 0o644)

	ctx := context.Background()
	m, _ := starhost.New(starhost.Options{Roots: []string{dir}})
	_ = m.LoadDefaultIntegrations(ctx)

	info, ok := m.IntegrationInfo("analytics")
	fmt.Println(ok, info.Name, info.Priority, info.Available, info.Subscriptions, filepath.Base(info.Module), info.Class)
	fmt.Println(m.IsAvailable("analytics"), m.IsAvailable("afterimage"))
	_, ok = m.IntegrationInfo("afterimage")
	fmt.Println(ok)
	// Output:
	// true analytics CRITICAL true [mission_started response_received] analytics.star analytics
	// true false
	// false
}

// ReloadAllIntegrations maps every name to nil or its error; a failed
// reload leaves the old version serving.
func ExampleManager_ReloadAllIntegrations() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	write := func(name, src string) { _ = os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644) }
	write("a.star", "integration(name = \"a\", handlers = {\"ping\": lambda event, ctx: \"a1\"})\n")
	write("b.star", "integration(name = \"b\", handlers = {\"ping\": lambda event, ctx: \"b1\"})\n")

	ctx := context.Background()
	m, _ := starhost.New(starhost.Options{Roots: []string{dir}})
	_ = m.LoadDefaultIntegrations(ctx)

	write("a.star", "integration(name = \"a\", handlers = {\"ping\": lambda event, ctx: \"a2\"})\n")
	write("b.star", "integration(name = \"b\", handlers = {\"ping\": lambda event, ctx: b2})\n") // b2 is undefined
	results := m.ReloadAllIntegrations(ctx)
	for _, name := range []string{"a", "b"} {
		if err := results[name]; err != nil {
			d := starhost.Diagnose(err, "")[0]
			fmt.Printf("%s: failed at line %d: %s\n", name, d.Line, d.Msg)
		} else {
			fmt.Printf("%s: ok\n", name)
		}
	}
	rs, _ := m.Emit(ctx, "ping", nil)
	fmt.Println(rs[0].Value, rs[1].Value)
	// Output:
	// a: ok
	// b: failed at line 1: undefined: b2
	// a2 b1
}

// Emit delivers an event to its subscribers in priority order, then the
// follow-up events their handlers queue with ctx.emit, breadth first. A
// handler that fails is reported in its Result; the others still run.
func ExampleManager_Emit() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "missions.star"), []byte(`
def on_failed(event, ctx):
    ctx.emit("alert_raised", {"mission_id": event.data["mission_id"]})
    return "alerted"

def on_alert(event, ctx):
    return "paged for %s (from %s)" % (event.data["mission_id"], event.source)

def broken(event, ctx):
    return 1 // 0

integration(name = "alerts", priority = HIGH, handlers = {"mission_failed": on_failed})
integration(name = "pager", handlers = {"alert_raised": on_alert})
integration(name = "stats", priority = LOW, handlers = {"mission_failed": broken})
`), 0o644)

	ctx := context.Background()
	m, _ := starhost.New(starhost.Options{Roots: []string{dir}})
	_ = m.LoadDefaultIntegrations(ctx)

	data, _ := starhost.DecodeEventData([]byte(`{"mission_id": "m7"}`))
	rs, err := m.Emit(ctx, "mission_failed", data)
	if err != nil {
		fmt.Println(err)
	}
	for _, r := range rs {
		if r.OK {
			fmt.Printf("%d %s/%s: %v\n", r.Depth, r.Integration, r.Event, r.Value)
		} else {
			fmt.Printf("%d %s/%s: failed at line %d: %s\n", r.Depth, r.Integration, r.Event, r.Error.Line, r.Error.Msg)
		}
	}
	// Output:
	// 0 alerts/mission_failed: alerted
	// 0 stats/mission_failed: failed at line 10: floored division by zero
	// 1 pager/alert_raised: paged for m7 (from alerts)
}

// ExportStates writes the states in the file format that every front end
// shares (afstudio state export, the studio's Export state…); another host
// reads it with ReadStateExport and takes the states with ImportStates, all
// or nothing. The JSON form keeps the key order and a float's ".0".
func ExampleManager_ExportStates() {
	defaults := fstest.MapFS{"tally.star": {Data: []byte(`
def on_tick(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    ctx.state["avg"] = 2.0

integration(name = "tally", handlers = {"tick": on_tick})
`)}}
	ctx := context.Background()
	a, _ := starhost.New(starhost.Options{Defaults: defaults})
	_ = a.LoadDefaultIntegrations(ctx)
	_, _ = a.Emit(ctx, "tick", nil)
	var file bytes.Buffer
	export, _ := a.ExportStates("tally")
	_ = export.Encode(&file)

	b, _ := starhost.New(starhost.Options{Defaults: defaults})
	_ = b.LoadDefaultIntegrations(ctx)
	in, err := starhost.ReadStateExport(file.Bytes())
	if err == nil {
		err = b.ImportStates(ctx, in.States())
	}
	state, _ := b.StateJSON("tally")
	fmt.Println(string(state), err)
	_, err = starhost.ReadStateExport([]byte(`{"format": "afstudio-state", "version": 2}`))
	fmt.Println(err)
	// Output:
	// {"n":1,"avg":2.0} <nil>
	// format "afstudio-state" version 2, want "afstudio-state" version 1
}

// Shadow mode: with it on, a save makes a shadow that handles every event
// beside the serving version, and the differences are reported before
// anything changes; promoting swaps it in.
func ExampleManager_StartShadow() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "fees.star")
	write := func(rate string) {
		_ = os.WriteFile(path, []byte(`
def on_done(event, ctx):
    return {"fee": event.data["amount"] * `+rate+` // 100}

integration(name = "fees", handlers = {"mission_completed": on_done})
`), 0o644)
	}
	write("2")
	ctx := context.Background()
	m, _ := starhost.New(starhost.Options{Roots: []string{dir}})
	_ = m.LoadDefaultIntegrations(ctx)

	_ = m.StartShadow("fees")
	write("3") // saved: the watcher would call ReloadFiles
	m.ReloadFiles(ctx, []string{path})
	for _, amount := range []int{100, 1000, 10} {
		rs, _ := m.Emit(ctx, "mission_completed", map[string]any{"amount": amount})
		fmt.Println("serving:", rs[0].Value)
	}
	_ = m.WaitShadow(ctx, "fees")
	rep, _ := m.ShadowReport("fees")
	fmt.Printf("compared %d, equal %d, different %d\n", rep.Compared, rep.Equal, rep.Different)
	for _, d := range rep.Differences {
		fmt.Println(d.Paths[0])
	}

	_ = m.PromoteShadow(ctx, "fees")
	rs, _ := m.Emit(ctx, "mission_completed", map[string]any{"amount": 100})
	fmt.Println("after promote:", rs[0].Value, "generation", rs[0].Generation)
	// Output:
	// serving: map[fee:2]
	// serving: map[fee:20]
	// serving: map[fee:0]
	// compared 3, equal 1, different 2
	// $.result.fee: 2 → 3
	// $.result.fee: 20 → 30
	// after promote: map[fee:3] generation 2
}
