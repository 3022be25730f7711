package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/afstudio/afstudio/starhost/hostbench"
)

// cmdBench measures reload latency, reload-all time and Emit throughput on
// generated integrations or on the user's folder (copied first).
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr, "bench [--dir DIR] [--n N] [--json]")
	var cfg hostbench.Config
	asJSON := false
	fs.StringVar(&cfg.Dir, "dir", "", "measure the integrations in this folder (copied to a scratch folder) instead of generated ones")
	fs.IntVar(&cfg.N, "n", 100, "number of generated integrations")
	fs.IntVar(&cfg.Reloads, "reloads", 300, "number of single reloads to time")
	fs.DurationVar(&cfg.EmitFor, "emit-for", time.Second, "how long to measure Emit throughput")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: bench takes no arguments, got %q", errUsage, fs.Args())
	}
	rep, err := hostbench.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	_, err = fmt.Fprint(stdout, rep.Format())
	return err
}
