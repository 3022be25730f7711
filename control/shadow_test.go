package control_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestShadowEndpoints drives shadow mode through the client against a
// real server: PUT turns it on, a save makes a shadow, GET reports the
// differences, promote swaps it in, DELETE turns the mode off; unknown
// names answer 404 and a promote without a shadow 409.
func TestShadowEndpoints(t *testing.T) {
	f := newFixture(t, map[string]string{"greeter.star": greeterV1})
	c, ctx := f.c, context.Background()

	rep, err := c.StartShadow(ctx, "greeter")
	if err != nil || !rep.On || rep.Active {
		t.Fatalf("PUT shadow: %+v, %v; want on and no shadow yet", rep, err)
	}
	if _, err := c.PromoteShadow(ctx, "greeter"); apiStatus(err) != http.StatusConflict || !strings.Contains(err.Error(), "save the integration's file") {
		t.Fatalf("promote without a shadow: %v; want 409 saying what to do", err)
	}
	path := filepath.Join(f.root, "greeter.star")
	hosttest.WriteFile(t, path, strings.Replace(greeterV1, `"v1"`, `"v2"`, 1))
	f.m.ReloadFiles(ctx, []string{path})
	if rs, err := c.Emit(ctx, "ping", nil); err != nil || rs[0].Value != "v1" {
		t.Fatalf("emit while shadowing: %+v, %v; want v1 serving", rs, err)
	}
	if err := f.m.WaitShadow(ctx, "greeter"); err != nil {
		t.Fatal(err)
	}
	rep, err = c.ShadowReport(ctx, "greeter")
	if err != nil || !rep.Active || rep.Compared != 1 || rep.Different != 1 || rep.Differences[0].Paths[0].Path != "$.result" || rep.Differences[0].Shadow.Value != "v2" {
		t.Fatalf("GET shadow: %+v, %v; want one difference at $.result, v2 in the shadow", rep, err)
	}
	in, err := c.PromoteShadow(ctx, "greeter")
	if err != nil || in.Generation != 2 {
		t.Fatalf("promote: %+v, %v; want generation 2", in, err)
	}
	if rs, _ := c.Emit(ctx, "ping", nil); rs[0].Value != "v2" {
		t.Fatalf("after promote: %+v; want v2", rs)
	}
	if err := c.DiscardShadow(ctx, "greeter"); err != nil {
		t.Fatal(err)
	}
	if rep, _ := c.ShadowReport(ctx, "greeter"); rep.On {
		t.Fatalf("after DELETE: %+v; want the mode off", rep)
	}
	for _, call := range []func() error{
		func() error { _, err := c.StartShadow(ctx, "ghost"); return err },
		func() error { _, err := c.ShadowReport(ctx, "ghost"); return err },
		func() error { _, err := c.PromoteShadow(ctx, "ghost"); return err },
		func() error { return c.DiscardShadow(ctx, "ghost") },
	} {
		if err := call(); apiStatus(err) != http.StatusNotFound {
			t.Errorf("an unknown name: %v; want 404", err)
		}
	}
}
