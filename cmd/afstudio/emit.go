package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/statestore"
)

// emitFlags are the flags of emit: the host's, and the event's id with
// the state folder that keeps it.
type emitFlags struct {
	hostFlags
	id   string
	data string
}

func (f *emitFlags) register(fs *flag.FlagSet) {
	f.hostFlags.register(fs)
	fs.StringVar(&f.id, "id", "", "the event's `ID`: an event with an id is handled at most once; emit then keeps the states and the handled ids in the state file (see --data), and an id handled already prints nothing and says so on stderr")
	fs.StringVar(&f.data, "data", "", "with --id, the state folder `DIR` (default as for the studio and run --headless; stop a host that uses it, or send the event to its API)")
}

// cmdEmit loads the host, emits one event and prints one starhost.Result
// per handler call, one JSON object per line. Exit status 1 if any
// handler failed.
//
// Without --id the host starts with empty state and keeps nothing. With
// --id it is a host on the state file (--durable sync): it starts with
// the stored states and handled ids, handles the event unless its id was
// handled already, and has the states and the id on disk before it
// prints the results.
func cmdEmit(ctx context.Context, args []string, std stdio) error {
	var f emitFlags
	fs := newFlagSet("emit", std.stderr)
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return badUsage(fs)
	}
	hf := &f.hostFlags
	if f.id != "" {
		if err := starhost.CheckEventID(f.id); err != nil {
			return usagef("--id: %v", err)
		}
		hf.state = &stateFlags{data: f.data, durable: durableSync, flush: statestore.DefaultInterval}
	} else if f.data != "" {
		return usagef("--data: emit keeps state only for an event with an id (--id)")
	}
	event, payload := fs.Arg(0), "{}"
	if fs.NArg() == 2 {
		payload = fs.Arg(1)
	}
	data, err := starhost.DecodeEventData([]byte(payload))
	if err != nil {
		return usagef("JSON argument: %v", err)
	}
	m, stop, err := hf.newManager(newLogger(std.stderr, slog.LevelError))
	if err != nil {
		return err
	}
	defer func() {
		if err := stop(); err != nil {
			fmt.Fprintf(std.stderr, "afstudio: %v\n", err)
		}
	}()
	loadReporting(ctx, m, std.stderr)
	results, err := m.EmitID(ctx, f.id, event, data)
	if errors.Is(err, starhost.ErrDuplicateEvent) {
		fmt.Fprintf(std.stderr, "duplicate: %v\n", err)
		return nil
	}
	if errors.Is(err, starhost.ErrStateNotSaved) {
		return fmt.Errorf("%w; the event was handled: do not send it again", err)
	}
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
