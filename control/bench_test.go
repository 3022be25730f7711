package control_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// benchData is a typical response_received event: it reaches analytics,
// alerts, afterimage and audit.
func benchData(i int) map[string]any {
	return map[string]any{"mission_id": "m1", "latency_ms": 10 + i%50, "response": "the quick brown fox jumps over the lazy dog"}
}

// benchManager is a host with the default integrations only.
func benchManager(b *testing.B) *starhost.Manager {
	b.Helper()
	return hosttest.New(b, hosttest.Defaults(integrations.FS))
}

// benchServer serves m on a real loopback listener and returns a client.
func benchServer(b *testing.B, m *starhost.Manager) *client.Client {
	b.Helper()
	return client.New(benchURL(b, m), testToken)
}

// benchURL serves m on a real loopback listener and returns its URL.
func benchURL(b *testing.B, m *starhost.Manager) string {
	b.Helper()
	s, err := control.Listen("127.0.0.1:0", control.NewHandler(m, control.Options{Token: testToken, Version: "bench"}), false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return "http://" + s.Addr()
}

// checkResults fails the benchmark unless four integrations (the defaults,
// or trivialManager's) handled the event, each successfully.
func checkResults(b *testing.B, rs []starhost.Result) {
	if len(rs) != 4 {
		b.Fatalf("%d results, want 4: %+v", len(rs), rs)
	}
	for _, r := range rs {
		if !r.OK {
			b.Fatalf("handler failed: %+v %v", r, r.Error)
		}
	}
}

func reportEventsPerSecond(b *testing.B, events int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(events)/s, "events/s")
	}
}

// BenchmarkInProcessEmit is the baseline: Manager.Emit without HTTP.
func BenchmarkInProcessEmit(b *testing.B) {
	m := benchManager(b)
	ctx := context.Background()
	events := 0
	for b.Loop() {
		rs, err := m.Emit(ctx, "response_received", benchData(events))
		if err != nil || len(rs) != 4 || !rs[0].OK {
			b.Fatalf("emit: %v %+v", err, rs)
		}
		events++
	}
	reportEventsPerSecond(b, events)
}

// BenchmarkAPIEmit is one event per request: POST /v1/events/{event}.
func BenchmarkAPIEmit(b *testing.B) { benchEmit(b, benchManager(b)) }

// benchEmit sends events to m through the API, one per request, and
// checks every outcome.
func benchEmit(b *testing.B, m *starhost.Manager) { emitEach(b, benchServer(b, m)) }

// emitEach sends events through c, one per request, and checks every
// outcome.
func emitEach(b *testing.B, c *client.Client) {
	ctx := context.Background()
	events := 0
	for b.Loop() {
		rs, err := c.Emit(ctx, "response_received", benchData(events))
		if err != nil {
			b.Fatal(err)
		}
		checkResults(b, rs)
		events++
	}
	reportEventsPerSecond(b, events)
}

