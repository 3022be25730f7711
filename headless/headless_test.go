package headless

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// echoModule logs and returns the "n" of a ping, and fails on "fail".
const echoModule = `def on_ping(event, ctx):
    ctx.log("ping", event.data.get("n", 0))
    return {"pong": event.data.get("n", 0)}

def on_fail(event, ctx):
    return event.data["missing"]

integration(name = "echo", handlers = {"ping": on_ping, "fail": on_fail})
`

// newManager returns a host whose only integration is echo (as a
// default, so that nothing is written to disk), not yet loaded: a test
// makes its Host first, so that the load notices are written, then calls
// hosttest.Load.
func newManager(t *testing.T) *starhost.Manager {
	t.Helper()
	return hosttest.New(t, hosttest.Defaults(fstest.MapFS{"echo.star": {Data: []byte(echoModule)}}), hosttest.Unloaded())
}

// serve runs a Host over input the way `afstudio run --headless` does
// (New, load, Serve, Close) and returns the output lines.
func serve(t *testing.T, input string, opts Options) (lines []starhost.Notice, serveErr error) {
	t.Helper()
	m := newManager(t)
	var out bytes.Buffer
	h := New(m, &out, opts)
	hosttest.Load(t, m)
	serveErr = h.Serve(context.Background(), strings.NewReader(input))
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return decodeLines(t, out.String()), serveErr
}

// decodeLines decodes every output line as one notice.
func decodeLines(t *testing.T, out string) []starhost.Notice {
	t.Helper()
	var ns []starhost.Notice
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var n starhost.Notice
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&n); err != nil {
			t.Fatalf("output line %q is not one notice: %v", sc.Text(), err)
		}
		ns = append(ns, n)
	}
	return ns
}

// brief is a notice in a few words, without times and durations.
func brief(n starhost.Notice) string {
	switch {
	case n.Kind == starhost.NoticeResult && n.Result != nil:
		v, _ := json.Marshal(n.Result.Value)
		if n.Result.Error != nil {
			return fmt.Sprintf("result %s %s failed: %s", n.Integration, n.Event, n.Result.Error.Msg)
		}
		if n.ID != "" {
			return fmt.Sprintf("result %s %s %s id %s", n.Integration, n.Event, v, n.ID)
		}
		return fmt.Sprintf("result %s %s %s", n.Integration, n.Event, v)
	case n.Kind == NoticeInputError:
		return "input_error " + n.Error.Error()
	case n.Kind == NoticeDuplicate:
		return "duplicate " + n.Event + " " + n.ID
	case n.Kind == starhost.NoticeLog:
		return "log " + n.Integration + ": " + n.Message
	case n.Kind == starhost.NoticeHandlerFailed:
		return "handler_failed " + n.Integration + " " + n.Event
	}
	return string(n.Kind) + " " + n.Integration
}

const sendOneObject = `; send one JSON object per line: {"event": NAME, "data": {...}}`

