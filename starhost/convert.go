package starhost

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// A converter moves values across the boundary between Go and Starlark
// with bounded depth and size, so that a deeply nested or huge value is
// rejected with an error instead of exhausting the stack or the heap.
type converter struct {
	maxDepth  int
	maxValues int
	n         int // values seen so far
}

// newConverter returns a converter with a fresh count, bounded by
// l.MaxDepth and l.MaxValues. A converter counts across all the values it
// converts; use a new one per value that has its own budget.
func newConverter(l Limits) *converter {
	return &converter{maxDepth: l.MaxDepth, maxValues: l.MaxValues}
}

// boundError is the error of a value that crosses a limit; path says where
// in the value ("data.items[3]").
type boundError struct {
	path string
	msg  string
}

// Error returns "path: message", or the message alone at the top level.
func (e *boundError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

// at prefixes the path of a boundError with one step (a key, a field or
// "[i]") on its way out of a container; other errors pass unchanged.
func at(err error, step string) error {
	if be, ok := err.(*boundError); ok {
		if be.path == "" || be.path[0] == '[' {
			be.path = step + be.path
		} else {
			be.path = step + "." + be.path
		}
	}
	return err
}

// enter counts one value at depth and fails when depth is past MaxDepth
// or the count past MaxValues.
func (c *converter) enter(depth int) error {
	if depth > c.maxDepth {
		return &boundError{msg: fmt.Sprintf("nested deeper than %d levels", c.maxDepth)}
	}
	c.n++
	if c.n > c.maxValues {
		return &boundError{msg: fmt.Sprintf("more than %d values", c.maxValues)}
	}
	return nil
}

// toStarlark converts a Go value (as produced by encoding/json, plus Go
// integers and time.Time) into a Starlark value, counting every value and
// failing past the limits. Map keys are visited in sorted order, so the
// dict's order does not depend on Go's map order.
func (c *converter) toStarlark(v any, depth int) (starlark.Value, error) {
	if err := c.enter(depth); err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case []any:
		return c.listToStarlark(v, depth)
	case map[string]any:
		return c.dictToStarlark(v, depth)
	}
	return scalarToStarlark(v)
}

// scalarToStarlark converts a Go value that holds no other values. A
// float64 with an integral value below 2^53 becomes an int, as JSON
// numbers are meant; a json.Number keeps its exact value.
func scalarToStarlark(v any) (starlark.Value, error) {
	switch v := v.(type) {
	case nil:
		return starlark.None, nil
	case bool:
		return starlark.Bool(v), nil
	case string:
		return starlark.String(v), nil
	case int:
		return starlark.MakeInt(v), nil
	case int64:
		return starlark.MakeInt64(v), nil
	case uint64:
		return starlark.MakeUint64(v), nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return starlark.MakeInt64(int64(v)), nil
		}
		return starlark.Float(v), nil
	case json.Number:
		if i, ok := new(big.Int).SetString(string(v), 10); ok {
			return starlark.MakeBigInt(i), nil
		}
		f, err := v.Float64()
		if err != nil {
			return nil, &boundError{msg: fmt.Sprintf("bad number %q", v)}
		}
		return starlark.Float(f), nil
	case time.Time:
		return starlarktime.Time(v), nil
	}
	return nil, &boundError{msg: fmt.Sprintf("cannot convert Go %T", v)}
}

// listToStarlark converts the elements of a Go slice at depth+1 into a
// Starlark list.
func (c *converter) listToStarlark(v []any, depth int) (starlark.Value, error) {
	elems := make([]starlark.Value, len(v))
	for i, e := range v {
		sv, err := c.toStarlark(e, depth+1)
		if err != nil {
			return nil, at(err, fmt.Sprintf("[%d]", i))
		}
		elems[i] = sv
	}
	return starlark.NewList(elems), nil
}

// dictToStarlark converts the entries of a Go map at depth+1 into a
// Starlark dict, in key order.
func (c *converter) dictToStarlark(v map[string]any, depth int) (starlark.Value, error) {
	d := starlark.NewDict(len(v))
	for _, k := range sortedKeys(v) {
		sv, err := c.toStarlark(v[k], depth+1)
		if err != nil {
			return nil, at(err, k)
		}
		_ = d.SetKey(starlark.String(k), sv)
	}
	return d, nil
}

