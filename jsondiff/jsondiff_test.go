package jsondiff_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"testing"

	"github.com/afstudio/afstudio/jsondiff"
)

func TestCompare(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(1), 70)
	for _, tc := range []struct {
		name     string
		old, new any
		want     []string // Difference.String of each
	}{
		{"equal scalars", "a", "a", nil},
		{"equal objects", map[string]any{"a": int64(1), "b": []any{true, nil}}, map[string]any{"b": []any{true, nil}, "a": int64(1)}, nil},
		{"int forms are one kind", map[string]any{"n": int64(3), "m": 3, "b": big1}, map[string]any{"n": json.Number("3"), "m": int64(3), "b": json.Number(big1.String())}, nil},
		{"float forms", 1.5, json.Number("1.5"), nil},
		{"int is not float", int64(1), 1.0, []string{"$: 1 (integer) → 1 (float)"}},
		{"changed member", map[string]any{"p50": int64(35)}, map[string]any{"p50": int64(36)}, []string{"$.p50: 35 → 36"}},
		{"added and removed", map[string]any{"a": int64(1)}, map[string]any{"b": int64(2)}, []string{"$.a: 1 → (absent)", "$.b: (absent) → 2"}},
		{"odd key", map[string]any{"a b": "x"}, map[string]any{"a b": "y"}, []string{`$["a b"]: "x" → "y"`}},
		{"array lengths", []any{int64(1)}, []any{int64(1), int64(2), int64(3)}, []string{"$[1]: (absent) → 2", "$[2]: (absent) → 3"}},
		{"nested", map[string]any{"l": []any{map[string]any{"k": "v"}}}, map[string]any{"l": []any{map[string]any{"k": "w"}}}, []string{`$.l[0].k: "v" → "w"`}},
		{"kinds", map[string]any{"a": []any{}}, map[string]any{"a": map[string]any{}}, []string{"$.a: [] → {}"}},
		{"null and missing", map[string]any{"a": nil}, map[string]any{}, []string{"$.a: null → (absent)"}},
		{"NaN equals nothing", math.NaN(), math.NaN(), []string{"$: NaN (float) → NaN (float)"}},
		{"number and string", int64(1), "1", []string{`$: 1 → "1"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diffs, total := jsondiff.Compare(tc.old, tc.new, 0)
			var got []string
			for _, d := range diffs {
				got = append(got, d.String())
			}
			if !reflect.DeepEqual(got, tc.want) || total != len(tc.want) {
				t.Errorf("Compare = %q (total %d), want %q", got, total, tc.want)
			}
			if jsondiff.Equal(tc.old, tc.new) != (len(tc.want) == 0) {
				t.Errorf("Equal disagrees with Compare")
			}
		})
	}
}

func TestCompareLimit(t *testing.T) {
	var a, b []any
	for i := range 10 {
		a, b = append(a, int64(i)), append(b, int64(i+1))
	}
	diffs, total := jsondiff.Compare(a, b, 3)
	if len(diffs) != 3 || total != 10 || diffs[2].Path != "$[2]" {
		t.Errorf("Compare with limit 3 = %v, total %d; want the first 3 of 10", diffs, total)
	}
}

func ExampleCompare() {
	serving := map[string]any{"count": int64(3), "p50": int64(35)}
	shadow := map[string]any{"count": int64(3), "p50": 35.5, "p99": int64(80)}
	diffs, _ := jsondiff.Compare(serving, shadow, 0)
	for _, d := range diffs {
		fmt.Println(d)
	}
	// Output:
	// $.p50: 35 → 35.5
	// $.p99: (absent) → 80
}

// TestCompareBigNumbers: integers of any size compare exactly, in any of
// their Go forms.
func TestCompareBigNumbers(t *testing.T) {
	a := new(big.Int).Lsh(big.NewInt(1), 300)
	b := new(big.Int).Add(a, big.NewInt(1))
	for _, tc := range []struct {
		old, new any
		equal    bool
	}{
		{json.Number(a.String()), json.Number(b.String()), false},
		{b, json.Number(b.String()), true},
		{a, b, false},
		{json.Number("0.1"), 0.1, true}, // a float as encoding/json reads it
		{json.Number("1e2"), 100.0, true},
		{json.Number("1e2"), int64(100), false}, // a float and an integer
		{math.Inf(1), math.Inf(1), true},
	} {
		if got := jsondiff.Equal(tc.old, tc.new); got != tc.equal {
			t.Errorf("Equal(%v, %v) = %v, want %v", tc.old, tc.new, got, tc.equal)
		}
	}
}
