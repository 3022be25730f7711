package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/cluster"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// countStar counts tick events per mission and records gaps in their
// numbering (see cluster/testdata/count).
const countStar = `
def on_tick(event, ctx):
    m = event.data["mission"]
    n = int(event.data["n"])
    rec = ctx.state.get(m)
    if rec == None:
        rec = {"count": 0, "last": 0, "gaps": 0}
    if n != rec["last"] + 1:
        rec["gaps"] = rec["gaps"] + 1
    rec["count"] = rec["count"] + 1
    rec["last"] = n
    ctx.state[m] = rec

integration(name = "count", handlers = {"tick": on_tick})
`

// startNATS starts an embedded nats-server with JetStream on disk, on a
// loopback port, stopped by the test's cleanup; it returns its URL.
func startNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready in 10 s")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return "nats://127.0.0.1:" + strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
}

// publishTicks publishes n tick events round robin over the missions,
// continuing the numbering in next, and waits for the server's acks.
func publishTicks(t *testing.T, js jetstream.JetStream, next []int, n int) {
	t.Helper()
	for i := range n {
		m := i % len(next)
		next[m]++
		mission := fmt.Sprintf("m%d", m)
		msg := nats.NewMsg(cluster.EventSubject("tick", mission))
		msg.Data, _ = json.Marshal(map[string]any{"mission": mission, "n": next[m]})
		msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s-%d", mission, next[m]))
		if _, err := js.PublishMsgAsync(msg); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("no publish acks in 30 s")
	}
}

