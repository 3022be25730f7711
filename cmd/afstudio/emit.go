package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/afstudio/afstudio/starhost"
)

// cmdEmit loads the host, emits one event and prints one starhost.Result
// per handler call, one JSON object per line. Exit status 1 if any
// handler failed.
func cmdEmit(ctx context.Context, args []string, std stdio) error {
	var hf hostFlags
	fs := newFlagSet("emit", std.stderr)
	hf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return badUsage(fs)
	}
	event, payload := fs.Arg(0), "{}"
	if fs.NArg() == 2 {
		payload = fs.Arg(1)
	}
	data, err := starhost.DecodeEventData([]byte(payload))
	if err != nil {
		return usagef("JSON argument: %v", err)
	}
	m, err := hf.open(ctx, std.stderr, newLogger(std.stderr, slog.LevelError))
	if err != nil {
		return err
	}
	results, err := m.Emit(ctx, event, data)
	if err != nil {
		return usagef("%v", err)
	}
	if len(results) == 0 {
		fmt.Fprintf(std.stderr, "no integration handles %q\n", event)
	}
	enc := json.NewEncoder(std.stdout)
	failed := false
	for _, r := range results {
		failed = failed || !r.OK
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write the results: %w", err)
		}
	}
	if failed {
		return exitStatus(1)
	}
	return nil
}
