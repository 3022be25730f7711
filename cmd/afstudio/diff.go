package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/jsondiff"
	"github.com/afstudio/afstudio/recording"
	"github.com/afstudio/afstudio/starhost"
)

// diffFlags are the flags of `afstudio diff`.
type diffFlags struct {
	recording string
	asJSON    bool
	max       int
	rev       string
}

// pathsPerCall is how many differing paths the text output shows for one
// handler call.
const pathsPerCall = 5

func (f *diffFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.recording, "recording", "", "the recording (`FILE`, from run --headless --record) replayed through both versions (required)")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON lines: one per differing event, one per integration whose final state differs, and a summary")
	fs.IntVar(&f.max, "max", 10, "show at most `N` differing events (0: all)")
	fs.StringVar(&f.rev, "rev", "HEAD", "with one file, compare it with its version at the git revision `REV` (e.g. origin/main in CI), the folder's other files (its lib/) at REV too")
}

// cmdDiff replays a recording through two versions of an integration
// module, each alone in a fresh host (the default libraries loadable),
// and compares each event's results (starhost.CompareResults) and the
// final states. Exit status 0 when everything is equal, 1 when something
// differs, 2 on an error (usage, a bad recording, a module that does not
// load).
func cmdDiff(ctx context.Context, args []string, std stdio) error {
	var f diffFlags
	fs := newFlagSet("diff", std.stderr)
	f.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.recording == "" || fs.NArg() < 1 || fs.NArg() > 2 {
		return badUsage(fs)
	}
	if _, err := checkRecording(f.recording); err != nil {
		return err
	}
	oldPath, newPath := "", fs.Arg(0)
	if fs.NArg() == 2 {
		oldPath, newPath = fs.Arg(0), fs.Arg(1)
	} else {
		tmp, cleanup, err := gitVersion(newPath, f.rev)
		if err != nil {
			return err
		}
		defer cleanup()
		oldPath = tmp
	}
	oldHost, err := loadAlone(ctx, oldPath)
	if err != nil {
		return err
	}
	newHost, err := loadAlone(ctx, newPath)
	if err != nil {
		return err
	}
	p := &diffPrinter{w: std.stdout, asJSON: f.asJSON, max: f.max}
	sum, err := compareReplays(ctx, oldHost, newHost, f.recording, p)
	if err != nil {
		return err
	}
	sum.StateDifferences = p.states(compareStates(oldHost, newHost))
	sum.Recording, sum.Shown = f.recording, min(sum.Different, max(f.max, 0))
	if f.max <= 0 {
		sum.Shown = sum.Different
	}
	if err := p.summary(sum); err != nil {
		return err
	}
	if sum.Different > 0 || sum.StateDifferences > 0 {
		return exitStatus(1)
	}
	return nil
}

// loadAlone returns a fresh host without state that runs the module at
// path alone (the default libraries loadable). A module that does not
// load, or declares no integration, is a usage error listing its
// problems at FILE:LINE:COL.
func loadAlone(ctx context.Context, path string) (*starhost.Manager, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, usagef("%s: %v", path, err)
	}
	m, err := starhost.New(starhost.Options{Defaults: integrations.FS, SkipDefaultIntegrations: true, Modules: []string{abs},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, usagef("%s: %v", path, err)
	}
	loadErr := m.LoadDefaultIntegrations(ctx)
	v := m.Snapshot()
	var problems []string
	for _, fm := range v.FailedModules {
		for _, d := range fm.Errors {
			problems = append(problems, d.Error())
		}
	}
	switch {
	case len(problems) > 0:
		return nil, usagef("%s does not load; fix it and run diff again:\n%s", path, strings.Join(problems, "\n"))
	case loadErr != nil:
		return nil, usagef("%s does not load: %v", path, loadErr)
	case len(m.Names()) == 0:
		return nil, usagef("%s declares no integration: give the .star file of an integration (with integration(name = ..., handlers = ...))", path)
	}
	return m, nil
}

