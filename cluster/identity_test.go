package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

// logTo returns a logger writing text lines to buf, at debug level.
func logTo(buf *hosttest.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// linesWith returns the lines of log that contain every one of parts.
func linesWith(log string, parts ...string) []string {
	var out []string
	for line := range strings.Lines(log) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// TestRestartAdoptsLeases: a host dies (nothing given back) and is
// started again with its ID and Instance, as a supervisor starts its
// worker again; the new run adopts every lease its predecessor left
// instead of waiting for them to expire (or gives back at once one
// assigned to the other host by then), and the counts stay exact.
func TestRestartAdoptsLeases(t *testing.T) {
	ts := initTest(t, 6)
	a := startHostOpts(t, ts, Options{ID: "a", Instance: "one"})
	b := startHost(t, ts, "b")
	waitSpread(t, 6, 30*time.Second, a, b)
	hosttest.Eventually(t, 30*time.Second, func() bool { return len(a.Owned()) == 3 && len(b.Owned()) == 3 }, "three partitions each")
	_, js := ts.connect(t)
	pub := newPublisher(js, 30)
	pub.publish(t, 600)
	held := a.Owned()
	a.kill()
	killed := time.Now()
	var log hosttest.Buffer
	again := startHostOpts(t, ts, Options{ID: "a", Instance: "one", Logger: logTo(&log)})
	back := waitSpread(t, 6, 30*time.Second, again, b)
	t.Logf("host a died owning %v; its next run owned them again %v after the death (lease TTL %v)", held, time.Since(killed), again.LeaseTTL())
	t.Logf("spread over a's next run and b %v after it started", back)
	// Each lease a's previous run left is adopted at once, or given back
	// at once when it is assigned to b by then (a held it while handing
	// it over): none is left to expire.
	for _, p := range held {
		attr := "partition=" + strconv.Itoa(p) + "\n"
		if len(linesWith(log.String(), "partition adopted", attr))+len(linesWith(log.String(), "partition given back", attr)) == 0 {
			t.Errorf("the lease of partition %d, held by a's previous run, was neither adopted nor given back (left to expire?):\n%s", p, log.String())
		}
	}
	pub.publish(t, 600)
	waitExact(t, js, pub, 60*time.Second)
}

// TestDuplicateIDRefused: a host given the ID of a host alive, with
// another Instance, is refused with an error naming the ID, when that
// host was last seen and what to do.
func TestDuplicateIDRefused(t *testing.T) {
	ts := initTest(t, 2)
	a := startHostOpts(t, ts, Options{ID: "a", Instance: "one"})
	waitSpread(t, 2, 30*time.Second, a)
	_, js := ts.connect(t)
	_, err := New(context.Background(), Options{JetStream: js, NewManager: countManager, ID: "a", Instance: "two"})
	if err == nil {
		t.Fatal("a second host with the id of a host alive was not refused")
	}
	t.Logf("refused: %v", err)
	for _, want := range []string{`"a"`, "instance one", "last seen", "own --host-id", "lease TTL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	if !errors.Is(err, errIDTaken) {
		t.Errorf("the error does not wrap errIDTaken: %v", err)
	}
}

// TestDuplicateIDStandsDown: while host a runs, another instance writes
// the heartbeat of a's ID (as a second host given the same ID does after
// a's heartbeat expired while a was away) and runs with it. Host a says
// so loudly at each renewal and gives its partitions back instead of
// fighting over the leases; the other takes them, no event is lost or
// counted twice; when the other stops, a takes them again.
func TestDuplicateIDStandsDown(t *testing.T) {
	ts := initTest(t, 4)
	_, js := ts.connect(t)
	ctx := context.Background()
	var aLog hosttest.Buffer
	other := newHost(t, ts, Options{ID: "a", Instance: "two"}) // made while no host runs as a
	a := startHostOpts(t, ts, Options{ID: "a", Instance: "one", Logger: logTo(&aLog)})
	waitSpread(t, 4, 30*time.Second, a)
	pub := newPublisher(js, 20)
	pub.publish(t, 400)
	owners, err := js.KeyValue(ctx, Layout{}.OwnersBucket())
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := json.Marshal(heartbeat{ID: "a", Instance: "two", Owned: []int{}, At: time.Now().UTC()})
	if _, err := owners.Put(ctx, hostKey("a"), hb); err != nil {
		t.Fatal(err)
	}
	other.run()
	moved := waitSpread(t, 4, 30*time.Second, other)
	t.Logf("the other instance owned every partition %v after it wrote a's heartbeat", moved)
	if o := a.Owned(); len(o) > 0 {
		t.Errorf("a still applies %v while the other instance owns every partition", o)
	}
	const loud = "another host runs with this host's id"
	hosttest.Eventually(t, 30*time.Second, func() bool { return len(linesWith(aLog.String(), "level=ERROR", loud)) >= 2 },
		"a saying at each renewal that another host runs with its id")
	if l := linesWith(aLog.String(), loud)[0]; !strings.Contains(l, "instance two") {
		t.Errorf("a's error does not name the other instance: %s", l)
	}
	pub.publish(t, 400)
	waitExact(t, js, pub, 60*time.Second)
	other.stop()
	back := waitSpread(t, 4, 30*time.Second, a)
	t.Logf("after the other instance stopped, a owned every partition again in %v", back)
	if len(linesWith(aLog.String(), "taking partitions again")) == 0 {
		t.Errorf("a's log does not say it takes partitions again:\n%s", aLog.String())
	}
	pub.publish(t, 400)
	waitExact(t, js, pub, 60*time.Second)
}
