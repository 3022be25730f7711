package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/startest"
)

// testFlags are the flags of afstudio test.
type testFlags struct {
	json    bool
	run     string
	verbose bool
}

// register registers the flags on fs.
func (f *testFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.json, "json", false, "write the report as one JSON object instead of text")
	fs.StringVar(&f.run, "run", "", "run only the tests whose name matches the regular `PATTERN`")
	fs.BoolVar(&f.verbose, "v", false, "list every test, passed and skipped ones too, with the lines it logged")
}

// cmdTest runs the tests of integrations (package startest) in the files
// and folders given, the current folder when none, and prints them the way
// go test does. Exit status 1 when a test failed, 2 for a usage mistake or
// a path that cannot be read.
func cmdTest(ctx context.Context, args []string, std stdio) error {
	var f testFlags
	fs := newFlagSet("test", std.stderr)
	f.register(fs)
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	opts := startest.Options{Defaults: integrations.FS}
	if f.run != "" {
		if opts.Run, err = regexp.Compile(f.run); err != nil {
			return usagef("test: --run %q is not a regular expression: %v", f.run, err)
		}
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var all startest.Report
	for _, p := range paths { // one run per path, so that each has its ok or FAIL line and time
		opts.Paths = []string{p}
		rep, err := startest.Run(ctx, opts)
		if err != nil {
			fmt.Fprintf(std.stderr, "afstudio test: %v\n", err)
			return exitStatus(2)
		}
		if !f.json {
			printTestReport(std.stdout, p, rep, f.verbose)
		}
		all.Tests = append(all.Tests, rep.Tests...)
		all.Passed, all.Failed, all.Skipped = all.Passed+rep.Passed, all.Failed+rep.Failed, all.Skipped+rep.Skipped
		all.Duration += rep.Duration
	}
	if f.json {
		if all.Tests == nil {
			all.Tests = []startest.TestResult{}
		}
		if err := json.NewEncoder(std.stdout).Encode(all); err != nil {
			return err
		}
	}
	if !all.OK() {
		return exitStatus(1)
	}
	return nil
}

// parseInterspersed parses flags that may come before, between or after
// the paths (afstudio test integrations -v), as go test allows, and
// returns the paths.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var paths []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return paths, nil
		}
		if args[0] == "--" {
			return append(paths, args[1:]...), nil
		}
		paths = append(paths, args[0])
		args = args[1:]
	}
}

// printTestReport writes one path's report like go test: a --- FAIL line
// per failed test with its failures and logs indented below, --- PASS and
// --- SKIP lines too when verbose, and an ok, FAIL or "no test files"
// line for the path with its time.
func printTestReport(w io.Writer, path string, rep startest.Report, verbose bool) {
	for _, t := range rep.Tests {
		status := "PASS"
		switch {
		case t.Failed():
			status = "FAIL"
		case t.Skipped:
			status = "SKIP"
		}
		if status != "FAIL" && !verbose {
			continue
		}
		name := relPath(t.File)
		if t.Name != "" {
			name += ": " + t.Name
		}
		fmt.Fprintf(w, "--- %s: %s (%.2fs)\n", status, name, t.Duration.Std().Seconds())
		for _, fl := range t.Failures {
			fl.File = relPath(fl.File)
			fmt.Fprintf(w, "    %s\n", indentMore(fl.Error()))
		}
		for _, l := range t.Logs {
			fmt.Fprintf(w, "    %s\n", indentMore(l))
		}
	}
	switch {
	case len(rep.Tests) == 0:
		fmt.Fprintf(w, "?   \t%s\t[no tests to run]\n", path)
	case rep.OK():
		fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", path, rep.Duration.Std().Seconds())
	default:
		fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", path, rep.Duration.Std().Seconds())
	}
}

// indentMore indents the continuation lines of a multi-line message under
// its first line.
func indentMore(s string) string { return strings.ReplaceAll(s, "\n", "\n        ") }
