package starhost

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"go.starlark.net/starlark"
)

// upstreamSorted is go.starlark.net's sorted builtin, which sortedBuiltin
// calls for everything its fast path does not cover.
var upstreamSorted = starlark.Universe["sorted"].(*starlark.Builtin)

// sortedBuiltin is the sandbox's sorted: the same function as Starlark's
// universal sorted (which it shadows as a predeclared name, so every
// module and library resolves sorted to it), with a fast path for the
// lists that latency integrations sort for percentiles.
//
// The fast path takes the call forms sorted(x) and sorted(x, reverse=b)
// where x is a list, tuple, dict or set whose elements are all ints that
// fit in int64, all floats, any mix of those two, or all strings. It sorts
// them in Go by a comparison that orders exactly as starlark.Compare does
// (ints and floats numerically and exactly, NaN above every number and
// equal to every NaN, -0.0 equal to 0.0; strings by their bytes), equal
// elements by their position, so the result is the one upstream's stable
// sort produces: the same values in the same order (with reverse=True,
// upstream's sort.Stable(sort.Reverse(...)) keeps equal elements in their
// original order too, and so does this). Such elements never fail to
// compare, so the fast path returns no errors.
//
// Everything else goes to upstream's builtin unchanged, called directly
// (no extra frame): key= (so key calls go through starlark.Call and
// count their steps), positional or non-bool reverse, bad arguments,
// other iterables (range, host values), ints beyond int64, and mixes
// that upstream may fail on (int and string: its error names the last
// failed comparison of its sort, which only its own sort reproduces).
//
// Steps: upstream sorted without key= costs no execution steps of its
// own (the call is one step of the caller), and neither does this; the
// sort itself does not check cancellation in either.
func sortedBuiltin(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 || len(kwargs) > 1 {
		return upstreamSorted.CallInternal(thread, args, kwargs)
	}
	reverse := false
	if len(kwargs) == 1 {
		r, ok := kwargs[0][1].(starlark.Bool)
		if !ok || kwargs[0][0] != starlark.String("reverse") {
			return upstreamSorted.CallInternal(thread, args, kwargs)
		}
		reverse = bool(r)
	}
	var elems starlark.Indexable
	switch x := args[0].(type) {
	case *starlark.List:
		elems = x
	case starlark.Tuple:
		elems = x
	case *starlark.Dict, *starlark.Set:
		// If the fast path declines, upstream iterates x again: no
		// Starlark code runs in between, so it sees the same elements.
		elems = iterated(x.(starlark.Iterable))
	default:
		return upstreamSorted.CallInternal(thread, args, kwargs)
	}
	if sorted := sortFast(elems, reverse); sorted != nil {
		return starlark.NewList(sorted), nil
	}
	return upstreamSorted.CallInternal(thread, args, kwargs)
}

// iterated returns the elements of x in iteration order.
func iterated(x starlark.Iterable) starlark.Tuple {
	it := x.Iterate()
	defer it.Done()
	values := make(starlark.Tuple, 0, starlark.Len(x))
	var v starlark.Value
	for it.Next(&v) {
		values = append(values, v)
	}
	return values
}

// The kinds of elements sortFast distinguishes.
const (
	kindInt    = 1 << iota // starlark.Int that fits in int64
	kindFloat              // starlark.Float
	kindString             // starlark.String
)

// sortBuffer is the number of elements whose sort keys sortFast keeps on
// the stack rather than allocating them: 256, the latency window of the
// default analytics integration (MAX_SAMPLES), so that its sort of the
// window allocates nothing but the result.
const sortBuffer = 256

// sortFast returns a new slice of the elements of x in increasing order
// (decreasing with reverse), equal elements in their order in x, if they
// are all of one kind or ints and floats; nil otherwise. The slice is
// empty, not nil, for an empty x.
//
// It sorts keys that hold no pointers (the number or the string's index,
// and the element's index; equal numbers or strings by their index, so
// any sort gives a stable sort's order) and then picks the elements by
// index: moving interface values around during a sort costs a GC write
// barrier per move while the collector runs, which is most of the time
// in a busy host.
func sortFast(x starlark.Indexable, reverse bool) []starlark.Value {
	var buf [sortBuffer]int64
	ints := buf[:0] // the elements' values while they are all ints
	kinds := 0
	for i := range x.Len() {
		switch v := x.Index(i).(type) {
		case starlark.Int:
			n, ok := v.Int64()
			if !ok {
				return nil
			}
			kinds |= kindInt
			if kinds == kindInt {
				ints = append(ints, n)
			}
		case starlark.Float:
			kinds |= kindFloat
		case starlark.String:
			kinds |= kindString
		default:
			return nil
		}
	}
	switch kinds {
	case 0: // empty
		return []starlark.Value{}
	case kindInt:
		return sortInts(x, ints, reverse)
	case kindFloat:
		return sortFloats(x, reverse)
	case kindInt | kindFloat:
		return sortNumbers(x, reverse)
	case kindString:
		return sortStrings(x, reverse)
	}
	return nil // strings with numbers: upstream fails, with its own message
}

