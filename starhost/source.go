package starhost

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"go.starlark.net/syntax"
)

// BuiltinPrefix starts the module path of every embedded default
// integration, as in "builtin:analytics.star".
const BuiltinPrefix = "builtin:"

// LibDir is the name of the folders that hold shared libraries: .star files
// under a folder of this name are loaded with load() and are not
// integration modules themselves.
const LibDir = "lib"

// sources reads module files from the user roots and the embedded defaults
// and resolves load() paths against them. It holds no mutable state.
type sources struct {
	roots     []string // absolute user roots, in lookup order
	rootsReal []string // the same with symlinks resolved
	defaults  fs.FS    // embedded defaults; may be nil
	maxBytes  int64
}

// newSources makes the roots absolute (a root that does not exist yet is
// kept) and reads files of at most maxBytes.
func newSources(roots []string, defaults fs.FS, maxBytes int64) (*sources, error) {
	s := &sources{defaults: defaults, maxBytes: maxBytes}
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("integration root %q: %w", r, err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			real = abs // a root that does not exist yet is allowed; it has no files
		}
		s.roots = append(s.roots, abs)
		s.rootsReal = append(s.rootsReal, real)
	}
	return s, nil
}

// canonical returns the module path the host uses for a user-supplied
// path: "builtin:..." paths unchanged, file paths made absolute.
func canonical(p string) (string, error) {
	if strings.HasPrefix(p, BuiltinPrefix) {
		return BuiltinPrefix + path.Clean(strings.TrimPrefix(p, BuiltinPrefix)), nil
	}
	return filepath.Abs(p)
}

// read returns the checked source of the module at path.
func (s *sources) read(p string) ([]byte, error) {
	var data []byte
	if rel, ok := strings.CutPrefix(p, BuiltinPrefix); ok {
		if s.defaults == nil {
			return nil, diagFile(p, "no default integrations are embedded")
		}
		b, err := fs.ReadFile(s.defaults, rel)
		if err != nil {
			return nil, diagFile(p, "cannot read: %v", err).withKind(ErrorMissingFile)
		}
		data = b
	} else {
		b, isDir, err := readFile(p, s.maxBytes)
		switch {
		case isDir:
			return nil, &Diagnostic{File: p, Msg: "is a folder, not a .star file", Kind: ErrorInvalid}
		case err != nil:
			return nil, &Diagnostic{File: p, Msg: "cannot read: " + errText(err), Kind: ErrorMissingFile}
		}
		data = b
	}
	if err := checkSource(p, data, s.maxBytes); err != nil {
		return nil, err
	}
	return data, nil
}

// errText returns the message of err without the path a *fs.PathError
// adds (the diagnostic names the file already).
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// checkSource rejects files that are too large, binary or not UTF-8,
// positioning the error at the first offending byte.
func checkSource(name string, data []byte, maxBytes int64) error {
	if int64(len(data)) > maxBytes {
		return diagFile(name, "file is larger than %d bytes; integration sources are limited to %d KiB, split it into libraries", maxBytes, maxBytes>>10).withKind(ErrorLimit)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return posDiag(name, data, i, "binary file (NUL byte); integration sources must be UTF-8 text")
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		return posDiag(name, data, i, fmt.Sprintf("invalid UTF-8 byte 0x%02x; save the file as UTF-8", data[i]))
	}
	return nil
}

// posDiag returns a diagnostic at the line and column of a byte offset.
func posDiag(name string, data []byte, offset int, msg string) *Diagnostic {
	line := 1 + bytes.Count(data[:offset], []byte{'\n'})
	lineStart := bytes.LastIndexByte(data[:offset], '\n') + 1
	col := 1 + utf8.RuneCount(data[lineStart:offset]) // columns count characters, as Starlark's do
	return &Diagnostic{File: name, Line: line, Col: col, Msg: msg, Kind: ErrorInvalid}
}

// rootOf returns the root a module's loads resolve in first: the user
// root that holds it, the defaults for builtin modules, or else the
// module's own folder.
func (s *sources) rootOf(module string) string {
	if strings.HasPrefix(module, BuiltinPrefix) {
		return BuiltinPrefix
	}
	for _, r := range s.roots {
		if within(r, module) {
			return r
		}
	}
	return filepath.Dir(module)
}

