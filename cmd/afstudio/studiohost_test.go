package main

import (
	"log/slog"
	"net"
	"testing"
)

// TestWorkerAPI: the studio's user API when a worker serves it: Serve
// opens the socket and asks for the worker to start again (once, however
// often asked before it does); serving the same address again asks
// nothing; each start gets its own copy of the socket; Stop closes it and
// asks again; a bad address is refused with the reason.
func TestWorkerAPI(t *testing.T) {
	a := &workerAPI{token: "t", log: slog.New(slog.DiscardHandler), restart: make(chan struct{}, 1)}
	asked := func() bool {
		select {
		case <-a.restart:
			return true
		default:
			return false
		}
	}
	if a.Addr() != "" || a.listener() != nil {
		t.Fatal("off at first")
	}
	addr, err := a.Serve("127.0.0.1:0")
	if err != nil || addr == "" || a.Addr() != addr || !asked() {
		t.Fatalf("Serve: %q %v, asked a restart: false", addr, err)
	}
	if again, err := a.Serve("127.0.0.1:0"); err != nil || again != addr || asked() {
		t.Fatalf("Serve on the same address: %q %v (a restart asked: it should not be)", again, err)
	}
	for range 2 { // a copy per start, each a live socket on the address
		f := a.listener()
		if f == nil {
			t.Fatal("no socket for the worker")
		}
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil || ln.Addr().String() != addr {
			t.Fatalf("the worker's copy: %v %v", ln, err)
		}
		ln.Close()
	}
	if err := a.Stop(); err != nil || a.Addr() != "" || a.listener() != nil || !asked() {
		t.Fatalf("Stop: %v, addr %q", err, a.Addr())
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Errorf("%s still accepts after Stop", addr)
	}
	if _, err := a.Serve("10.1.2.3:7777"); err == nil {
		t.Error("a non-loopback address served without --allow-remote")
	}
}
