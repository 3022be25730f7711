package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost"
)

// A host serves the control API (here on an httptest server; afstudio
// run --headless --listen ADDR in production), and a Go engine emits
// events and reloads integrations through the client. A failed reload is
// a *client.Error that carries the diagnostic, and the old version keeps
// answering.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "greeter.star")
	write := func(greeting string) {
		_ = os.WriteFile(path, []byte(`
def on_start(event, ctx):
    return "`+greeting+` " + event.data["mission_id"]

integration(name = "greeter", handlers = {"mission_started": on_start})
`), 0o644)
	}
	write("hello")

	// The host side.
	ctx := context.Background()
	m, _ := starhost.New(starhost.Options{Roots: []string{dir}})
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		fmt.Println(err)
	}
	const token = "0123456789abcdef0123456789abcdef" // afstudio token prints the real one
	srv := httptest.NewServer(control.NewHandler(m, control.Options{Token: token}))
	defer srv.Close()

	// The engine side.
	c := client.New(srv.URL, token)
	rs, err := c.Emit(ctx, "mission_started", map[string]any{"mission_id": "m1"})
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(rs[0].Integration, rs[0].Generation, rs[0].Value)

	write("welcome")
	info, err := c.ReloadIntegration(ctx, "greeter")
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println("reloaded, generation", info.Generation)
	rs, _ = c.Emit(ctx, "mission_started", map[string]any{"mission_id": "m2"})
	fmt.Println(rs[0].Integration, rs[0].Generation, rs[0].Value)

	_ = os.WriteFile(path, []byte("def on_start(event, ctx)\n"), 0o644) // saved half-written
	_, err = c.ReloadIntegration(ctx, "greeter")
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		d := apiErr.Body.Diagnostic
		fmt.Println(apiErr.Status, apiErr.Body.Error)
		fmt.Printf("%s:%d:%d: %s\n", filepath.Base(d.File), d.Line, d.Col, d.Msg)
	}
	rs, _ = c.Emit(ctx, "mission_started", map[string]any{"mission_id": "m3"})
	fmt.Println(rs[0].Integration, rs[0].Generation, rs[0].Value)
	// Output:
	// greeter 1 hello m1
	// reloaded, generation 2
	// greeter 2 welcome m2
	// 422 reload of greeter failed; the previous version keeps serving
	// greeter.star:2:1: got newline, want ':'
	// greeter 2 welcome m3
}
