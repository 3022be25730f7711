package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
// readable store is moved aside (kept: aside is its new name) and a new
// one started, so that a damaged file never keeps the host from starting.
func (s *stateFlags) open(opts *starhost.Options) (store *statestore.Store, aside string, err error) {
	switch s.durable {
	case durableOff:
		return nil, "", nil
	case durableBehind, durableSync:
	default:
		return nil, "", usagef("--durable %q: use behind, sync or off", s.durable)
	}
	if s.flush <= 0 {
		return nil, "", usagef("--flush %v: give a positive duration, like 100ms", s.flush)
	}
	path, err := s.path()
	if err != nil {
		return nil, "", err
	}
	store, err = statestore.Open(path, statestore.Options{})
	if errors.Is(err, statestore.ErrCorrupt) {
		if aside, err = statestore.MoveAside(path, time.Now()); err != nil {
			return nil, "", err
		}
		store, err = statestore.Open(path, statestore.Options{})
	}
	if err != nil {
		return nil, "", err // ErrLocked names the process that holds the file and what to do
	}
	opts.Store, opts.FlushInterval, opts.SyncWrites = store, s.flush, s.durable == durableSync
	return store, aside, nil
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
	nats   natsFlags // export --nats: the states of every partition
}

func (f *stateCommandFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "", "the state folder `DIR` (default as for the studio and run --headless)")
	fs.BoolVar(&f.asJSON, "json", false, "list: print one JSON object per integration")
	f.nats.register(fs)
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
	switch {
	case verb == "list" && len(names) == 0, verb == "purge" && len(names) > 0, verb == "export", verb == "import" && len(names) == 1:
	default:
		return badUsage(fs)
	}
	if f.nats.url != "" {
		if verb != "export" || len(names) > 0 {
			return usagef("with --nats, state has only export (every integration of every partition); the hosts own the states they apply")
		}
		return exportClusterStates(ctx, &f.nats, std)
	}
	path, err := (&stateFlags{data: f.data}).path()
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err != nil && verb != "import" { // list, export, purge read what is there
		return fmt.Errorf("no state file at %s (%w); give the folder of an existing one with --data DIR", path, errors.Unwrap(err))
	}
	store, err := statestore.Open(path, statestore.Options{LockTimeout: 200 * time.Millisecond})
	if err != nil {
		return err // ErrLocked names the process that holds the file and what to do
	}
	defer store.Close()
	switch verb {
	case "purge":
		for _, name := range names {
			if err := store.Purge(name); err != nil {
				return err
			}
			fmt.Fprintf(std.stdout, "purged the stored state of %s\n", name)
		}
		return nil
	case "export":
		return exportStates(store, names, std)
	case "import":
		return importStates(ctx, store, names[0], std)
	}
	return listStates(store, f.asJSON, std)
}

// exportStates prints the stored states of names (all when none) as one
// JSON document, a starhost.StateExport (the studio's Export state… writes
// the same).
func exportStates(store *statestore.Store, names []string, std stdio) error {
	recs, err := store.LoadAll()
	if err != nil {
		return err
	}
	out := starhost.NewStateExport(time.Now())
	for _, r := range recs {
		if r.State != nil && (len(names) == 0 || slices.Contains(names, r.Name)) {
			out.Integrations[r.Name] = starhost.ExportedState{State: r.State, ModuleHash: r.ModuleHash}
		}
	}
	for _, name := range names {
		if _, ok := out.Integrations[name]; !ok {
			return fmt.Errorf("export: no stored state for %s in %s (afstudio state list shows what is stored)", name, store.Path())
		}
	}
	return out.Encode(std.stdout)
}

// importStates stores the states of an export file, all in one
// transaction after every one of them was checked: all or nothing.
func importStates(ctx context.Context, store *statestore.Store, file string, std stdio) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	in, err := starhost.ReadStateExport(data)
	if err != nil {
		return fmt.Errorf("import %s: %w; nothing was imported", file, err)
	}
	recs := make([]statestore.Record, 0, len(in.Integrations))
	for _, name := range slices.Sorted(maps.Keys(in.Integrations)) {
		canon, err := starhost.CheckState(in.Integrations[name].State, starhost.Limits{})
		if err != nil {
			return fmt.Errorf("import %s: integrations[%q].state: %w; nothing was imported", file, name, err)
		}
		recs = append(recs, statestore.Record{Name: name, State: canon, ModuleHash: in.Integrations[name].ModuleHash})
	}
	if err := store.Save(ctx, recs...); err != nil {
		return fmt.Errorf("import %s: %w; nothing was imported", file, err)
	}
	fmt.Fprintf(std.stdout, "imported the states of %d integrations into %s\n", len(recs), store.Path())
	return nil
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
