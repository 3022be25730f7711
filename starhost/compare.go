package starhost

import "github.com/afstudio/afstudio/jsondiff"

// CompareResults compares what two versions of an integration did with
// one event: whether the call succeeded, its error message, its value and
// the follow-ups it queued (not the generation, position or duration,
// which differ between any two versions). It returns at most limit
// differences (limit < 1: all), in that order, and how many there are,
// with paths such as $.ok, $.error, $.result.p50 or
// $.emitted[0].data.level. The shadow mode and afstudio diff compare
// with it.
func CompareResults(old, new Result, limit int) ([]jsondiff.Difference, int) {
	var out []jsondiff.Difference
	total := 0
	add := func(ds []jsondiff.Difference, n int) {
		total += n
		if room := limit - len(out); limit < 1 || room > 0 {
			if limit >= 1 && len(ds) > room {
				ds = ds[:room]
			}
			out = append(out, ds...)
		}
	}
	if old.OK != new.OK {
		add([]jsondiff.Difference{{Path: "$.ok", Old: old.OK, New: new.OK}}, 1)
	}
	if om, nm := errorMessage(old), errorMessage(new); om != nm {
		add([]jsondiff.Difference{{Path: "$.error", Old: om, New: nm}}, 1)
	}
	add(jsondiff.CompareAt("$.result", old.Value, new.Value, limit))
	if len(old.Emitted) > 0 || len(new.Emitted) > 0 {
		add(jsondiff.CompareAt("$.emitted", emittedData(old.Emitted), emittedData(new.Emitted), limit))
	}
	return out, total
}

// errorMessage is the message of r's error, nil when it has none.
func errorMessage(r Result) any {
	if r.Error == nil {
		return nil
	}
	return r.Error.Msg
}

// emittedData is es as JSON data, for comparing.
func emittedData(es []Emitted) []any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = map[string]any{"event": e.Event, "data": e.Data}
	}
	return out
}
