package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
)

// cmdCheck loads each file exactly as the host would (top level executed
// in the sandbox, declarations validated), without running handlers, and
// prints one PATH:LINE:COL: message line per problem. Folders are searched
// for integration modules. Exit status 1 if any file is invalid.
func cmdCheck(_ context.Context, args []string, std stdio) error {
	fs := newFlagSet("check", std.stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return badUsage(fs)
	}
	stdout := std.stdout
	var files []string
	for _, arg := range fs.Args() {
		if starhost.IsTestFile(filepath.Base(arg)) {
			fmt.Fprintf(std.stderr, "%s: skipped: a test file, not an integration; run it with afstudio test %s\n", arg, arg)
			continue
		}
		found, err := modulesIn(arg)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", arg, err)
			return exitStatus(1)
		}
		files = append(files, found...)
	}
	// Folders given are roots, so that load("lib/x.star") resolves in
	// them as the host would resolve it.
	var roots []string
	for _, arg := range fs.Args() {
		if st, err := os.Stat(arg); err == nil && st.IsDir() {
			roots = append(roots, arg)
		}
	}
	opts := starhost.Options{Defaults: integrations.FS, Roots: roots}
	bad := 0
	declared := map[string]starhost.Declared{}
	for _, f := range files {
		decls, err := starhost.Check(opts, f)
		if err != nil {
			bad++
			for _, d := range starhost.Diagnose(err, f) {
				fmt.Fprintln(stdout, relative(d).Error())
			}
			continue
		}
		for _, d := range decls {
			if first, dup := declared[d.Name]; dup {
				bad++
				fmt.Fprintf(stdout, "%s: duplicate integration name %q: already declared at %s; rename one of them\n", relPos(d.Pos), d.Name, relPos(first.Pos))
				continue
			}
			declared[d.Name] = d
		}
	}
	if bad > 0 {
		return exitStatus(1)
	}
	fmt.Fprintf(std.stderr, "ok: %d file(s), %d integration(s)\n", len(files), len(declared))
	return nil
}

// modulesIn returns arg itself for a file, or the integration modules
// under a folder (skipping lib folders, hidden folders and temporaries).
func modulesIn(arg string) ([]string, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if !st.IsDir() {
		return []string{arg}, nil
	}
	var out []string
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != arg && starhost.IsSkippedDir(d.Name()) {
			return filepath.SkipDir
		}
		if !d.IsDir() && starhost.IsModuleFile(d.Name()) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// relative shows a diagnostic's file relative to the working folder when
// it is inside it, as the user typed it.
func relative(d *starhost.Diagnostic) *starhost.Diagnostic {
	c := *d
	c.File = relPath(c.File)
	return &c
}

func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(p) {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !filepath.IsAbs(rel) && len(rel) > 0 && rel[0] != '.' {
		return rel
	}
	return p
}

func relPos(pos string) string {
	return relative(&starhost.Diagnostic{File: pos}).File
}
