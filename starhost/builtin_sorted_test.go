package starhost

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	starlarkmath "go.starlark.net/lib/math"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// fastSorted is the sandbox's sorted, as newSandbox predeclares it.
var fastSorted = starlark.NewBuiltin("sorted", sortedBuiltin)

// identical reports how a and b differ, or "" if they are the same
// Starlark value in every observable way: the same type, the same
// elements in the same order, floats with the same bits (-0.0 is not
// 0.0, NaN's sign counts), ints and strings equal.
func identical(a, b starlark.Value) string {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return fmt.Sprintf("%s (%T) vs %s (%T)", a, a, b, b)
	}
	switch a := a.(type) {
	case starlark.Float:
		if math.Float64bits(float64(a)) != math.Float64bits(float64(b.(starlark.Float))) {
			return fmt.Sprintf("float %v (%#x) vs %v (%#x)", a, math.Float64bits(float64(a)), b, math.Float64bits(float64(b.(starlark.Float))))
		}
		return ""
	case *starlark.List, starlark.Tuple:
		x, y := a.(starlark.Indexable), b.(starlark.Indexable)
		if x.Len() != y.Len() {
			return fmt.Sprintf("length %d vs %d: %s vs %s", x.Len(), y.Len(), a, b)
		}
		for i := range x.Len() {
			if d := identical(x.Index(i), y.Index(i)); d != "" {
				return fmt.Sprintf("[%d]: %s (in %s vs %s)", i, d, a, b)
			}
		}
		return ""
	}
	if eq, err := starlark.Equal(a, b); err != nil || !eq {
		return fmt.Sprintf("%s vs %s (%v)", a, b, err)
	}
	return ""
}

// sameOutcome reports how two calls' outcomes differ, or "".
func sameOutcome(fastV starlark.Value, fastErr error, upV starlark.Value, upErr error) string {
	switch {
	case (fastErr == nil) != (upErr == nil):
		return fmt.Sprintf("fast: %v, %v; upstream: %v, %v", fastV, fastErr, upV, upErr)
	case fastErr != nil:
		if fastErr.Error() != upErr.Error() {
			return fmt.Sprintf("error %q vs %q", fastErr, upErr)
		}
		fe, fok := fastErr.(*starlark.EvalError)
		ue, uok := upErr.(*starlark.EvalError)
		if fok != uok || fok && fe.Backtrace() != ue.Backtrace() {
			return fmt.Sprintf("backtrace %q vs %q", backtrace(fastErr), backtrace(upErr))
		}
		return ""
	}
	return identical(fastV, upV)
}

func backtrace(err error) string {
	if e, ok := err.(*starlark.EvalError); ok {
		return e.Backtrace()
	}
	return err.Error()
}