// sortedKeys returns the keys of m in increasing order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fromStarlark converts a Starlark value into plain Go data: nil, bool,
// int64 (or *big.Int), float64, string, []any and map[string]any,
// counting every value and failing past the limits. Functions and other
// values that are not data are rejected; the error's path says where in
// the value the problem is.
func (c *converter) fromStarlark(v starlark.Value, depth int) (any, error) {
	if err := c.enter(depth); err != nil {
		return nil, err
	}
	// Scalars first: strings and bytes are also Indexable.
	if gv, ok, err := scalarFromStarlark(v); ok {
		return gv, err
	}
	switch v := v.(type) {
	case *starlark.Dict:
		return c.dictFromStarlark(v, depth)
	case *starlarkstruct.Struct:
		return c.structFromStarlark(v, depth)
	case starlark.Indexable: // list, tuple, range
		return c.seqFromStarlark(v, depth)
	case *starlark.Set:
		return c.setFromStarlark(v, depth)
	}
	return nil, &boundError{msg: fmt.Sprintf("a %s is not data; return dicts, lists, strings, numbers, bools or None", v.Type())}
}

// scalarFromStarlark converts a Starlark value that holds no other
// values; ok is false for any other value. Bytes become a string, a time
// its RFC 3339 form in UTC, a duration its Go form ("1.5s"); a NaN or
// infinite float is an error.
func scalarFromStarlark(v starlark.Value) (gv any, ok bool, err error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, true, nil
	case starlark.Bool:
		return bool(v), true, nil
	case starlark.Int:
		if i, ok := v.Int64(); ok {
			return i, true, nil
		}
		return v.BigInt(), true, nil
	case starlark.Float:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, true, &boundError{msg: fmt.Sprintf("%v is not a finite number", f)}
		}
		return f, true, nil
	case starlark.String:
		return string(v), true, nil
	case starlark.Bytes:
		return string(v), true, nil
	case starlarktime.Time:
		return time.Time(v).UTC().Format(time.RFC3339Nano), true, nil
	case starlarktime.Duration:
		return time.Duration(v).String(), true, nil
	}
	return nil, false, nil
}

// dictFromStarlark converts a dict with string keys into a map, its
// values at depth+1. A key of another type is an error.
func (c *converter) dictFromStarlark(v *starlark.Dict, depth int) (any, error) {
	m := make(map[string]any, v.Len())
	for _, item := range v.Items() {
		k, ok := item[0].(starlark.String)
		if !ok {
			return nil, &boundError{msg: fmt.Sprintf("dict key %s is a %s; only string keys cross the boundary", item[0], item[0].Type())}
		}
		gv, err := c.fromStarlark(item[1], depth+1)
		if err != nil {
			return nil, at(err, string(k))
		}
		m[string(k)] = gv
	}
	return m, nil
}

// structFromStarlark converts a struct into a map of its fields, their
// values at depth+1.
func (c *converter) structFromStarlark(v *starlarkstruct.Struct, depth int) (any, error) {
	m := make(map[string]any)
	for _, name := range v.AttrNames() {
		fv, _ := v.Attr(name)
		gv, err := c.fromStarlark(fv, depth+1)
		if err != nil {
			return nil, at(err, name)
		}
		m[name] = gv
	}
	return m, nil
}

// seqFromStarlark converts a list, tuple or range into a slice, its
// elements at depth+1. A sequence longer than the values left fails before
// anything is allocated for it (a range can be huge and cheap).
func (c *converter) seqFromStarlark(v starlark.Indexable, depth int) (any, error) {
	n := v.Len()
	if c.n+n > c.maxValues {
		return nil, &boundError{msg: fmt.Sprintf("more than %d values", c.maxValues)}
	}
	out := make([]any, n)
	for i := range n {
		gv, err := c.fromStarlark(v.Index(i), depth+1)
		if err != nil {
			return nil, at(err, fmt.Sprintf("[%d]", i))
		}
		out[i] = gv
	}
	return out, nil
}

