package starhost

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// sumBuiltin is sum(iterable, start=0), Python's sum, which Starlark
// lacks: start plus every element, added left to right with Starlark's own
// + (so ints grow without overflow, an int and a float give a float, and
// adding a string to a number fails with Starlark's message). Summing in Go
// rather than in an interpreted loop is what makes a mean of a few hundred
// latencies cheap (integrations/lib/stats.star). It charges one step per
// element to the thread, as the loop it replaces would at least, so that
// the step budget still bounds it.
func sumBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var iterable starlark.Iterable
	var start starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &iterable, &start); err != nil {
		return nil, err
	}
	if seq, ok := iterable.(starlark.Indexable); ok {
		return sumIndexable(thread, seq, start)
	}
	it := iterable.Iterate()
	defer it.Done()
	total := start
	var x starlark.Value
	for i := 0; it.Next(&x); i++ {
		thread.Steps++
		next, err := starlark.Binary(syntax.PLUS, total, x)
		if err != nil {
			return nil, fmt.Errorf("sum: element %d: %w", i, err)
		}
		total = next
	}
	return total, nil
}

// sumIndexable is sum of a list, tuple or range: the loop of sumBuiltin,
// with the running total kept in a Go int64 while it and the elements are
// ints that fit, or in a float64 while it is a float and they are floats.
// Those are exactly what Starlark's + computes for such operands (an int
// sum that would overflow int64 leaves the fast path first, and floats add
// as IEEE doubles either way), without an interface value per element.
// Anything else goes through Starlark's +, as in sumBuiltin.
func sumIndexable(thread *starlark.Thread, seq starlark.Indexable, start starlark.Value) (starlark.Value, error) {
	const (
		generic = iota // total is the running sum
		ints           // ia is, as an int64
		floats         // fa is, as a float64
	)
	mode, total := generic, start
	var ia int64
	var fa float64
	enter := func() { // picks the fast mode total allows
		switch t := total.(type) {
		case starlark.Int:
			if v, ok := t.Int64(); ok {
				mode, ia = ints, v
			}
		case starlark.Float:
			mode, fa = floats, float64(t)
		}
	}
	leave := func() { // makes total the running sum again
		switch mode {
		case ints:
			total = starlark.MakeInt64(ia)
		case floats:
			total = starlark.Float(fa)
		}
		mode = generic
	}
	enter()
	for i := range seq.Len() {
		thread.Steps++
		x := seq.Index(i)
		switch mode {
		case ints:
			if xi, ok := x.(starlark.Int); ok {
				if v, ok := xi.Int64(); ok {
					if s := ia + v; (v >= 0) == (s >= ia) { // no overflow
						ia = s
						continue
					}
				}
			}
		case floats:
			if xf, ok := x.(starlark.Float); ok {
				fa += float64(xf)
				continue
			}
		}
		leave()
		next, err := starlark.Binary(syntax.PLUS, total, x)
		if err != nil {
			return nil, fmt.Errorf("sum: element %d: %w", i, err)
		}
		total = next
		enter()
	}
	leave()
	return total, nil
}