// sortedCases are Starlark expressions whose value (or error) the fast
// sorted must reproduce exactly. calls is a list the key functions can
// append to, to make the order and number of key calls visible.
var sortedCases = []string{
	// Empty, one, duplicates, negatives.
	`sorted([])`, `sorted(())`, `sorted({})`, `sorted(set())`,
	`sorted([], reverse = True)`,
	`sorted([7])`, `sorted([7.5])`, `sorted(["x"])`,
	`sorted([3, 1, 2, 3, 1, 2, 0, -5, -5, 10])`,
	`sorted([3, 1, 2, 3, 1, 2, 0, -5, -5, 10], reverse = True)`,
	`sorted([-1, -100, 100, 0, -0, 1])`,
	`sorted([(i * 7919) % 1000 - 500 for i in range(1000)])`,
	`sorted([(i * 7919) % 1000 - 500 for i in range(1000)], reverse = True)`,
	`sorted([(i * 7919) % 10 for i in range(300)], reverse = True)`,
	// int64 edges (ints beyond int32 are big.Int inside Starlark) and
	// beyond int64 (the fast path gives up).
	`sorted([9223372036854775807, -9223372036854775808, 0, 2147483648, -2147483649, 2147483647, -2147483648])`,
	`sorted([9223372036854775808, 1, -9223372036854775809, 2, 1 << 100, -(1 << 100)])`,
	`sorted([1 << 64, 1 << 64, 3], reverse = True)`,
	`sorted([(1 << 40) + (i * 7) % 5 - 2 for i in range(200)] + [-5, 5, 0])`,
	// Ints in int32 from 32 on (radix sorted): one pass (less than 256
	// apart), two, three and four (the whole int32 range), negative,
	// beyond the stack buffer (300), reversed.
	`sorted([10 + (i * 7919) % 50 for i in range(256)])`,
	`sorted([10 + (i * 7919) % 50 for i in range(256)], reverse = True)`,
	`sorted([(i * 7919) % 5000 - 2500 for i in range(300)])`,
	`sorted([(i * 7919) % 5000 - 2500 for i in range(300)], reverse = True)`,
	`sorted([(i * 104729) % 9000000 - 4500000 for i in range(100)])`,
	`sorted([(i * 2654435761) % 4294967296 - 2147483648 for i in range(257)] + [2147483647, -2147483648, 0])`,
	`sorted([255 - i % 256 for i in range(32)] + [0, 255])`,
	`sorted([7] * 40)`, `sorted(tuple([i % 3 - 1 for i in range(33)]), reverse = True)`,
	`sorted([(1 << 40) + (i * 7) % 5 - 2 for i in range(200)] + [-5, 5, 0], reverse = True)`,
	// Floats: -0.0 and 0.0 are equal (stability decides), NaN is above
	// +Inf and equal to every NaN (-NaN too), infinities.
	`sorted([0.0, -0.0, 0.0, -0.0])`,
	`sorted([-0.0, 0.0, -0.0, 0.0], reverse = True)`,
	`sorted([float("nan"), 1.0, float("inf"), -float("nan"), float("-inf"), 0.5, float("nan"), -2.5])`,
	`sorted([float("nan"), 1.0, float("inf"), -float("nan"), float("-inf"), 0.5, float("nan"), -2.5], reverse = True)`,
	`[math.copysign(1, x) for x in sorted([-float("nan"), float("nan"), -float("nan")])]`,
	`sorted([1e308, 5e-324, -5e-324, -1e308, 0.1, 0.2, 0.30000000000000004, 0.3])`,
	`sorted([(i * 0.37) % 13 - 6 for i in range(500)])`,
	// Strings: bytes order, unicode, invalid UTF-8, prefixes, NUL.
	`sorted(["b", "a", "", "ab", "aa", "B", "é", "e", "日本", "日", invalid, "\x00", "a\x00", invalid + "a"])`,
	`sorted(["b", "a", "", "ab", "aa", "B", "é", "e", "日本", "日", invalid, "\x00", "a\x00", invalid + "a"], reverse = True)`,
	`sorted([str(i) for i in range(300)])`,
	// Ints with floats compare numerically and exactly: equal ones keep
	// their order, visible in their types.
	`sorted([1, 1.0, 0, -0.0, 0.0, -0, 1.0, 1])`,
	`sorted([1, 1.0, 0, -0.0, 0.0, -0, 1.0, 1], reverse = True)`,
	`sorted([2.5, 2, 3, float("nan"), -1, float("-inf"), float("inf"), 9223372036854775807])`,
	`sorted([9007199254740993, 9007199254740992.0, 9007199254740992, 9007199254740994.0, 9007199254740991])`,
	`sorted([9223372036854775807, 9223372036854775808.0, -9223372036854775808, -9223372036854775808.0, -9223372036854777856.0])`,
	`sorted([-3, -2.5, -2, -1.5, -0.5, 0, 0.5, -3.0, 1e-300, -1e-300])`,
	`sorted([(1 << 70), 1.5, 2])`, // beyond int64 with a float: upstream
	// Long lists (past insertion sort's small runs) of equal but
	// distinguishable values: stability shows in types, signs and NaN's
	// sign.
	`sorted([i % 7 if i % 2 else float(i % 7) for i in range(300)])`,
	`sorted([i % 7 if i % 2 else float(i % 7) for i in range(300)], reverse = True)`,
	`sorted([-0.0 if i % 3 else 0.0 for i in range(200)])`,
	`sorted([-0.0 if i % 3 else 0.0 for i in range(200)], reverse = True)`,
	`[math.copysign(1, x) for x in sorted([-float("nan") if i % 3 else float("nan") for i in range(200)] + [1.0, -1.0] * 20)]`,
	`[math.copysign(1, x) for x in sorted([-float("nan") if i % 3 else float("nan") for i in range(200)] + [1.0, -1.0] * 20, reverse = True)]`,
	`sorted([(1 << 40) + i % 5 if i % 2 else float((1 << 40) + i % 5) for i in range(200)], reverse = True)`,
	// Mixed types that do not compare: the same error.
	`sorted([1, "a"])`, `sorted(["a", 1])`, `sorted([1, "a", 2, "b", 3.0, None])`,
	`sorted([3, 2, 1, "x", 0, -1, "y"])`,
	`sorted(["x", 1.5])`, `sorted([True, False, True])`, `sorted([True, 1])`,
	`sorted([None, None])`, `sorted([[2], [1], [1, 0]])`, `sorted([(2, "a"), (1, "b"), (1, "a")])`,
	`sorted([{}, {}])`, `sorted([1, (1,)])`,
	`sorted([3, "b", 1, "a", 2] * 10)`, `sorted([3, "b", 1, "a", 2] * 10, reverse = True)`,
	`sorted([None, 1, "x", True, 2.5] * 5)`, `sorted(tuple([5, 4, 3, 2, 1] * 10 + ["z"]))`,
	// key= goes to upstream: same key calls, same steps.
	`sorted([3, 1, 2, 1], key = lambda x: -x)`,
	`(sorted([3, 1, 2, 1], key = lambda x: calls.append(x) or x % 2), calls)`,
	`(sorted(["bb", "a", "ccc", "dd"], key = len, reverse = True), calls)`,
	`sorted([1, 2], key = lambda x: "a" if x == 1 else 1)`,
	`sorted([1, 2], key = lambda x: fail("key " + str(x)))`,
	`sorted([1, 2], key = None)`,
	`sorted(["b", "A", "a", "B"], key = lambda s: s.upper())`,
	// Argument forms that go to upstream.
	`sorted([2, 1], None, True)`, `sorted([2, 1], reverse = 1)`, `sorted([2, 1], reverse = None)`,
	`sorted([2, 1], reversed = True)`, `sorted([2, 1], True)`, `sorted()`, `sorted([1], [2], True, 4)`,
	`sorted(iterable = [2, 1])`, `sorted([2, 1], reverse = True, key = None)`,
	`sorted("cba")`, `sorted(b"cba")`, `sorted(3)`, `sorted(None)`,
	// Other iterables: dict keys in insertion order, sets, tuples,
	// range, the dict's keys/values/items.
	`sorted({"b": 1, "a": 2, "c": 3})`,
	`sorted({3: "x", 1.0: "y", 2: "z", -0.0: 0})`,
	`sorted({1: 0, "a": 1})`,
	`sorted(set([3, 1, 2, 2.5, -1]))`, `sorted(set(["b", "a"]), reverse = True)`,
	`sorted((3, 1.0, 1, 2))`, `sorted((3, 1.0, 1, 2), reverse = True)`,
	`sorted(range(10, 0, -3))`, `sorted({"b": 1, "a": 2}.items())`, `sorted({"b": 2, "a": 1}.values())`,
	`sorted(enumerate(["b", "a"]))`, `sorted(zip([2, 1], [0, 0]))`,
	// The input is not changed.
	`(sorted(frozen_list), frozen_list)`,
	`(sorted(mutable_list, reverse = True), mutable_list)`,
}

