package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startClusterHosts starts a NATS server, makes a stream of partitions,
// and starts one host process per id with --listen on a loopback port
// (the first supervised, the others in-process), all sharing the count
// integration; it waits until every partition is owned by them, and
// returns the server's URL, the hosts and a JetStream to publish with.
func startClusterHosts(t *testing.T, env []string, partitions int, ids ...string) (string, []*hostProc, jetstream.JetStream) {
	t.Helper()
	exe, err := os.Executable() // the test binary is afstudio (TestMain)
	if err != nil {
		t.Fatal(err)
	}
	url := startNATS(t)
	if r := runCLI(t, nil, "nats", "init", "--nats", url, "--partitions", strconv.Itoa(partitions)); r.code != 0 {
		t.Fatalf("nats init: %v", r)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "count.star"), []byte(countStar), 0o644); err != nil {
		t.Fatal(err)
	}
	var hosts []*hostProc
	for i, id := range ids {
		args := []string{"--nats", url, "--dir", dir, "--no-defaults", "--host-id", id, "--listen", "127.0.0.1:0"}
		if i > 0 {
			args = append(args, "--in-process")
		}
		hosts = append(hosts, startHost(t, exe, env, args...))
	}
	waitOwners(t, url, 30*time.Second, ids...)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	return url, hosts, js
}

// TestClusterAPIProcess: a cluster host run with --listen serves the
// cluster's status at /v1/cluster and each partition it applies at /p/N,
// whose state is the partition's stored state; it refuses an event sent
// there (events come from the stream) and a partition it does not apply.
func TestClusterAPIProcess(t *testing.T) {
	env, _ := apiEnv(t)
	url, hosts, js := startClusterHosts(t, env, 4, "a", "b")
	next := make([]int, 20)
	publishTicks(t, js, next, 400)
	waitExported(t, url, next)

	exe, _ := os.Executable()
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
