package main

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
)

// TestClusterAPIProcess: a cluster host run with --listen serves the
// cluster's status at /v1/cluster and each partition it applies at /p/N,
// whose state is the partition's stored state; it refuses an event sent
// there (events come from the stream) and a partition it does not apply.
func TestClusterAPIProcess(t *testing.T) {
	env, _ := apiEnv(t)
	c := newCountCluster(t, 4)
	url, js := c.url, c.js
	hosts := []*hostProc{c.host(t, env, "--host-id", "a", "--listen", "127.0.0.1:0"), c.host(t, env, "--host-id", "b", "--in-process")}
	waitOwners(t, url, 30*time.Second, "a", "b")
	next := make([]int, 20)
	publishTicks(t, js, next, 400)
	waitExported(t, url, next)

	exe := c.exe
	token := apiToken(t, exe, env)
	base := hosts[0].waitAddr(t) // the supervised host
	ctx := context.Background()
	cv, err := client.New(base, token).Cluster(ctx)
	if err != nil || cv.Host != "a" || len(cv.Owned) == 0 || cv.Status == nil || len(cv.Status.Hosts) != 2 || len(cv.Status.Partitions) != 4 {
		t.Fatalf("GET /v1/cluster: %+v, %v", cv, err)
	}
	r := runCLI(t, nil, "state", "export", "--nats", url)
	var exported struct {
		Partitions map[string]map[string]json.RawMessage `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &exported); err != nil {
		t.Fatalf("state export --nats: %v: %v", r, err)
	}
	for _, p := range cv.Owned {
		pc := client.New(base+control.PartitionPath(p), token)
		st, err := pc.State(ctx, "count")
		if err != nil || !sameJSON(t, st, exported.Partitions[strconv.Itoa(p)]["count"]) {
			t.Errorf("partition %d's count state over the API: %s, %v; stored: %s", p, st, err, exported.Partitions[strconv.Itoa(p)]["count"])
		}
		if _, err := pc.Emit(ctx, "tick", map[string]any{"mission": "m0", "n": 1}); err == nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), "afstudio.events.EVENT.KEY") {
			t.Errorf("an event sent to partition %d: %v, want 409 saying to publish it", p, err)
		}
	}
	for p := range 4 {
		if slices.Contains(cv.Owned, p) {
			continue
		}
		_, err := client.New(base+control.PartitionPath(p), token).View(ctx)
		if err == nil || !strings.Contains(err.Error(), "not applied by this host") {
			t.Errorf("partition %d, applied by b, asked of a: %v", p, err)
		}
	}
}

// TestFindCluster: --connect tells a cluster host from another host, says
// so when the token is refused, and reads a partition in the URL.
func TestFindCluster(t *testing.T) {
	env, _ := apiEnv(t)
	c := newCountCluster(t, 2)
	h := c.host(t, env, "--host-id", "a", "--in-process", "--listen", "127.0.0.1:0")
	base := h.waitAddr(t)
	token := apiToken(t, c.exe, env)
	ctx := context.Background()
	if cv, err := findCluster(ctx, base, token, 30*time.Second); err != nil || cv == nil || cv.Host != "a" || len(cv.Owned) != 2 {
		t.Errorf("findCluster: %+v, %v", cv, err)
	}
	if _, err := findCluster(ctx, base, "wrong", 5*time.Second); err == nil || !strings.Contains(err.Error(), "refused the token") {
		t.Errorf("findCluster with a wrong token: %v; want the token named", err)
	}
	one := startHost(t, c.exe, env, "--no-defaults", "--in-process", "--listen", "127.0.0.1:0") // a host of its own, no cluster
	if cv, err := findCluster(ctx, one.waitAddr(t), token, 5*time.Second); cv != nil || err != nil {
		t.Errorf("findCluster on a one-host host: %+v, %v; want nil, nil", cv, err)
	}
	for url, want := range map[string]struct {
		base string
		p    int
	}{
		"http://h:7777":       {"http://h:7777", -1},
		"http://h:7777/p/3":   {"http://h:7777", 3},
		"http://h:7777/p/12/": {"http://h:7777", 12},
		"http://h:7777/px/3":  {"http://h:7777/px/3", -1},
	} {
		if base, p := splitPartition(url); base != want.base || p != want.p {
			t.Errorf("splitPartition(%q) = %q, %d; want %q, %d", url, base, p, want.base, want.p)
		}
	}
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
