package client_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost"
)

// TestEscapedNames sends event names that are not valid path segments as
// they are ("/", "?", "#", "%"): each must reach its handler, as it does
// through Manager.Emit.
func TestEscapedNames(t *testing.T) {
	dir := t.TempDir()
	src := "integration(name = \"echo\", handlers = {\"*\": lambda event, ctx: event.name})\n"
	if err := os.WriteFile(filepath.Join(dir, "echo.star"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := starhost.New(starhost.Options{Roots: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		t.Fatal(err)
	}
	token := "0123456789abcdef0123456789abcdef"
	srv := httptest.NewServer(control.NewHandler(m, control.Options{Token: token}))
	t.Cleanup(srv.Close)
	c := client.New(srv.URL, token)
	for _, event := range []string{"mission/started", "what?", "tag#1", "100%", "a%2Fb", ".."} {
		rs, err := c.Emit(ctx, event, nil)
		if err != nil {
			t.Errorf("Emit(%q): %v", event, err)
			continue
		}
		if len(rs) != 1 || rs[0].Value != event {
			t.Errorf("Emit(%q): %+v, want one result %q", event, rs, event)
		}
	}
	if _, err := c.IntegrationInfo(ctx, "echo"); err != nil {
		t.Fatal(err)
	}
}
