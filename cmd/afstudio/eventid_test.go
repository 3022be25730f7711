package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// idCounter counts its events; the crash test checks the count.
const idCounter = `def on_tick(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return ctx.state["n"]

integration(name = "counter", handlers = {"tick": on_tick})
`

// freePort returns a loopback address no one listens on now, so that a
// host and the host started again after it serve on the same one.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestEventIDsSurviveKill: a retrying client sends events with ids to a
// real host (run --headless --listen --in-process) from 4 goroutines; the
// host is killed with SIGKILL mid-stream and started again on the same
// state folder and port. The counter must end at exactly the number of
// distinct ids: an id is on disk if and only if the state it produced is.
//
//   - durable sync: the client retries every event whose answer it did not
//     get (an answered event is on disk);
//   - behind (--flush 30ms, answers before the disk): after the restart
//     the client sends every id again, so that an event whose state was
//     lost is handled again and one whose state was kept is a duplicate.
func TestEventIDsSurviveKill(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	bin := buildBinary(t)
	env, _ := apiEnv(t)
	tok := apiToken(t, bin, env)
	tests := []struct {
		name      string
		args      []string
		resendAll bool
	}{
		{"durable sync, retry the unanswered", []string{"--durable", "sync"}, false},
		{"behind, send all again", []string{"--flush", "30ms"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := hosttest.TempDir(t, map[string]string{"counter.star": idCounter})
			addr := freePort(t)
			args := append([]string{"--no-defaults", "--no-watch", "--in-process", "--dir", dir, "--data", t.TempDir(), "--listen", addr}, tt.args...)
			p := startHost(t, bin, env, args...)
			url := p.waitAddr(t)
			c := client.New(url, tok)

			const ids, senders = 1200, 4
			var answered [ids]atomic.Bool
			var acks, dups, retries, handledAfter atomic.Int64
			var restarted atomic.Bool
			send := func(ctx context.Context, i int) {
				for ctx.Err() == nil {
					rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					_, err := c.EmitID(rctx, fmt.Sprint("evt-", i), "tick", map[string]any{"i": i})
					cancel()
					switch {
					case errors.Is(err, starhost.ErrDuplicateEvent):
						dups.Add(1)
					case err == nil && restarted.Load():
						handledAfter.Add(1)
					case err != nil:
						retries.Add(1) // no answer (the host is down): again
						time.Sleep(10 * time.Millisecond)
						continue
					}
					answered[i].Store(true)
					acks.Add(1)
					return
				}
			}
			sendAll := func(ctx context.Context, only func(i int) bool) {
				var wg sync.WaitGroup
				var next atomic.Int64
				for range senders {
					wg.Go(func() {
						for i := int(next.Add(1) - 1); i < ids; i = int(next.Add(1) - 1) {
							if only(i) {
								send(ctx, i)
							}
						}
					})
				}
				wg.Wait()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()

			// Kill the host once a third of the events are answered, while
			// the senders go on: they retry until it is back.
			killed := make(chan struct{})
			go func() {
				defer close(killed)
				for acks.Load() < ids/3 && ctx.Err() == nil {
					time.Sleep(time.Millisecond)
				}
				_ = p.cmd.Process.Kill()
				<-p.exited
			}()
			first := make(chan struct{})
			go func() { defer close(first); sendAll(ctx, func(int) bool { return true }) }()
			<-killed
			p2 := startHost(t, bin, env, args...)
			p2.waitAddr(t)
			restarted.Store(true)
			<-first
			if tt.resendAll {
				sendAll(ctx, func(int) bool { return true })
			}
			for i := range ids {
				if !answered[i].Load() {
					t.Fatalf("evt-%d never answered", i)
				}
			}
			raw, err := c.State(ctx, "counter")
			if err != nil {
				t.Fatal(err)
			}
			var st struct{ N int }
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatal(err)
			}
			if st.N != ids {
				t.Fatalf("the counter is at %d after the kill and the retries, want exactly %d (one per id); %d duplicates, %d retries\n%s", st.N, ids, dups.Load(), retries.Load(), p2.log())
			}
			t.Logf("%d ids; %d answers were duplicates, %d sends were retried; %d handled after the restart", ids, dups.Load(), retries.Load(), handledAfter.Load())
		})
	}
}

// TestEmitCommandID: afstudio emit --id handles an event once, keeping
// the states and the id in the state folder; without --id it keeps
// nothing; a bad id or --data without --id is a usage error.
func TestEmitCommandID(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"counter.star": idCounter})
	data := t.TempDir()
	base := []string{"emit", "--no-defaults", "--dir", dir}
	tests := []struct {
		name   string
		args   []string
		code   int
		result string // the counter's result printed, "" for none
		stderr string // contained in stderr
	}{
		{"a new id", []string{"--id", "e1", "--data", data, "tick"}, 0, "1", ""},
		{"the same id", []string{"--id", "e1", "--data", data, "tick"}, 0, "", `duplicate: id "e1": an event with this id was handled already`},
		{"another id goes on from the stored state", []string{"--data", data, "--id", "e2", "tick"}, 0, "2", ""},
		{"no id: no state", []string{"tick"}, 0, "1", ""},
		{"a bad id", []string{"--id", "a\tb", "tick"}, 2, "", "--id: id: "},
		{"--data without --id", []string{"--data", data, "tick"}, 2, "", "--data: emit keeps state only for an event with an id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append(base, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("%q:\n%v", tt.args, r)
			}
			got := ""
			if r.code == 0 && r.stdout != "" {
				lines := jsonLines(t, r.stdout)
				got = fmt.Sprint(lines[0]["result"])
			}
			if got != tt.result {
				t.Fatalf("%q: printed result %q, want %q\n%v", tt.args, got, tt.result, r)
			}
		})
	}
}
