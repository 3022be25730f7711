package starhost

import "github.com/afstudio/afstudio/jsondiff"

// CompareResults compares what two versions of an integration did with
// one event: whether the call succeeded, its value, its error message and
// the follow-ups it queued (not the generation, position or duration,
// which differ between any two versions). It returns at most limit
// differences (limit < 1: all) and how many there are, with paths such as
// $.result.p50, $.error or $.emitted[0].data.level. The shadow mode and
// afstudio diff compare with it.
func CompareResults(old, new Result, limit int) ([]jsondiff.Difference, int) {
	return jsondiff.Compare(comparedForm(old), comparedForm(new), limit)
}

// comparedForm is what CompareResults compares of r, as JSON data.
func comparedForm(r Result) map[string]any {
	var msg any
	if r.Error != nil {
		msg = r.Error.Msg
	}
	emitted := make([]any, len(r.Emitted))
	for i, e := range r.Emitted {
		emitted[i] = map[string]any{"event": e.Event, "data": e.Data}
	}
	return map[string]any{"ok": r.OK, "result": r.Value, "error": msg, "emitted": emitted}
}
