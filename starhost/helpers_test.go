package starhost_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/afstudio/afstudio/starhost"
)

// writeFiles writes name -> content into dir, creating folders.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newHost loads the files into a fresh root and returns the manager and
// the root. Load errors fail the test unless allowErr.
func newHost(t testing.TB, files map[string]string, opts ...func(*starhost.Options)) (*starhost.Manager, string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	o := starhost.Options{Roots: []string{dir}}
	for _, f := range opts {
		f(&o)
	}
	m, err := starhost.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadDefaultIntegrations(context.Background()); err != nil {
		t.Fatalf("load: %v", err)
	}
	return m, dir
}

func emit(t testing.TB, m *starhost.Manager, event string, data map[string]any) []starhost.Result {
	t.Helper()
	rs, err := m.Emit(context.Background(), event, data)
	if err != nil {
		t.Fatalf("emit %s: %v", event, err)
	}
	return rs
}

func resultOf(t testing.TB, rs []starhost.Result, name string) starhost.Result {
	t.Helper()
	for _, r := range rs {
		if r.Integration == name {
			return r
		}
	}
	t.Fatalf("no result from %s in %+v", name, rs)
	return starhost.Result{}
}

// outcomeErrs maps each integration ReloadFiles touched (or module, for
// one that declared nothing) to its error.
func outcomeErrs(outs []starhost.Outcome) map[string]error {
	m := map[string]error{}
	for _, o := range outs {
		key := o.Integration
		if key == "" {
			key = o.Module
		}
		m[key] = o.Err
	}
	return m
}
