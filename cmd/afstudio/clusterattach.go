package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/control/remotehost"
	"github.com/afstudio/afstudio/studio"
)

// clusterAttach is the studio attached to a cluster host (run --headless
// --nats --listen): the window shows one of the host's partitions at a
// time, and its Cluster tab reads the cluster and switches the partition
// (studio.Cluster).
type clusterAttach struct {
	base  string // the host's URL, without /p/N
	c     *client.Client
	rh    *remotehost.Host
	show  sync.Mutex // one Show at a time: the partition shown is the one moved to last
	shown atomic.Int64
}

// Read implements studio.Cluster.
func (a *clusterAttach) Read(ctx context.Context) (studio.ClusterView, error) {
	cv, err := a.c.Cluster(ctx)
	if err != nil {
		return studio.ClusterView{}, err
	}
	return studio.ClusterView{Host: cv.Host, Partitions: cv.Partitions, Shown: int(a.shown.Load()), Owned: cv.Owned,
		Status: cv.Status, StatusError: cv.StatusError}, nil
}

// Show implements studio.Cluster.
func (a *clusterAttach) Show(ctx context.Context, p int) error {
	a.show.Lock()
	defer a.show.Unlock()
	if err := a.rh.Retarget(ctx, a.base+control.PartitionPath(p)); err != nil {
		return err
	}
	a.shown.Store(int64(p))
	return nil
}

// partitionSuffix matches a URL ending in a partition's path, /p/N.
var partitionSuffix = regexp.MustCompile(`/p/(\d+)/?$`)

// splitPartition splits a --connect URL into the host's URL and the
// partition it names (-1 when none).
func splitPartition(url string) (string, int) {
	m := partitionSuffix.FindStringSubmatchIndex(url)
	if m == nil {
		return url, -1
	}
	p, _ := strconv.Atoi(url[m[2]:m[3]])
	return url[:m[0]], p
}

// findCluster asks the host at base whether it is a cluster host, waiting
// for it to answer and to apply a partition within patience. It returns
// nil, nil for any other host (and for one that does not answer: attach
// then says so).
func findCluster(ctx context.Context, base, token string, patience time.Duration) (*control.ClusterView, error) {
	c := client.New(base, token)
	deadline := time.Now().Add(patience)
	for {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		cv, err := c.Cluster(cctx)
		cancel()
		var ae *client.Error
		switch {
		case errors.As(err, &ae) && ae.Status == 401:
			return nil, fmt.Errorf("connect to %s: the host refused the token; pass the token that `afstudio token` prints on the host's machine (--token-file, or $%s)", base, envToken)
		case errors.As(err, &ae):
			return nil, nil // another host (404): attach reads it
		case err == nil && len(cv.Owned) > 0:
			return &cv, nil
		case time.Now().After(deadline) && err == nil:
			return nil, fmt.Errorf("connect to %s: cluster host %s applies no partition yet (after %v); afstudio cluster status --nats URL shows which hosts do", base, cv.Host, patience)
		case time.Now().After(deadline):
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
