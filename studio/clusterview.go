package studio

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/cluster"
)

// Cluster is the cluster of the host the window is attached to, when that
// host is a cluster host (--connect to afstudio run --headless --nats
// --listen): the window shows one partition of that host at a time; the
// Cluster tab shows the cluster and switches the partition.
type Cluster interface {
	// Read returns the cluster as the attached host sees it now.
	Read(ctx context.Context) (ClusterView, error)
	// Show makes the window's host partition p of the attached host.
	Show(ctx context.Context, p int) error
}

// ClusterView is what the Cluster tab shows.
type ClusterView struct {
	// Host is the attached host's id.
	Host string
	// Partitions is the number of partitions of the stream.
	Partitions int
	// Shown is the partition the window shows.
	Shown int
	// Owned are the partitions the attached host applies.
	Owned []int
	// Status is the whole cluster's status; nil when it could not be
	// read (StatusError says why).
	Status *cluster.Status
	// StatusError is why Status is missing.
	StatusError string
}

// How often the Cluster tab reads the cluster: while it shows, and while
// another tab does (to follow a partition that moved). Each read counts
// every partition's lag on the server.
const (
	clusterEvery       = 2 * time.Second
	clusterHiddenEvery = 10 * time.Second
)

// clusterTab shows the cluster (clusterview.go): which partitions the
// attached host applies, which one the window shows, and the cluster's
// status as afstudio cluster status prints it.
type clusterTab struct {
	summary *widget.Label
	pick    *widget.Select
	status  *widget.Label
	root    fyne.CanvasObject
	// quiet is set while the UI sets pick's options, so that its
	// OnChanged does not ask for a switch.
	quiet bool
}

func newClusterTab(show func(p int)) *clusterTab {
	t := &clusterTab{summary: widget.NewLabel("Reading the cluster…"), status: widget.NewLabel("")}
	t.status.TextStyle = fyne.TextStyle{Monospace: true}
	t.pick = widget.NewSelect(nil, func(s string) {
		if p, err := strconv.Atoi(strings.TrimPrefix(s, "partition ")); err == nil && !t.quiet {
			show(p)
		}
	})
	t.root = container.NewBorder(
		container.NewVBox(t.summary, container.NewHBox(widget.NewLabel("Show"), t.pick)),
		nil, nil, nil, container.NewScroll(t.status))
	return t
}

// set shows v (UI goroutine).
func (t *clusterTab) set(v ClusterView, err error) {
	if err != nil {
		t.summary.SetText("The cluster cannot be read: " + err.Error())
		return
	}
	t.summary.SetText(fmt.Sprintf("Host %s applies %s of %d; the window shows partition %d.", v.Host, partitionsText(v.Owned), v.Partitions, v.Shown))
	opts := make([]string, len(v.Owned))
	for i, p := range v.Owned {
		opts[i] = "partition " + strconv.Itoa(p)
	}
	t.quiet = true
	t.pick.SetOptions(opts)
	t.pick.SetSelected("partition " + strconv.Itoa(v.Shown))
	t.quiet = false
	var b strings.Builder
	if v.Status != nil {
		_ = v.Status.WriteText(&b)
	} else {
		b.WriteString(v.StatusError)
	}
	t.status.SetText(b.String())
}

// partitionsText writes "partitions 0, 3, 7", "partition 2" or "no
// partition yet".
func partitionsText(ps []int) string {
	switch len(ps) {
	case 0:
		return "no partition yet"
	case 1:
		return "partition " + strconv.Itoa(ps[0])
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return "partitions " + strings.Join(s, ", ")
}

// followCluster reads the cluster every clusterEvery until the studio
// stops, and shows it; when the partition shown has moved to another
// host, it shows one the host still applies.
func (s *Studio) followCluster() {
	t := time.NewTicker(clusterEvery)
	defer t.Stop()
	var last time.Time
	for {
		if !s.clusterShown.Load() && time.Since(last) < clusterHiddenEvery {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
				continue
			}
		}
		last = time.Now()
		rctx, cancel := context.WithTimeout(s.ctx, clusterEvery*5)
		v, err := s.opts.Cluster.Read(rctx)
		cancel()
		if err == nil && len(v.Owned) > 0 && !slices.Contains(v.Owned, v.Shown) {
			s.note(fmt.Sprintf("partition %d is no longer applied by host %s; showing partition %d", v.Shown, v.Host, v.Owned[0]))
			s.showPartition(v.Owned[0])
			v.Shown = v.Owned[0]
		}
		s.do(func() {
			s.cluster.set(v, err)
			if err == nil {
				s.status.setHost(fmt.Sprintf("%s, partition %d", s.opts.HostLabel, v.Shown))
			}
		})
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// showPartition makes the window show partition p of the attached host,
// then reads the host again.
func (s *Studio) showPartition(p int) {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if err := s.opts.Cluster.Show(ctx, p); err != nil {
		s.note(fmt.Sprintf("partition %d cannot be shown: %v", p, err))
		return
	}
	s.note(fmt.Sprintf("the window shows partition %d", p))
	s.do(func() {
		s.status.setHost(fmt.Sprintf("%s, partition %d", s.opts.HostLabel, p))
		s.refresh()
	})
}

// note writes a line of the Cluster tab's in the log.
func (s *Studio) note(msg string) {
	s.do(func() { s.logs.addLine("info", "cluster", msg) })
}