func TestServe(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		opts  Options
		want  []string
	}{
		{"one event", `{"event": "ping", "data": {"n": 1}}` + "\n", Options{},
			[]string{"loaded echo", "log echo: ping 1", `result echo ping {"pong":1}`}},
		{"no data", `{"event": "ping"}`, Options{},
			[]string{"loaded echo", "log echo: ping 0", `result echo ping {"pong":0}`}},
		{"nobody handles it", `{"event": "mission_started", "data": {}}`, Options{},
			[]string{"loaded echo"}},
		{"blank lines count", "\n  \n" + `{"event": "ping"} x` + "\n", Options{},
			[]string{"loaded echo", "input_error stdin:3:19: more than one JSON value on the line" + sendOneObject}},
		{"not JSON", "this is not json\n", Options{},
			[]string{"loaded echo", "input_error stdin:1:2: invalid character 'h' in literal true (expecting 'r')" + sendOneObject}},
		{"unknown key", `{"event": "ping", "extra": true}`, Options{},
			[]string{"loaded echo", `input_error stdin:1:1: json: unknown field "extra"` + sendOneObject}},
		{"wrong type", `{"event": 7}`, Options{},
			[]string{"loaded echo", "input_error stdin:1:11: json: cannot unmarshal number into Go struct field Input.event of type string" + sendOneObject}},
		{"data not an object", `{"event": "ping", "data": [1]}`, Options{},
			[]string{"loaded echo", `input_error stdin:1:1: event data must be a JSON object like {"mission_id": "m1"}, got an array`}},
		{"bad event name", `{"event": "", "data": {}}`, Options{InputName: "events.jsonl"},
			[]string{"loaded echo", `input_error events.jsonl:1:1: invalid event name "": use a non-empty name without spaces, like "mission_started"`}},
		{"a failing handler", `{"event": "fail"}`, Options{},
			[]string{"loaded echo", "handler_failed echo fail", `result echo fail failed: key "missing" not in dict`}},
		{"CRLF and processing goes on", "nope\r\n" + `{"event": "ping", "data": {"n": 2}}` + "\r\n", Options{},
			[]string{"loaded echo", "input_error stdin:1:2: invalid character 'o' in literal null (expecting 'u')" + sendOneObject,
				"log echo: ping 2", `result echo ping {"pong":2}`}},
		{"an id is handled once", `{"event": "ping", "data": {"n": 1}, "id": "e1"}` + "\n" + `{"id": "e1", "event": "ping", "data": {"n": 1}}` + "\n" + `{"event": "ping", "id": "e2"}`, Options{},
			[]string{"loaded echo", "log echo: ping 1", `result echo ping {"pong":1} id e1`, "duplicate ping e1", "log echo: ping 0", `result echo ping {"pong":0} id e2`}},
		{"an empty id is none", `{"event": "ping", "id": ""}` + "\n" + `{"event": "ping", "id": ""}`, Options{},
			[]string{"loaded echo", "log echo: ping 0", `result echo ping {"pong":0}`, "log echo: ping 0", `result echo ping {"pong":0}`}},
		{"a bad id", `{"event": "ping", "id": "a\u0000b"}`, Options{},
			[]string{"loaded echo", `input_error stdin:1:1: id: "a\x00b" holds a control character; use printable characters`}},
		{"a refused event is not handled: its id can be sent again", `{"event": "ping", "data": [1], "id": "e1"}` + "\n" + `{"event": "ping", "id": "e1"}`, Options{},
			[]string{"loaded echo", `input_error stdin:1:1: event data must be a JSON object like {"mission_id": "m1"}, got an array`, "log echo: ping 0", `result echo ping {"pong":0} id e1`}},
		{"a recording's time is accepted and ignored", `{"event":"ping","data":{"n":3},"id":"e1","time":"2026-11-26T03:43:37.611955223Z"}` + "\n" + `{"event":"ping","time":"2026-11-26T03:43:38Z"}`, Options{},
			[]string{"loaded echo", "log echo: ping 3", `result echo ping {"pong":3} id e1`, "log echo: ping 0", `result echo ping {"pong":0}`}},
		{"a time that is not RFC 3339", `{"event": "ping", "time": "yesterday"}`, Options{},
			[]string{"loaded echo", `input_error stdin:1:1: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"` + sendOneObject}},
		{"an id not a string", `{"event": "ping", "id": 7}`, Options{},
			[]string{"loaded echo", "input_error stdin:1:25: json: cannot unmarshal number into Go struct field Input.id of type string" + sendOneObject}},
		{"a line too long is skipped", `{"event": "ping", "data": {"n": 1, "pad": "` + strings.Repeat("x", 100) + `"}}` + "\n" + `{"event": "ping"}` + "\n", Options{MaxLineBytes: 64},
			[]string{"loaded echo", "input_error stdin:1:1: the line is longer than 64 bytes and was skipped; send one event per line, each at most that long",
				"log echo: ping 0", `result echo ping {"pong":0}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, err := serve(t, tc.input, tc.opts)
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			var got []string
			for _, n := range lines {
				got = append(got, brief(n))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestServeOrder: the notices an event's handlers cause are written
// before its results, and the results of line N before anything line N+1
// causes, however fast the lines come.
func TestServeOrder(t *testing.T) {
	const n = 500
	var in strings.Builder
	want := []string{"loaded echo"}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&in, `{"event": "ping", "data": {"n": %d}}`+"\n", i)
		want = append(want, fmt.Sprintf("log echo: ping %d", i), fmt.Sprintf(`result echo ping {"pong":%d}`, i))
	}
	lines, err := serve(t, in.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i, l := range lines {
		if got := brief(l); got != want[i] {
			t.Fatalf("line %d is %q, want %q (lines out of order)", i+1, got, want[i])
		}
	}
}

// TestNoticesBetweenEvents: notices published while no event is read
// (reloads, results of events delivered through the control API) are
// written as they come, event notices are left out, and the result
// notice is the same JSON object as starhost.Notice's.
func TestNoticesBetweenEvents(t *testing.T) {
	m := newManager(t)
	out := &hosttest.Buffer{}
	h := New(m, out, Options{})
	defer h.Close()
	hosttest.Load(t, m)
	rs, err := m.Emit(context.Background(), "ping", map[string]any{"n": 3}) // an event notice, a log notice
	if err != nil || len(rs) != 1 {
		t.Fatalf("Emit: %v %v", rs, err)
	}
	api := starhost.Notice{Kind: starhost.NoticeResult, Time: time.Now(), Integration: "echo", Event: "ping", Generation: 1, Result: &rs[0]}
	m.Notify(api)
	wantLast, err := json.Marshal(api)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	}()
	hosttest.Eventually(t, 5*time.Second, func() bool { return strings.HasSuffix(out.String(), string(wantLast)+"\n") },
		"the result notice written as is, as the last line: "+string(wantLast))
	var got []string
	for _, n := range decodeLines(t, out.String()) {
		got = append(got, brief(n))
	}
	want := []string{"loaded echo", "log echo: ping 3", `result echo ping {"pong":3}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestServeEnds(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		m := newManager(t)
		h := New(m, io.Discard, Options{})
		pr, pw := io.Pipe() // never written: Serve waits for a line
		defer pw.Close()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- h.Serve(ctx, pr) }()
		cancel()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Serve = %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return when its context ended")
		}
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Run("read error", func(t *testing.T) {
		m := newManager(t)
		var out bytes.Buffer
		h := New(m, &out, Options{})
		in := io.MultiReader(strings.NewReader(`{"event": "ping"}`+"\n"), errReader{})
		err := h.Serve(context.Background(), in)
		if err == nil || !strings.Contains(err.Error(), "read stdin line 2: disk on fire") {
			t.Errorf("Serve = %v, want the read error with its line", err)
		}
		h.Close()
		lines := decodeLines(t, out.String())
		if last := lines[len(lines)-1]; last.Kind != NoticeInputError || last.Error.Error() != "stdin:2:1: cannot read the input: disk on fire" {
			t.Errorf("last line %+v, want the read error as an input error", last)
		}
	})
	t.Run("write error", func(t *testing.T) {
		m := newManager(t)
		h := New(m, errWriter{}, Options{})
		hosttest.Load(t, m)
		err := h.Serve(context.Background(), strings.NewReader(`{"event": "ping"}`+"\n"+`{"event": "ping"}`+"\n"))
		if err == nil || !strings.Contains(err.Error(), "write the output: pipe closed") {
			t.Errorf("Serve = %v, want the write error", err)
		}
		if err := h.Close(); err == nil {
			t.Error("Close returned no error after a failed write")
		}
		if err := h.Serve(context.Background(), strings.NewReader(`{"event": "ping"}`)); !errors.Is(err, ErrClosed) {
			t.Errorf("Serve after Close = %v, want ErrClosed", err)
		}
	})
}

// TestSlowOutput: when the output stalls, notices beyond the buffer are
// lost (and counted), results never are.
func TestSlowOutput(t *testing.T) {
	m := newManager(t)
	out := &gatedWriter{gate: make(chan struct{})}
	h := New(m, out, Options{})
	ctx := context.Background()
	hosttest.Load(t, m) // the loaded notice: its write waits at the gate
	for i := range 5000 {
		m.Notify(starhost.Notice{Kind: starhost.NoticeLog, Integration: "echo", Message: fmt.Sprint("filler ", i)})
	}
	errc := make(chan error, 1)
	go func() { errc <- h.Serve(ctx, strings.NewReader(`{"event": "ping", "data": {"n": 7}}`+"\n")) }()
	close(out.gate)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if h.Dropped() == 0 {
		t.Error("Dropped() = 0; 5000 notices cannot all have waited in the buffer")
	}
	lines := decodeLines(t, out.String())
	if last := brief(lines[len(lines)-1]); last != `result echo ping {"pong":7}` {
		t.Errorf("last line %q, want the result", last)
	}
}

// gatedWriter is a hosttest.Buffer whose writes wait until gate is
// closed.
type gatedWriter struct {
	gate chan struct{}
	hosttest.Buffer
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	<-w.gate
	return w.Buffer.Write(p)
}

func TestReadLine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		max   int
		want  []string // "!" marks a line too long
	}{
		{"lines", "a\nbb\n", 10, []string{"a", "bb"}},
		{"no final newline", "a\nbb", 10, []string{"a", "bb"}},
		{"CRLF", "a\r\nbb\r\n", 10, []string{"a", "bb"}},
		{"empty lines", "\n\nc\n", 10, []string{"", "", "c"}},
		{"nothing", "", 10, nil},
		{"exactly max", "abcd\nabcde\n", 4, []string{"abcd", "!"}},
		{"longer than the read buffer", strings.Repeat("x", 40) + "\nok\n" + strings.Repeat("y", 20), 30, []string{"!", "ok", strings.Repeat("y", 20)}},
		{"long final line", "ok\n" + strings.Repeat("z", 50), 30, []string{"ok", "!"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.input), 16) // the smallest: long lines span reads
			var got []string
			for {
				line, tooLong, err := readLine(br, tc.max)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if tooLong {
					got = append(got, "!")
					continue
				}
				got = append(got, string(line))
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("lines %q, want %q", got, tc.want)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("pipe closed") }
