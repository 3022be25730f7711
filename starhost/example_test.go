package starhost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
