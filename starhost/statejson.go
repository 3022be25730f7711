package starhost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// An integration's state is data: a dict with string keys whose values are
// dicts with string keys, lists, tuples, strings, ints, floats, bools and
// None, nested within Limits.MaxDepth and Limits.MaxValues. Its one
// serialised form is the JSON that encodeState writes and decodeState
// reads: it is what the durable store keeps, what the API returns and what
// the studio shows. The form is exact:
//
//   - a dict's keys keep their order (scripts see the order they inserted
//     them, for example to drop the oldest entry);
//   - an int is written as its decimal digits, however large, and read back
//     as an int;
//   - a float is written in its shortest form that reads back as the same
//     float, always with a '.' or an exponent ("2.0", "1e+21", "-0.0"), and
//     read back as a float; NaN and the infinities have no JSON form and
//     cannot be stored;
//   - a tuple is written as a list and read back as a list;
//   - a string must be valid UTF-8.
//
// Anything else (a function, a set, a struct, bytes, a time) is not data:
// encodeState fails with the path of the first such value,
// `state["f"]: a function cannot be stored`.

// errNotData marks the errors of encodeState about a value that is not
// data (as opposed to a state past the limits).
var errNotData = errors.New("not data")

// stateError is an error about the value at path in a state.
type stateError struct {
	path string // state["a"][2]
	msg  string
	kind error // errNotData, or nil for a limit
}

// Error returns "path: message".
func (e *stateError) Error() string { return e.path + ": " + e.msg }

// Unwrap returns errNotData for a value that is not data, else nil.
func (e *stateError) Unwrap() error { return e.kind }

// stateEncoder writes a state as JSON, checking that it is data within
// the limits. A lenient encoder (dropNonData) writes what is not data as
// if it were absent: a dict entry is left out, a list element is null; the
// paths it dropped are listed in dropped.
type stateEncoder struct {
	buf         []byte
	path        []pathStep // the keys and indexes leading to the current value
	values      int
	maxDepth    int
	maxVals     int
	dropNonData bool
	dropped     []string // "state[...]: why", when dropNonData
	checkOnly   bool     // check and count, write nothing (checkStateData)
}

// pathStep is one step of a path in a state: a dict key, or a list index
// when key is "" and index >= 0. Steps are written out only for an error.
type pathStep struct {
	key   string
	index int
}

// String returns the step as written in a path: ["key"] or [3].
func (p pathStep) String() string {
	if p.index >= 0 {
		return "[" + strconv.Itoa(p.index) + "]"
	}
	return "[" + strconv.Quote(p.key) + "]"
}

// encodeState appends the JSON form of state to buf and returns it with
// the number of values it holds; see the comment at the top of this file.
// l bounds the depth and the number of values.
func encodeState(buf []byte, state *starlark.Dict, l Limits) ([]byte, int, error) {
	e := &stateEncoder{buf: buf, maxDepth: l.MaxDepth, maxVals: l.MaxValues}
	if err := e.value(state, 0); err != nil {
		return nil, 0, err
	}
	return e.buf, e.values, nil
}

// checkStateData checks that state is data within the limits, as
// encodeState does, and counts its values, without writing it: the cheap
// check of the state audit.
//
// It walks the state with dataCounter, which keeps no path, and only
// when that finds a fault walks it again with the encoder, whose error
// says where the fault is.
func checkStateData(state *starlark.Dict, l Limits) (int, error) {
	c := dataCounter{maxDepth: l.MaxDepth, maxVals: l.MaxValues}
	if c.value(state, 0) {
		return c.values, nil
	}
	e := &stateEncoder{maxDepth: l.MaxDepth, maxVals: l.MaxValues, checkOnly: true}
	if err := e.value(state, 0); err != nil {
		return 0, err
	}
	return e.values, nil
}

// dataCounter is the state encoder's walk in checkOnly mode without the
// path and the brackets: the same checks in the same order (depth, count,
// notData, notDataKey), a fault reported only as false.
type dataCounter struct {
	values, maxDepth, maxVals int

	// entry is c.entry as a func, made once: a closure per dict walked
	// was most of the walk's allocations. entryDepth is the depth of
	// the entries of the dict being walked.
	entry      func(k, v starlark.Value) bool
	entryDepth int
	fault      bool
}

// value counts v and what it holds, and reports whether all of it is data
// within the limits.
func (c *dataCounter) value(v starlark.Value, depth int) bool {
	if depth > c.maxDepth {
		return false
	}
	if c.values++; c.values > c.maxVals || notData(v) != "" {
		return false
	}
	switch v := v.(type) {
	case *starlark.Dict:
		return c.dict(v, depth)
	case *starlark.List:
		return c.seq(v, depth)
	case starlark.Tuple:
		return c.seq(v, depth)
	}
	return true
}

