package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/recording"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// recordedInput is what TestRecordReplay sends: three events (one with
// an id, one sent again with it, a duplicate not recorded) and a bad line
// (not recorded either).
const recordedInput = `{"event": "mission_started", "data": {"mission_id": "m1"}, "id": "e1"}
{"event": "response_received", "data": {"mission_id": "m1", "latency_ms": 6200}}
this is not an event
{"event": "mission_started", "data": {"mission_id": "m1"}, "id": "e1"}
{"event": "mission_failed", "data": {"mission_id": "m1", "error": "timeout"}}
`

// resultsOf returns, in order, "integration event depth value" of every
// result line of run --headless output or replay --json output.
func resultsOf(t *testing.T, out string) []string {
	t.Helper()
	var got []string
	for _, l := range jsonLines(t, out) {
		if l["kind"] != "result" {
			continue
		}
		r := l["result"].(map[string]any)
		v, _ := json.Marshal(r["result"])
		got = append(got, fmt.Sprintf("%s %s %v %s", r["integration"], r["event"], r["depth"], v))
	}
	return got
}

// TestRecordReplay: run --headless --record (supervised and in-process)
// records the events it handled, with their ids and times, and not the
// follow-ups, the bad line or the duplicate; afstudio replay and run
// --headless < FILE handle the recording as the host handled the events.
func TestRecordReplay(t *testing.T) {
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"supervised worker", nil},
		{"in-process", []string{"--in-process"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.jsonl")
			os.WriteFile(path, []byte("an old recording is replaced\n"), 0o644)
			args := append([]string{"run", "--headless", "--dir", t.TempDir(), "--record", path}, mode.args...)
			r := runCLI(t, strings.NewReader(recordedInput), args...)
			if r.code != 0 {
				t.Fatalf("run --headless --record:\n%v", r)
			}
			original := resultsOf(t, r.stdout)
			if len(original) != 12 {
				t.Fatalf("the host made %d calls, want 12:\n%v", len(original), r)
			}
			entries, err := recording.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				if e.Time.IsZero() {
					t.Errorf("entry %s has no time", e.Event)
				}
				got = append(got, fmt.Sprintf("%s %s %s", e.ID, e.Event, e.Data))
			}
			want := []string{`e1 mission_started {"mission_id":"m1"}`, ` response_received {"latency_ms":6200,"mission_id":"m1"}`, ` mission_failed {"error":"timeout","mission_id":"m1"}`}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("recorded\n%q\nwant\n%q", got, want)
			}
			if !strings.Contains(r.stderr, "recorded=3") {
				t.Errorf("stderr does not say 3 events were recorded:\n%s", r.stderr)
			}

			// afstudio replay --json: the same results.
			rp := runCLI(t, nil, "replay", "--json", path)
			if rp.code != 0 || !reflect.DeepEqual(resultsOf(t, rp.stdout), original) {
				t.Errorf("replay --json: want exit 0 and the host's results\n%q\ngot\n%v", original, rp)
			}
			if !strings.Contains(rp.stderr, "replayed 3 of 3 events") || !strings.Contains(rp.stderr, "12 handler calls, 0 failed") {
				t.Errorf("replay --json summary on stderr:\n%s", rp.stderr)
			}
			// run --headless < FILE: the same results.
			rh := runCLI(t, strings.NewReader(readFile(t, path)), "run", "--headless", "--in-process", "--dir", t.TempDir())
			if rh.code != 0 || !reflect.DeepEqual(resultsOf(t, rh.stdout), original) {
				t.Errorf("run --headless < recording: want exit 0 and the host's results\n%q\ngot\n%v", original, rh)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRecordLimit: past --record-limit the recording stops, on a whole
// line, and says how many events it left out.
func TestRecordLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	var in strings.Builder
	for i := range 20 {
		fmt.Fprintf(&in, `{"event": "ping", "data": {"n": %d}}`+"\n", 100+i)
	}
	r := runCLI(t, strings.NewReader(in.String()), "run", "--headless", "--in-process", "--no-defaults", "--dir", t.TempDir(),
		"--record", path, "--record-limit", "1KiB")
	if r.code != 0 {
		t.Fatalf("run:\n%v", r)
	}
	b := readFile(t, path)
	entries, err := recording.ReadFile(path)
	if err != nil || len(b) > 1024 || !strings.HasSuffix(b, "\n") || len(entries) == 0 || len(entries) == 20 {
		t.Fatalf("%d bytes, %d entries (%v): want whole lines, fewer than 20, within 1 KiB:\n%s", len(b), len(entries), err, b)
	}
	for i, e := range entries {
		if string(e.Data) != fmt.Sprintf(`{"n":%d}`, 100+i) {
			t.Errorf("entry %d: %s, want the events in order", i, e.Data)
		}
	}
	for _, want := range []string{"reached its limit of 1KiB", fmt.Sprintf("recorded=%d not_recorded=%d", len(entries), 20-len(entries))} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, `"reached its limit`) && !strings.Contains(r.stdout, "reached its limit") {
		t.Errorf("no notice on stdout says the recording is full:\n%s", r.stdout)
	}
}

