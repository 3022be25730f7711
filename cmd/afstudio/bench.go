package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost/hostbench"
)

// benchOptions are the flags of `afstudio bench`.
type benchOptions struct {
	cfg    hostbench.Config
	asJSON bool
}

func (o *benchOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.cfg.Dir, "dir", "", "measure the integrations in folder `DIR` (copied to a scratch folder) instead of generated ones")
	fs.IntVar(&o.cfg.N, "n", 100, "measure `N` generated integrations")
	fs.IntVar(&o.cfg.Reloads, "reloads", 300, "time `N` single reloads")
	fs.DurationVar(&o.cfg.EmitFor, "emit-for", time.Second, "how long (a `DURATION`) to measure Emit throughput")
	fs.BoolVar(&o.asJSON, "json", false, "print one JSON object")
}

// cmdBench measures reload latency, reload-all time and Emit throughput on
// generated integrations or on the user's folder (copied first).
func cmdBench(ctx context.Context, args []string, std stdio) error {
	var o benchOptions
	fs := newFlagSet("bench", std.stderr)
	o.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("bench takes no arguments, got %q", fs.Args())
	}
	o.cfg.Defaults = integrations.FS // the default library is always loadable, as in the host
	rep, err := hostbench.Run(ctx, o.cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if o.asJSON {
		return json.NewEncoder(std.stdout).Encode(rep)
	}
	_, err = fmt.Fprint(std.stdout, rep.Format())
	return err
}