// dict is value for the entries of a dict.
func (c *dataCounter) dict(d *starlark.Dict, depth int) bool {
	if c.entry == nil {
		c.entry = c.checkEntry
	}
	outer := c.entryDepth
	c.entryDepth = depth + 1
	d.Entries()(c.entry)
	c.entryDepth = outer
	return !c.fault
}

// checkEntry is value for one entry of the dict being walked, and its
// key; it stops the walk at a fault.
func (c *dataCounter) checkEntry(k, v starlark.Value) bool {
	if notDataKey(k) != "" || !c.value(v, c.entryDepth) {
		c.fault = true
	}
	return !c.fault
}

// seq is value for the elements of a list or tuple.
func (c *dataCounter) seq(s starlark.Indexable, depth int) bool {
	for i := range s.Len() {
		if !c.value(s.Index(i), depth+1) {
			return false
		}
	}
	return true
}

// encodeData is encodeState leaving out what is not data; dropped says
// what it left out and why. It fails only past the limits.
func encodeData(state *starlark.Dict, l Limits) (b []byte, n int, dropped []string, err error) {
	e := &stateEncoder{maxDepth: l.MaxDepth, maxVals: l.MaxValues, dropNonData: true}
	if err := e.value(state, 0); err != nil {
		return nil, 0, nil, err
	}
	return e.buf, e.values, e.dropped, nil
}

// pathString is the current path, "state[...][...]".
func (e *stateEncoder) pathString() string {
	var path strings.Builder
	path.WriteString("state")
	for _, p := range e.path {
		path.WriteString(p.String())
	}
	return path.String()
}

// fail returns an error about the current value.
func (e *stateEncoder) fail(kind error, format string, args ...any) error {
	return &stateError{path: e.pathString(), msg: fmt.Sprintf(format, args...), kind: kind}
}

// notData returns why v cannot be stored, or "" when it can (a
// container's elements are checked when they are written).
func notData(v starlark.Value) string {
	switch v := v.(type) {
	case starlark.NoneType, starlark.Bool, starlark.Int, *starlark.Dict, *starlark.List, starlark.Tuple:
		return ""
	case starlark.Float:
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("%v cannot be stored (JSON has no form for it)", f)
		}
		return ""
	case starlark.String:
		if !utf8.ValidString(string(v)) {
			return "a string that is not valid UTF-8 cannot be stored"
		}
		return ""
	}
	return article(v.Type()) + " cannot be stored; keep only dicts with string keys, lists, tuples, strings, numbers, bools and None in ctx.state"
}

// notDataKey returns why k cannot be a stored dict key, or "".
func notDataKey(k starlark.Value) string {
	ks, ok := k.(starlark.String)
	switch {
	case !ok:
		return fmt.Sprintf("a dict key must be a string to be stored, not %s (%s)", article(k.Type()), k)
	case !utf8.ValidString(string(ks)):
		return "a key that is not valid UTF-8 cannot be stored"
	}
	return ""
}

// drop records that the current value was left out for why.
func (e *stateEncoder) drop(why string) {
	e.dropped = append(e.dropped, e.pathString()+": "+why)
}

func (e *stateEncoder) value(v starlark.Value, depth int) error {
	if depth > e.maxDepth {
		return e.fail(nil, "nested deeper than %d levels", e.maxDepth)
	}
	if e.values++; e.values > e.maxVals {
		return e.fail(nil, "more than %d values", e.maxVals)
	}
	if why := notData(v); why != "" {
		if !e.dropNonData {
			return e.fail(errNotData, "%s", why)
		}
		e.drop(why)
		e.buf = append(e.buf, "null"...) // a list element; a dict entry is left out before this
		return nil
	}
	if e.checkOnly {
		switch v := v.(type) {
		case *starlark.Dict:
			return e.dict(v, depth)
		case *starlark.List:
			return e.seq(v, depth)
		case starlark.Tuple:
			return e.seq(v, depth)
		}
		return nil
	}
	switch v := v.(type) {
	case starlark.NoneType:
		e.buf = append(e.buf, "null"...)
	case starlark.Bool:
		e.buf = strconv.AppendBool(e.buf, bool(v))
	case starlark.Int:
		if i, ok := v.Int64(); ok {
			e.buf = strconv.AppendInt(e.buf, i, 10)
		} else {
			e.buf = v.BigInt().Append(e.buf, 10)
		}
	case starlark.Float:
		e.float(float64(v))
	case starlark.String:
		e.buf = appendJSONString(e.buf, string(v))
	case *starlark.Dict:
		return e.dict(v, depth)
	case *starlark.List:
		return e.seq(v, depth)
	case starlark.Tuple:
		return e.seq(v, depth)
	}
	return nil
}