func TestRecordBadFile(t *testing.T) {
	r := runCLI(t, nil, "run", "--headless", "--in-process", "--record", filepath.Join(t.TempDir(), "no", "such", "dir", "r.jsonl"))
	if r.code != 1 || !strings.Contains(r.stderr, "--record ") || !strings.Contains(r.stderr, "choose a file in a folder you can write") {
		t.Errorf("want exit 1 naming --record and what to do:\n%v", r)
	}
}

func TestReplay(t *testing.T) {
	dir := hosttest.TempDir(t, goodTree)
	rec := func(lines ...string) string {
		path := filepath.Join(t.TempDir(), "r.jsonl")
		hosttest.WriteFile(t, path, strings.Join(lines, "\n")+"\n")
		return path
	}
	good := rec(`{"event":"ping","data":{"who":"ada"},"time":"2026-01-01T00:00:00Z"}`, `{"event":"ping","data":{"who":"bo"},"time":"2026-01-01T00:00:00.2Z"}`)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings, in order
		stderr string
	}{
		{"text", []string{good}, 0, []string{
			`1 ping greeter ok {"greeting":"hello ada","mean":null,"pings":1}`, `1 ping second ok "second"`,
			`2 ping greeter ok {"greeting":"hello bo","mean":null,"pings":2}`, "replayed 2 of 2 events from " + good, "4 handler calls, 0 failed"}, ""},
		{"at the recorded pace", []string{"--speed", "1", good}, 0, []string{"replayed 2 of 2 events"}, ""},
		{"a failing handler", []string{rec(`{"event":"explode"}`)}, 1, []string{`1 explode greeter failed ` + filepath.Join(dir, "greeter.star") + `:9:22: key "missing" not in dict`, "1 handler calls, 1 failed"}, ""},
		{"a bad line", []string{rec(`{"event":"ping"}`, `{"event":"ping","data":[1]}`)}, 2, nil, `:2:1: the data of event "ping" is not a JSON object`},
		{"no such file", []string{"/no/such/file.jsonl"}, 2, nil, "read the recording: open /no/such/file.jsonl"},
		{"speed and fastest", []string{"--speed", "2", "--as-fast-as-possible", good}, 2, nil, "not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"replay", "--no-defaults", "--dir", dir}, tc.args...)
			r := runCLI(t, nil, args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("want exit %d, stderr with %q:\n%v", tc.code, tc.stderr, r)
			}
			hasInOrder(t, r.stdout, tc.stdout...)
		})
	}
}

// TestRecordAPIEvents: the events the control API is sent are recorded
// too (with the Idempotency-Key as id), in the order the host accepted
// them, and follow-ups are not: the recorder hears the host, not a front
// end.
func TestRecordAPIEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	o := recordFlags{path: path}
	rec, err := o.startRecording(false, newLogger(io.Discard, slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	hf := hostFlags{onEvent: rec.record}
	m, _, err := hf.newManager(nil)
	if err != nil {
		t.Fatal(err)
	}
	loadReporting(context.Background(), m, io.Discard)
	srv := httptest.NewServer(control.NewHandler(m, control.Options{Token: "tok"}))
	defer srv.Close()
	post := func(path, body, id string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		if id != "" {
			req.Header.Set("Idempotency-Key", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
	}
	post("/v1/events/mission_failed", `{"mission_id":"m1","error":"x"}`, "k1")
	post("/v1/events", `{"events": [{"event":"mission_started","data":{"mission_id":"m2"}},{"event":"mission_completed","data":{"mission_id":"m2"},"id":"k2"}]}`, "")
	if err := rec.close(); err != nil {
		t.Fatal(err)
	}
	entries, err := recording.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.ID+" "+e.Event)
	}
	if want := []string{"k1 mission_failed", " mission_started", "k2 mission_completed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("recorded %q, want %q (no alert_raised follow-up)", got, want)
	}
}

// hasInOrder fails the test unless out holds each of parts, in order.
func hasInOrder(t *testing.T, out string, parts ...string) {
	t.Helper()
	rest := out
	for _, s := range parts {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("output lacks %q (in order):\n%s", s, out)
		}
		rest = rest[i+len(s):]
	}
}