// sortInts is sortFast for ints that fit in int64; ns are their values,
// which it may reorder. (One function per kind keeps each one's key
// buffer out of the others' stack frames.)
//
// When every int fits in int32, as latencies and counts do, it sorts the
// bare numbers and makes the Ints again: nothing in Starlark tells equal
// ints apart, so neither their order among themselves nor which of them
// ends up in the list matters; and on 64-bit POSIX systems such an Int
// is its value (MakeInt64 neither allocates nor differs in a bit from
// the original).
func sortInts(x starlark.Indexable, ns []int64, reverse bool) []starlark.Value {
	if slices.ContainsFunc(ns, func(n int64) bool { return n != int64(int32(n)) }) {
		keys := make([]indexedKey, len(ns))
		for i, n := range ns {
			keys[i] = indexedKey{uint64(n) ^ 1<<63, i} // int64 order as uint64 order
		}
		return sortIndexedKeys(x, keys, reverse)
	}
	if len(ns) >= radixMin {
		var buf [sortBuffer]int64
		radixSortInt32s(ns, buf[:0])
	} else {
		slices.Sort(ns)
	}
	if reverse {
		slices.Reverse(ns)
	}
	sorted := make([]starlark.Value, len(ns))
	for j, n := range ns {
		sorted[j] = starlark.MakeInt64(n)
	}
	return sorted
}

// radixMin is the fewest ints sortInts sorts with radixSortInt32s; fewer
// are sorted faster by comparisons (pdqsort's insertion sort).
const radixMin = 32