// A diffSummary is what afstudio diff found.
type diffSummary struct {
	Kind      string `json:"kind"` // "summary"
	Recording string `json:"recording"`
	Events    int    `json:"events"`
	Equal     int    `json:"equal"`
	Different int    `json:"different"`
	// Shown is how many differing events were printed (--max).
	Shown       int `json:"shown"`
	OldFailures int `json:"old_failures"`
	NewFailures int `json:"new_failures"`
	// StateDifferences counts the integrations whose final states differ.
	StateDifferences int `json:"state_differences"`
}

// An eventDiff is one event whose results differ between the versions.
type eventDiff struct {
	Kind  string     `json:"kind"` // "event"
	Line  int        `json:"line"`
	Event string     `json:"event"`
	ID    string     `json:"id,omitempty"`
	Calls []callDiff `json:"calls"`
}

// A callDiff is one handler call whose results differ, or that only one
// version made (Missing: the version that did not).
type callDiff struct {
	Integration string                `json:"integration"`
	Event       string                `json:"event"`
	Depth       int                   `json:"depth"`
	Missing     string                `json:"missing,omitempty"`
	Differences []jsondiff.Difference `json:"differences,omitempty"`
	Total       int                   `json:"total"`
}

// compareReplays replays the recording through both hosts, one event to
// both at a time, and prints the events whose results differ.
func compareReplays(ctx context.Context, oldHost, newHost *starhost.Manager, path string, p *diffPrinter) (diffSummary, error) {
	sum := diffSummary{Kind: "summary"}
	err := eachEntry(path, func(line int, e recording.Entry) error {
		data, err := starhost.DecodeEventData(e.Data)
		if err != nil {
			return usagef("%s:%d:1: %v", path, line, err)
		}
		var oldRs []starhost.Result
		var wg sync.WaitGroup
		wg.Go(func() { oldRs, _ = oldHost.EmitID(ctx, e.ID, e.Event, data) })
		newRs, _ := newHost.EmitID(ctx, e.ID, e.Event, data)
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("diff interrupted at %s:%d: %w", path, line, err)
		}
		sum.Events++
		sum.OldFailures += failures(oldRs)
		sum.NewFailures += failures(newRs)
		calls := compareCalls(oldRs, newRs)
		if len(calls) == 0 {
			sum.Equal++
			return nil
		}
		sum.Different++
		return p.event(eventDiff{Kind: "event", Line: line, Event: e.Event, ID: e.ID, Calls: calls})
	})
	return sum, err
}

// failures counts the failed calls in rs.
func failures(rs []starhost.Result) int {
	n := 0
	for _, r := range rs {
		if !r.OK {
			n++
		}
	}
	return n
}

// A callKey identifies a handler call within one event's results: the
// n-th call of an integration for an event at a depth.
type callKey struct {
	integration, event string
	depth, n           int
}

// compareCalls pairs the calls of two versions for one event and returns
// those that differ.
func compareCalls(oldRs, newRs []starhost.Result) []callDiff {
	oldKeys, oldBy := keyCalls(oldRs)
	newKeys, newBy := keyCalls(newRs)
	keys := oldKeys
	for _, k := range newKeys {
		if _, ok := oldBy[k]; !ok {
			keys = append(keys, k)
		}
	}
	var out []callDiff
	for _, k := range keys {
		o, inOld := oldBy[k]
		n, inNew := newBy[k]
		d := callDiff{Integration: k.integration, Event: k.event, Depth: k.depth}
		switch {
		case !inOld:
			d.Missing, d.Total = "old", 1
		case !inNew:
			d.Missing, d.Total = "new", 1
		default:
			d.Differences, d.Total = starhost.CompareResults(o, n, 0)
		}
		if d.Total > 0 {
			out = append(out, d)
		}
	}
	return out
}

// keyCalls keys each result, in order.
func keyCalls(rs []starhost.Result) ([]callKey, map[callKey]starhost.Result) {
	keys := make([]callKey, 0, len(rs))
	by := make(map[callKey]starhost.Result, len(rs))
	for _, r := range rs {
		k := callKey{r.Integration, r.Event, r.Depth, 0}
		for ; ; k.n++ {
			if _, ok := by[k]; !ok {
				break
			}
		}
		keys = append(keys, k)
		by[k] = r
	}
	return keys, by
}

