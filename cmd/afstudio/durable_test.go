package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

// counterSource counts its events in ctx.state["n"] and returns the count.
const counterSource = `def on_tick(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    ctx.state["log"] = (ctx.state.get("log", []) + [event.data["i"]])[-50:]
    return ctx.state["n"]

integration(name = "counter", handlers = {"tick": on_tick})
`

// TestStateSurvivesKill kills a real headless host (SIGKILL) in the middle
// of a stream of events and starts it again on the same state folder: the
// state it restores is complete (valid, with the last 50 event numbers in
// order, ending at the count), never more than what was handled, and no
// older than what the host had handled a second before the kill (the loss
// bound is --flush plus one write; a second leaves room for a slow
// machine).
func TestStateSurvivesKill(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	bin := buildBinary(t)
	dir := hosttest.TempDir(t, map[string]string{"counter.star": counterSource})
	data := t.TempDir()
	args := []string{"--no-defaults", "--no-watch", "--dir", dir, "--data", data, "--flush", "50ms"}
	p := startHost(t, bin, nil, args...)

	type seen struct {
		at time.Time
		n  int
	}
	counts := make(chan seen, 100000)
	go func() {
		for l := range p.lines {
			if l.m["kind"] == "result" && l.m["integration"] == "counter" {
				r := l.m["result"].(map[string]any)
				counts <- seen{time.Now(), int(r["result"].(float64))}
			}
		}
		close(counts)
	}()
	stopFeeding := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stopFeeding:
				return
			default:
			}
			if _, err := fmt.Fprintf(p.stdin, `{"event": "tick", "data": {"i": %d}}`+"\n", i); err != nil {
				return // killed
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var history []seen
	deadline := time.After(20 * time.Second)
	for len(history) < 2 || history[len(history)-1].at.Sub(history[0].at) < 2*time.Second {
		select {
		case s := <-counts:
			history = append(history, s)
		case <-deadline:
			t.Fatalf("%d results in 20 s:\n%s", len(history), p.log())
		}
	}
	killedAt := time.Now()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stopFeeding)
	for s := range counts {
		history = append(history, s)
	}
	handled := history[len(history)-1].n
	mustHave := 0 // the count the host had reached a second before the kill
	for _, s := range history {
		if killedAt.Sub(s.at) >= time.Second {
			mustHave = s.n
		}
	}

	out, err := exec.Command(bin, "state", "list", "--json", "--data", data).Output()
	if err != nil {
		t.Fatalf("state list after the kill: %v", err)
	}
	var row struct {
		Name  string
		State struct {
			N   int
			Log []int
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("a stored record is not whole JSON: %v\n%s", err, sc.Text())
		}
	}
	st := row.State
	if row.Name != "counter" || st.N < mustHave || st.N > handled || len(st.Log) != min(50, st.N) || st.Log[len(st.Log)-1] != st.N-1 {
		t.Fatalf("stored after the kill: %s; the host had handled %d events, %d of them a second before the kill", out, handled, mustHave)
	}
	for i := 1; i < len(st.Log); i++ {
		if st.Log[i] != st.Log[i-1]+1 {
			t.Fatalf("the stored state is torn: %v", st.Log)
		}
	}

	// The restarted host goes on from the stored count.
	p2 := startHost(t, bin, nil, args...)
	fmt.Fprintf(p2.stdin, `{"event": "tick", "data": {"i": %d}}`+"\n", st.N)
	r := p2.waitFor(t, "the first result after the restart", func(l map[string]any) bool {
		return l["kind"] == "result" && l["integration"] == "counter"
	})
	if got := resultOf(t, r)["result"]; got != float64(st.N+1) {
		t.Fatalf("after the restart the count went on from %v, want %d", got, st.N+1)
	}
	t.Logf("handled %d events; %d stored at the kill (at least %d were required); lost %d (%.0f ms of events)",
		handled, st.N, mustHave, handled-st.N, float64(handled-st.N)*float64(killedAt.Sub(history[0].at).Milliseconds())/float64(len(history)))
}
