package client

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/internal/jsonwire"
	"github.com/afstudio/afstudio/starhost"
)

// The event methods encode their requests and decode their answers with
// jsonwire, which gives the bytes and values encoding/json gives without
// its reflection; whatever jsonwire does not handle goes through
// encoding/json, as every other method's body does.

// readAll reads resp's body into *buf (see jsonwire.ReadAll).
func readAll(resp *http.Response, buf *[]byte) ([]byte, error) {
	return jsonwire.ReadAll(resp.Body, resp.ContentLength, buf)
}

// appendBatchRequest appends req as json.Marshal writes it.
func appendBatchRequest(b []byte, req *control.BatchRequest) ([]byte, bool) {
	if req.Events == nil {
		return append(b, `{"events":null}`...), true
	}
	b = append(b, `{"events":[`...)
	for i, ev := range req.Events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"event":`...)
		b = jsonwire.AppendString(b, ev.Event)
		b = append(b, `,"data":`...)
		var ok bool
		if b, ok = jsonwire.AppendValue(b, ev.Data); !ok {
			return b, false
		}
		if ev.ID != "" {
			b = append(b, `,"id":`...)
			b = jsonwire.AppendString(b, ev.ID)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), true
}

// parseEmitResponse decodes an EmitResponse as json.Decoder does, for
// the answers jsonwire handles.
func parseEmitResponse(body []byte, out *control.EmitResponse) bool {
	p := jsonwire.NewParser(body)
	var seen, seenDup bool
	ok := p.Object(func(key string) bool {
		switch {
		case key == "results" && !seen:
			seen = true
			return parseResults(p, &out.Results)
		case key == "duplicate" && !seenDup:
			seenDup = true
			var ok bool
			out.Duplicate, ok = p.Bool()
			return ok
		}
		return false
	})
	return ok && p.End()
}

// parseBatchResponse decodes a BatchResponse as json.Decoder does, for
// the answers jsonwire handles.
func parseBatchResponse(body []byte, out *control.BatchResponse) bool {
	p := jsonwire.NewParser(body)
	seen := false
	ok := p.Object(func(key string) bool {
		if key != "events" || seen {
			return false
		}
		seen = true
		if p.Null() {
			return true
		}
		out.Events = []control.BatchResult{}
		return p.Array(func() bool {
			var r control.BatchResult
			var haveResults, haveError, haveDup bool
			ok := p.Object(func(key string) bool {
				switch {
				case key == "duplicate" && !haveDup:
					haveDup = true
					var ok bool
					r.Duplicate, ok = p.Bool()
					return ok
				case key == "results" && !haveResults:
					haveResults = true
					return parseResults(p, &r.Results)
				case key == "error" && !haveError:
					haveError = true
					var ok bool
					r.Error, ok = p.String()
					return ok
				}
				return false
			})
			out.Events = append(out.Events, r)
			return ok
		})
	})
	return ok && p.End()
}

// parseResults reads a []starhost.Result (null is nil).
func parseResults(p *jsonwire.Parser, rs *[]starhost.Result) bool {
	if p.Null() {
		return true
	}
	*rs = []starhost.Result{}
	return p.Array(func() bool {
		*rs = append(*rs, starhost.Result{})
		return parseResult(p, &(*rs)[len(*rs)-1])
	})
}

// Fields of a Result, as bits, to refuse one given twice.
const (
	fIntegration = 1 << iota
	fEvent
	fGeneration
	fDepth
	fOK
	fResult
	fError
	fDuration
	fEmitted
)

// parseResult reads one Result object, with the fields the server
// writes, each at most once.
func parseResult(p *jsonwire.Parser, r *starhost.Result) bool {
	var seen int
	return p.Object(func(key string) bool {
		var f int
		var ok bool
		switch key {
		case "integration":
			f = fIntegration
			r.Integration, ok = p.String()
		case "event":
			f = fEvent
			r.Event, ok = p.String()
		case "generation":
			f = fGeneration
			r.Generation, ok = p.Int()
		case "depth":
			f = fDepth
			r.Depth, ok = p.Int()
		case "ok":
			f = fOK
			r.OK, ok = p.Bool()
		case "result":
			f = fResult
			r.Value, ok = p.Value()
		case "error":
			f = fError
			ok = parseDiagnostic(p, &r.Error)
		case "duration_us":
			f = fDuration
			r.Duration, ok = p.Duration()
		case "emitted":
			f = fEmitted
			ok = parseEmitted(p, &r.Emitted)
		}
		if seen&f != 0 {
			return false
		}
		seen |= f
		return ok
	})
}

// parseEmitted reads a result's follow-up events: left to encoding/json,
// with numbers as p.Value gives them, since few results have any.
func parseEmitted(p *jsonwire.Parser, es *[]starhost.Emitted) bool {
	raw, ok := p.Raw()
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if p.UseNumber {
		dec.UseNumber()
	}
	return dec.Decode(es) == nil
}

// parseDiagnostic reads a *Diagnostic: null is nil, an object is left to
// encoding/json (a failed handler is not the common case).
func parseDiagnostic(p *jsonwire.Parser, d **starhost.Diagnostic) bool {
	if p.Null() {
		return true
	}
	raw, ok := p.Raw()
	if !ok {
		return false
	}
	*d = new(starhost.Diagnostic)
	return json.Unmarshal(raw, *d) == nil
}
