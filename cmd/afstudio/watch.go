package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/watch"
)

// watchHost watches roots (see watch.ForHost), and any added
// later with the watcher's AddRoot, until stop is called: the one wiring
// of the watcher, for the headless host and the studio. quiet is the
// burst quiet window (0: the watcher's default); afterBatch, if set, gets
// each batch once the host has it (watch.Options.AfterBatch). If watching fails, the
// host keeps serving: the failure is logged and published as a
// watch_error notice.
func watchHost(ctx context.Context, m watch.Host, roots []string, quiet time.Duration, log *slog.Logger, afterBatch func(context.Context, watch.Batch)) (w *watch.Watcher, stop func()) {
	w = watch.ForHost(m, watch.Options{Roots: roots, Quiet: quiet, Logger: log, AfterBatch: afterBatch})
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx); err != nil {
			log.Error("file watching is off", "error", err)
			m.Notify(starhost.Notice{Kind: starhost.NoticeWatchError, Message: err.Error()})
		}
	})
	return w, func() {
		cancel()
		wg.Wait()
	}
}
