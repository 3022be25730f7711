package control

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/starhost"
)

// eventBodies are bodies of POST /v1/events/{event}; the first ones are
// what engines send, which parseEventData must read itself.
var eventBodies = []string{
	`{}`, `{"mission_id": "m1", "latency_ms": 420}`, `{"a": [1, 2.50, {"b": null}], "s": "é \"q\" <x>", "t": true}`,
	``, "  \n", `null`, `[1]`, `"s"`, `5`, `{"a": `, `{} {}`, `{}}`, `{"a": 1e400}`, "{\"bad\": \"\xff\"}", "\u00a0{}\u00a0",
}

// TestParseEventDataIsDecodeEventData: the fast path reads what
// starhost.DecodeEventData reads, and reads the common bodies itself.
func TestParseEventDataIsDecodeEventData(t *testing.T) {
	for i, body := range eventBodies {
		got, ok := parseEventData([]byte(body))
		if i < 3 && !ok {
			t.Errorf("parseEventData(%q) refused; it must read it itself", body)
		}
		if !ok {
			continue
		}
		want, err := starhost.DecodeEventData([]byte(body))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseEventData(%q) = %#v; DecodeEventData: %#v, %v", body, got, want, err)
		}
	}
}

// batchBodies are bodies of POST /v1/events; the first ones are what
// engines send, which parseBatch must read itself.
var batchBodies = []string{
	`{"events": []}`, `{"events": null}`, `{}`,
	`{"events": [{"event": "a", "data": {"n": 1.50, "s": "x"}}, {"data": null, "event": "b"}, {"event": "c"}, {}]}`,
	`{"events": [{"event": "a", "id": "evt-1"}, {"id": null, "event": "b"}, {"event": "c", "data": {}, "id": "\u00e9"}]}`,
	`{"Events": []}`, `{"events": [{"EVENT": "a"}]}`, `{"events": [], "events": []}`, `{"events": [{"event": "a", "data": {"x": 1}}], "events": [{"data": {"y": 2}}]}`, `{"events": [{"event": "a", "event": "b"}]}`, `{"events": [{"id": "a", "id": "b"}]}`, `{"events": [{"id": 1}]}`, `{"events": [{"ID": "a"}]}`,
	`{"events": [{"event": "a", "data": {"x": 1}, "data": {"y": 2}}]}`, `{"events": [null]}`, `{"events": [{"event": null}]}`,
	`{"events": [{"event": "ping", "payload": {}}]}`, `{"events": {"event": "ping"}}`, `{"events": [{"event": "ping", "data": [1]}]}`,
	`{"events": [`, `{"events": []} x`, `{"events": []}}`, ``, `[]`,
}

// decodeBatch decodes body as the API does without the fast path.
func decodeBatch(body string) (BatchRequest, bool) {
	var req BatchRequest
	ok := decodeJSON(httptest.NewRecorder(), strings.NewReader(body), &req)
	return req, ok
}

// TestParseBatchIsDecodeBody: the fast path reads what decodeBody reads
// into a BatchRequest, and reads the common bodies itself.
func TestParseBatchIsDecodeBody(t *testing.T) {
	for i, body := range batchBodies {
		var got BatchRequest
		ok := parseBatch([]byte(body), &got)
		if i < 5 && !ok {
			t.Errorf("parseBatch(%s) refused; it must read it itself", body)
		}
		if !ok {
			continue
		}
		want, wantOK := decodeBatch(body)
		if !wantOK || !reflect.DeepEqual(got, want) {
			t.Errorf("parseBatch(%s) = %#v; decodeBody: %#v, %v", body, got, want, wantOK)
		}
	}
}

// encoded returns what writeJSON writes for v.
func encoded(t *testing.T, v any) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	writeJSON(w, 200, v)
	return w.Body.Bytes()
}

// TestAppendResponsesIsWriteJSON: the event endpoints' answers are
// byte for byte those of writeJSON (encoding/json).
func TestAppendResponsesIsWriteJSON(t *testing.T) {
	rs := []starhost.Result{
		{Integration: "a<b>", Event: "response_received", Generation: 3, Depth: 1, OK: true, Duration: 41234,
			Value: map[string]any{"p50": 35.0, "count": int64(256), "list": []any{"x", nil, true}, "": map[string]any{}}},
		{Integration: "audit", Event: "e", Error: &starhost.Diagnostic{File: "a.star", Line: 1, Col: 2, Msg: "boom \"x\"", Kind: starhost.ErrorRuntime, Backtrace: "bt"}},
	}
	for _, in := range [][]starhost.Result{nil, {}, rs} {
		got, ok := appendEmitResponse(nil, in)
		if want := encoded(t, EmitResponse{Results: in}); !ok || !bytes.Equal(got, want) {
			t.Errorf("appendEmitResponse:\n got %s\nwant %s", got, want)
		}
	}
	for _, out := range []BatchResponse{{}, {Events: []BatchResult{}}, {Events: []BatchResult{{Results: rs}, {Error: `events[1]: invalid event name "a b"`}, {Results: []starhost.Result{}}, {}}}} {
		got, ok := appendBatchResponse(nil, &out)
		if want := encoded(t, out); !ok || !bytes.Equal(got, want) {
			t.Errorf("appendBatchResponse:\n got %s\nwant %s", got, want)
		}
	}
	// What encoding/json cannot write is refused, for writeJSON to
	// answer as it always has.
	nan := []starhost.Result{{Value: math.NaN()}}
	if _, ok := appendEmitResponse(nil, nan); ok {
		t.Error("appendEmitResponse of a NaN is ok")
	}
	if _, ok := appendBatchResponse(nil, &BatchResponse{Events: []BatchResult{{Results: nan}}}); ok {
		t.Error("appendBatchResponse of a NaN is ok")
	}
	if _, err := json.Marshal(nan); err == nil {
		t.Fatal("encoding/json writes a NaN")
	}
}
