package remotehost_test

import (
	"context"
	"errors"
	"github.com/afstudio/afstudio/starhost/hosttest"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control/remotehost"
	"github.com/afstudio/afstudio/starhost"
)

// isReloaded matches the reloaded notice of greeter.
func isReloaded(n starhost.Notice) bool {
	return n.Kind == starhost.NoticeReloaded && n.Integration == "greeter"
}

// TestNoticeRelay: a reload on the host arrives through Subscribe, as it
// does on the Manager's own subscription.
func TestNoticeRelay(t *testing.T) {
	r := newRig(t, map[string]string{"greeter.star": greeterSrc}, remotehost.Options{}, nil)
	sub := r.h.Subscribe(64)
	defer sub.Close()
	if err := r.m.ReloadIntegration(context.Background(), "greeter"); err != nil {
		t.Fatal(err)
	}
	n := next(t, sub, isReloaded)
	if n.Generation != 2 || n.Time.IsZero() {
		t.Fatalf("relayed notice: %+v", n)
	}
	if !r.h.Connected() || r.h.URL() != "http://"+r.addr {
		t.Fatalf("Connected %v, URL %q", r.h.Connected(), r.h.URL())
	}
}

// TestReconnect stops the API server and starts a new one on the same
// port, as a supervisor does with a restarted worker: while it is down
// the remote host says so (a notice, Connected), Snapshot answers the last
// view at once and changes fail at once; once it is back the relay has
// reconnected and notices flow again.
func TestReconnect(t *testing.T) {
	timeout := 2 * time.Second
	r := newRig(t, map[string]string{"greeter.star": greeterSrc}, remotehost.Options{Timeout: timeout}, nil)
	ctx := context.Background()
	sub := r.h.Subscribe(64)
	defer sub.Close()
	before := r.h.Snapshot()
	if len(before.Integrations) != 1 {
		t.Fatalf("view: %+v", before)
	}

	r.stop(t)
	lost := next(t, sub, func(n starhost.Notice) bool { return n.Kind == starhost.NoticeLog })
	if lost.Level != "error" || !strings.Contains(lost.Message, "lost the host at "+r.h.URL()) || !strings.Contains(lost.Message, "reconnecting") {
		t.Fatalf("lost notice: %+v", lost)
	}
	if r.h.Connected() {
		t.Fatal("Connected while the server is down")
	}
	start := time.Now()
	v := r.h.Snapshot()
	if took := time.Since(start); took > timeout {
		t.Fatalf("Snapshot took %v while the host was down", took)
	}
	if len(v.Integrations) != 1 || v.Integrations[0].Name != "greeter" {
		t.Fatalf("Snapshot while down: %+v, want the last view", v)
	}
	if in, ok := r.h.IntegrationInfo("greeter"); !ok || in.Name != "greeter" {
		t.Fatal("IntegrationInfo while down: not from the last view")
	}
	if err := r.h.ResetState("greeter"); err == nil || !strings.Contains(err.Error(), r.h.URL()) {
		t.Fatalf("a change while down: %v", err)
	}
	if err := r.h.ReloadIntegration(ctx, "greeter"); err == nil || !strings.Contains(err.Error(), r.h.URL()) {
		t.Fatalf("a reload while down: %v", err)
	}

	// Meanwhile the host changes; the new server serves it on the same
	// address.
	if err := r.m.ReloadIntegration(ctx, "greeter"); err != nil {
		t.Fatal(err)
	}
	r.serve(t)
	back := next(t, sub, func(n starhost.Notice) bool { return n.Kind == starhost.NoticeLog })
	if back.Level != "info" || !strings.Contains(back.Message, "again") {
		t.Fatalf("back notice: %+v", back)
	}
	if !r.h.Connected() {
		t.Fatal("not Connected after the notice that says so")
	}
	if in := r.h.Snapshot().Integrations[0]; in.Generation != 2 {
		t.Fatalf("Snapshot after the reconnect: generation %d, want 2", in.Generation)
	}
	if err := r.m.ReloadIntegration(ctx, "greeter"); err != nil {
		t.Fatal(err)
	}
	if n := next(t, sub, isReloaded); n.Generation != 3 {
		t.Fatalf("notice after the reconnect: %+v", n)
	}
}