// runSortedCase evaluates the expression src with sorted bound to fast
// (a predeclared name shadowing the universal one) or not (the universal
// sorted), and returns its value, the execution steps, and the error.
func runSortedCase(src string, fast bool) (starlark.Value, uint64, error) {
	predeclared := starlark.StringDict{
		"math":        starlarkmath.Module,
		"invalid":     starlark.String("\xff"), // not UTF-8; no literal can say it
		"frozen_list": starlark.NewList([]starlark.Value{starlark.MakeInt(3), starlark.Float(1), starlark.MakeInt(2)}),
	}
	predeclared.Freeze()
	if fast {
		predeclared["sorted"] = fastSorted
	}
	thread := &starlark.Thread{Name: "sorted"}
	module := "calls = []\nmutable_list = [3, 1.0, 2, 1]\ndef f():\n    return " + src + "\nresult = f()\n"
	g, err := starlark.ExecFileOptions(fileOptions, thread, "sorted.star", module, predeclared)
	return g["result"], thread.ExecutionSteps(), err
}

// TestSortedDifferential runs every case with the fast sorted and with
// go.starlark.net's and requires the same value (types, values, order),
// the same error and backtrace, and the same number of execution steps.
func TestSortedDifferential(t *testing.T) {
	for _, src := range sortedCases {
		fastV, fastSteps, fastErr := runSortedCase(src, true)
		upV, upSteps, upErr := runSortedCase(src, false)
		if d := sameOutcome(fastV, fastErr, upV, upErr); d != "" {
			t.Errorf("%s: %s", src, d)
		}
		if fastSteps != upSteps {
			t.Errorf("%s: %d steps, upstream %d", src, fastSteps, upSteps)
		}
		if testing.Verbose() {
			if upErr != nil {
				t.Logf("%s -> error %v", src, upErr)
			} else {
				t.Logf("%s -> %s", src, upV)
			}
		}
	}
}

