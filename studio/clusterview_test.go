package studio

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/afstudio/afstudio/cluster"
	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// fakeCluster is a Cluster whose host applies the partitions the test
// sets; Show records the partitions asked for.
type fakeCluster struct {
	mu    sync.Mutex
	owned []int
	shown int
	asked []int
}

func (f *fakeCluster) Read(context.Context) (ClusterView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &cluster.Status{Stream: "AFSTUDIO", Hosts: []cluster.HostStatus{{ID: "h1", Owned: f.owned}}}
	for p := range 4 {
		owner := "h2"
		if slices.Contains(f.owned, p) {
			owner = "h1"
		}
		st.Partitions = append(st.Partitions, cluster.PartitionStatus{Partition: p, Owner: owner, Seq: uint64(10 * p)})
	}
	return ClusterView{Host: "h1", Partitions: 4, Shown: f.shown, Owned: slices.Clone(f.owned), Status: st}, nil
}

func (f *fakeCluster) Show(_ context.Context, p int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shown, f.asked = p, append(f.asked, p)
	return nil
}

func (f *fakeCluster) setOwned(ps ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.owned = ps
}

func (f *fakeCluster) askedFor() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// TestClusterTab: attached to a cluster host, the window has a Cluster
// tab that says which partitions the host applies and which one the
// window shows, with the cluster's status; picking a partition shows it;
// when the partition shown moves to another host, the window shows one
// the host still applies, and says so in the log.
func TestClusterTab(t *testing.T) {
	a := test.NewTempApp(t)
	m := hosttest.New(t, hosttest.Defaults(integrations.FS))
	fc := &fakeCluster{owned: []int{0, 2}}
	s := New(a, m, nil, Options{RunOnUI: runOnUI, Cluster: fc, Tab: "cluster", HostLabel: "http://h1:7777 (cluster host h1)"})
	runOnUI(s.Start)
	t.Cleanup(s.Stop)

	eventually(t, "the cluster tab shows the host's partitions", func() bool {
		return s.tabs.Selected().Text == "Cluster" &&
			s.cluster.summary.Text == "Host h1 applies partitions 0, 2 of 4; the window shows partition 0." &&
			strings.Contains(s.cluster.status.Text, "PARTITION  OWNER  SEQ  LAG  STATE BYTES") && strings.Contains(s.cluster.status.Text, "2          h1     20")
	})
	runOnUI(func() {
		if got := s.cluster.pick.Options; !slices.Equal(got, []string{"partition 0", "partition 2"}) {
			t.Errorf("the partition picker offers %v", got)
		}
		s.cluster.pick.SetSelected("partition 2") // as the user picks it
	})
	hosttest.Eventually(t, uiWait, func() bool { return slices.Equal(fc.askedFor(), []int{2}) }, "partition 2 asked for")
	eventually(t, "the status bar says which partition shows", func() bool {
		return s.status.watching.Text == "host http://h1:7777 (cluster host h1), partition 2"
	})
	eventually(t, "the log says which partition shows", func() bool {
		return slices.ContainsFunc(s.logs.lines(), func(l string) bool { return strings.Contains(l, "the window shows partition 2") })
	})

	fc.setOwned(1, 3) // partition 2 moved to another host
	hosttest.Eventually(t, 3*clusterEvery, func() bool { return slices.Equal(fc.askedFor(), []int{2, 1}) }, "the window moved to partition 1")
	eventually(t, "the tab and the log say so", func() bool {
		return strings.HasSuffix(s.cluster.summary.Text, "the window shows partition 1.") &&
			slices.ContainsFunc(s.logs.lines(), func(l string) bool {
				return strings.Contains(l, "partition 2 is no longer applied by host h1; showing partition 1")
			})
	})
}