// setFromStarlark converts a set into a slice of its elements, in the
// set's order, at depth+1.
func (c *converter) setFromStarlark(v *starlark.Set, depth int) (any, error) {
	out := make([]any, 0, v.Len())
	iter := v.Iterate()
	defer iter.Done()
	var e starlark.Value
	for i := 0; iter.Next(&e); i++ {
		gv, err := c.fromStarlark(e, depth+1)
		if err != nil {
			return nil, at(err, fmt.Sprintf("[%d]", i))
		}
		out = append(out, gv)
	}
	return out, nil
}

// measure walks a Starlark value and fails if it is nested deeper or holds
// more values than the limits allow. Cyclic values fail on depth.
func (c *converter) measure(v starlark.Value, depth int) error {
	if err := c.enter(depth); err != nil {
		return err
	}
	switch v := v.(type) {
	case *starlark.Dict:
		scalars := 0
		for k, val := range v.Entries() { // no allocation, unlike Items
			if isScalar(val) {
				scalars++
				continue
			}
			if err := c.measure(val, depth+1); err != nil {
				return at(err, k.String())
			}
		}
		return c.countScalars(scalars, depth)
	case *starlark.List:
		return c.measureSeq(v, depth)
	case starlark.Tuple:
		return c.measureSeq(v, depth)
	case *starlarkstruct.Struct:
		for _, name := range v.AttrNames() {
			fv, _ := v.Attr(name)
			if err := c.measure(fv, depth+1); err != nil {
				return at(err, name)
			}
		}
	case *starlark.Set:
		c.n += v.Len()
		if c.n > c.maxValues {
			return &boundError{msg: fmt.Sprintf("more than %d values", c.maxValues)}
		}
	}
	return nil
}

// measureSeq measures the elements of a list or tuple at depth+1,
// counting scalars in one step.
func (c *converter) measureSeq(v starlark.Indexable, depth int) error {
	n, scalars := v.Len(), 0
	for i := range n {
		e := v.Index(i)
		if isScalar(e) {
			scalars++ // counted below, without a call per element
			continue
		}
		if err := c.measure(e, depth+1); err != nil {
			return at(err, fmt.Sprintf("[%d]", i))
		}
	}
	return c.countScalars(scalars, depth)
}

// countScalars counts n scalar elements of a container at depth.
func (c *converter) countScalars(n, depth int) error {
	if depth+1 > c.maxDepth && n > 0 {
		return &boundError{msg: fmt.Sprintf("nested deeper than %d levels", c.maxDepth)}
	}
	c.n += n
	if c.n > c.maxValues {
		return &boundError{msg: fmt.Sprintf("more than %d values", c.maxValues)}
	}
	return nil
}

// isScalar reports whether v holds no other values.
func isScalar(v starlark.Value) bool {
	switch v.(type) {
	case starlark.Int, starlark.Float, starlark.String, starlark.Bool, starlark.NoneType, starlark.Bytes:
		return true
	}
	return false
}

// deepCopy copies the mutable containers of a Starlark value (dicts,
// lists, sets, and tuples that hold them), so that a function given the copy
// cannot change the original. It assumes v has been measured.
func deepCopy(v starlark.Value) starlark.Value {
	switch v := v.(type) {
	case *starlark.Dict:
		d := starlark.NewDict(v.Len())
		for _, item := range v.Items() {
			_ = d.SetKey(item[0], deepCopy(item[1]))
		}
		return d
	case *starlark.List:
		elems := make([]starlark.Value, v.Len())
		for i := range elems {
			elems[i] = deepCopy(v.Index(i))
		}
		return starlark.NewList(elems)
	case starlark.Tuple:
		t := make(starlark.Tuple, len(v))
		for i, e := range v {
			t[i] = deepCopy(e)
		}
		return t
	case *starlark.Set:
		s := starlark.NewSet(v.Len())
		for e := range starlark.Elements(v) {
			_ = s.Insert(e) // set elements are hashable, so immutable
		}
		return s
	}
	return v
}