// TestSortedCoversFastPath guards the differential test against testing
// only the fallback: the cases meant for the fast path take it.
func TestSortedCoversFastPath(t *testing.T) {
	ints := []starlark.Value{starlark.MakeInt(2), starlark.MakeInt(1)}
	floats := []starlark.Value{starlark.Float(2), starlark.Float(math.NaN())}
	strs := []starlark.Value{starlark.String("b"), starlark.String("a")}
	nums := []starlark.Value{starlark.Float(2), starlark.MakeInt(1)}
	for _, vs := range [][]starlark.Value{ints, floats, strs, nums, nil} {
		if sortFast(starlark.Tuple(vs), false) == nil {
			t.Errorf("sortFast(%v) = nil", vs)
		}
	}
	big := []starlark.Value{starlark.MakeInt(1), starlark.MakeBigInt(new(big.Int).Lsh(big.NewInt(1), 64))}
	mixed := []starlark.Value{starlark.MakeInt(1), starlark.String("a")}
	bools := []starlark.Value{starlark.True, starlark.False}
	for _, vs := range [][]starlark.Value{big, mixed, bools} {
		if sortFast(starlark.Tuple(vs), false) != nil {
			t.Errorf("sortFast(%v) != nil", vs)
		}
	}
}

// TestSandboxSortedIsFast checks that the sandbox predeclares the fast
// sorted and that a module's sorted resolves to it, not to the universal
// one.
func TestSandboxSortedIsFast(t *testing.T) {
	sb := newSandbox(DefaultLimits(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	g, err := starlark.ExecFileOptions(fileOptions, &starlark.Thread{}, "m.star", "s = sorted\nx = sorted([2, 1.5, 1])\n", sb.predeclared)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := g["s"].(*starlark.Builtin)
	if !ok || s != sb.predeclared["sorted"] || s == starlark.Universe["sorted"] || s.Name() != "sorted" {
		t.Errorf("sorted resolves to %v, want the sandbox's", g["s"])
	}
	if got := g["x"].String(); got != "[1, 1.5, 2]" {
		t.Errorf("sorted([2, 1.5, 1]) = %s", got)
	}
}

// TestCompareIntFloat checks the exact int/float comparison against
// starlark.Compare on the values where rounding would show.
func TestCompareIntFloat(t *testing.T) {
	ints := []int64{0, 1, -1, 2, 1 << 53, 1<<53 + 1, 1<<53 - 1, -(1 << 53) - 1, 1<<62 + 1, math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1, 1<<63 - 1024, 1<<63 - 512}
	floats := []float64{0, math.Copysign(0, -1), 0.5, -0.5, 1, 1.5, -1.5, 1 << 53, 1<<53 + 2, -(1 << 53), 0x1p62, 0x1p63, -0x1p63, 0x1p63 - 1024, -0x1p63 - 2048, 0x1p64, 1e300, -1e300, 5e-324, -5e-324, math.Inf(1), math.Inf(-1), math.NaN(), math.Nextafter(0x1p63, 0), math.Nextafter(1, 2), math.Nextafter(1, 0)}
	for _, i := range ints {
		for _, f := range floats {
			for _, ab := range [][2]starlark.Value{{starlark.MakeInt64(i), starlark.Float(f)}, {starlark.Float(f), starlark.MakeInt64(i)}} {
				want := 0
				if lt, _ := starlark.Compare(syntax.LT, ab[0], ab[1]); lt {
					want = -1
				} else if gt, _ := starlark.Compare(syntax.GT, ab[0], ab[1]); gt {
					want = +1
				}
				a, b := numberOf(ab[0]), numberOf(ab[1])
				if got := compareNumbers(a, b); got != want {
					t.Errorf("compare(%v, %v) = %d, want %d", ab[0], ab[1], got, want)
				}
			}
		}
	}
}

// TestFloatKey checks that floatKey's unsigned order is starlark.Compare's
// order of floats (NaN of any sign above +Inf, -0.0 equal to 0.0).
func TestFloatKey(t *testing.T) {
	floats := []float64{math.NaN(), -math.NaN(), math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8000000000123),
		math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 5e-324, -5e-324, 1, -1, 1.5, -1.5, math.MaxFloat64, -math.MaxFloat64,
		math.SmallestNonzeroFloat64 * 3, 0x1p63, -0x1p63, 2.2250738585072014e-308, -2.2250738585072014e-308}
	for _, x := range floats {
		for _, y := range floats {
			want := 0
			if lt, _ := starlark.Compare(syntax.LT, starlark.Float(x), starlark.Float(y)); lt {
				want = -1
			} else if gt, _ := starlark.Compare(syntax.GT, starlark.Float(x), starlark.Float(y)); gt {
				want = +1
			}
			if got := cmp.Compare(floatKey(x), floatKey(y)); got != want {
				t.Errorf("floatKey order of %v (%#x), %v (%#x) = %d, want %d", x, math.Float64bits(x), y, math.Float64bits(y), got, want)
			}
		}
	}
}

func numberOf(v starlark.Value) number {
	if f, ok := v.(starlark.Float); ok {
		return number{isFloat: true, f: float64(f)}
	}
	n, _ := v.(starlark.Int).Int64()
	return number{n: n}
}

// fuzzReader decodes fuzz bytes into Starlark values for FuzzSorted;
// past the end of the data it reads zeros.
type fuzzReader struct{ data []byte }

func (r *fuzzReader) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *fuzzReader) uint64() uint64 {
	var buf [8]byte
	n := copy(buf[:], r.data)
	r.data = r.data[n:]
	return binary.LittleEndian.Uint64(buf[:])
}

