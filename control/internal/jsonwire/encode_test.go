package jsonwire

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// strs are strings that exercise every escape json.Marshal makes.
var strs = []string{
	"", "plain", `quote " backslash \ slash /`, "<b>&amp;</b>", "\x00\x01\x1f\x7f",
	"\b\f\n\r\t", "héllo wörld", "日本語", "emoji 🚀", "\u2028 and \u2029",
	"bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate", "mixed <\u2028>\xfe\"",
}

// values are plain data as results and events hold it, and some that
// AppendValue hands to json.Marshal.
func values() []any {
	huge, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	vs := []any{
		nil, true, false, int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), 7,
		0.0, math.Copysign(0, -1), 1.0, -2.5, 123.456, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e300,
		-1e-300, math.SmallestNonzeroFloat64, math.MaxFloat64, 1.0 / 3, 5e-324,
		huge, (*big.Int)(nil),
		[]any{}, []any(nil), map[string]any{}, map[string]any(nil),
		map[string]any{"b": 1.0, "a": []any{"x", nil, true, map[string]any{"z": "<", "y": int64(2)}}, "": "empty key", "é": 1, "<&>": "k"},
		[]any{[]any{[]any{}}, map[string]any{"n": json.Number("12.50")}},
		json.Number("3"), struct{ A int }{1}, []string{"a"}, map[string]int{"b": 2, "a": 1}, time.Duration(5),
	}
	for _, s := range strs {
		vs = append(vs, s, map[string]any{s: s}, []any{s})
	}
	return vs
}

// TestAppendValueIsMarshal: AppendValue writes exactly json.Marshal's
// bytes.
func TestAppendValueIsMarshal(t *testing.T) {
	for _, v := range values() {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", v, err)
		}
		got, ok := AppendValue([]byte("prefix"), v)
		if !ok || !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("AppendValue(%#v) = %s, %v; json.Marshal: %s", v, got, ok, want)
		}
	}
}

// TestAppendValueRefuses: what json.Marshal cannot write, AppendValue
// refuses, so that the caller reports encoding/json's error.
func TestAppendValueRefuses(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	for _, v := range []any{math.NaN(), math.Inf(1), []any{1.0, math.Inf(-1)}, map[string]any{"f": func() {}}, make(chan int), cyclic} {
		if _, err := json.Marshal(v); err == nil {
			t.Fatalf("json.Marshal(%T) did not fail", v)
		}
		if _, ok := AppendValue(nil, v); ok {
			t.Errorf("AppendValue(%T) is ok; json.Marshal fails", v)
		}
	}
}

// results are Results with every field set, and the zero Result.
func results() []starhost.Result {
	diag := &starhost.Diagnostic{File: "a.star", Line: 3, Col: 9, Msg: `bad "x" <y>`, Kind: starhost.ErrorRuntime}
	traced := *diag
	traced.Backtrace = "Traceback:\n  a.star:3:9: in f"
	var rs []starhost.Result
	for i, v := range values() {
		rs = append(rs, starhost.Result{
			Integration: strs[i%len(strs)], Event: "response_received", Generation: i, Depth: i % 3,
			OK: i%2 == 0, Value: v, Duration: starhost.Duration(time.Duration(i*i*1237) * time.Nanosecond),
		})
	}
	emitted := []starhost.Emitted{{Event: "alert", Data: map[string]any{"level": "high", "n": int64(2)}}, {Event: "x", Data: nil}}
	return append(rs, starhost.Result{OK: true, Emitted: emitted}, starhost.Result{}, starhost.Result{Error: diag}, starhost.Result{Error: &traced, Duration: -1})
}

// TestAppendResultsIsMarshal: AppendResults writes exactly json.Marshal's
// bytes for every field of a Result and a Diagnostic. It counts their
// fields, so that a field added to either fails here until AppendResult
// writes it.
func TestAppendResultsIsMarshal(t *testing.T) {
	if n := reflect.TypeFor[starhost.Result]().NumField(); n != 9 {
		t.Fatalf("starhost.Result has %d fields; AppendResult writes 9: teach it the new ones (and the client's parseResult)", n)
	}
	if n := reflect.TypeFor[starhost.Diagnostic]().NumField(); n != 6 {
		t.Fatalf("starhost.Diagnostic has %d fields; AppendDiagnostic writes 6: teach it the new ones", n)
	}
	rs := results()
	for _, in := range [][]starhost.Result{nil, {}, rs} {
		want, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := AppendResults(nil, in)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("AppendResults:\n got %s (ok %v)\nwant %s", got, ok, want)
		}
	}
	if _, ok := AppendResults(nil, []starhost.Result{{Value: math.NaN()}}); ok {
		t.Error("AppendResults of a NaN value is ok")
	}
}

// FuzzAppendValue: for any JSON text, the value encoding/json reads from
// it is written by AppendValue as json.Marshal writes it; and any string
// is written as json.Marshal writes it.
func FuzzAppendValue(f *testing.F) {
	for _, v := range values() {
		b, _ := json.Marshal(v)
		f.Add(b)
	}
	for _, s := range strs {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		want, _ := json.Marshal(string(text))
		if got := AppendString(nil, string(text)); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, json.Marshal: %s", text, got, want)
		}
		var v any
		if json.Unmarshal(text, &v) != nil {
			return
		}
		want, err := json.Marshal(v)
		got, ok := AppendValue(nil, v)
		if ok != (err == nil) || ok && !bytes.Equal(got, want) {
			t.Fatalf("AppendValue(%#v) = %s, %v; json.Marshal: %s, %v", v, got, ok, want, err)
		}
	})
}
