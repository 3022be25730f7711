package control_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestProxy: a studio's API in front of its worker's private API checks
// the user's token, forwards events and notice streams with the worker's
// token, serves /v1/open itself, and says so when the worker is down.
func TestProxy(t *testing.T) {
	worker := newFixture(t, nil) // the worker's API, with testToken
	userToken := strings.Repeat("cd", 32)
	var mu sync.Mutex
	var opened []string
	svc, err := control.NewProxyService(worker.srv.URL, testToken, control.ServiceOptions{Options: control.Options{Token: userToken,
		Open: func(files []string) error {
			mu.Lock()
			defer mu.Unlock()
			opened = append(opened, files...)
			return nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := svc.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	ctx := context.Background()
	c := client.New("http://"+addr, userToken)

	rs, err := c.Emit(ctx, "ping", nil)
	if err != nil || len(rs) == 0 {
		t.Fatalf("emit through the proxy: %v %+v", err, rs)
	}
	if _, err := client.New("http://"+addr, testToken).Emit(ctx, "ping", nil); apiStatus(err) != http.StatusUnauthorized {
		t.Fatalf("the worker's token at the proxy: %v, want 401", err)
	}
	if err := c.Health(ctx); err != nil {
		t.Fatalf("health: %v", err)
	}
	if err := c.Open(ctx, []string{"/tmp/x.star"}); err != nil {
		t.Fatalf("open: %v", err)
	}
	mu.Lock()
	if len(opened) != 1 || opened[0] != "/tmp/x.star" {
		t.Fatalf("opened %v", opened)
	}
	mu.Unlock()

	// A notice stream through the proxy.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var log noticeLog
	go func() { _ = c.Notices(sctx, log.add) }()
	hosttest.Eventually(t, 10*time.Second, func() bool {
		if _, err := c.Emit(ctx, "probe", nil); err != nil {
			t.Fatal(err)
		}
		return log.has(func(n starhost.Notice) bool { return n.Event == "probe" })
	}, "the notice stream through the proxy")

	cancel()           // the stream ends before the worker does
	worker.srv.Close() // the worker is gone
	_, err = c.Emit(ctx, "ping", nil)
	if apiStatus(err) != http.StatusBadGateway || !strings.Contains(err.Error(), "worker process did not answer") {
		t.Fatalf("emit with the worker down: %v, want 502 saying the worker did not answer", err)
	}
}
