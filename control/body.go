package control

import (
	"net/http"
	"strconv"

	"github.com/afstudio/afstudio/control/internal/jsonwire"
	"github.com/afstudio/afstudio/starhost"
)

// The event endpoints read each body into a pooled buffer, decode it
// with jsonwire and write the answer into the same buffer: no reflection,
// and no allocation but the event data itself and what the host makes.
// Whatever jsonwire does not handle goes through encoding/json on the
// same bytes, so answers and error messages are those of encoding/json.

// readBody reads r's body, at most limit bytes (http.MaxBytesReader),
// into *buf (see jsonwire.ReadAll).
func readBody(w http.ResponseWriter, r *http.Request, limit int64, buf *[]byte) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return jsonwire.ReadAll(r.Body, min(r.ContentLength, limit), buf)
}

// writeBody answers status with body as JSON, with its length.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// parseEventData decodes the body of POST /v1/events/{event} as
// starhost.DecodeEventData does, for the bodies jsonwire handles: one
// JSON object, numbers as json.Number; ok is false for anything else.
func parseEventData(body []byte) (map[string]any, bool) {
	p := jsonwire.NewParser(body)
	p.UseNumber = true
	data, ok := p.MapValue()
	return data, ok && p.End()
}

// parseBatch decodes the body of POST /v1/events as decodeBody does into
// a BatchRequest, for the bodies jsonwire handles: the exact field names,
// each at most once; ok is false for anything else (a field name in
// another case, an unknown field, a syntax error...).
func parseBatch(body []byte, req *BatchRequest) bool {
	p := jsonwire.NewParser(body)
	p.UseNumber = true
	seen := false
	ok := p.Object(func(key string) bool {
		if key != "events" || seen {
			return false
		}
		seen = true
		if p.Null() {
			return true
		}
		req.Events = []BatchEvent{}
		return p.Array(func() bool {
			var ev BatchEvent
			var haveEvent, haveData, haveID bool
			ok := p.Object(func(key string) bool {
				switch {
				case key == "id" && !haveID:
					haveID = true
					if p.Null() {
						return true
					}
					var ok bool
					ev.ID, ok = p.String()
					return ok
				case key == "event" && !haveEvent:
					haveEvent = true
					var ok bool
					ev.Event, ok = p.String()
					return ok
				case key == "data" && !haveData:
					haveData = true
					if p.Null() {
						return true
					}
					var ok bool
					ev.Data, ok = p.MapValue()
					return ok
				}
				return false
			})
			req.Events = append(req.Events, ev)
			return ok
		})
	})
	return ok && p.End()
}

// appendEmitResponse appends the JSON of EmitResponse{Results: rs} as
// writeJSON writes it (with its final newline).
func appendEmitResponse(b []byte, rs []starhost.Result) ([]byte, bool) {
	b = append(b, `{"results":`...)
	b, ok := jsonwire.AppendResults(b, rs)
	return append(b, "}\n"...), ok
}

// appendBatchResponse appends the JSON of out as writeJSON writes it.
func appendBatchResponse(b []byte, out *BatchResponse) ([]byte, bool) {
	if out.Events == nil {
		return append(b, "{\"events\":null}\n"...), true
	}
	b = append(b, `{"events":[`...)
	for i := range out.Events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"results":`...)
		var ok bool
		if b, ok = jsonwire.AppendResults(b, out.Events[i].Results); !ok {
			return b, false
		}
		if e := out.Events[i].Error; e != "" {
			b = append(b, `,"error":`...)
			b = jsonwire.AppendString(b, e)
		}
		if out.Events[i].Duplicate {
			b = append(b, `,"duplicate":true`...)
		}
		b = append(b, '}')
	}
	return append(b, "]}\n"...), true
}
