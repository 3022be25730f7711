package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestBenchDirLoadsDefaultLibrary: `afstudio bench --dir` measures the
// README's slow_missions.star, which loads the default lib/stats.star.
func TestBenchDirLoadsDefaultLibrary(t *testing.T) {
	src := readmeExample(t, "# slow_missions.star: warns about slow missions and keeps a per-mission summary.")
	if !strings.Contains(src, `load("lib/stats.star"`) {
		t.Fatalf("the README example no longer loads lib/stats.star:\n%s", src)
	}
	dir := hosttest.TempDir(t, map[string]string{"slow_missions.star": src})
	r := runCLI(t, nil, "bench", "--dir", dir, "--reloads", "3", "--emit-for", "20ms", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("bench --dir on the README's slow_missions.star:\n%v", r)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("bench --json did not print one JSON object: %v\n%s", err, r.stdout)
	}
}