// BenchmarkAPIEmit2Clients is BenchmarkAPIEmit with two clients, each
// with its own keep-alive connection, sending at the same time; compare
// with BenchmarkInProcessEmit2: how the API uses a second core.
func BenchmarkAPIEmit2Clients(b *testing.B) {
	url := benchURL(b, benchManager(b))
	clients := []*client.Client{client.New(url, testToken), client.New(url, testToken)}
	emit := func(c *client.Client, i int) error {
		rs, err := c.Emit(context.Background(), "response_received", benchData(i))
		if err == nil && (len(rs) != 4 || !rs[0].OK) {
			err = fmt.Errorf("results %+v", rs)
		}
		return err
	}
	for _, c := range clients { // connect both before timing
		if err := emit(c, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	emitters(b, len(clients), func(g, i int) error { return emit(clients[g], i) })
}

// BenchmarkInProcessEmit2 is BenchmarkInProcessEmit with two goroutines
// emitting at the same time.
func BenchmarkInProcessEmit2(b *testing.B) {
	m := benchManager(b)
	ctx := context.Background()
	emitters(b, 2, func(_, i int) error {
		rs, err := m.Emit(ctx, "response_received", benchData(i))
		if err == nil && (len(rs) != 4 || !rs[0].OK) {
			err = fmt.Errorf("results %+v", rs)
		}
		return err
	})
}

// emitters runs b.N calls of emit(g, i), shared among n goroutines (g is
// the goroutine's number, i the event's), and reports events/s.
func emitters(b *testing.B, n int, emit func(g, i int) error) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := range n {
		wg.Go(func() {
			for i := g; i < b.N; i += n {
				if err := emit(g, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	reportEventsPerSecond(b, b.N)
}

// BenchmarkAPIEmitBatch is 100 events per request: POST /v1/events.
func BenchmarkAPIEmitBatch(b *testing.B) { benchEmitBatch(b, benchManager(b)) }

// benchEmitBatch sends batches of 100 events to m through the API and
// checks every outcome.
func benchEmitBatch(b *testing.B, m *starhost.Manager) {
	const batch = 100
	c := benchServer(b, m)
	ctx := context.Background()
	evs := make([]control.BatchEvent, batch)
	for i := range evs {
		evs[i] = control.BatchEvent{Event: "response_received", Data: benchData(i)}
	}
	events := 0
	for b.Loop() {
		out, err := c.EmitBatch(ctx, evs)
		if err != nil {
			b.Fatal(err)
		}
		if len(out) != batch {
			b.Fatalf("%d outcomes for %d events", len(out), batch)
		}
		for _, o := range out {
			if o.Error != "" {
				b.Fatal(o.Error)
			}
			checkResults(b, o.Results)
		}
		events += batch
	}
	reportEventsPerSecond(b, events)
}

// trivialManager is a host with four integrations whose handlers return
// at once, so that the HTTP and JSON cost is what is measured.
func trivialManager(b *testing.B) *starhost.Manager {
	b.Helper()
	files := map[string]string{}
	for _, name := range []string{"t1", "t2", "t3", "t4"} {
		files[name+".star"] = "integration(name = \"" + name + "\", handlers = {\"response_received\": lambda e, c: None})\n"
	}
	m, _ := hosttest.NewRoot(b, files)
	return m
}

// BenchmarkInProcessEmitTrivial and BenchmarkAPIEmitBatchTrivial compare
// the transport's own cost: four handlers that do nothing.
func BenchmarkInProcessEmitTrivial(b *testing.B) {
	m := trivialManager(b)
	ctx := context.Background()
	events := 0
	for b.Loop() {
		if rs, err := m.Emit(ctx, "response_received", benchData(events)); err != nil || len(rs) != 4 {
			b.Fatalf("emit: %v %d", err, len(rs))
		}
		events++
	}
	reportEventsPerSecond(b, events)
}

func BenchmarkAPIEmitBatchTrivial(b *testing.B) { benchEmitBatch(b, trivialManager(b)) }

// BenchmarkAPIEmitTrivial is one event per request to handlers that do
// nothing: the API's whole cost per request (HTTP, JSON, both ends).
func BenchmarkAPIEmitTrivial(b *testing.B) { benchEmit(b, trivialManager(b)) }

// BenchmarkHTTPFloor is the floor under BenchmarkAPIEmit: net/http's
// server and client on a loopback keep-alive connection, with a handler
// that reads a small JSON body and answers a constant, and no host.
// No event over the API can be faster than this on the same machine.
func BenchmarkHTTPFloor(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"results":[]}`))
	}))
	b.Cleanup(srv.Close)
	c := srv.Client()
	body := []byte(`{"mission_id":"m1","latency_ms":10,"response":"the quick brown fox jumps over the lazy dog"}`)
	events := 0
	for b.Loop() {
		resp, err := c.Post(srv.URL+"/v1/events/response_received", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		events++
	}
	reportEventsPerSecond(b, events)
}

// BenchmarkAPIEmitProxied is BenchmarkAPIEmit through the studio's proxy
// (NewProxyService): the cost of the hop a studio's user API adds in
// front of its worker's (engines of a headless host talk to the worker
// directly).
func BenchmarkAPIEmitProxied(b *testing.B) {
	target := benchURL(b, benchManager(b))
	userToken := strings.Repeat("cd", 32)
	svc, err := control.NewProxyService(target, testToken, control.ServiceOptions{Options: control.Options{Token: userToken}})
	if err != nil {
		b.Fatal(err)
	}
	addr, err := svc.Serve("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Stop() })
	emitEach(b, client.New("http://"+addr, userToken))
}
