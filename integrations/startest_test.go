package integrations_test

import (
	"context"
	"testing"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/startest"
)

// TestStarlarkTests runs the defaults' own tests (*_test.star in this
// folder) as afstudio test does, and requires each to pass.
func TestStarlarkTests(t *testing.T) {
	rep, err := startest.Run(context.Background(), startest.Options{Paths: []string{"."}, Defaults: integrations.FS})
	if err != nil {
		t.Fatal(err)
	}
	perFile := map[string]int{}
	for _, tr := range rep.Tests {
		perFile[tr.File]++
		if !tr.Passed {
			t.Errorf("%s: %s failed:", tr.File, tr.Name)
			for _, f := range tr.Failures {
				t.Errorf("    %s", f.Error())
			}
		}
	}
	for _, f := range []string{"analytics_test.star", "afterimage_test.star", "audit_test.star", "alerts_test.star"} {
		if perFile[f] < 3 {
			t.Errorf("%s has %d tests, want at least 3 (found: %v)", f, perFile[f], perFile)
		}
	}
}
