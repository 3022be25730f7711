package client

import (
	"context"
	"net/http"

	"github.com/afstudio/afstudio/control"
)

// Cluster returns what a cluster host (run --headless --nats --listen)
// says of itself and of the cluster (GET /v1/cluster). A host that is not
// in a cluster answers an *Error with Status 404. Each partition the host
// applies is served at the host's base URL plus
// control.PartitionPath(p): a Client made with that base reaches it.
func (c *Client) Cluster(ctx context.Context) (control.ClusterView, error) {
	var out control.ClusterView
	err := c.do(ctx, http.MethodGet, "/v1/cluster", nil, &out)
	return out, err
}
