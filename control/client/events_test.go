package client

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/control"
)

// emitAnswers are bodies of answers to POST /v1/events/{event}; the
// first ones are what the API writes, which parseEmitResponse must read
// itself.
var emitAnswers = []string{
	`{"results":null,"duplicate":true}` + "\n", `{"results":null}` + "\n", `{"results":[]}`,
	`{"results":[{"integration":"analytics","event":"response_received","generation":1,"depth":0,"ok":true,"result":{"count":256,"mean":34.85546875,"p50":35,"l":[1,"x",null,false]},"error":null,"duration_us":23.095}]}`,
	`{"results":[{"integration":"x","event":"e","generation":2,"depth":1,"ok":false,"result":null,"error":{"file":"a.star","line":1,"col":2,"message":"boom \"q\"","kind":"runtime","backtrace":"bt"},"duration_us":0.001}]}`,
	`{"results":[{"integration":"\u003cb\u003e","event":"e","generation":1,"depth":0,"ok":true,"result":"é \n","error":null,"duration_us":1e3}]}`,
	`{"results":[{"integration":"a","event":"e","generation":1,"depth":0,"ok":true,"result":null,"error":null,"duration_us":2,"emitted":[{"event":"alert","data":{"n":2,"l":[1,"x"]}},{"event":"b","data":null}]}]}`,
	`{"results":[{"Integration":"x"}]}`, `{"results":[{"new_field":1}]}`, `{"results":[{"ok":null}]}`, `{"results":[{"generation":1.5}]}`,
	`{"results":[{"duration_us":1e300}]}`, `{"results":[{"emitted":{}}]}`, `{"results":[{"emitted":[],"emitted":[]}]}`, `{"results":[{"duration_us":"1"}]}`, `{"results":[{"ok":true,"ok":false}]}`, `{"results":[{"error":{"file":"a","line":1},"error":{"col":2}}]}`, `{"results":[{"error":{"line":"x"}}]}`,
	`{"results":[], "results":null}`, `{"results":[]} trailing`, `{"results":[`, `{"other":1}`, `[]`, ``,
}

// decodeInto decodes body as do does.
func decodeInto[T any](body string) (T, error) {
	var out T
	err := json.NewDecoder(strings.NewReader(body)).Decode(&out)
	return out, err
}

// TestParseEmitResponseIsDecode: parseEmitResponse reads what the
// json.Decoder of do reads, and reads the API's answers itself.
func TestParseEmitResponseIsDecode(t *testing.T) {
	for i, body := range emitAnswers {
		var got control.EmitResponse
		ok := parseEmitResponse([]byte(body), &got)
		if i < 7 && !ok {
			t.Errorf("parseEmitResponse(%s) refused; it must read it itself", body)
		}
		if !ok {
			continue
		}
		want, err := decodeInto[control.EmitResponse](body)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseEmitResponse(%s) = %#v; json.Decoder: %#v, %v", body, got, want, err)
		}
	}
}

// TestParseBatchResponseIsDecode: the same for answers to POST
// /v1/events.
func TestParseBatchResponseIsDecode(t *testing.T) {
	for i, body := range []string{
		`{"events":null}`, `{"events":[]}`, `{"events":[{"results":null,"duplicate":true},{"results":null,"error":"events[1]: id: empty","duplicate":false}]}`,
		`{"events":[{"results":[{"integration":"a","event":"e","generation":1,"depth":0,"ok":true,"result":1,"error":null,"duration_us":2.5}]},{"results":null,"error":"events[1]: invalid event name \"a b\""},{"results":[]}]}`,
		`{"events":[{}]}`, `{"events":[{"error":"x","error":"y"}]}`, `{"events":[{"Error":"x"}]}`, `{"events":[null]}`, `{"events":{}}`,
	} {
		var got control.BatchResponse
		ok := parseBatchResponse([]byte(body), &got)
		if i < 5 && !ok {
			t.Errorf("parseBatchResponse(%s) refused; it must read it itself", body)
		}
		if !ok {
			continue
		}
		want, err := decodeInto[control.BatchResponse](body)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseBatchResponse(%s) = %#v; json.Decoder: %#v, %v", body, got, want, err)
		}
	}
}

// TestAppendBatchRequestIsMarshal: the batch's body is json.Marshal's.
func TestAppendBatchRequestIsMarshal(t *testing.T) {
	for _, req := range []control.BatchRequest{{}, {Events: []control.BatchEvent{}}, {Events: []control.BatchEvent{
		{Event: "a<b", Data: map[string]any{"n": 1, "f": 2.5, "s": []string{"x"}, "m": map[string]any{"z": nil}}}, {Event: "nil data"}, {Event: "with id", ID: "evt-1 \"q\""},
	}}} {
		want, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendBatchRequest(nil, &req)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("appendBatchRequest:\n got %s\nwant %s", got, want)
		}
	}
	if _, ok := appendBatchRequest(nil, &control.BatchRequest{Events: []control.BatchEvent{{Data: map[string]any{"f": func() {}}}}}); ok {
		t.Error("appendBatchRequest of a func is ok")
	}
}