var (
	fuzzInts = []starlark.Value{
		starlark.MakeInt64(math.MaxInt64), starlark.MakeInt64(math.MinInt64), starlark.MakeInt64(1 << 53),
		starlark.MakeInt64(1<<53 + 1), starlark.MakeInt64(math.MaxInt32 + 1), starlark.MakeInt64(math.MinInt32),
		starlark.MakeBigInt(new(big.Int).Lsh(big.NewInt(1), 63)), starlark.MakeBigInt(new(big.Int).Lsh(big.NewInt(-1), 100)),
	}
	fuzzFloats = []float64{
		math.NaN(), -math.NaN(), math.Float64frombits(0x7ff8000000000001), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1),
		0.5, -1.5, 1 << 53, 1<<53 + 2, 0x1p63, -0x1p63, 1e300, 5e-324,
	}
	fuzzStrings = []string{"", "a", "b", "ab", "A", "é", "e\u0301", "日本", "\xff", "\x00", "a\x00", "🙂"}
	fuzzOthers  = []starlark.Value{starlark.None, starlark.True, starlark.False, starlark.Tuple{starlark.MakeInt(1)}, starlark.Bytes("b")}
)

// element returns one value of an allowed kind (bits of kinds: 1 int,
// 2 float, 4 string, 8 other).
func (r *fuzzReader) element(kinds byte) starlark.Value {
	tag := r.byte()
	allowed := []byte{}
	for k := range byte(4) {
		if kinds&(1<<k) != 0 {
			allowed = append(allowed, k)
		}
	}
	if len(allowed) == 0 {
		allowed = []byte{0}
	}
	switch allowed[int(tag&3)%len(allowed)] {
	case 0: // int
		switch tag >> 2 % 4 {
		case 0:
			return fuzzInts[int(r.byte())%len(fuzzInts)]
		case 1:
			return starlark.MakeInt64(int64(r.uint64()))
		default:
			return starlark.MakeInt(int(int8(r.byte())))
		}
	case 1: // float
		switch tag >> 2 % 4 {
		case 0:
			return starlark.Float(fuzzFloats[int(r.byte())%len(fuzzFloats)])
		case 1:
			return starlark.Float(math.Float64frombits(r.uint64()))
		default:
			return starlark.Float(float64(int8(r.byte())) / 4)
		}
	case 2: // string
		if tag>>2%2 == 0 {
			return starlark.String(fuzzStrings[int(r.byte())%len(fuzzStrings)])
		}
		n := int(r.byte() % 4)
		var sb strings.Builder
		for range n {
			sb.WriteByte(r.byte())
		}
		return starlark.String(sb.String())
	default:
		return fuzzOthers[int(r.byte())%len(fuzzOthers)]
	}
}