// within reports whether path p is root or inside it (lexically).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolveLoad turns the module name of a load statement into a module
// path. Names are relative to an integration root: first is the root of
// the integration module being built (see rootOf), then the user roots in
// order, then the defaults. Absolute names, ".." and symlinks that leave
// the root are rejected.
func (s *sources) resolveLoad(first string, pos syntax.Position, name string) (string, error) {
	switch {
	case name == "" || strings.ContainsRune(name, '\\'):
		return "", diagAt(pos, "load(%q): a load path is a forward-slash path relative to an integration root, like \"lib/stats.star\"", name)
	case path.IsAbs(name) || filepath.IsAbs(name):
		return "", diagAt(pos, "load(%q): absolute paths are not allowed; load paths are relative to an integration root, like \"lib/stats.star\"", name)
	case !strings.HasSuffix(name, ".star"):
		return "", diagAt(pos, "load(%q): only .star files can be loaded", name)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(name, "/../") || strings.HasPrefix(name, "../") {
		return "", diagAt(pos, "load(%q): the path leaves the integration root; keep shared code in a folder inside the root, like \"lib/\"", name)
	}
	candidates := []string{first}
	for _, r := range s.roots {
		if r != first {
			candidates = append(candidates, r)
		}
	}
	if first != BuiltinPrefix && s.defaults != nil {
		candidates = append(candidates, BuiltinPrefix)
	}
	for _, root := range candidates {
		if root == BuiltinPrefix {
			if _, err := fs.Stat(s.defaults, clean); err == nil {
				return BuiltinPrefix + clean, nil
			}
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(clean))
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return "", diagAt(pos, "load(%q): %v", name, errText(err)).withKind(ErrorMissingFile)
		}
		rootReal, err := filepath.EvalSymlinks(root)
		if err != nil {
			rootReal = root
		}
		if !within(rootReal, real) {
			return "", diagAt(pos, "load(%q): %s is a symlink to %s, outside the integration root %s; copy the library into the root instead", name, p, real, root)
		}
		return p, nil
	}
	where := strings.Join(candidates, ", ")
	return "", diagAt(pos, "load(%q): no such file in the integration roots (%s); check the path, it is relative to a root", name, where).withKind(ErrorMissingFile)
}

// declaresIntegration matches an integration() call at the start of a
// line: the top level of a module.
var declaresIntegration = regexp.MustCompile(`(?m)^integration\(`)

// misnamedModules returns the test files (NAME_test.star) of the user
// roots, outside tests folders, that declare an integration: modules
// whose name makes the host skip them (an "A/B split test" named
// split_test.star), for a warning.
func (s *sources) misnamedModules() []string {
	var out []string
	for _, root := range s.roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return nil
			case d.IsDir() && p != root && skipDir(d.Name()):
				return fs.SkipDir
			case !d.IsDir() && IsTestFile(d.Name()):
				if b, err := os.ReadFile(p); err == nil && declaresIntegration.Match(b) {
					out = append(out, p)
				}
			}
			return nil
		})
	}
	return out
}

// listModules returns the integration modules of the defaults and of each
// user root: every .star file except test files, editor temporaries and
// those in lib, tests and hidden folders, in a stable order.
func (s *sources) listModules() (defaults []string, user []string, err error) {
	if s.defaults != nil {
		err := fs.WalkDir(s.defaults, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != "." && skipDir(d.Name()) {
					return fs.SkipDir
				}
				return nil
			}
			if IsModuleFile(d.Name()) {
				defaults = append(defaults, BuiltinPrefix+p)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("list default integrations: %w", err)
		}
	}
	for _, root := range s.roots {
		var found []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == root && errors.Is(err, fs.ErrNotExist) {
					return fs.SkipDir
				}
				return err
			}
			if d.IsDir() {
				if p != root && skipDir(d.Name()) {
					return fs.SkipDir
				}
				return nil
			}
			if IsModuleFile(d.Name()) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("list integrations in %s: %w", root, err)
		}
		sort.Strings(found)
		user = append(user, found...)
	}
	return defaults, user, nil
}

// TestsDir is the name of the folders that may hold the tests of the
// integrations in their parent folder (package startest): nothing under a
// folder of this name is an integration module.
const TestsDir = "tests"

// TestFileSuffix ends the name of every integration test file,
// NAME_test.star (package startest runs them). A test file is never an
// integration module.
const TestFileSuffix = "_test.star"

// IsSkippedDir reports whether the host skips a folder of this name (not
// a path) when it looks for integration modules: lib folders (libraries),
// tests folders (tests), hidden folders and testdata.
func IsSkippedDir(name string) bool { return skipDir(name) }

// skipDir is IsSkippedDir.
func skipDir(name string) bool {
	return name == LibDir || name == TestsDir || strings.HasPrefix(name, ".") || name == "testdata"
}

// IsModuleFile reports whether a file name (not a path: use
// filepath.Base) is a .star source that is not hidden, not an editor
// temporary or backup and not a test file (IsTestFile). It is the one
// rule for what the host loads and what the watcher reports, so that
// saving a test file reloads nothing.
func IsModuleFile(name string) bool {
	return isStarSource(name) && !strings.HasSuffix(name, TestFileSuffix)
}

// IsTestFile reports whether a file name (not a path) is an integration
// test file, NAME_test.star, that is not hidden and not an editor
// temporary. Package startest runs these; the host never loads them.
func IsTestFile(name string) bool {
	return isStarSource(name) && strings.HasSuffix(name, TestFileSuffix) && len(name) > len(TestFileSuffix)
}

// isStarSource reports whether a file name is a .star source that is not
// hidden and not an editor temporary or backup.
func isStarSource(name string) bool {
	return strings.HasSuffix(name, ".star") && !strings.HasPrefix(name, ".") && !strings.Contains(name, "___jb_")
}
