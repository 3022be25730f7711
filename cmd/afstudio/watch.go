package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/watch"
)

// watchRoots watches the host's user roots and applies every batch of
// changed files to the host until ctx is cancelled. Watcher failures
// become watch_error notices; the host keeps serving.
func watchRoots(ctx context.Context, m *starhost.Manager, roots []string, quiet time.Duration, log *slog.Logger) {
	w := watch.New(watch.Options{Roots: roots, Quiet: quiet, Logger: log},
		func(ctx context.Context, b watch.Batch) { applyBatch(ctx, m, b) },
		func(p *watch.Problem) {
			log.Warn("watch problem", "path", p.Path, "error", p.Err)
			m.Notify(starhost.Notice{Kind: starhost.NoticeWatchError, Module: p.Path, Message: p.Err.Error()})
		})
	if err := w.Run(ctx); err != nil {
		log.Error("file watching is off", "error", err)
		m.Notify(starhost.Notice{Kind: starhost.NoticeWatchError, Message: err.Error()})
	}
}

// applyBatch hands one batch of file changes to the host.
func applyBatch(ctx context.Context, m *starhost.Manager, b watch.Batch) {
	for _, p := range b.Missing {
		m.Notify(starhost.Notice{Kind: starhost.NoticeLog, Module: p, Level: "warn",
			Message: "file vanished; its integrations keep serving and are removed unless it comes back within a second"})
	}
	m.ApplyFileChanges(ctx, b.Changed, b.Removed)
}
