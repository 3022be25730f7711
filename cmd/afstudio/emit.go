package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/afstudio/afstudio/starhost"
)

// cmdEmit loads the host, emits one event and prints one JSON object per
// handler call. Exit status 1 if any handler failed.
func cmdEmit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("emit", stderr, "emit [--dir DIR]... [--no-defaults] EVENT [JSON]")
	var hf hostFlags
	hf.register(fs)
	if err := fs.Parse(args); err != nil {
		return parseStatus(err)
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return 2
	}
	event, payload := fs.Arg(0), "{}"
	if fs.NArg() == 2 {
		payload = fs.Arg(1)
	}
	data, err := starhost.DecodeEventData([]byte(payload))
	if err != nil {
		fmt.Fprintln(stderr, "afstudio: JSON argument:", err)
		return 2
	}
	m, err := hf.open(ctx, stderr, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		fmt.Fprintln(stderr, "afstudio:", err)
		return 1
	}
	results, err := m.Emit(ctx, event, data)
	if err != nil {
		fmt.Fprintln(stderr, "afstudio:", err)
		return 2
	}
	enc := json.NewEncoder(stdout)
	failed := false
	for _, r := range results {
		failed = failed || !r.OK
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(stderr, "afstudio:", err)
			return 1
		}
	}
	if len(results) == 0 {
		fmt.Fprintf(stderr, "no integration handles %q\n", event)
	}
	if failed {
		return 1
	}
	return 0
}
