package cluster

import (
	"context"

	"github.com/afstudio/afstudio/starhost"
)

// Manager returns the manager applying partition p on this host, or nil
// when the host does not apply p now (its control API serves one per
// partition). The manager is closed when the host gives p up: use it
// for reads and reloads, never to emit (events come from the stream).
func (h *Host) Manager(p int) *starhost.Manager {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.workers[p]
	if w == nil || w.finished() {
		return nil
	}
	return w.manager.Load()
}

// Status reads the cluster's status, as ReadStatus does, over the host's
// connection.
func (h *Host) Status(ctx context.Context) (Status, error) {
	return ReadStatus(ctx, h.opts.JetStream, h.opts.Layout)
}
