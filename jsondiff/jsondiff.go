// Package jsondiff compares two values of plain JSON data, as afstudio
// passes them around (nil, bool, int64 or *big.Int or json.Number,
// float64, string, []any, map[string]any), and lists the paths where
// they differ: what a shadow's results and state, or a new version's
// replayed results, do differently from the serving version's.
package jsondiff

import (
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// A Difference is one place where two values differ.
type Difference struct {
	// Path locates it from the root "$": ".key" for an object's member
	// (`["key"]` when the key is not an identifier), "[i]" for an array's
	// element, as in $.latencies[3].
	Path string `json:"path"`
	// Old is the old value at Path; nil (JSON null) when Missing is
	// "old".
	Old any `json:"old"`
	// New is the new value at Path; nil when Missing is "new".
	New any `json:"new"`
	// Missing is "old" or "new" when Path exists on one side only; empty
	// when it exists on both.
	Missing string `json:"missing,omitempty"`
}

// String formats d on one line, as `$.p50: 35 → 36`.
func (d Difference) String() string {
	switch d.Missing {
	case "old":
		return fmt.Sprintf("%s: (absent) → %s", d.Path, Format(d.New))
	case "new":
		return fmt.Sprintf("%s: %s → (absent)", d.Path, Format(d.Old))
	}
	o, n := Format(d.Old), Format(d.New)
	if o == n { // 1 and 1.0: JSON writes both as 1
		o, n = o+" ("+kind(d.Old)+")", n+" ("+kind(d.New)+")"
	}
	return fmt.Sprintf("%s: %s → %s", d.Path, o, n)
}

// kind names the kind of a scalar, for two that format alike.
func kind(v any) string {
	if n, ok := number(v); ok {
		if n.isInt {
			return "integer"
		}
		return "float"
	}
	return fmt.Sprintf("%T", v)
}

// Compare lists where old and new differ, in path order (object keys
// sorted), at most limit of them (limit < 1: all), and how many there
// are in all. Numbers are equal when they are the same kind (integer or
// float) with the same value, whatever their Go type: 1 and
// json.Number("1") are equal, 1 and 1.0 are not. Arrays of different
// lengths differ at each index past the shorter one.
func Compare(old, new any, limit int) (diffs []Difference, total int) {
	return CompareAt("$", old, new, limit)
}

// CompareAt is Compare with the paths rooted at root instead of "$", as
// in "$.result" for the values inside a larger document.
func CompareAt(root string, old, new any, limit int) (diffs []Difference, total int) {
	c := comparer{limit: limit}
	c.compare(root, old, new)
	return c.diffs, c.total
}

// Equal reports whether old and new are equal as Compare sees them.
func Equal(old, new any) bool {
	_, n := Compare(old, new, 1)
	return n == 0
}

// Format writes v as compact JSON, or with %v when it is not JSON data.
func Format(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

type comparer struct {
	limit int
	diffs []Difference
	total int
}

func (c *comparer) differ(path string, old, new any, missing string) {
	c.total++
	if c.limit < 1 || len(c.diffs) < c.limit {
		c.diffs = append(c.diffs, Difference{Path: path, Old: old, New: new, Missing: missing})
	}
}

func (c *comparer) compare(path string, old, new any) {
	switch o := old.(type) {
	case map[string]any:
		n, ok := new.(map[string]any)
		if !ok {
			c.differ(path, old, new, "")
			return
		}
		keys := make([]string, 0, len(o)+len(n))
		for k := range o {
			keys = append(keys, k)
		}
		for k := range n {
			if _, ok := o[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			ov, inOld := o[k]
			nv, inNew := n[k]
			p := path + member(k)
			switch {
			case !inOld:
				c.differ(p, nil, nv, "old")
			case !inNew:
				c.differ(p, ov, nil, "new")
			default:
				c.compare(p, ov, nv)
			}
		}
	case []any:
		n, ok := new.([]any)
		if !ok {
			c.differ(path, old, new, "")
			return
		}
		for i := range max(len(o), len(n)) {
			p := path + "[" + strconv.Itoa(i) + "]"
			switch {
			case i >= len(o):
				c.differ(p, nil, n[i], "old")
			case i >= len(n):
				c.differ(p, o[i], nil, "new")
			default:
				c.compare(p, o[i], n[i])
			}
		}
	default:
		if !scalarEqual(old, new) {
			c.differ(path, old, new, "")
		}
	}
}

// member returns the path step of object key k.
func member(k string) string {
	ident := k != ""
	for i, r := range k {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			ident = false
			break
		}
	}
	if ident {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

// scalarEqual compares two values that are not objects or arrays.
func scalarEqual(a, b any) bool {
	switch a := a.(type) { // the common cases, without big numbers
	case string:
		b, ok := b.(string)
		return ok && a == b
	case int64:
		if b, ok := b.(int64); ok {
			return a == b
		}
	case float64:
		if b, ok := b.(float64); ok {
			return a == b
		}
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case nil:
		return b == nil
	}
	an, aNum := number(a)
	bn, bNum := number(b)
	if aNum || bNum {
		return aNum && bNum && an.equal(bn)
	}
	return reflect.DeepEqual(a, b)
}

// num is a number of any of the Go forms JSON data takes here: an
// integer exactly, a float as the float64 encoding/json reads.
type num struct {
	i     *big.Int // for an integer
	f     float64  // for a float
	isInt bool
}

// equal reports whether a and b are the same kind and value.
func (a num) equal(b num) bool {
	if a.isInt != b.isInt {
		return false
	}
	if a.isInt {
		return a.i.Cmp(b.i) == 0
	}
	return a.f == b.f
}

// number returns v as a num when it is a number.
func number(v any) (num, bool) {
	switch x := v.(type) {
	case int:
		return num{i: big.NewInt(int64(x)), isInt: true}, true
	case int64:
		return num{i: big.NewInt(x), isInt: true}, true
	case *big.Int:
		return num{i: x, isInt: true}, true
	case float64:
		return num{f: x}, true
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, ok := new(big.Int).SetString(s, 10); ok {
				return num{i: i, isInt: true}, true
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return num{f: f}, true
		}
	}
	return num{}, false
}
