package starhost_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

func TestIsModuleFile(t *testing.T) {
	for name, want := range map[string]bool{
		"a.star": true, "b.star": true, ".a.star.swp": false, "a.star~": false, "4913": false,
		".#a.star": false, "a.star___jb_tmp___": false, "a.star___jb_old___": false, ".hidden.star": false, "a.py": false,
		"a_test.star": false, "_test.star": false, "a_test.star~": false, "latest.star": true, "a_tests.star": true,
	} {
		if got := starhost.IsModuleFile(name); got != want {
			t.Errorf("IsModuleFile(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsTestFile(t *testing.T) {
	for name, want := range map[string]bool{
		"a_test.star": true, "analytics_test.star": true, "_test.star": false, "a.star": false,
		".a_test.star": false, "a_test.star~": false, "a_test.star___jb_tmp___": false, "a_test.py": false,
	} {
		if got := starhost.IsTestFile(name); got != want {
			t.Errorf("IsTestFile(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestTestFilesAreNotModules checks that the host never loads a test file
// (NAME_test.star) or anything under a tests folder as an integration:
// not at start, and not when the file is saved (ReloadFiles with its
// path, as the watcher would call it if it reported it).
func TestTestFilesAreNotModules(t *testing.T) {
	// Each test file would declare an integration if it were loaded; the
	// broken one would be listed as a failed module.
	decl := func(name string) string {
		return "integration(name = \"" + name + "\", handlers = {\"ping\": lambda event, ctx: \"" + name + "\"})\n"
	}
	m, root := hosttest.NewRoot(t, map[string]string{
		"real.star":            decl("real"),
		"real_test.star":       decl("from_test_file"),
		"broken_test.star":     "def test_x(:\n",
		"tests/real_test.star": decl("from_tests_folder"),
		"tests/helper.star":    decl("from_tests_helper"),
		"sub/tests/deep.star":  decl("from_sub_tests"),
		"sub/other.star":       decl("other"),
		"sub/other_test.star":  decl("from_sub_test_file"),
	})
	check := func(when string) {
		t.Helper()
		if got, want := m.Names(), []string{"other", "real"}; !slices.Equal(got, want) {
			t.Errorf("%s: loaded %v, want %v", when, got, want)
		}
		if f := m.Snapshot().FailedModules; len(f) != 0 {
			t.Errorf("%s: failed modules %+v, want none", when, f)
		}
	}
	check("at start")

	// Saving each test file (or creating a new one) reloads nothing.
	saved := []string{"real_test.star", "broken_test.star", "tests/real_test.star", "tests/helper.star", "sub/tests/deep.star", "sub/other_test.star", "new_test.star", "tests/new.star"}
	var paths []string
	for _, rel := range saved {
		p := filepath.Join(root, filepath.FromSlash(rel))
		hosttest.WriteFile(t, p, decl("saved_"+filepath.Base(filepath.Dir(p))))
		paths = append(paths, p)
	}
	sub := m.Subscribe(64)
	defer sub.Close()
	if out := m.ReloadFiles(context.Background(), paths); len(out) != 0 {
		t.Errorf("ReloadFiles of saved test files = %+v, want nothing done", out)
	}
	if n := len(sub.C); n != 0 {
		t.Errorf("saving test files published %d notices (first: %v), want none", n, <-sub.C)
	}
	check("after saving test files")

	// Deleting them removes nothing.
	for _, p := range paths {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if out := m.ReloadFiles(context.Background(), paths); len(out) != 0 {
		t.Errorf("ReloadFiles of deleted test files = %+v, want nothing done", out)
	}
	check("after deleting test files")
}

// TestMisnamedModuleWarned: a module whose name makes it a test file
// (split_test.star, declaring an integration) is not loaded, and the
// host says so and how to load it.
func TestMisnamedModuleWarned(t *testing.T) {
	m, dir := hosttest.NewRoot(t, map[string]string{
		"split_test.star":       "def h(e, c):\n    return 1\n\nintegration(name = \"split\", handlers = {\"tick\": h})\n",
		"real_test.star":        "def test_a():\n    pass\n",
		"tests/other_test.star": "integration(name = \"x\", handlers = {})\n", // in tests/: a fixture
	}, hosttest.Unloaded())
	notices := recordNotices(t, m)
	hosttest.Load(t, m)
	var warned []string
	for _, n := range notices() {
		if n.Kind == starhost.NoticeLog && n.Level == "warn" {
			warned = append(warned, n.Module)
			if !strings.Contains(n.Message, "rename it") {
				t.Errorf("warning %q does not say what to do", n.Message)
			}
		}
	}
	if len(m.Names()) != 0 || len(warned) != 1 || warned[0] != filepath.Join(dir, "split_test.star") {
		t.Fatalf("loaded %v, warned about %v; want nothing loaded and a warning about split_test.star only", m.Names(), warned)
	}
}
