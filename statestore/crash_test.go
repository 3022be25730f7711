package statestore

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// The crash test: a child process writes counters through a Writer as fast
// as it can and is killed with SIGKILL in the middle; the file must open
// cleanly with every record whole, no counter behind what the child knew
// was flushed, and no state older than the loss bound.

var crashNames = []string{"c0", "c1", "c2", "c3"}

const crashInterval = 100 * time.Millisecond

// crashWriter (a child role) counts in crashNames from their stored values
// on. In mode "flush" it calls Flush again and again and after each one
// prints "flushed c0=N ...", the values it knows are on disk; in mode
// "behind" it only writes behind and prints "progress <unix ns> c0=N ..."
// every few milliseconds.
func crashWriter() error {
	s, err := Open(os.Getenv("STATESTORE_TEST_PATH"), Options{})
	if err != nil {
		return err
	}
	mode := os.Getenv("STATESTORE_TEST_MODE")
	var mu sync.Mutex
	counts := map[string]int{}
	for _, name := range crashNames {
		var st struct{ N int }
		if rec, ok, err := s.Load(name); err != nil {
			return err
		} else if ok {
			if err := json.Unmarshal(rec.State, &st); err != nil {
				return err
			}
		}
		counts[name] = st.N
	}
	pad := strings.Repeat("p", 3000) // records of a page or so
	collect := func(names []string) []Record {
		mu.Lock()
		defer mu.Unlock()
		recs := make([]Record, len(names))
		for i, name := range names {
			n := counts[name]
			recs[i] = Record{Name: name, ModuleHash: strconv.Itoa(n), State: fmt.Appendf(nil, `{"n":%d,"pad":"%s","end":%d}`, n, pad, n)}
		}
		return recs
	}
	w := NewWriter(s, collect, WriterOptions{Interval: crashInterval, OnError: func(err error) { fmt.Fprintln(os.Stderr, err) }})
	line := func(prefix string) string {
		var b strings.Builder
		b.WriteString(prefix)
		for _, name := range crashNames {
			fmt.Fprintf(&b, " %s=%d", name, counts[name])
		}
		return b.String()
	}
	deadline := time.Now().Add(30 * time.Second) // if the parent never kills
	last := time.Now()
	for i := 0; time.Now().Before(deadline); i++ {
		name := crashNames[i%len(crashNames)]
		mu.Lock()
		counts[name]++
		mu.Unlock()
		w.Changed(name)
		// Mode flush flushes back to back, so that a kill lands in a
		// commit often; mode behind prints every 5ms.
		if i%64 != 0 || (mode == "behind" && time.Since(last) < 5*time.Millisecond) {
			continue
		}
		last = time.Now()
		mu.Lock()
		msg := line("progress " + strconv.FormatInt(last.UnixNano(), 10))
		if mode == "flush" {
			msg = line("flushed")
		}
		mu.Unlock()
		if mode == "flush" {
			if err := w.Flush(context.Background()); err != nil {
				return err
			}
		}
		fmt.Println(msg)
	}
	return w.Close(context.Background())
}

// parseCounts reads the name=N fields of a child's line.
func parseCounts(t *testing.T, fields []string) map[string]int {
	counts := map[string]int{}
	for _, f := range fields {
		name, v, ok := strings.Cut(f, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			t.Fatalf("bad field %q", f)
		}
		counts[name] = n
	}
	return counts
}

func TestCrash(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("kill -9 is a Unix test")
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	// The loss bound checked in mode "behind": the interval plus one
	// flush, with room for a slow fsync and two noisy cores.
	const bound = crashInterval + 400*time.Millisecond
	tests := []struct {
		mode string
		// after how many lines the parent kills the child (at random)
		minLines, maxLines int
	}{
		{"flush", 10, 200},
		{"behind", 40, 120},
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			path := t.TempDir() + "/" + FileName
			for round := range 6 {
				cmd := child(t, "crash", path)
				cmd.Env = append(cmd.Env, "STATESTORE_TEST_MODE="+tt.mode)
				stdout, err := cmd.StdoutPipe()
				must(t, err)
				started := time.Now()
				must(t, cmd.Start())
				sc := bufio.NewScanner(stdout)
				kill := tt.minLines + r.IntN(tt.maxLines-tt.minLines)
				var flushed map[string]int // the last values reported flushed
				var progress []time.Time   // mode behind: when each line's values were reached
				var values []map[string]int
				lines := 0
				for lines < kill && sc.Scan() {
					f := strings.Fields(sc.Text())
					switch {
					case len(f) > 0 && f[0] == "flushed":
						flushed = parseCounts(t, f[1:])
					case len(f) > 1 && f[0] == "progress":
						ns, err := strconv.ParseInt(f[1], 10, 64)
						must(t, err)
						progress = append(progress, time.Unix(0, ns))
						values = append(values, parseCounts(t, f[2:]))
					default:
						t.Fatalf("child said %q", sc.Text())
					}
					lines++
				}
				if tt.mode == "flush" && round%2 == 1 {
					// Kill in the next flush rather than just before it.
					time.Sleep(time.Duration(r.IntN(4000)) * time.Microsecond)
				}
				killedAt := time.Now()
				must(t, cmd.Process.Signal(os.Kill))
				_ = cmd.Wait()
				if lines < kill {
					t.Fatalf("round %d: the child stopped after %d lines: %v", round, lines, sc.Err())
				}

				s, err := Open(path, Options{})
				if err != nil {
					t.Fatalf("round %d: reopen after kill -9: %v", round, err)
				}
				must(t, s.db.View(func(tx *bbolt.Tx) error {
					for err := range tx.Check() {
						t.Errorf("round %d: bbolt check: %v", round, err)
					}
					return nil
				}))
				var maxLoss time.Duration
				for _, name := range crashNames {
					rec, ok, err := s.Load(name)
					must(t, err)
					var st struct{ N, End int }
					if !ok {
						t.Errorf("round %d: %s not stored", round, name)
					} else if err := json.Unmarshal(rec.State, &st); err != nil || st.N != st.End || rec.ModuleHash != strconv.Itoa(st.N) {
						t.Errorf("round %d: %s: torn record (%v): hash %s, state %.40s...%s", round, name, err, rec.ModuleHash, rec.State, rec.State[max(0, len(rec.State)-20):])
					}
					if flushed != nil && st.N < flushed[name] {
						t.Errorf("round %d: %s = %d after the kill, but %d was reported flushed", round, name, st.N, flushed[name])
					}
					if len(values) > 0 {
						// The restored value was reached no earlier than the
						// last progress line at or below it.
						reached := started // the stored value was current at least until the child started
						for i, v := range values {
							if v[name] <= st.N {
								reached = progress[i]
							}
						}
						loss := killedAt.Sub(reached)
						maxLoss = max(maxLoss, loss)
						if loss > bound {
							t.Errorf("round %d: %s restored as of %v before the kill, more than %v", round, name, loss, bound)
						}
					}
				}
				if flushed != nil {
					t.Logf("round %d: killed after %d lines; last flushed %v", round, lines, flushed)
				} else {
					t.Logf("round %d: killed after %d lines; states lost at most %v", round, lines, maxLoss.Round(time.Millisecond))
				}
				must(t, s.Close())
			}
		})
	}
}
