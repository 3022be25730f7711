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
