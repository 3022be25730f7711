// Command afstudio hosts hot-reloadable Starlark integrations.
//
//	afstudio [flags] [FILE.star...]     open the studio window
//	afstudio check PATH...              validate integration files (PATH:LINE:COL: message)
//	afstudio test [flags] [PATH...]     run the integrations' tests (NAME_test.star)
//	afstudio emit [flags] EVENT [JSON]  emit one event, print each handler's result as JSON
//	afstudio run --headless [flags]     run the host: JSON-lines events in, results and notices out
//	afstudio bench [flags]              measure reload latency and dispatch throughput
//	afstudio token                      print the control API token
//	afstudio version                    print the version
//
// `afstudio help` lists every flag. This package only parses flags and
// wires packages together: the host is package starhost, the window
// package studio, the JSON-lines protocol package headless, the control
// API and the single-instance hand-off packages control and
// control/instance.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	_ "github.com/afstudio/afstudio/internal/fynecache" // before Fyne's init reads FYNE_CACHE
	_ "github.com/afstudio/afstudio/internal/localefix" // before Fyne's init reads the locale
)

// newApp creates the Fyne application. This is the only place that
// imports fyne.io/fyne/v2/app: everything else builds without a display.
func newApp() fyne.App { return app.NewWithID("io.afstudio.studio") }

// Set by the build (-ldflags -X).
var (
	version = "0.1.0-dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	if len(os.Args) > 1 && (isCommandName(os.Args[1]) || aliasOf(os.Args[1]) != "") {
		attachParentConsole() // a command-line subcommand (or -h, -v), not the window
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

// stdio are the standard streams of one run.
type stdio struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// run runs the command line args and returns the exit status: 0 on
// success, 1 on failure, 2 for a usage mistake.
func run(ctx context.Context, args []string, std stdio) int {
	name, rest := "", args
	if len(args) > 0 {
		if alias := aliasOf(args[0]); alias != "" {
			name, rest = alias, args[1:]
		} else if isCommandName(args[0]) {
			name, rest = args[0], args[1:]
		}
	}
	cmd, ok := findCommand(name)
	if !ok {
		fmt.Fprintf(std.stderr, "afstudio: unknown command %q\n\n", name)
		printUsage(std.stderr)
		return 2
	}
	return exitCode(cmd.run(ctx, rest, std), std.stderr)
}

// aliasOf returns the command that a flag given first names, or "".
func aliasOf(arg string) string {
	switch arg {
	case "-h", "-help", "--help":
		return "help"
	case "-v", "--version":
		return "version"
	}
	return ""
}

// isCommandName reports whether a first argument names a command rather
// than starting the studio (a flag or a .star file).
func isCommandName(arg string) bool {
	return arg != "" && arg[0] != '-' && !hasStarSuffix(arg)
}

// exitCode reports err on stderr and returns the exit status for it.
func exitCode(err error, stderr io.Writer) int {
	var status exitStatus
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &status):
		return int(status) // the command has said why
	case errors.As(err, &usage):
		fmt.Fprintln(stderr, "afstudio:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "afstudio:", err)
		return 1
	}
}

// exitStatus is an error that only sets the exit status: the command has
// already printed why (a failed check, a failed handler, a bad flag).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError is a mistake in how afstudio was called (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}