// radixSortInt32s sorts ns, whose values all fit in int32, in increasing
// order: by their distance from the smallest (which fits in uint32), one
// byte at a time from the lowest (LSD radix sort), with only the bytes
// that the largest distance has (one pass for values less than 256 apart,
// as latencies in ms of one mission often are; at most four). Each pass
// is two walks over ns, where a comparison sort makes about log2(len(ns))
// with a mispredicted branch each. tmp is scratch space (its capacity
// is used if it is large enough, else one is allocated).
func radixSortInt32s(ns, tmp []int64) {
	lo, hi := slices.Min(ns), slices.Max(ns)
	span := uint32(hi - lo)
	if cap(tmp) < len(ns) {
		tmp = make([]int64, len(ns))
	}
	src, dst := ns, tmp[:len(ns)]
	for shift := uint(0); shift < 32 && span>>shift != 0; shift += 8 {
		var count [256]int
		for _, n := range src {
			count[uint8(uint32(n-lo)>>shift)]++
		}
		at := 0
		for d, c := range count {
			count[d] = at
			at += c
		}
		for _, n := range src {
			d := uint8(uint32(n-lo) >> shift)
			dst[count[d]] = n
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &ns[0] { // an odd number of passes: the result is in tmp
		copy(ns, src)
	}
}

// sortFloats is sortFast for floats.
func sortFloats(x starlark.Indexable, reverse bool) []starlark.Value {
	var buf [sortBuffer]indexedKey
	keys := buf[:0]
	for i := range x.Len() {
		keys = append(keys, indexedKey{floatKey(float64(x.Index(i).(starlark.Float))), i})
	}
	return sortIndexedKeys(x, keys, reverse)
}

// floatKey maps f to a number whose unsigned order is Starlark's float
// order (floatCmp in go.starlark.net): -0.0 and 0.0 map to the same key,
// and every NaN, whatever its sign or payload, to the largest key, above
// +Inf.
func floatKey(f float64) uint64 {
	switch {
	case f != f:
		return math.MaxUint64
	case f == 0:
		return 1 << 63 // +0.0's key
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b // negative: larger magnitude, smaller key
	}
	return b | 1<<63
}

// indexedKey is an element's sort key, in unsigned order, and its index.
type indexedKey struct {
	k uint64
	i int
}

// sortIndexedKeys returns the elements of x in the order of their keys
// (decreasing with reverse), equal keys in the order of their index: the
// order a stable sort gives.
func sortIndexedKeys(x starlark.Indexable, keys []indexedKey, reverse bool) []starlark.Value {
	if reverse {
		for i := range keys {
			keys[i].k = ^keys[i].k
		}
	}
	slices.SortFunc(keys, func(a, b indexedKey) int {
		if c := cmp.Compare(a.k, b.k); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	sorted := make([]starlark.Value, len(keys))
	for j, k := range keys {
		sorted[j] = x.Index(k.i)
	}
	return sorted
}

// sortNumbers is sortFast for ints that fit in int64 mixed with floats.
func sortNumbers(x starlark.Indexable, reverse bool) []starlark.Value {
	var buf [sortBuffer]indexedNumber
	keys := buf[:0]
	for i := range x.Len() {
		k := indexedNumber{i: i}
		switch v := x.Index(i).(type) {
		case starlark.Int:
			k.n, _ = v.Int64()
		case starlark.Float:
			k.isFloat, k.f = true, float64(v)
		}
		keys = append(keys, k)
	}
	sign := 1
	if reverse {
		sign = -1
	}
	slices.SortFunc(keys, func(a, b indexedNumber) int {
		if c := compareNumbers(a.number, b.number); c != 0 {
			return sign * c
		}
		return cmp.Compare(a.i, b.i)
	})
	sorted := make([]starlark.Value, len(keys))
	for j, k := range keys {
		sorted[j] = x.Index(k.i)
	}
	return sorted
}

// indexedNumber is a number and its element's index.
type indexedNumber struct {
	number
	i int
}

// sortStrings is sortFast for strings. It sorts the indexes of the
// elements (strings hold pointers; see sortFast).
func sortStrings(x starlark.Indexable, reverse bool) []starlark.Value {
	var strBuf [sortBuffer]string
	strs := strBuf[:0]
	var buf [sortBuffer]int
	idx := buf[:0]
	for i := range x.Len() {
		strs = append(strs, string(x.Index(i).(starlark.String)))
		idx = append(idx, i)
	}
	sign := 1
	if reverse {
		sign = -1
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := strings.Compare(strs[a], strs[b]); c != 0 {
			return sign * c
		}
		return cmp.Compare(a, b)
	})
	sorted := make([]starlark.Value, len(idx))
	for j, i := range idx {
		sorted[j] = x.Index(i)
	}
	return sorted
}

// number is the sort key of an int (that fits in int64) or a float.
type number struct {
	isFloat bool
	n       int64
	f       float64
}

// compareNumbers compares two numbers as starlark.Compare does.
func compareNumbers(a, b number) int {
	switch {
	case !a.isFloat && !b.isFloat:
		return cmp.Compare(a.n, b.n)
	case a.isFloat && b.isFloat:
		return compareFloats(a.f, b.f)
	case a.isFloat:
		return -compareIntFloat(b.n, a.f)
	default:
		return compareIntFloat(a.n, b.f)
	}
}

// compareFloats is Starlark's float order (floatCmp in go.starlark.net):
// the usual order, -0.0 equal to 0.0, NaN above +Inf and equal to every
// NaN (whatever its sign or payload).
func compareFloats(x, y float64) int {
	switch {
	case x > y:
		return +1
	case x < y:
		return -1
	case x == y:
		return 0
	case x == x: // y is NaN
		return -1
	case y == y: // x is NaN
		return +1
	}
	return 0 // both NaN
}

// compareIntFloat compares the int i with the float f exactly, as
// starlark.Compare does for an Int and a Float (by their rational values;
// NaN above every int, the infinities beyond every int), without big.Rat.
func compareIntFloat(i int64, f float64) int {
	switch {
	case f != f: // NaN
		return -1
	case f >= 0x1p63: // also +Inf
		return -1
	case f < -0x1p63: // also -Inf
		return +1
	}
	// -2⁶³ ≤ f < 2⁶³: its integer part fits in int64 exactly, and its
	// fractional part f - t is exact too.
	t := math.Trunc(f)
	if c := cmp.Compare(i, int64(t)); c != 0 {
		return c
	}
	switch frac := f - t; {
	case frac > 0:
		return -1
	case frac < 0:
		return +1
	}
	return 0
}