// waitExported runs state export --nats until the count integration's
// totals reach what was published, then checks each mission.
func waitExported(t *testing.T, url string, next []int) {
	t.Helper()
	want := 0
	for _, n := range next {
		want += n
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := runCLI(t, nil, "state", "export", "--nats", url)
		if r.code != 0 {
			t.Fatalf("state export --nats: %v", r)
		}
		var out struct {
			Partitions map[string]map[string]map[string]struct{ Count, Last, Gaps int } `json:"partitions"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("state export --nats printed %v: %v", r, err)
		}
		got, total := map[string]struct{ Count, Last, Gaps int }{}, 0
		for _, states := range out.Partitions {
			for m, rec := range states["count"] {
				got[m] = rec
				total += rec.Count
			}
		}
		if total >= want || time.Now().After(deadline) {
			for i, n := range next {
				if rec := got[fmt.Sprintf("m%d", i)]; rec.Count != n || rec.Last != n || rec.Gaps != 0 {
					t.Errorf("mission m%d: %+v, published %d", i, rec, n)
				}
			}
			if total != want {
				t.Fatalf("counted %d events, published %d", total, want)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clusterStatus runs cluster status --nats --json.
func clusterStatus(t *testing.T, url string) cluster.Status {
	t.Helper()
	r := runCLI(t, nil, "cluster", "status", "--nats", url, "--json")
	var st cluster.Status
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
		t.Fatalf("cluster status --json: %v", r)
	}
	return st
}

// waitOwners waits until cluster status shows every partition owned by
// one of hosts, each of them owning some; it returns how long it took.
func waitOwners(t *testing.T, url string, within time.Duration, hosts ...string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		st := clusterStatus(t, url)
		owned := map[string]int{}
		for _, p := range st.Partitions {
			owned[p.Owner]++
		}
		ok := len(owned) == len(hosts)
		for _, h := range hosts {
			ok = ok && owned[h] > 0
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("partitions not owned by %v within %v: %+v", hosts, within, st.Partitions)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countCluster is a NATS server with a stream of partitions (nats init),
// a folder holding the count integration, and a JetStream to publish
// with, for host processes of the test binary.
type countCluster struct {
	exe, url, dir string
	js            jetstream.JetStream
}

// newCountCluster starts the server (stopped by the test's cleanup) and
// makes its stream of partitions.
func newCountCluster(t *testing.T, partitions int) *countCluster {
	t.Helper()
	exe, err := os.Executable() // the test binary is afstudio (TestMain)
	if err != nil {
		t.Fatal(err)
	}
	c := &countCluster{exe: exe, url: startNATS(t), dir: t.TempDir()}
	if r := runCLI(t, nil, "nats", "init", "--nats", c.url, "--partitions", strconv.Itoa(partitions)); r.code != 0 {
		t.Fatalf("nats init: %v", r)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "count.star"), []byte(countStar), 0o644); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(c.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c.js, _ = jetstream.New(nc)
	return c
}

// host starts a host process on the cluster's stream and folder, with
// env (nil: the test's) and more flags.
func (c *countCluster) host(t *testing.T, env []string, more ...string) *hostProc {
	t.Helper()
	return startHost(t, c.exe, env, append([]string{"--nats", c.url, "--dir", c.dir, "--no-defaults"}, more...)...)
}

// initTwice runs nats init with partitions, then again, then with
// another count, which is refused.
func initTwice(t *testing.T, url string, partitions int) {
	t.Helper()
	n := strconv.Itoa(partitions)
	if r := runCLI(t, nil, "nats", "init", "--nats", url, "--partitions", n); r.code != 0 || !strings.Contains(r.stdout, n+" partitions") {
		t.Fatalf("nats init: %v", r)
	}
	if r := runCLI(t, nil, "nats", "init", "--nats", url, "--partitions", n); r.code != 0 {
		t.Fatalf("nats init again: %v", r)
	}
	if r := runCLI(t, nil, "nats", "init", "--nats", url, "--partitions", strconv.Itoa(partitions+1)); r.code != 1 || !strings.Contains(r.stderr, "keep --partitions "+n) {
		t.Fatalf("nats init with another partition count: %v", r)
	}
}

// checkRefused checks that the host p, given the id of a host alive,
// exits with an error naming the id and saying what to do.
func checkRefused(t *testing.T, p *hostProc, id string) {
	t.Helper()
	err := p.wait(t, "a second host with the id "+id)
	if err == nil || !strings.Contains(p.log(), `cluster host id "`+id+`"`) || !strings.Contains(p.log(), "own --host-id") {
		t.Errorf("a second host given the id %s exited with %v; want an error naming the id and what to do:\n%s", id, err, p.log())
	}
}

// checkApplied checks that cluster status, once every event was applied,
// shows the number of hosts, no lag and every partition's position (and
// prints as a table); it returns the status.
func checkApplied(t *testing.T, url string, hosts int) cluster.Status {
	t.Helper()
	st := clusterStatus(t, url)
	if len(st.Hosts) != hosts {
		t.Errorf("cluster status shows hosts %+v, want %d", st.Hosts, hosts)
	}
	for _, p := range st.Partitions {
		if p.Lag != 0 || p.Seq == 0 {
			t.Errorf("partition %d after all was applied: lag %d, seq %d", p.Partition, p.Lag, p.Seq)
		}
	}
	r := runCLI(t, nil, "cluster", "status", "--nats", url)
	ok := r.code == 0 && strings.Contains(r.stdout, "PARTITION")
	for _, h := range st.Hosts {
		ok = ok && strings.Contains(r.stdout, h.ID)
	}
	if !ok {
		t.Errorf("cluster status: %v", r)
	}
	return st
}

// TestClusterCommands: nats init, three real hosts (one supervised, two
// in process) over twelve partitions run with --nats, state export
// --nats and cluster status; then one in-process host is killed with
// SIGKILL while the others apply a backlog, the two others take all its
// partitions, and the counts stay exact per mission; the host started
// again with the same --host-id gets its share back. A host given the id
// of one alive is refused.
func TestClusterCommands(t *testing.T) {
	c := newCountCluster(t, 12)
	url, js := c.url, c.js
	initTwice(t, url, 12)
	host := func(id string, more ...string) *hostProc {
		return c.host(t, nil, append([]string{"--host-id", id}, more...)...)
	}
	supervised := host("sup")
	victim := host("inp1", "--in-process")
	host("inp2", "--in-process")
	waitOwners(t, url, 30*time.Second, "sup", "inp1", "inp2")
	checkRefused(t, host("inp2"), "inp2") // supervised: its worker refuses to start, and the supervisor gives up

	next := make([]int, 60)
	publishTicks(t, js, next, 1200)
	waitExported(t, url, next)
	st := checkApplied(t, url, 3)

	// inp1 dies (SIGKILL: nothing given back) while the hosts apply a
	// backlog.
	publishTicks(t, js, next, 1200)
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	publishTicks(t, js, next, 600)
	moved := waitOwners(t, url, 30*time.Second, "sup", "inp2")
	t.Logf("after kill -9 of a host, its partitions moved to the two others in %v (lease TTL %v)", moved, st.LeaseTTL)
	publishTicks(t, js, next, 600)
	waitExported(t, url, next)
	host("inp1", "--in-process")
	spread := waitOwners(t, url, 30*time.Second, "sup", "inp1", "inp2")
	t.Logf("the host started again with its --host-id: partitions spread over the three in %v", spread)
	publishTicks(t, js, next, 1200)
	waitExported(t, url, next)
	if !strings.Contains(supervised.log(), "partition taken") {
		t.Errorf("the supervised host's log does not show it taking partitions:\n%s", supervised.log())
	}
}
