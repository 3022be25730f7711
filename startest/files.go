package startest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/afstudio/afstudio/starhost"
)

// TestFiles returns the test files of an integration module that exist:
// NAME_test.star beside it, then tests/NAME_test.star below its folder.
// For a test file it returns the file itself. A front end calls it when a
// module or a test file is saved, and gives the result to Run as
// Options.Paths; nil means there is nothing to run.
func TestFiles(module string) []string {
	base := filepath.Base(module)
	if starhost.IsTestFile(base) {
		if isFile(module) {
			return []string{module}
		}
		return nil
	}
	if !starhost.IsModuleFile(base) {
		return nil
	}
	name := strings.TrimSuffix(base, ".star") + starhost.TestFileSuffix
	dir := filepath.Dir(module)
	var out []string
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, starhost.TestsDir, name)} {
		if isFile(p) {
			out = append(out, p)
		}
	}
	return out
}

// isFile reports whether p names a regular file (through symlinks).
func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// integrationFolder returns the folder whose integrations a test file
// tests: its own, or for a file in a tests folder, the parent of that.
func integrationFolder(testFile string) string {
	dir := filepath.Dir(testFile)
	if filepath.Base(dir) == starhost.TestsDir {
		return filepath.Dir(dir)
	}
	return dir
}

// findTestFiles returns the test files of paths (see Options.Paths), each
// once, in the order found; a folder's in lexical order.
func findTestFiles(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		if !seen[abs] {
			seen[abs] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		found, err := testFilesIn(p)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			add(f)
		}
	}
	return out, nil
}

// testFilesIn returns the test files of one path: the file itself, an
// integration's TestFiles, or those under a folder.
func testFilesIn(p string) ([]string, error) {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: no such file or folder; give test files (NAME_test.star), integrations (NAME.star) or folders", p)
	case err != nil:
		return nil, fmt.Errorf("%s: cannot read: %w", p, err)
	case !st.IsDir():
		base := filepath.Base(p)
		switch {
		case starhost.IsTestFile(base):
			return []string{p}, nil
		case starhost.IsModuleFile(base):
			return TestFiles(p), nil
		}
		return nil, fmt.Errorf("%s: not a test file; test files are named NAME_test.star", p)
	}
	var out []string
	err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: cannot read: %w", q, err)
		}
		if d.IsDir() {
			if q != p && d.Name() != starhost.TestsDir && starhost.IsSkippedDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if starhost.IsTestFile(d.Name()) {
			out = append(out, q)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}
