package watch

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/afstudio/afstudio/starhost"
)

// ForHost returns a watcher of the host's user roots that applies every
// batch to the host (starhost.Manager.ReloadFiles with the changed and
// removed files) and turns watcher problems (NoticeWatchError) and
// vanished files (a warning NoticeLog) into notices, so that every front
// end sees them. opts.Roots are the folders to watch (a Manager's
// Roots), and a nil
// opts.Loaded the hashes of the files the host's live versions were built
// from, so a file saved between the load and Run is reloaded at once.
// Call Run to start it.
func ForHost(m Host, opts Options) *Watcher {
	if opts.Loaded == nil {
		opts.Loaded = func() map[string][32]byte { return loadedFiles(m) }
	}
	grace := opts.withDefaults().MissingGrace
	return New(opts,
		func(ctx context.Context, b Batch) {
			for _, p := range b.Missing {
				m.Notify(starhost.Notice{Kind: starhost.NoticeLog, Module: p, Level: "warn",
					Message: fmt.Sprintf("file vanished; its integrations keep serving and are removed unless it comes back within %s", grace)})
			}
			if paths := append(b.Changed, b.Removed...); len(paths) > 0 {
				m.ReloadFiles(ctx, paths)
			}
			if opts.AfterBatch != nil {
				opts.AfterBatch(ctx, b)
			}
		},
		func(p *Problem) {
			m.Notify(starhost.Notice{Kind: starhost.NoticeWatchError, Module: p.Path, Message: p.Err.Error()})
		})
}

// Host is the host a watcher applies changes to: a *starhost.Manager, or
// a studio's worker reached over the control API (whose folders the
// studio watches for it, giving Options.Roots).
type Host interface {
	Snapshot() starhost.View
	ReloadFiles(ctx context.Context, paths []string) []starhost.Outcome
	Notify(n starhost.Notice)
}

// loadedFiles returns the hash of every file the host's live versions
// were built from.
func loadedFiles(m Host) map[string][32]byte {
	out := map[string][32]byte{}
	for _, in := range m.Snapshot().Integrations {
		for _, f := range in.Files {
			var sum [32]byte
			if b, err := hex.DecodeString(f.SHA256); err == nil && len(b) == len(sum) {
				copy(sum[:], b)
				out[f.Path] = sum
			}
		}
	}
	return out
}