// fuzzKey is a key= function for FuzzSorted: the negated number, or the
// value itself.
var fuzzKey = starlark.NewBuiltin("key", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if n, ok := args[0].(starlark.Int); ok {
		return starlark.MakeInt(0).Sub(n), nil
	}
	return args[0], nil
})

// sortedFuzzCall decodes data into the arguments of one call of sorted
// and the list of the input's elements. The first byte picks the
// container and the argument form, the second which element kinds may
// appear; each element is a tag byte and its payload.
func sortedFuzzCall(data []byte) (args starlark.Tuple, kwargs []starlark.Tuple, input *starlark.List) {
	r := &fuzzReader{data}
	shape, kinds := r.byte(), r.byte()
	var elems []starlark.Value
	for len(r.data) > 0 && len(elems) < 2000 {
		elems = append(elems, r.element(kinds))
	}
	input = starlark.NewList(elems)
	var iterable starlark.Value = input
	switch shape & 3 {
	case 1:
		iterable = starlark.Tuple(elems)
	case 2:
		d := starlark.NewDict(len(elems))
		for i, e := range elems {
			if err := d.SetKey(e, starlark.MakeInt(i)); err != nil {
				d = nil // unhashable: sort the list
				break
			}
		}
		if d != nil {
			iterable = d
		}
	case 3:
		s := starlark.NewSet(len(elems))
		for _, e := range elems {
			if err := s.Insert(e); err != nil {
				s = nil
				break
			}
		}
		if s != nil {
			iterable = s
		}
	}
	args = starlark.Tuple{iterable}
	switch shape >> 2 % 8 {
	case 1:
		kwargs = []starlark.Tuple{{starlark.String("reverse"), starlark.True}}
	case 2:
		kwargs = []starlark.Tuple{{starlark.String("reverse"), starlark.False}}
	case 3:
		kwargs = []starlark.Tuple{{starlark.String("key"), fuzzKey}}
	case 4:
		kwargs = []starlark.Tuple{{starlark.String("key"), fuzzKey}, {starlark.String("reverse"), starlark.True}}
	case 5:
		args = append(args, starlark.None, starlark.True)
	case 6:
		kwargs = []starlark.Tuple{{starlark.String("reverse"), starlark.MakeInt(1)}}
	}
	return args, kwargs, input
}

