package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// gitVersion writes the module file path as it is at the git revision
// rev, with the lib folder beside it (its libraries), into a
// temporary folder, and returns the module's path there and a function
// that removes the folder. An error says why there is no such version
// and to give OLD.star instead.
func gitVersion(path, rev string) (string, func(), error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, usagef("%s: %v", path, err)
	}
	dir, base := filepath.Dir(abs), filepath.Base(abs)
	out, err := git(dir, "rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		return "", nil, usagef("%s has no committed version to compare with (%v); give the old version too: afstudio diff --recording FILE OLD.star NEW.star", path, err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	top, prefix := lines[0], ""
	if len(lines) > 1 {
		prefix = lines[1]
	}
	// Only the module and the lib folder beside it: the module's folder
	// may be the whole repository.
	entries, err := git(top, "ls-tree", "--name-only", rev+":"+prefix)
	if err != nil {
		return "", nil, usagef("--rev %s: %v; give a revision that has %s's folder, or the old version: afstudio diff --recording FILE OLD.star NEW.star", rev, err, path)
	}
	names := strings.Split(entries, "\n")
	if !slices.Contains(names, base) {
		return "", nil, usagef("%s is not in git at %s (a new file?); give the old version: afstudio diff --recording FILE OLD.star NEW.star", path, rev)
	}
	paths := []string{base}
	if slices.Contains(names, "lib") {
		paths = append(paths, "lib")
	}
	archive, err := git(top, append([]string{"archive", "--format=tar", rev + ":" + prefix, "--"}, paths...)...)
	if err != nil {
		return "", nil, fmt.Errorf("--rev %s: %w", rev, err)
	}
	tmp, err := os.MkdirTemp("", "afstudio-diff-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if err := untar(archive, tmp); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("--rev %s: %w", rev, err)
	}
	old := filepath.Join(tmp, base)
	if _, err := os.Stat(old); err != nil {
		cleanup()
		return "", nil, usagef("%s is not in git at %s (a new file?); give the old version: afstudio diff --recording FILE OLD.star NEW.star", path, rev)
	}
	return old, cleanup, nil
}

// git runs git in dir and returns its output; an error carries what git
// said.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", err
	}
	return string(out), nil
}

// untar writes the regular files and folders of a tar archive under dir.
func untar(archive string, dir string) error {
	tr := tar.NewReader(strings.NewReader(archive))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read git archive: %w", err)
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, dir+string(filepath.Separator)) {
			continue // not below dir
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(name, 0o755)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				if err = os.MkdirAll(filepath.Dir(name), 0o755); err == nil {
					err = os.WriteFile(name, b, 0o644)
				}
			}
		}
		if err != nil {
			return err
		}
	}
}
