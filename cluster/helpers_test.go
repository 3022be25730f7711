package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testServer is an embedded nats-server with JetStream on disk, on a
// loopback port, that a test can stop and start again (same port, same
// folder).
type testServer struct {
	t    *testing.T
	dir  string
	port int
	s    *server.Server
}

// startServer starts a server that the test's cleanup stops.
func startServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{t: t, dir: t.TempDir(), port: -1}
	ts.start()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) start() {
	ts.t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: ts.port, JetStream: true, StoreDir: ts.dir, NoSigs: true})
	if err != nil {
		ts.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		ts.t.Fatal("nats-server not ready in 10 s")
	}
	ts.s = s
	ts.port = s.Addr().(*net.TCPAddr).Port
}

func (ts *testServer) stop() {
	if ts.s != nil {
		ts.s.Shutdown()
		ts.s.WaitForShutdown()
		ts.s = nil
	}
}

func (ts *testServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(ts.port) }

// connect returns a JetStream client that reconnects forever; the test's
// cleanup closes it.
func (ts *testServer) connect(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(ts.url(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// countManager makes managers with only testdata/count loaded.
func countManager(ctx context.Context) (*starhost.Manager, error) {
	dir, _ := filepath.Abs("testdata/count")
	m, err := starhost.New(starhost.Options{Roots: []string{dir}, Parallel: 1})
	if err != nil {
		return nil, err
	}
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// testHost is a Host running in the test's process on a connection of
// its own, which kill closes without the host giving anything back.
type testHost struct {
	*Host
	nc      *nats.Conn
	ctx     context.Context
	cancel  context.CancelFunc
	started bool // run was called; the test's goroutine only
	done    chan struct{}
}

func startHost(t *testing.T, ts *testServer, id string) *testHost {
	t.Helper()
	return startHostWith(t, ts, id, countManager)
}

// startHostWith is startHost with managers made by newManager.
func startHostWith(t *testing.T, ts *testServer, id string, newManager func(context.Context) (*starhost.Manager, error)) *testHost {
	t.Helper()
	return startHostOpts(t, ts, Options{ID: id, NewManager: newManager})
}

// startHostOpts starts a host with o, on a connection of its own (o's
// JetStream is set; NewManager nil means countManager).
func startHostOpts(t *testing.T, ts *testServer, o Options) *testHost {
	t.Helper()
	th := newHost(t, ts, o)
	th.run()
	return th
}

// newHost is startHostOpts without Run: th.run starts it.
func newHost(t *testing.T, ts *testServer, o Options) *testHost {
	t.Helper()
	nc, js := ts.connect(t)
	o.JetStream = js
	if o.NewManager == nil {
		o.NewManager = countManager
	}
	h, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	th := &testHost{Host: h, nc: nc, cancel: cancel, done: make(chan struct{}), ctx: ctx}
	t.Cleanup(th.stop)
	return th
}

// run runs the host until it is stopped or killed.
func (th *testHost) run() {
	th.started = true
	go func() { defer close(th.done); _ = th.Run(th.ctx) }()
}

// stop stops the host cleanly (its partitions given back).
func (th *testHost) stop() {
	th.cancel()
	if th.started {
		<-th.done
	}
}

// kill is the host's death: its connection is gone, it gives nothing back.
func (th *testHost) kill() { th.nc.Close(); th.stop() }

// publisher publishes numbered tick events for missions m0..m<missions-1>,
// round robin, each with its id in Nats-Msg-Id.
type publisher struct {
	js       jetstream.JetStream
	missions int
	mu       sync.Mutex
	next     []int // next n per mission
	sent     int
}

func newPublisher(js jetstream.JetStream, missions int) *publisher {
	return &publisher{js: js, missions: missions, next: make([]int, missions)}
}

// publish publishes n more events and waits for the server's acks.
func (p *publisher) publish(t *testing.T, n int) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for range n {
		i := p.sent % p.missions
		p.next[i]++
		p.sent++
		mission := fmt.Sprintf("m%d", i)
		data, _ := json.Marshal(map[string]any{"mission": mission, "n": p.next[i]})
		msg := &nats.Msg{Subject: EventSubject("tick", mission), Data: data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s-%d", mission, p.next[i]))
		for {
			if _, err := p.js.PublishMsgAsync(msg); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond) // too many pending: let acks come back
		}
	}
	select {
	case <-p.js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		t.Fatal("publish: no acks in 60 s")
	}
}

// counts reads every partition's state and returns the count integration's
// records by mission, failing on a mission found in two partitions.
type record struct {
	Count, Last, Gaps int
	Partition         string
}

func readCounts(t *testing.T, js jetstream.JetStream) map[string]record {
	t.Helper()
	all, err := ExportStates(context.Background(), js, Layout{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]record{}
	for p, states := range all {
		raw, ok := states["count"]
		if !ok {
			continue
		}
		var recs map[string]record
		if err := json.Unmarshal(raw, &recs); err != nil {
			t.Fatalf("partition %s: count state %s: %v", p, raw, err)
		}
		for m, r := range recs {
			if prev, dup := out[m]; dup {
				t.Fatalf("mission %s counted in partitions %s and %s", m, prev.Partition, p)
			}
			r.Partition = p
			out[m] = r
		}
	}
	return out
}

// waitExact waits until the stored counts reach what p published, then
// checks them mission by mission: count, last number, no gap.
func waitExact(t *testing.T, js jetstream.JetStream, p *publisher, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		counts := readCounts(t, js)
		total := 0
		for _, r := range counts {
			total += r.Count
		}
		if total >= p.sent || time.Now().After(deadline) {
			for i, n := range p.next {
				m := fmt.Sprintf("m%d", i)
				r := counts[m]
				if r.Count != n || r.Last != n || r.Gaps != 0 {
					t.Errorf("mission %s: counted %d, last %d, gaps %d; published %d", m, r.Count, r.Last, r.Gaps, n)
				}
			}
			if total != p.sent {
				t.Fatalf("counted %d events in all, published %d", total, p.sent)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leasesOf returns the partitions whose lease in the owners bucket holds
// host id.
func leasesOf(t *testing.T, js jetstream.JetStream, id string) []string {
	t.Helper()
	ctx := context.Background()
	owners, err := js.KeyValue(ctx, Layout{}.OwnersBucket())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := owners.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for k := range keys.Keys() {
		if e, err := owners.Get(ctx, k); err == nil && strings.HasPrefix(k, "p.") && string(e.Value()) == id {
			held = append(held, k)
		}
	}
	return held
}

// waitStatus waits until cluster status shows what ok looks for.
func waitStatus(t *testing.T, js jetstream.JetStream, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := ReadStatus(context.Background(), js, Layout{})
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed %s: %+v", what, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
