package starhost

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// evalState evaluates a Starlark expression into a dict, for the tests.
func evalState(t testing.TB, expr string) *starlark.Dict {
	t.Helper()
	v, err := starlark.EvalOptions(&syntax.FileOptions{Set: true}, &starlark.Thread{}, "state.star", expr, nil)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v.(*starlark.Dict)
}

// TestStateJSONRoundTrip: each state is written in its exact JSON form and
// read back to a value written the same way.
func TestStateJSONRoundTrip(t *testing.T) {
	l := Limits{}.WithDefaults()
	for _, c := range []struct{ expr, want string }{
		{`{}`, `{}`},
		{`{"z": 1, "a": 2, "m": 3}`, `{"z":1,"a":2,"m":3}`}, // insertion order, not sorted
		{`{"f": 1.0, "g": -0.0, "h": 0.1, "i": 1e21, "j": 5e-324, "k": 123456789.125, "e": 1e-7}`, `{"f":1.0,"g":-0.0,"h":0.1,"i":1e+21,"j":5e-324,"k":123456789.125,"e":1e-7}`},
		{`{"big": 1 << 80, "neg": -(1 << 70), "small": -3}`, `{"big":1208925819614629174706176,"neg":-1180591620717411303424,"small":-3}`},
		{`{"s": "a\"b\\c\nd\te<>&é\x01"}`, `{"s":"a\"b\\c\nd\te<>&é\u0001"}`},
		{`{"t": (1, (2, "x")), "l": [None, True, False]}`, `{"t":[1,[2,"x"]],"l":[null,true,false]}`},
		{`{"n": {"m": {"k": [{"deep": [1.5]}]}}}`, `{"n":{"m":{"k":[{"deep":[1.5]}]}}}`},
	} {
		got, n, err := encodeState(nil, evalState(t, c.expr), l)
		if err != nil || string(got) != c.want {
			t.Errorf("encode %s = %s, %v; want %s", c.expr, got, err, c.want)
			continue
		}
		if cn, err := checkStateData(evalState(t, c.expr), l); cn != n || err != nil {
			t.Errorf("checkStateData %s = %d, %v; encodeState counted %d", c.expr, cn, err, n)
		}
		back, err := decodeState(got, l)
		if err != nil {
			t.Errorf("decode %s: %v", got, err)
			continue
		}
		again, _, err := encodeState(nil, back, l)
		if err != nil || string(again) != c.want {
			t.Errorf("re-encode of %s = %s, %v", c.want, again, err)
		}
	}
}

// TestStateJSONFloatsExact: any finite float reads back as the same bits.
func TestStateJSONFloatsExact(t *testing.T) {
	l := Limits{}.WithDefaults()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		if i%2 == 0 {
			f = math.Trunc(f / 1e290) // many integral floats too
		}
		d := starlark.NewDict(1)
		_ = d.SetKey(starlark.String("f"), starlark.Float(f))
		b, _, err := encodeState(nil, d, l)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeState(b, l)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		v, _, _ := back.Get(starlark.String("f"))
		g, ok := v.(starlark.Float)
		if !ok || math.Float64bits(float64(g)) != math.Float64bits(f) {
			t.Fatalf("%v (%s) read back as %v %s", f, b, v, v.Type())
		}
	}
}

// TestStateJSONRejects: what is not data, or past the limits, fails with
// the path of the value.
func TestStateJSONRejects(t *testing.T) {
	l := Limits{MaxDepth: 4, MaxValues: 50}.WithDefaults()
	for _, c := range []struct {
		expr, want string
		notData    bool
	}{
		{`{"f": len}`, `state["f"]: a builtin_function_or_method cannot be stored`, true},
		{`{"a": [1, {"b": set([1])}]}`, `state["a"][1]["b"]: a set cannot be stored`, true},
		{`{"k": {1: 2}}`, `state["k"]: a dict key must be a string to be stored, not an int (1)`, true},
		{`{"x": float("nan")}`, `state["x"]: NaN cannot be stored`, true},
		{`{"x": [float("inf")]}`, `state["x"][0]: +Inf cannot be stored`, true},
		{`{"b": b"raw"}`, `state["b"]: a bytes cannot be stored`, true},
		{`{"s": "é"[:1]}`, `state["s"]: a string that is not valid UTF-8 cannot be stored`, true},
		{`{"a": {"b": {"c": {"d": {"e": 1}}}}}`, `state["a"]["b"]["c"]["d"]["e"]: nested deeper than 4 levels`, false},
		{`{"a": list(range(60))}`, `more than 50 values`, false},
	} {
		_, _, err := encodeState(nil, evalState(t, c.expr), l)
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, errNotData) != c.notData {
			t.Errorf("encode %s: %v; want %q (not data: %v)", c.expr, err, c.want, c.notData)
		}
		if _, cerr := checkStateData(evalState(t, c.expr), l); cerr == nil || err == nil || cerr.Error() != err.Error() {
			t.Errorf("checkStateData %s: %v; encodeState: %v", c.expr, cerr, err)
		}
	}
	for _, c := range []struct{ data, want string }{
		{`[1]`, "a JSON object is required"},
		{`{"a": 1} {}`, "trailing data"},
		{`{"a": }`, "invalid character"},
		{`{"a": [[[[[[1]]]]]]}`, "nested deeper than 4 levels"},
	} {
		_, err := decodeState([]byte(c.data), l)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "stored state: ") {
			t.Errorf("decode %s: %v; want %q", c.data, err, c.want)
		}
	}
}

// FuzzStateJSON: whatever JSON object decodes, encodes to a form that
// decodes and encodes to the same bytes.
func FuzzStateJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1.0,"b":[1,2,{"c":null}],"d":"x\n"}`, `{"n":-0.0,"m":1e400}`, `{"z":1,"a":2}`, `{"i":123456789012345678901234567890}`} {
		f.Add([]byte(s))
	}
	l := Limits{}.WithDefaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := decodeState(data, l)
		if err != nil {
			return
		}
		b1, _, err := encodeState(nil, d, l)
		if err != nil {
			if errors.Is(err, errNotData) && strings.Contains(err.Error(), "UTF-8") {
				return // JSON read with replacement characters is valid; other encodings are not
			}
			t.Fatalf("encode of decoded %q: %v", data, err)
		}
		d2, err := decodeState(b1, l)
		if err != nil {
			t.Fatalf("decode of %s: %v", b1, err)
		}
		b2, _, err := encodeState(nil, d2, l)
		if err != nil || string(b1) != string(b2) {
			t.Fatalf("unstable: %s then %s (%v)", b1, b2, err)
		}
	})
}

// BenchmarkCheckStateData is the state audit's walk over a state like the
// default audit integration's: 500 entries of five fields and a list.
func BenchmarkCheckStateData(b *testing.B) {
	state := evalState(b, `{"entries": [{"event": "response_received", "time": "2026-01-01 00:00:00", "depth": 0, "source": "", "keys": ["latency_ms", "mission_id", "response"]} for i in range(500)], "total": 500}`)
	l := Limits{}.WithDefaults()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := checkStateData(state, l); err != nil {
			b.Fatal(err)
		}
	}
}
