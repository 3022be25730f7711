package statestore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"

	"github.com/afstudio/afstudio/statestore"
)

// A host keeps its integrations' states in a Store and writes them behind
// the events with a Writer; on the next start it loads them back.
func Example() {
	dir, _ := os.MkdirTemp("", "afstudio") // a host uses statestore.DefaultDir()
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, statestore.FileName)
	ctx := context.Background()

	// The host owns the states; collect snapshots those that changed.
	var mu sync.Mutex
	counts := map[string]int{}
	collect := func(names []string) []statestore.Record {
		mu.Lock()
		defer mu.Unlock()
		var recs []statestore.Record
		for _, name := range names {
			state, _ := json.Marshal(map[string]int{"count": counts[name]})
			recs = append(recs, statestore.Record{Name: name, State: state, ModuleHash: "sha256:1f2e"})
		}
		return recs
	}

	store, err := statestore.Open(path, statestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	w := statestore.NewWriter(store, collect, statestore.WriterOptions{})
	for range 1000 { // events: each changes a state and marks it
		mu.Lock()
		counts["latency"]++
		mu.Unlock()
		w.Changed("latency")
	}
	if err := store.SetEnabled("alerts", false); err != nil { // a switch
		log.Fatal(err)
	}
	if err := w.Close(ctx); err != nil { // a clean stop flushes
		log.Fatal(err)
	}
	store.Close()

	// The next start.
	store, err = statestore.Open(path, statestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	recs, err := store.LoadAll()
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range recs {
		fmt.Printf("%s: enabled=%v state=%s hash=%s\n", rec.Name, rec.Enabled, rec.State, rec.ModuleHash)
	}
	// Output:
	// alerts: enabled=false state= hash=
	// latency: enabled=true state={"count":1000} hash=sha256:1f2e
}