// A stateDiff is an integration whose final states differ.
type stateDiff struct {
	Kind        string                `json:"kind"` // "state"
	Integration string                `json:"integration"`
	Differences []jsondiff.Difference `json:"differences"`
	Total       int                   `json:"total"`
}

// compareStates compares the final state of every integration of either
// host; one that only one host has differs at "$".
func compareStates(oldHost, newHost *starhost.Manager) []stateDiff {
	names := append(oldHost.Names(), newHost.Names()...)
	slices.Sort(names)
	names = slices.Compact(names)
	var out []stateDiff
	for _, name := range names {
		o, oerr := oldHost.State(name)
		n, nerr := newHost.State(name)
		var diffs []jsondiff.Difference
		total := 0
		switch {
		case oerr != nil:
			diffs, total = []jsondiff.Difference{{Path: "$", New: n, Missing: "old"}}, 1
		case nerr != nil:
			diffs, total = []jsondiff.Difference{{Path: "$", Old: o, Missing: "new"}}, 1
		default:
			diffs, total = jsondiff.Compare(o, n, 0)
		}
		if total > 0 {
			out = append(out, stateDiff{Kind: "state", Integration: name, Differences: diffs, Total: total})
		}
	}
	return out
}

// A diffPrinter prints what diff found, as text or JSON lines.
type diffPrinter struct {
	w      io.Writer
	asJSON bool
	max    int // differing events to show; <= 0: all
	shown  int
}

// event prints a differing event, unless max are shown already.
func (p *diffPrinter) event(d eventDiff) error {
	if p.max > 0 && p.shown >= p.max {
		return nil
	}
	p.shown++
	if p.asJSON {
		return json.NewEncoder(p.w).Encode(d)
	}
	head := fmt.Sprintf("line %d %s", d.Line, d.Event)
	if d.ID != "" {
		head += fmt.Sprintf(" (id %s)", d.ID)
	}
	fmt.Fprintln(p.w, head+":")
	for _, c := range d.Calls {
		who := c.Integration
		if c.Depth > 0 || c.Event != d.Event {
			who += fmt.Sprintf(" on %s (follow-up, depth %d)", c.Event, c.Depth)
		}
		switch c.Missing {
		case "old":
			fmt.Fprintf(p.w, "  %s: only NEW handled it\n", who)
		case "new":
			fmt.Fprintf(p.w, "  %s: only OLD handled it\n", who)
		}
		printDifferences(p.w, "  "+who+": ", c.Differences, c.Total)
	}
	return nil
}

// printDifferences prints up to pathsPerCall differences, one a line,
// and how many more there are.
func printDifferences(w io.Writer, prefix string, diffs []jsondiff.Difference, total int) {
	for i, d := range diffs {
		if i == pathsPerCall {
			fmt.Fprintf(w, "%s… %d more\n", prefix, total-i)
			return
		}
		fmt.Fprintf(w, "%s%s\n", prefix, d)
	}
}

// states prints the integrations whose final states differ and returns
// how many.
func (p *diffPrinter) states(ds []stateDiff) int {
	for _, d := range ds {
		if p.asJSON {
			json.NewEncoder(p.w).Encode(d)
			continue
		}
		fmt.Fprintf(p.w, "final state of %s:\n", d.Integration)
		printDifferences(p.w, "  ", d.Differences, d.Total)
	}
	return len(ds)
}

// summary prints the summary, last.
func (p *diffPrinter) summary(s diffSummary) error {
	if p.asJSON {
		return json.NewEncoder(p.w).Encode(s)
	}
	more := ""
	if s.Shown < s.Different {
		more = fmt.Sprintf(" (the first %d shown; --max N shows more)", s.Shown)
	}
	_, err := fmt.Fprintf(p.w, "%d events from %s: %d equal, %d different%s; handler failures: OLD %d, NEW %d; final states: %d integrations differ\n",
		s.Events, s.Recording, s.Equal, s.Different, more, s.OldFailures, s.NewFailures, s.StateDifferences)
	return err
}
