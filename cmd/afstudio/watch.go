package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/watch"
)

// watchRoots watches the host's user roots until ctx is cancelled.
func watchRoots(ctx context.Context, m *starhost.Manager, quiet time.Duration, log *slog.Logger) {
	w := watch.ForHost(m, watch.Options{Quiet: quiet, Logger: log})
	if err := w.Run(ctx); err != nil {
		log.Error("file watching is off", "error", err)
		m.Notify(starhost.Notice{Kind: starhost.NoticeWatchError, Message: err.Error()})
	}
}
