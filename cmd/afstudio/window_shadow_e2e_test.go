package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/internal/screen"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// meterWindowSrc is an integration that answers a p50 and counts its
// pings in its state, by step.
func meterWindowSrc(p50, step int) string {
	return fmt.Sprintf(`def on_ping(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + %d
    return {"p50": %d, "n": ctx.state["n"]}

integration(name = "meter", priority = "HIGH", handlers = {"ping": on_ping})
`, step, p50)
}

// TestWindowShadow drives the shadow mode in the real window: a click on
// the details' Shadow mode switch turns it on (the screen says to save),
// a save of a changed file makes a shadow (the screen shows both
// generations), events sent to the studio's control API show on the
// screen as a difference: both results side by side and the paths that
// differ; Promote makes the shadow's generation serve (the list shows
// it). The screenshots are kept (go test -artifacts); the README's
// docs/screenshots/shadow.png is one of them.
func TestWindowShadow(t *testing.T) {
	st := startStudioTest(t)
	meter := filepath.Join(st.dir, "meter.star")
	st.write(meter, meterWindowSrc(35, 1))
	addr := freePort(t)
	st.start("--no-defaults", "--dir", st.dir, "--data", filepath.Join(st.home, "data"), "--listen", addr)
	p := st.waitFor("meter live and selected, its shadow switch", st.shows(on{"meter", "g1"}, on{"Shadow", "mode"}, on{"Class", "meter"}))

	sw, ok := p.FindWord(st.ctx, screen.Loose("Shadow"))
	if !ok {
		t.Fatalf("the Shadow mode label is not on the screen (%s):\n%s", p.Shot, p.Text())
	}
	// The switch stands left of its label: track, its margin, padding.
	st.do(st.d.Click(st.ctx, sw.X-45, sw.Y+sw.H/2))
	st.waitFor("the mode on: save to start a shadow", st.shows(on{"Save the file to start a shadow"}))

	st.write(meter, meterWindowSrc(36, 2))
	st.waitFor("the shadow of the save", st.shows(on{"Serving g1", "shadow g2"}, on{"meter", "g1"}))

	c := apiClient(t, st, addr)
	for range 3 {
		if _, err := c.Emit(st.ctx, "ping", map[string]any{"mission_id": "m7"}); err != nil {
			t.Fatal(err)
		}
	}
	p = st.waitFor("the difference: counts, both results side by side, the paths", st.shows(
		on{"3 events compared", "0 equal", "3 different"},
		on{"Serving g1", "Shadow g2"},
		on{"p50", "35", "p50", "36"},
		on{"result.n", "1", "2"},
		on{"result.p50", "35", "36"},
		on{"State differences"}, on{"$.n", "3", "6"},
		on{"meter", "shadow", "3 diff", "g1"})) // the list row's note
	t.Logf("the shadow view with a difference: %s", p.Shot)

	st.click(p, "the Promote button", screen.Loose("Promote"))
	st.waitFor("the shadow's generation serving, the mode on", st.shows(
		on{"meter", "shadow on", "g2"}, on{"Generation", "2"}, on{"Save the file to start a shadow"}))
}

// TestWindowShadowAlerts is the README's shadow scenario in the real
// window (its screenshot is docs/screenshots/shadow.png): the default
// alerts copied into the folder, shadow mode turned on, its threshold
// lowered from 5000 to 2000 ms; of four responses, the two between the
// thresholds are answered differently (the shadow alerts), and the
// screen shows both results, the paths and the state the shadow would
// keep.
func TestWindowShadowAlerts(t *testing.T) {
	st := startStudioTest(t)
	src, err := os.ReadFile(filepath.Join("..", "..", "integrations", "alerts.star"))
	if err != nil {
		t.Fatal(err)
	}
	alerts := filepath.Join(st.dir, "alerts.star")
	st.write(alerts, string(src))
	addr := freePort(t)
	st.start("--no-defaults", "--dir", st.dir, "--data", filepath.Join(st.home, "data"), "--listen", addr)
	p := st.waitFor("alerts live and selected, its shadow switch", st.shows(on{"alerts", "g1"}, on{"Shadow", "mode"}, on{"Class", "alerts"}))
	sw, ok := p.FindWord(st.ctx, screen.Loose("Shadow"))
	if !ok {
		t.Fatalf("the Shadow mode label is not on the screen (%s):\n%s", p.Shot, p.Text())
	}
	st.do(st.d.Click(st.ctx, sw.X-45, sw.Y+sw.H/2))
	st.waitFor("the mode on: save to start a shadow", st.shows(on{"Save the file to start a shadow"}))
	lowered := strings.Replace(string(src), "SLOW_RESPONSE_MS = 5000", "SLOW_RESPONSE_MS = 2000", 1)
	if lowered == string(src) {
		t.Fatal("alerts.star no longer sets SLOW_RESPONSE_MS = 5000: update this test")
	}
	st.write(alerts, lowered)
	st.waitFor("the shadow of the save", st.shows(on{"Serving g1", "shadow g2"}))

	c := apiClient(t, st, addr)
	for _, ms := range []int{3400, 1200, 6200, 2600} {
		if _, err := c.Emit(st.ctx, "response_received", map[string]any{"mission_id": "m-1024", "latency_ms": ms}); err != nil {
			t.Fatal(err)
		}
	}
	p = st.waitFor("two of four answered differently, with the paths", st.shows(
		on{"4 events compared", "2 equal", "2 different"},
		on{"result.alerted", "false", "true"},
		on{"State differences"}))
	t.Logf("the shadow view of the README: %s", p.Shot)
}

// apiClient returns a client of the studio's control API at addr, once
// it listens, with the token of the test's user.
func apiClient(t *testing.T, st *studioTest, addr string) *client.Client {
	t.Helper()
	token, err := control.LoadOrCreateToken(filepath.Join(st.home, ".config", "afstudio", "token"))
	if err != nil {
		t.Fatal(err)
	}
	hosttest.Eventually(t, st.timeout, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}, "the studio's API listening on "+addr)
	return client.New("http://"+addr, token)
}
