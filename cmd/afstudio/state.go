package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/statestore"
)

// stateFlags say where and how the long-running commands (the studio and
// run --headless) keep the integrations' state.
type stateFlags struct {
	data    string
	durable string
	flush   time.Duration
}

// The --durable modes.
const (
	durableBehind = "behind" // written at most --flush after a change
	durableSync   = "sync"   // an event is answered once its states are on disk
	durableOff    = "off"    // memory only
)

func (s *stateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.data, "data", "", "keep the integrations' state in folder `DIR` (default $XDG_DATA_HOME/afstudio, %LOCALAPPDATA%\\afstudio on Windows)")
	fs.StringVar(&s.durable, "durable", durableBehind, "how state is kept, `MODE`: behind (written at most --flush after it changes), sync (an event is answered once its state is on disk) or off (in memory only)")
	fs.DurationVar(&s.flush, "flush", statestore.DefaultInterval, "with --durable behind, the longest (a `DURATION`) a changed state waits to be written: the most a crash can lose")
}

// path returns the state file of the flags.
func (s *stateFlags) path() (string, error) {
	dir := s.data
	if dir == "" {
		var err error
		if dir, err = statestore.DefaultDir(); err != nil {
			return "", fmt.Errorf("state folder: %w; give one with --data DIR", err)
		}
	}
	return filepath.Join(dir, statestore.FileName), nil
}

// open opens the state store of the flags and sets opts to use it; with
// --durable off it does nothing and returns nil. A file that is not a
// readable store is moved aside (kept, and named in the log) and a new
// one started, so that a damaged file never keeps the host from starting.
func (s *stateFlags) open(opts *starhost.Options, log *slog.Logger) (*statestore.Store, error) {
	switch s.durable {
	case durableOff:
		return nil, nil
	case durableBehind, durableSync:
	default:
		return nil, usagef("--durable %q: use behind, sync or off", s.durable)
	}
	if s.flush <= 0 {
		return nil, usagef("--flush %v: give a positive duration, like 100ms", s.flush)
	}
	path, err := s.path()
	if err != nil {
		return nil, err
	}
	store, err := statestore.Open(path, statestore.Options{})
	if errors.Is(err, statestore.ErrCorrupt) {
		aside, merr := statestore.MoveAside(path, time.Now())
		if merr != nil {
			return nil, errors.Join(err, merr)
		}
		log.Error("the state file could not be read; it was kept aside and a new one started", "err", err, "kept", aside)
		store, err = statestore.Open(path, statestore.Options{})
	}
	if err != nil {
		if errors.Is(err, statestore.ErrLocked) {
			err = fmt.Errorf("%w; give this host its own --data DIR, or --durable off", err)
		}
		return nil, err
	}
	opts.Store, opts.FlushInterval, opts.SyncWrites = store, s.flush, s.durable == durableSync
	return store, nil
}

// closeState writes the last states of m and closes store (nil: nothing
// to do).
func closeState(m *starhost.Manager, store *statestore.Store) error {
	if store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(m.Close(ctx), store.Close())
}

// stateCommandFlags are the flags of `afstudio state`.
type stateCommandFlags struct {
	data   string
	asJSON bool
}

func (f *stateCommandFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "", "the state folder `DIR` (default as for the studio and run --headless)")
	fs.BoolVar(&f.asJSON, "json", false, "list: print one JSON object per integration")
}

// cmdState lists or purges stored states: `afstudio state list` and
// `afstudio state purge NAME...`. It opens the state file itself, so it
// fails with a clear message while a host is using it.
func cmdState(ctx context.Context, args []string, std stdio) error {
	var f stateCommandFlags
	fs := newFlagSet("state", std.stderr)
	f.register(fs)
	var words []string // flags may come before, between or after the words
	for {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		words, args = append(words, fs.Arg(0)), fs.Args()[1:]
	}
	verb, names := "", []string(nil)
	if len(words) > 0 {
		verb, names = words[0], words[1:]
	}
	if !(verb == "list" && len(names) == 0 || verb == "purge" && len(names) > 0) {
		return badUsage(fs)
	}
	path, err := (&stateFlags{data: f.data}).path()
	if err != nil {
		return err
	}
	store, err := statestore.Open(path, statestore.Options{LockTimeout: 200 * time.Millisecond})
	if err != nil {
		if errors.Is(err, statestore.ErrLocked) {
			err = fmt.Errorf("%w; stop it first, or use Forget state… in its studio", err)
		}
		return err
	}
	defer store.Close()
	if verb == "purge" {
		for _, name := range names {
			if err := store.Purge(name); err != nil {
				return err
			}
			fmt.Fprintf(std.stdout, "purged the stored state of %s\n", name)
		}
		return nil
	}
	return listStates(store, f.asJSON, std)
}

// listStates prints the records of store: a table, or JSON lines.
func listStates(store *statestore.Store, asJSON bool, std stdio) error {
	recs, err := store.LoadAll()
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintf(std.stderr, "no stored state in %s\n", store.Path())
		return nil
	}
	enc := json.NewEncoder(std.stdout)
	for _, r := range recs {
		if asJSON {
			row := map[string]any{"name": r.Name, "enabled": r.Enabled, "saved_at": r.SavedAt, "bytes": len(r.State), "state": r.State}
			if !r.RemovedAt.IsZero() {
				row["removed_at"] = r.RemovedAt
			}
			if err := enc.Encode(row); err != nil {
				return err
			}
			continue
		}
		status := "on"
		switch {
		case !r.RemovedAt.IsZero():
			status = "removed " + r.RemovedAt.Local().Format(time.DateOnly)
		case !r.Enabled:
			status = "off"
		}
		fmt.Fprintf(std.stdout, "%-24s %-18s %8d bytes  saved %s\n", r.Name, status, len(r.State), r.SavedAt.Local().Format(time.DateTime))
	}
	return nil
}
