package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/internal/screen"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestWindowCluster: two cluster hosts share a stream of 4 partitions;
// the window started with --connect to one of them (alpha) shows one of
// its partitions, and its Cluster tab says which partitions alpha
// applies, which one the window shows, and the cluster's table of hosts
// and partitions with their owners; picking alpha's other partition
// shows that one.
func TestWindowCluster(t *testing.T) {
	st := startStudioTest(t)
	url := startNATS(t)
	if r := runCLI(t, nil, "nats", "init", "--nats", url, "--partitions", "4"); r.code != 0 {
		t.Fatalf("nats init: %v", r)
	}
	dir := filepath.Join(st.home, "server", "integrations")
	st.write(filepath.Join(dir, "count.star"), countStar)
	addr := freePort(t)
	for _, args := range [][]string{{"--host-id", "alpha", "--listen", addr}, {"--host-id", "beta"}} {
		host := st.command(st.ctx, append([]string{"run", "--headless", "--in-process", "--no-defaults", "--nats", url, "--dir", dir}, args...)...)
		host.Stdout, host.Stderr = st.log, st.log
		if err := host.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = host.Process.Kill(); _ = host.Wait() })
	}
	waitOwners(t, url, st.timeout, "alpha", "beta")
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	publishTicks(t, js, make([]int, 8), 80)

	st.start("--connect", "http://"+addr, "--tab", "cluster") // the same user: the token is this user's
	owned := alphaOwns(t, st, "http://"+addr)
	first, second := owned[0], owned[1]
	p := st.waitFor("the Cluster tab: alpha's partitions and the cluster's table", st.shows(
		on{"Host", "alpha", "applies", "partitions", fmt.Sprintf("%d,", first), fmt.Sprint(second), "of", "4"},
		on{"shows", "partition", fmt.Sprintf("%d.", first)},
		on{"PARTITION", "OWNER", "SEQ", "LAG"},
		on{"beta"},
		on{"count", "g1"}))
	st.do(st.d.ClickWord(st.ctx, wordAfter(t, p, "Show", "partition")))
	p = st.waitFor("the picker open", func(p *screen.Page) bool { _, ok := findAfter(p, "partition", fmt.Sprint(second)); return ok })
	st.do(st.d.ClickWord(st.ctx, wordAfter(t, p, "partition", fmt.Sprint(second))))
	st.waitFor("the window showing alpha's other partition", st.shows(on{"shows", "partition", fmt.Sprintf("%d.", second)}))
}

// alphaOwns returns the partitions the host at base applies, once it
// applies two (the stream's 4 over two hosts).
func alphaOwns(t *testing.T, st *studioTest, base string) []int {
	t.Helper()
	token := apiToken(t, st.bin, st.env)
	deadline := time.Now().Add(st.timeout)
	for {
		cv, err := client.New(base, token).Cluster(st.ctx)
		if err == nil && len(cv.Owned) == 2 {
			return cv.Owned
		}
		if time.Now().After(deadline) {
			t.Fatalf("alpha does not apply two partitions: %+v, %v", cv, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// findAfter returns the word after the word first on a line of the page
// when it reads second (its value, not its place: OCR splits rows).
func findAfter(p *screen.Page, first, second string) (screen.Word, bool) {
	for _, l := range p.Lines {
		for i := 1; i < len(l.Words); i++ {
			if l.Words[i-1].Text == first && (second == "" || l.Words[i].Text == second) {
				return l.Words[i], true
			}
		}
	}
	return screen.Word{}, false
}

// wordAfter is findAfter, failing the test when the page has no such
// words.
func wordAfter(t *testing.T, p *screen.Page, first, second string) screen.Word {
	t.Helper()
	w, ok := findAfter(p, first, second)
	if !ok {
		t.Fatalf("no %q followed by %q on the screen (%s):\n%s", first, second, p.Shot, p.Text())
	}
	return w
}
