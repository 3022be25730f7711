package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readmeExample returns the README's example integration that starts
// with the line first, up to the end of its code block.
func readmeExample(t *testing.T, first string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+first+"\n")
	src, _, closed := strings.Cut(rest, "\n```")
	if !ok || !closed {
		t.Fatalf("README.md has no code block starting with %q", first)
	}
	return first + "\n" + src + "\n"
}

// TestBenchDirLoadsDefaultLibrary: `afstudio bench --dir` measures the
// README's slow_missions.star, which loads the default lib/stats.star.
func TestBenchDirLoadsDefaultLibrary(t *testing.T) {
	src := readmeExample(t, "# slow_missions.star: warns about slow missions and keeps a per-mission summary.")
	if !strings.Contains(src, `load("lib/stats.star"`) {
		t.Fatalf("the README example no longer loads lib/stats.star:\n%s", src)
	}
	dir := writeTree(t, map[string]string{"slow_missions.star": src})
	r := runCLI(t, nil, "bench", "--dir", dir, "--reloads", "3", "--emit-for", "20ms", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("bench --dir on the README's slow_missions.star:\n%v", r)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("bench --json did not print one JSON object: %v\n%s", err, r.stdout)
	}
}
