package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afstudio/afstudio/cluster"
	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// tallyV1 and tallyV2 count events; the version is in each result.
const (
	tallyV1 = `def h(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return {"version": 1, "n": ctx.state["n"]}

integration(name = "tally", handlers = {"tick": h})
`
	tallyV2 = `def h(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return {"version": 2, "n": ctx.state["n"]}

integration(name = "tally", handlers = {"tick": h})
`
)

// fakeCluster is a ClusterHost over real managers, one per partition the
// test says it applies; its status is what the test sets.
type fakeCluster struct {
	id         string
	partitions int

	mu        sync.Mutex
	managers  map[int]*starhost.Manager
	taking    []int // applied, their state still loading: no manager yet
	status    cluster.Status
	statusErr error
}

func (f *fakeCluster) ID() string      { return f.id }
func (f *fakeCluster) Partitions() int { return f.partitions }

func (f *fakeCluster) Owned() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.taking)
	for p := range f.managers {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (f *fakeCluster) Manager(p int) *starhost.Manager {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.managers[p]
}

func (f *fakeCluster) Status(context.Context) (cluster.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.statusErr
}

// set makes m partition p's manager (nil: p is not applied here).
func (f *fakeCluster) set(p int, m *starhost.Manager) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m == nil {
		delete(f.managers, p)
	} else {
		f.managers[p] = m
	}
}

// newClusterFixture serves a fake cluster host "h1" of 4 partitions that
// applies 0 and 2, each a real manager loading tally from one folder.
func newClusterFixture(t *testing.T) (*fakeCluster, string, string) {
	t.Helper()
	dir := hosttest.TempDir(t, map[string]string{"tally.star": tallyV1})
	f := &fakeCluster{id: "h1", partitions: 4, managers: map[int]*starhost.Manager{},
		status: cluster.Status{Stream: "AFSTUDIO", Hosts: []cluster.HostStatus{{ID: "h1", Owned: []int{0, 2}}}}}
	for _, p := range []int{0, 2} {
		f.set(p, hosttest.New(t, hosttest.Roots(dir), hosttest.SkipDefaultIntegrations()))
	}
	srv := httptest.NewServer(control.NewClusterHandler(f, control.Options{Token: testToken, Version: "test"}))
	t.Cleanup(srv.Close)
	return f, srv.URL, dir
}

// rawRequest sends method url with the test token and returns the status
// and the error message of the body ("" when it has none).
func rawRequest(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error string }
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error
}

// TestClusterAPIPartitions: each partition a cluster host applies is the
// one-host API at /p/N, with its own manager and state; a partition it
// does not apply, or that does not exist, answers 404 naming what to do;
// what would bypass the stream answers 409.
func TestClusterAPIPartitions(t *testing.T) {
	f, base, _ := newClusterFixture(t)
	ctx := context.Background()
	hosttest.Emit(t, f.Manager(0), "tick", nil)
	hosttest.Emit(t, f.Manager(0), "tick", nil)
	hosttest.Emit(t, f.Manager(2), "tick", nil)

	for p, want := range map[int]string{0: `{"n":2}`, 2: `{"n":1}`} {
		c := client.New(base+control.PartitionPath(p), testToken)
		st, err := c.State(ctx, "tally")
		if err != nil || compactJSON(t, st) != want {
			t.Errorf("partition %d: state %s, %v; want %s", p, st, err, want)
		}
		if v, err := c.View(ctx); err != nil || len(v.Integrations) != 1 || v.Integrations[0].Name != "tally" {
			t.Errorf("partition %d: view %+v, %v", p, v, err)
		}
	}

	cv, err := client.New(base, testToken).Cluster(ctx)
	if err != nil || cv.Host != "h1" || !slices.Equal(cv.Owned, []int{0, 2}) || cv.Partitions != 4 || cv.Status == nil || cv.Status.Stream != "AFSTUDIO" {
		t.Errorf("GET /v1/cluster: %+v, %v", cv, err)
	}
	f.mu.Lock()
	f.statusErr = errors.New("nats: no servers available")
	f.mu.Unlock()
	if cv, err := client.New(base, testToken).Cluster(ctx); err != nil || cv.Status != nil || !strings.Contains(cv.StatusError, "no servers available") {
		t.Errorf("GET /v1/cluster with the server away: %+v, %v", cv, err)
	}
	if _, err := client.New(base, "wrong").Cluster(ctx); !isStatus(err, 401) {
		t.Errorf("GET /v1/cluster with a wrong token: %v, want 401", err)
	}
	if _, err := client.New(base+"/p/0", "wrong").View(ctx); !isStatus(err, 401) {
		t.Errorf("a partition's view with a wrong token: %v, want 401", err)
	}

	f.mu.Lock()
	f.taking = []int{3}
	f.mu.Unlock()
	tests := []struct {
		method, path, body string
		status             int
		says               string
	}{
		{"GET", "/p/1/v1/integrations", "", 404, "partition 1 is not applied by this host (h1 applies 0, 2, 3)"},
		{"GET", "/p/3/v1/integrations", "", 503, "partition 3 is being taken by this host (h1): its state is loading"},
		{"GET", "/p/3/v1/health", "", 200, ""},
		{"GET", "/p/00/v1/integrations", "", 404, `no partition "00"`},
		{"GET", "/p/9/v1/integrations", "", 404, "the stream has partitions 0 to 3"},
		{"GET", "/p/x/v1/integrations", "", 404, `no partition "x"`},
		{"GET", "/v1/integrations", "", 404, "/p/0/v1/integrations"},
		{"POST", "/v1/cluster", "", 405, "use GET"},
		{"POST", "/p/0/v1/events/tick", "{}", 409, "publish the event to afstudio.events.EVENT.KEY"},
		{"POST", "/p/0/v1/events", `{"events": []}`, 409, "publish the event"},
		{"POST", "/p/2/v1/integrations", `{"module": "x.star"}`, 409, "change the files there"},
		{"DELETE", "/p/2/v1/integrations/tally", "", 409, "change the files there"},
		{"POST", "/p/2/v1/integrations/tally/disable", "", 409, "change the files there"},
		{"PUT", "/p/0/v1/integrations/tally/shadow", "", 409, "change the files there"},
		{"PUT", "/p/0/v1/integrations/tally/state", `{"n": 100}`, 409, "state export --nats"},
		{"POST", "/p/0/v1/integrations/tally/state/reset", "", 409, "state export --nats"},
		{"PUT", "/p/0/v1/state", `{}`, 409, "state export --nats"},
	}
	for _, tt := range tests {
		status, msg := rawRequest(t, tt.method, base+tt.path, tt.body)
		if status != tt.status || !strings.Contains(msg, tt.says) {
			t.Errorf("%s %s: %d %q; want %d saying %q", tt.method, tt.path, status, msg, tt.status, tt.says)
		}
	}
	if st, _ := f.Manager(0).StateJSON("tally"); compactJSON(t, st) != `{"n":2}` {
		t.Errorf("partition 0's state after refused changes: %s, want it untouched", st)
	}
}