// TestSnapshotOfAHungHost: a host that accepts requests but does not
// answer them holds Snapshot no longer than the timeout, which then
// answers the last view.
func TestSnapshotOfAHungHost(t *testing.T) {
	var hang atomic.Bool
	release := make(chan struct{})
	defer close(release)
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hang.Load() && r.URL.Path == "/v1/view" {
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	timeout := 200 * time.Millisecond
	r := newRig(t, map[string]string{"greeter.star": greeterSrc}, remotehost.Options{Timeout: timeout}, wrap)
	hang.Store(true)
	start := time.Now()
	v := r.h.Snapshot()
	took := time.Since(start)
	if took < timeout || took > timeout+time.Second {
		t.Fatalf("Snapshot of a hung host took %v, want about %v", took, timeout)
	}
	if len(v.Integrations) != 1 {
		t.Fatalf("Snapshot of a hung host: %+v, want the last view", v)
	}
}

// TestNewErrors: New says what is wrong and names the URL.
func TestNewErrors(t *testing.T) {
	r := newRig(t, map[string]string{"greeter.star": greeterSrc}, remotehost.Options{}, nil)
	// A free port: listen, note it, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := "http://" + ln.Addr().String()
	ln.Close()
	cases := []struct {
		name, url, token string
		want             []string
		unreachable      bool // errors.Is ErrUnreachable: worth trying again
	}{
		{"not a URL", "127.0.0.1:7777", testToken, []string{`"127.0.0.1:7777"`, "http://127.0.0.1:7777"}, false},
		{"nobody there", free, testToken, []string{free, "no afstudio host answers", "afstudio run --headless"}, true},
		{"wrong token", "http://" + r.addr, "wrong", []string{"http://" + r.addr, "refused the token", "afstudio token"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := remotehost.New(context.Background(), tc.url, tc.token, remotehost.Options{Timeout: time.Second})
			if err == nil {
				h.Close()
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if errors.Is(err, remotehost.ErrUnreachable) != tc.unreachable {
				t.Errorf("errors.Is(%q, ErrUnreachable) = %v, want %v", err, !tc.unreachable, tc.unreachable)
			}
		})
	}
}

// TestRetarget: a remote host moved to another host's API (another
// partition of a cluster host) reads that host's view at once and relays
// its notices, not the first one's; a move to an address where nothing
// answers fails and leaves it where it was.
func TestRetarget(t *testing.T) {
	a := newRig(t, map[string]string{"greeter.star": greeterSrc}, remotehost.Options{}, nil)
	b := newRig(t, map[string]string{"tally.star": tallySrc}, remotehost.Options{}, nil)
	sub := a.h.Subscribe(64)
	defer sub.Close()
	ctx := context.Background()
	if err := a.h.Retarget(ctx, "http://127.0.0.1:1"); err == nil || a.h.URL() != "http://"+a.addr {
		t.Fatalf("Retarget to a closed port: %v, URL now %q", err, a.h.URL())
	}
	if err := a.h.Retarget(ctx, "http://"+b.addr+"/"); err != nil {
		t.Fatal(err)
	}
	if got := a.h.Names(); !slices.Equal(got, []string{"tally"}) || a.h.URL() != "http://"+b.addr {
		t.Fatalf("after Retarget: names %v at %q, want [tally] at %s", got, a.h.URL(), b.addr)
	}
	isTally := func(n starhost.Notice) bool { return n.Kind == starhost.NoticeReloaded && n.Integration == "tally" }
	hosttest.Eventually(t, 5*time.Second, func() bool {
		_ = b.m.ReloadIntegration(ctx, "tally") // until the relay has opened b's stream
		select {
		case n := <-sub.C:
			return isTally(n)
		case <-time.After(100 * time.Millisecond):
			return false
		}
	}, "b's reload relayed")
	time.Sleep(300 * time.Millisecond) // the reloads of the loop above, relayed
	for len(sub.C) > 0 {
		<-sub.C
	}
	if err := a.m.ReloadIntegration(ctx, "greeter"); err != nil {
		t.Fatal(err)
	}
	if err := b.m.ReloadIntegration(ctx, "tally"); err != nil {
		t.Fatal(err)
	}
	var reloaded []string
	quiet := time.After(time.Second)
	for done := false; !done; {
		select {
		case n := <-sub.C:
			if n.Kind == starhost.NoticeReloaded {
				reloaded = append(reloaded, n.Integration)
			}
		case <-quiet:
			done = true
		}
	}
	if !slices.Equal(reloaded, []string{"tally"}) {
		t.Fatalf("after Retarget the relayed reloads are %v; want tally's alone (not the first host's greeter)", reloaded)
	}
}

// TestRetargetWhileLost: a remote host that lost its host and waits
// (here up to 30 s) before it tries again is moved elsewhere: it relays
// the new host's notices at once, not after its wait.
func TestRetargetWhileLost(t *testing.T) {
	a := newRig(t, map[string]string{"greeter.star": greeterSrc}, remotehost.Options{MinBackoff: 30 * time.Second, MaxBackoff: 30 * time.Second}, nil)
	b := newRig(t, map[string]string{"tally.star": tallySrc}, remotehost.Options{}, nil)
	sub := a.h.Subscribe(64)
	defer sub.Close()
	a.stop(t)
	hosttest.Eventually(t, 5*time.Second, func() bool { return !a.h.Connected() }, "the first host lost")
	ctx := context.Background()
	if err := a.h.Retarget(ctx, "http://"+b.addr); err != nil {
		t.Fatal(err)
	}
	hosttest.Eventually(t, 5*time.Second, a.h.Connected, "connected to the second host before the 30 s wait is over")
	if err := b.m.ReloadIntegration(ctx, "tally"); err != nil {
		t.Fatal(err)
	}
	next(t, sub, func(n starhost.Notice) bool { return n.Kind == starhost.NoticeReloaded && n.Integration == "tally" })
}
