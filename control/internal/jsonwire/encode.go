// Package jsonwire is the control API's fast JSON for its hot messages:
// the event data, the handler results and the batches that carry them.
// It writes exactly the bytes encoding/json writes (HTML-safe strings,
// sorted map keys, ES6-style floats) and reads exactly the values
// encoding/json reads, for the plain data those messages hold, without
// reflection. Everything it does not handle (a type it does not know,
// an escape in a string, a number out of range, a syntax error) it
// reports with ok == false, and the caller then uses encoding/json on the
// same bytes, which gives the answer, and the error message, of record.
package jsonwire

import (
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/afstudio/afstudio/starhost"
)

const hex = "0123456789abcdef"

// htmlSafe holds true for the ASCII bytes encoding/json writes as they
// are in a string when it escapes HTML (json.Marshal and json.Encoder's
// default): every printable byte but '"', '\\', '<', '>' and '&'.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// AppendString appends s as a JSON string, as json.Marshal writes it:
// HTML characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced by
// \ufffd.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if htmlSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendFloat appends f as encoding/json writes a float64; ok is false
// for NaN and the infinities, which JSON cannot hold.
func AppendFloat(dst []byte, f float64) (_ []byte, ok bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

// maxDepth bounds the nesting AppendValue and the Parser follow
// themselves; deeper data goes to encoding/json.
const maxDepth = 512

// AppendValue appends v as json.Marshal writes it. It writes the plain
// data of events and results (nil, bool, int, int64, float64, string,
// *big.Int, []any, map[string]any, []starhost.Result) itself and hands any
// other type to json.Marshal; ok is false when v cannot be written (NaN,
// an unsupported type, a cycle), and dst is then unusable.
func AppendValue(dst []byte, v any) (_ []byte, ok bool) {
	return appendValue(dst, v, 0)
}

func appendValue(dst []byte, v any, depth int) (_ []byte, ok bool) {
	if depth > maxDepth {
		return dst, false
	}
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case bool:
		return strconv.AppendBool(dst, v), true
	case string:
		return AppendString(dst, v), true
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case int:
		return strconv.AppendInt(dst, int64(v), 10), true
	case float64:
		return AppendFloat(dst, v)
	case *big.Int:
		if v == nil {
			return append(dst, "null"...), true
		}
		return v.Append(dst, 10), true
	case map[string]any:
		if v == nil {
			return append(dst, "null"...), true
		}
		return appendMap(dst, v, depth)
	case []any:
		if v == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, ok = appendValue(dst, e, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case []starhost.Result:
		return AppendResults(dst, v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return dst, false
		}
		return append(dst, b...), true
	}
}

// appendMap writes m with its keys in sorted order, as encoding/json
// does.
func appendMap(dst []byte, m map[string]any, depth int) (_ []byte, ok bool) {
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		if dst, ok = appendValue(dst, m[k], depth+1); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// AppendResults appends rs as json.Marshal writes a []starhost.Result
// ("null" for nil).
func AppendResults(dst []byte, rs []starhost.Result) (_ []byte, ok bool) {
	if rs == nil {
		return append(dst, "null"...), true
	}
	dst = append(dst, '[')
	for i := range rs {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, ok = AppendResult(dst, &rs[i]); !ok {
			return dst, false
		}
	}
	return append(dst, ']'), true
}

// AppendResult appends r as json.Marshal writes a starhost.Result, its
// fields in declaration order.
func AppendResult(dst []byte, r *starhost.Result) (_ []byte, ok bool) {
	dst = append(dst, `{"integration":`...)
	dst = AppendString(dst, r.Integration)
	dst = append(dst, `,"event":`...)
	dst = AppendString(dst, r.Event)
	dst = append(dst, `,"generation":`...)
	dst = strconv.AppendInt(dst, int64(r.Generation), 10)
	dst = append(dst, `,"depth":`...)
	dst = strconv.AppendInt(dst, int64(r.Depth), 10)
	dst = append(dst, `,"ok":`...)
	dst = strconv.AppendBool(dst, r.OK)
	dst = append(dst, `,"result":`...)
	if dst, ok = appendValue(dst, r.Value, 1); !ok {
		return dst, false
	}
	dst = append(dst, `,"error":`...)
	dst = AppendDiagnostic(dst, r.Error)
	dst = append(dst, `,"duration_us":`...)
	// starhost.Duration.MarshalJSON, without its allocation.
	dst = strconv.AppendFloat(dst, r.Duration.Micros(), 'f', -1, 64)
	if len(r.Emitted) > 0 {
		dst = append(dst, `,"emitted":[`...)
		for i, e := range r.Emitted {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"event":`...)
			dst = AppendString(dst, e.Event)
			dst = append(dst, `,"data":`...)
			if dst, ok = appendValue(dst, e.Data, 2); !ok {
				return dst, false
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), true
}

// AppendDiagnostic appends d as json.Marshal writes a *starhost.Diagnostic
// ("null" for nil).
func AppendDiagnostic(dst []byte, d *starhost.Diagnostic) []byte {
	if d == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"file":`...)
	dst = AppendString(dst, d.File)
	dst = append(dst, `,"line":`...)
	dst = strconv.AppendInt(dst, int64(d.Line), 10)
	dst = append(dst, `,"col":`...)
	dst = strconv.AppendInt(dst, int64(d.Col), 10)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, d.Msg)
	dst = append(dst, `,"kind":`...)
	dst = AppendString(dst, string(d.Kind))
	if d.Backtrace != "" {
		dst = append(dst, `,"backtrace":`...)
		dst = AppendString(dst, d.Backtrace)
	}
	return append(dst, '}')
}