// FuzzSorted calls the fast sorted and go.starlark.net's on the same
// arguments decoded from the fuzz bytes (lists, tuples, dicts and sets of
// ints, big ints, floats with NaN, infinities and -0.0, strings, and
// occasionally other values; with and without reverse= and key=) and
// requires identical results or identical errors, and an unchanged input.
func FuzzSorted(f *testing.F) {
	f.Add([]byte{0, 1, 8, 1, 8, 2, 8, 3, 8, 1})
	f.Add([]byte{4, 3, 0, 5, 1, 3, 0, 5, 1, 0, 9, 0, 1, 1})
	f.Add([]byte{4, 2, 1, 0, 1, 1, 1, 2, 1, 5, 1, 6, 0, 0})
	f.Add([]byte{1, 4, 2, 3, 2, 4, 6, 2, 0xff, 0xc3, 2, 5})
	f.Add([]byte{2, 3, 1, 0, 0, 1, 3, 0, 2, 4, 0, 6})
	f.Add([]byte{3, 2, 1, 0, 1, 1, 9, 1, 2, 0})
	f.Add([]byte{0, 15, 0, 1, 2, 1, 3, 5, 2, 1})
	f.Add([]byte{12, 3, 0, 7, 1, 0, 8, 1})
	f.Add([]byte{16, 7, 0, 1, 1, 1, 2, 1, 3, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		args, kwargs, input := sortedFuzzCall(data)
		before := starlark.NewList(listElems(input))
		thread := &starlark.Thread{}
		fastV, fastErr := starlark.Call(thread, fastSorted, args, kwargs)
		upV, upErr := starlark.Call(thread, upstreamSorted, args, kwargs)
		if d := sameOutcome(fastV, fastErr, upV, upErr); d != "" {
			t.Fatalf("sorted%s %v: %s", args, kwargs, d)
		}
		if d := identical(input, before); d != "" {
			t.Fatalf("input changed: %s", d)
		}
	})
}

func listElems(l *starlark.List) []starlark.Value {
	out := make([]starlark.Value, l.Len())
	for i := range out {
		out[i] = l.Index(i)
	}
	return out
}

// benchSorted100 measures one sorted call on a list of 100 values, with
// the upstream builtin and with the fast one.
func benchSorted100(b *testing.B, elem func(i int) starlark.Value) {
	benchSortedN(b, 100, elem)
}

// benchSortedN is benchSorted100 for a list of n values.
func benchSortedN(b *testing.B, n int, elem func(i int) starlark.Value) {
	vs := make([]starlark.Value, n)
	for i := range vs {
		vs[i] = elem(i)
	}
	args := starlark.Tuple{starlark.NewList(vs)}
	for _, impl := range []struct {
		name string
		fn   *starlark.Builtin
	}{{"upstream", upstreamSorted}, {"fast", fastSorted}} {
		b.Run(impl.name, func(b *testing.B) {
			thread := &starlark.Thread{}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := starlark.Call(thread, impl.fn, args, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSorted100Ints is the generated workload's sort: 100 latencies
// (small ints) in arrival order.
func BenchmarkSorted100Ints(b *testing.B) {
	benchSorted100(b, func(i int) starlark.Value { return starlark.MakeInt((i * 7919) % 500) })
}

// BenchmarkSorted256Ints is the default analytics integration's sort: a
// full window of 256 latencies, near each other (10 to 59, as in the
// control package's benchmarks) and far apart (0 to 4999).
func BenchmarkSorted256Ints(b *testing.B) {
	b.Run("near", func(b *testing.B) {
		benchSortedN(b, 256, func(i int) starlark.Value { return starlark.MakeInt(10 + (i*7919)%50) })
	})
	b.Run("far", func(b *testing.B) {
		benchSortedN(b, 256, func(i int) starlark.Value { return starlark.MakeInt((i * 7919) % 5000) })
	})
}

// BenchmarkSorted100Floats, ...Strings and ...Mixed are the other fast
// paths, for comparison.
func BenchmarkSorted100Floats(b *testing.B) {
	benchSorted100(b, func(i int) starlark.Value { return starlark.Float(float64((i*7919)%500) / 7) })
}

func BenchmarkSorted100Strings(b *testing.B) {
	benchSorted100(b, func(i int) starlark.Value { return starlark.String(fmt.Sprintf("event-%d", (i*7919)%500)) })
}

func BenchmarkSorted100Mixed(b *testing.B) {
	benchSorted100(b, func(i int) starlark.Value {
		if i%2 == 0 {
			return starlark.Float(float64((i*7919)%500) / 7)
		}
		return starlark.MakeInt((i * 7919) % 500)
	})
}
