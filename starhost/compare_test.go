package starhost_test

import (
	"testing"

	"github.com/afstudio/afstudio/starhost"
)

func TestCompareResults(t *testing.T) {
	ok := func(v any, emitted ...starhost.Emitted) starhost.Result {
		return starhost.Result{Integration: "a", Generation: 1, OK: true, Value: v, Emitted: emitted, Duration: 5}
	}
	failed := func(msg string, line int) starhost.Result {
		return starhost.Result{Integration: "a", Generation: 2, Error: &starhost.Diagnostic{File: "a.star", Line: line, Msg: msg}}
	}
	for _, tc := range []struct {
		name     string
		old, new starhost.Result
		paths    []string
	}{
		{"same value, other generation and duration", ok(map[string]any{"n": int64(1)}), starhost.Result{Integration: "a", Generation: 7, OK: true, Value: map[string]any{"n": int64(1)}, Duration: 9}, nil},
		{"value", ok(map[string]any{"n": int64(1)}), ok(map[string]any{"n": int64(2)}), []string{"$.result.n"}},
		{"shadow failed", ok("x"), failed("boom", 3), []string{"$.ok", "$.error", "$.result"}},
		{"same error elsewhere", failed("boom", 3), failed("boom", 9), nil},
		{"other error", failed("boom", 3), failed("bang", 3), []string{"$.error"}},
		{"follow-up added", ok(nil), ok(nil, starhost.Emitted{Event: "alert", Data: map[string]any{}}), []string{"$.emitted[0]"}},
		{"follow-up data", ok(nil, starhost.Emitted{Event: "alert", Data: map[string]any{"l": "hi"}}), ok(nil, starhost.Emitted{Event: "alert", Data: map[string]any{"l": "lo"}}), []string{"$.emitted[0].data.l"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diffs, total := starhost.CompareResults(tc.old, tc.new, 0)
			var paths []string
			for _, d := range diffs {
				paths = append(paths, d.Path)
			}
			if total != len(tc.paths) || len(paths) != len(tc.paths) {
				t.Fatalf("differences %v (total %d), want %v", paths, total, tc.paths)
			}
			for i := range paths {
				if paths[i] != tc.paths[i] {
					t.Errorf("differences %v, want %v", paths, tc.paths)
				}
			}
		})
	}
}

func TestCompareResultsLimit(t *testing.T) {
	old := starhost.Result{OK: true, Value: []any{int64(1), int64(2), int64(3)}}
	new := starhost.Result{OK: true, Value: []any{int64(0), int64(0), int64(0)}, Emitted: []starhost.Emitted{{Event: "x"}}}
	diffs, total := starhost.CompareResults(old, new, 2)
	if len(diffs) != 2 || total != 4 || diffs[1].Path != "$.result[1]" {
		t.Fatalf("CompareResults with limit 2 = %v (total %d); want the first 2 of 4", diffs, total)
	}
}