// float writes a finite float.
func (e *stateEncoder) float(f float64) {
	// As encoding/json writes floats: plain decimals between 1e-6 and
	// 1e21, exponents outside, the shortest digits that read back exactly.
	start, format := len(e.buf), byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	if n := len(e.buf); format == 'e' && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
		e.buf[n-2] = e.buf[n-1] // 1e-07 as 1e-7
		e.buf = e.buf[:n-1]
	}
	if !bytes.ContainsAny(e.buf[start:], ".e") {
		e.buf = append(e.buf, ".0"...) // so that it reads back as a float
	}
}

func (e *stateEncoder) dict(d *starlark.Dict, depth int) error {
	e.buf = append(e.buf, '{')
	first := true
	for k, v := range d.Entries() {
		if why := notDataKey(k); why != "" {
			if !e.dropNonData {
				return e.fail(errNotData, "%s", why)
			}
			e.drop(why)
			continue
		}
		key := string(k.(starlark.String))
		e.path = append(e.path, pathStep{key: key, index: -1})
		if why := notData(v); why != "" && e.dropNonData {
			e.drop(why)
			e.path = e.path[:len(e.path)-1]
			continue
		}
		if !e.checkOnly {
			if !first {
				e.buf = append(e.buf, ',')
			}
			first = false
			e.buf = appendJSONString(e.buf, key)
			e.buf = append(e.buf, ':')
		}
		if err := e.value(v, depth+1); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *stateEncoder) seq(s starlark.Indexable, depth int) error {
	e.buf = append(e.buf, '[')
	for i := range s.Len() {
		if i > 0 && !e.checkOnly {
			e.buf = append(e.buf, ',')
		}
		e.path = append(e.path, pathStep{index: i})
		if err := e.value(s.Index(i), depth+1); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.buf = append(e.buf, ']')
	return nil
}

// appendJSONString appends s, valid UTF-8, as a JSON string: quotes,
// backslashes and control characters escaped, everything else as it is.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\t':
			buf = append(buf, '\\', 't')
		case '\r':
			buf = append(buf, '\\', 'r')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// article returns "a T" or "an T" for a Starlark type name.
func article(typ string) string {
	if typ != "" && strings.ContainsRune("aeiou", rune(typ[0])) {
		return "an " + typ
	}
	return "a " + typ
}

// decodeState reads a state written by encodeState (or any JSON object
// within the limits): objects become dicts in the order of their keys,
// numbers with a '.' or an exponent floats, other numbers ints of any size.
func decodeState(data []byte, l Limits) (*starlark.Dict, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	d := &stateDecoder{dec: dec, maxDepth: l.MaxDepth, maxVals: l.MaxValues}
	v, err := d.value(0)
	if err != nil {
		return nil, fmt.Errorf("stored state: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("stored state: trailing data after the JSON object")
	}
	dict, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("stored state: a JSON object is required, found %s", v.Type())
	}
	return dict, nil
}

// stateDecoder reads JSON tokens into Starlark values, within the limits.
type stateDecoder struct {
	dec      *json.Decoder
	values   int
	maxDepth int
	maxVals  int
}

func (d *stateDecoder) value(depth int) (starlark.Value, error) {
	if depth > d.maxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", d.maxDepth)
	}
	if d.values++; d.values > d.maxVals {
		return nil, fmt.Errorf("more than %d values", d.maxVals)
	}
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return starlark.None, nil
	case bool:
		return starlark.Bool(t), nil
	case string:
		return starlark.String(t), nil
	case json.Number:
		return numberValue(string(t))
	case json.Delim:
		switch t {
		case '{':
			dict := starlark.NewDict(0)
			for d.dec.More() {
				kt, err := d.dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				_ = dict.SetKey(starlark.String(kt.(string)), v)
			}
			_, err := d.dec.Token() // '}'
			return dict, err
		case '[':
			var elems []starlark.Value
			for d.dec.More() {
				v, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				elems = append(elems, v)
			}
			_, err := d.dec.Token() // ']'
			return starlark.NewList(elems), err
		}
	}
	return nil, fmt.Errorf("unexpected %v", tok)
}

// numberValue returns the Starlark number a JSON number stands for: a
// float when it has a fraction or an exponent, else an int of any size.
func numberValue(s string) (starlark.Value, error) {
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", s, err)
		}
		return starlark.Float(f), nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return starlark.MakeInt64(i), nil
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("number %s is not an integer", s)
	}
	return starlark.MakeBigInt(b), nil
}
