// Command afstudio hosts hot-reloadable Starlark integrations.
//
//	afstudio [flags] [FILE.star...]     open the studio window
//	afstudio check PATH...            validate integration files (PATH:LINE:COL: message)
//	afstudio emit [flags] EVENT [JSON] emit one event, print each handler's result as JSON
//	afstudio run --headless [flags]   run the host: JSON-lines events in, results and notices out
//	afstudio bench [flags]            measure reload latency and dispatch throughput
//	afstudio token                    print the control API token
//	afstudio version                  print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

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

const usage = `afstudio hosts hot-reloadable Starlark integrations.

Usage:
  afstudio [--dir DIR]... [--no-defaults] [--no-watch] [FILE.star...]
                                               open the studio window (FILE.star: add these files)
  afstudio check PATH...                       validate .star files or folders; prints PATH:LINE:COL: message
  afstudio emit [--dir DIR]... [--no-defaults] EVENT [JSON]
                                               emit one event; prints one JSON object per handler call
  afstudio run --headless [--dir DIR]... [--no-defaults] [--no-watch] [--listen ADDR [--allow-remote]]
                                               run the host: JSON-lines events on stdin, results and notices on stdout;
                                               --listen also serves the control API (HTTP, token-protected)
  afstudio bench [--dir DIR] [--n N] [--json]  measure reload latency and handler throughput
  afstudio token                               print the control API token (created on first use)
  afstudio version                             print version, commit and build date

Run "afstudio COMMAND -h" for a command's flags.
`

func main() {
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") && !strings.HasSuffix(os.Args[1], ".star") {
		attachParentConsole() // a command-line subcommand, not the window
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks an error whose message is a usage problem (exit status 2).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var err error
	first := ""
	if len(args) > 0 {
		first = args[0]
	}
	switch first {
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "emit":
		return cmdEmit(ctx, args[1:], stdout, stderr)
	case "run":
		err = cmdRun(ctx, args[1:], stdin, stdout, stderr)
	case "bench":
		err = cmdBench(ctx, args[1:], stdout, stderr)
	case "token":
		err = cmdToken(stdout)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "afstudio %s (commit %s, built %s)\n", version, commit, date)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		if first != "" && !strings.HasPrefix(first, "-") && !strings.HasSuffix(first, ".star") {
			fmt.Fprintf(stderr, "afstudio: unknown command %q\n\n%s", first, usage)
			return 2
		}
		err = cmdStudio(ctx, args, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "afstudio:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "afstudio:", err)
		return 1
	}
}