// TestClusterAPIReloadReachesEveryPartition: a reload asked of one
// partition is done on every partition the host applies, so that they
// never run different versions; a partition taken again (a new manager)
// is served by the new one.
func TestClusterAPIReloadReachesEveryPartition(t *testing.T) {
	f, base, dir := newClusterFixture(t)
	ctx := context.Background()
	hosttest.WriteFile(t, filepath.Join(dir, "tally.star"), tallyV2)
	if _, err := client.New(base+"/p/0", testToken).ReloadIntegration(ctx, "tally"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{0, 2} {
		if v := versionOf(t, f.Manager(p)); v != 2 {
			t.Errorf("partition %d runs version %d after a reload asked of partition 0, want 2", p, v)
		}
	}
	hosttest.WriteFile(t, filepath.Join(dir, "tally.star"), tallyV1)
	if _, err := client.New(base+"/p/2", testToken).ReloadAllIntegrations(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{0, 2} {
		if v := versionOf(t, f.Manager(p)); v != 1 {
			t.Errorf("partition %d runs version %d after reload all asked of partition 2, want 1", p, v)
		}
	}

	c0 := client.New(base+"/p/0", testToken)
	streamEnded := make(chan error, 1)
	opened := make(chan struct{})
	go func() {
		streamEnded <- c0.NoticeStream(ctx, client.StreamOptions{Opened: func() { close(opened) }}, func(starhost.Notice) {})
	}()
	<-opened
	old := f.Manager(0)
	f.set(0, nil)
	if err := old.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-streamEnded: // a client following the partition learns it moved
	case <-time.After(10 * time.Second):
		t.Fatal("partition 0's notice stream did not end when its manager closed")
	}
	if status, msg := rawRequest(t, "GET", base+"/p/0/v1/view", ""); status != 404 || !strings.Contains(msg, "not applied by this host") {
		t.Errorf("partition 0 given up: %d %q", status, msg)
	}
	f.set(0, hosttest.New(t, hosttest.Roots(dir), hosttest.SkipDefaultIntegrations()))
	hosttest.Emit(t, f.Manager(0), "tick", nil)
	if st, err := c0.State(ctx, "tally"); err != nil || compactJSON(t, st) != `{"n":1}` {
		t.Errorf("partition 0 taken again: state %s, %v; want the new manager's {\"n\":1}", st, err)
	}
}

// versionOf emits a tick to m and returns the version tally answers.
func versionOf(t *testing.T, m *starhost.Manager) int {
	t.Helper()
	r := hosttest.ResultOf(t, hosttest.Emit(t, m, "tick", nil), "tally")
	v, _ := r.Value.(map[string]any)["version"].(int64)
	return int(v)
}

// compactJSON returns b without spaces.
func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %q", b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// isStatus reports whether err is an API error with the status.
func isStatus(err error, status int) bool {
	var ae *client.Error
	return errors.As(err, &ae) && ae.Status == status
}
