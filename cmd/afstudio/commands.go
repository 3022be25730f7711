package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/afstudio/afstudio/control"
)

// A command is one of afstudio's commands: what run dispatches to and
// what the usage text lists.
type command struct {
	// name is the command as typed; "" for the studio window.
	name string
	// synopsis is what follows "afstudio " in the usage text.
	synopsis string
	// summary says what the command does.
	summary string
	// flags registers the command's flags on a flag set (nil: none); the
	// command registers the same ones when it parses its arguments.
	flags func(*flag.FlagSet)
	// run runs the command with the arguments after its name.
	run func(ctx context.Context, args []string, std stdio) error
}

// commands returns afstudio's commands, in the order of the usage text.
func commands() []command {
	return []command{
		{"", "[flags] [FILE.star...]", "open the studio window; FILE.star files are added, or handed to the studio already running",
			new(studioOptions).register, cmdStudio},
		{"check", "check PATH...", "validate .star files or folders without running handlers; prints PATH:LINE:COL: message per problem",
			nil, cmdCheck},
		{"test", "test [flags] [PATH...]", "run the tests of integrations (test_* functions in NAME_test.star files, beside them or in tests/) in test files, integrations or folders, the current folder if none; exit status 1 if one fails",
			new(testFlags).register, cmdTest},
		{"emit", "emit [flags] EVENT [JSON]", "emit one event; prints one JSON result per handler call",
			new(emitFlags).register, cmdEmit},
		{"run", "run --headless [flags]", "run the host without a window: JSON-lines events on stdin, results and notices on stdout",
			new(runOptions).register, cmdRun},
		{"replay", "replay [flags] FILE", "feed a recording (run --headless --record) to a fresh host without state; prints each handler call and a summary",
			new(replayFlags).register, cmdReplay},
		{"diff", "diff --recording FILE [flags] [OLD.star] NEW.star", "replay a recording through two versions of an integration and compare each event's results and the final states; without OLD.star, NEW.star's version at git --rev; exit 0 when all are equal, 1 when some differ",
			new(diffFlags).register, cmdDiff},
		{"state", "state [flags] list | export [NAME...] | import FILE | purge NAME...", "list, export, import (all or nothing) or forget stored integration states (the host must be stopped; a running one has the API)",
			new(stateCommandFlags).register, cmdState},
		{"bench", "bench [flags]", "measure reload latency and handler throughput",
			new(benchOptions).register, cmdBench},
		{"token", "token", "print the control API token (created on first use)", nil, cmdToken},
		{"version", "version", "print version, commit and build date (also -v, --version)", nil, cmdVersion},
		{"help", "help", "print this text (also -h, --help)", nil, cmdHelp},
	}
}

// findCommand returns the command called name.
func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// printUsage writes every command with its flags.
func printUsage(w io.Writer) {
	fmt.Fprint(w, "afstudio hosts hot-reloadable Starlark integrations.\n\nUsage:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  afstudio %s\n      %s\n", c.synopsis, c.summary)
		if c.flags != nil {
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			c.flags(fs)
			printFlags(w, fs, "        ")
		}
	}
	fmt.Fprint(w, "\nFlags may be written -flag or --flag. \"afstudio COMMAND -h\" shows one command.\n")
}

// printFlags writes one line per flag: "--name ARG  what it does
// (default ...)", with the argument named in the flag's usage text
// (`ARG`).
func printFlags(w io.Writer, fs *flag.FlagSet, indent string) {
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, internalFlag) {
			return
		}
		arg, help := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if arg != "" {
			left += " " + arg
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			help += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s%-20s %s\n", indent, left, help)
	})
}

// newFlagSet returns the flag set of the command called name, whose -h
// prints the command's synopsis, summary and flags on stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	c, _ := findCommand(name)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: afstudio %s\n\n%s\n", c.synopsis, c.summary)
		if c.flags != nil {
			fmt.Fprint(stderr, "\nFlags:\n")
			printFlags(stderr, fs, "  ")
		}
	}
	return fs
}

// parse parses a command's arguments. A bad flag (which the flag package
// has reported, with the usage) is exit status 2; -h is flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return exitStatus(2)
	}
	return err
}

// badUsage prints the command's usage and returns exit status 2.
func badUsage(fs *flag.FlagSet) error {
	fs.Usage()
	return exitStatus(2)
}

// noArgs parses a command that takes no operands.
func noArgs(name string, args []string, stderr io.Writer) error {
	fs := newFlagSet(name, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badUsage(fs)
	}
	return nil
}

// cmdToken prints the control API token, creating it on first use.
func cmdToken(_ context.Context, args []string, std stdio) error {
	if err := noArgs("token", args, std.stderr); err != nil {
		return err
	}
	tok, err := control.UserToken()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(std.stdout, tok)
	return err
}

// cmdVersion prints the version, commit and build date.
func cmdVersion(_ context.Context, args []string, std stdio) error {
	if err := noArgs("version", args, std.stderr); err != nil {
		return err
	}
	_, err := fmt.Fprintf(std.stdout, "afstudio %s (commit %s, built %s)\n", version, commit, date)
	return err
}

// cmdHelp prints the usage text.
func cmdHelp(_ context.Context, _ []string, std stdio) error {
	printUsage(std.stdout)
	return nil
}

// hasStarSuffix reports whether a path names a .star file.
func hasStarSuffix(path string) bool { return strings.HasSuffix(path, ".star") }
