package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost/hosttest"
)

// shapeModule answers "answer" with a value of every JSON kind and fails
// on "explode" with a runtime error, the same way on every call.
const shapeModule = `def answer(event, ctx):
    return {"n": 42, "f": 2.5, "s": "<é & \"q\">", "list": [1, None, True], "nested": {"empty": {}}}

def explode(event, ctx):
    return event.data["missing"]

integration(name = "shape", handlers = {"answer": answer, "explode": explode})
`

// shapeEvents are the calls compared: one that succeeds, one that fails.
var shapeEvents = []string{"answer", "explode"}

// durationField is the one field that differs between two runs of the
// same call.
var durationField = regexp.MustCompile(`"duration_us":[-+.eE0-9]+`)

// normalise sets duration_us to 0 in the raw JSON, and nothing else. It
// works on the bytes rather than decoding and re-encoding, which would
// hide exactly what this test is for: a key left out ("error" omitted
// instead of null), keys in another order, other escaping or spacing.
func normalise(raw []byte) string {
	return durationField.ReplaceAllString(string(raw), `"duration_us":0`)
}

// timeField is a notice's time, which differs between two runs too.
var timeField = regexp.MustCompile(`"time":"[^"]*"`)

// normaliseNotice is normalise, with the time emptied too.
func normaliseNotice(raw []byte) string {
	return timeField.ReplaceAllString(normalise(raw), `"time":""`)
}

// TestResultShapeIsOneAcrossFrontEnds: for the same call, the JSON of a
// handler result is byte for byte the same (but for duration_us) in
// `afstudio emit`, on the headless host's stdout, in the control API's
// POST /v1/events/{event} answer and in its GET /v1/notices stream; and
// the result notice is the same (but for its time) on the headless
// stdout and in the stream. Every path runs in the real binary.
func TestResultShapeIsOneAcrossFrontEnds(t *testing.T) {
	bin := buildBinary(t)
	dir := hosttest.TempDir(t, map[string]string{"shape.star": shapeModule})
	env, _ := apiEnv(t)
	got := map[string][]string{} // path -> one normalised result per shapeEvents entry

	for _, event := range shapeEvents {
		cmd := exec.Command(bin, "emit", "--no-defaults", "--dir", dir, event)
		cmd.Env = env
		out, _ := cmd.Output() // explode exits 1
		got["afstudio emit"] = append(got["afstudio emit"], normalise(bytes.TrimSuffix(out, []byte("\n"))))
	}

	p := startHost(t, bin, env, "--no-defaults", "--no-watch", "--dir", dir, "--listen", "127.0.0.1:0")
	base := p.waitAddr(t)
	var stdinNotices []string
	for _, event := range shapeEvents {
		fmt.Fprintf(p.stdin, `{"event": %q}`+"\n", event)
		raw := rawResultNotice(t, p, event)
		stdinNotices = append(stdinNotices, raw)
		got["headless stdout"] = append(got["headless stdout"], normalise(nested(t, []byte(raw))))
	}

	token := apiToken(t, bin, env)
	stream := openNotices(t, base, token)
	var streamNotices []string
	for _, event := range shapeEvents {
		got["POST /v1/events/{event}"] = append(got["POST /v1/events/{event}"], normalise(postEvent(t, base, token, event)))
		raw := stream.next(t, event)
		streamNotices = append(streamNotices, raw)
		got["GET /v1/notices"] = append(got["GET /v1/notices"], normalise(nested(t, []byte(raw))))
	}

	want := got["afstudio emit"]
	for i, event := range shapeEvents {
		if !strings.Contains(want[i], `"integration":"shape","event":"`+event+`"`) {
			t.Fatalf("afstudio emit %s printed %s", event, want[i])
		}
		t.Logf("%s: %s", event, want[i])
		for path, results := range got {
			if results[i] != want[i] {
				t.Errorf("%s: the result of %s differs from afstudio emit's:\n%s: %s\nafstudio emit: %s", path, event, path, results[i], want[i])
			}
		}
		n1, n2 := normaliseNotice([]byte(stdinNotices[i])), normaliseNotice([]byte(streamNotices[i]))
		if n1 != n2 {
			t.Errorf("the result notice of %s differs:\nheadless stdout:  %s\nGET /v1/notices: %s", event, n1, n2)
		}
	}
}

// rawResultNotice returns the next result notice for event on the
// headless host's stdout, as written.
func rawResultNotice(t *testing.T, p *hostProc, event string) string {
	t.Helper()
	l := p.waitForLine(t, "the result notice of "+event, func(l map[string]any) bool { return l["kind"] == "result" && l["event"] == event })
	return string(l.raw)
}

// nested returns the raw "result" object of a result notice.
func nested(t *testing.T, notice []byte) []byte {
	t.Helper()
	var n struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(notice, &n); err != nil || n.Result == nil {
		t.Fatalf("not a result notice: %s (%v)", notice, err)
	}
	return n.Result
}

// postEvent POSTs event (no data) and returns its one raw result.
func postEvent(t *testing.T, base, token, event string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/events/"+event, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK || len(out.Results) != 1 {
		t.Fatalf("POST /v1/events/%s: %d %s (%v)", event, resp.StatusCode, body, err)
	}
	return out.Results[0]
}

// noticeStream is an open GET /v1/notices, read as written.
type noticeStream struct {
	data chan string // the JSON of each "data:" line
}

func openNotices(t *testing.T, base, token string) *noticeStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/notices", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req) // the handler has subscribed once it answers
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/notices: %v %v", resp, err)
	}
	s := &noticeStream{data: make(chan string, 256)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				s.data <- d
			}
		}
	}()
	return s
}

// next returns the next result notice for event in the stream.
func (s *noticeStream) next(t *testing.T, event string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case d := <-s.data:
			var n struct{ Kind, Event string }
			if json.Unmarshal([]byte(d), &n) == nil && n.Kind == "result" && n.Event == event {
				return d
			}
		case <-timeout:
			t.Fatalf("no result notice of %s on GET /v1/notices", event)
		}
	}
}
