package jsonwire

import (
	"encoding/json"
	"hash/maphash"
	"math"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/afstudio/afstudio/starhost"
)

// A Parser reads one JSON text from a byte slice. Each method reads the
// next value (after white space) and returns ok == false, leaving the
// Parser unusable, when the text is not what it handles: the caller then
// decodes the whole text with encoding/json, whose answer and error
// messages stand. The values it returns are those encoding/json gives
// for the same text and target: objects as map[string]any, arrays as
// []any, numbers as float64 (or json.Number with UseNumber).
type Parser struct {
	buf []byte
	pos int
	// UseNumber makes Value return numbers as json.Number, like
	// json.Decoder.UseNumber.
	UseNumber bool
}

// NewParser returns a Parser for b, which it does not modify or keep
// beyond its use.
func NewParser(b []byte) *Parser { return &Parser{buf: b} }

// skipSpace skips JSON white space and returns the next byte, or 0 at the
// end.
func (p *Parser) skipSpace() byte {
	for p.pos < len(p.buf) {
		switch c := p.buf[p.pos]; c {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return c
		}
	}
	return 0
}

// End reports whether only white space is left.
func (p *Parser) End() bool { return p.skipSpace() == 0 && p.pos == len(p.buf) }

// Null reads a null if one is next and reports whether it did; it reads
// nothing otherwise.
func (p *Parser) Null() bool {
	if p.skipSpace() == 'n' && len(p.buf)-p.pos >= 4 && string(p.buf[p.pos:p.pos+4]) == "null" {
		p.pos += 4
		return true
	}
	return false
}

// Bool reads true or false.
func (p *Parser) Bool() (v, ok bool) {
	c := p.skipSpace()
	rest := p.buf[p.pos:]
	switch c {
	case 't':
		if len(rest) >= 4 && string(rest[:4]) == "true" {
			p.pos += 4
			return true, true
		}
	case 'f':
		if len(rest) >= 5 && string(rest[:5]) == "false" {
			p.pos += 5
			return false, true
		}
	}
	return false, false
}

// number reads a number and returns its text, which follows the JSON
// grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *Parser) number() ([]byte, bool) {
	p.skipSpace()
	b, i := p.buf, p.pos
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	p.pos = i
	return b[start:i], true
}

// Int reads a number into a Go int as encoding/json does: an integer
// literal in range; a fraction or an exponent is not ok.
func (p *Parser) Int() (int, bool) {
	lit, ok := p.number()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(lit), 10, strconv.IntSize)
	return int(n), err == nil
}

// Float reads a number into a float64 as encoding/json does.
func (p *Parser) Float() (float64, bool) {
	lit, ok := p.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	return f, err == nil
}

// Duration reads a number of microseconds into a starhost.Duration as its
// UnmarshalJSON does (rounded to the nanosecond); NaN cannot occur and a
// value out of range is not ok.
func (p *Parser) Duration() (starhost.Duration, bool) {
	us, ok := p.Float()
	if !ok || math.Abs(us) > float64(math.MaxInt64/int64(time.Microsecond)) {
		return 0, false
	}
	return starhost.Duration(math.Round(us * float64(time.Microsecond))), true
}

// String reads a string. A string with an escape or with invalid UTF-8
// is decoded by encoding/json.
func (p *Parser) String() (string, bool) {
	if p.skipSpace() != '"' {
		return "", false
	}
	b := p.buf
	start := p.pos + 1
	ascii := true
	for i := start; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			p.pos = i + 1
			s := b[start:i]
			if !ascii && !utf8.Valid(s) {
				return p.unquote(b[start-1 : i+1])
			}
			return intern(s), true
		case c == '\\':
			return p.escaped(start - 1)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// escaped reads the string that starts at quote and holds an escape.
func (p *Parser) escaped(quote int) (string, bool) {
	b := p.buf
	for i := quote + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			p.pos = i + 1
			return p.unquote(b[quote : i+1])
		}
	}
	return "", false
}

// unquote decodes a string literal with encoding/json.
func (p *Parser) unquote(lit []byte) (string, bool) {
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", false
	}
	return s, true
}

// Object reads an object, calling field with each key in order and the
// Parser positioned at its value, which field must read; field returns
// false to stop, making Object not ok.
func (p *Parser) Object(field func(key string) bool) bool {
	if p.skipSpace() != '{' {
		return false
	}
	p.pos++
	if p.skipSpace() == '}' {
		p.pos++
		return true
	}
	for {
		key, ok := p.String()
		if !ok || p.skipSpace() != ':' {
			return false
		}
		p.pos++
		if !field(key) {
			return false
		}
		switch p.skipSpace() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return true
		default:
			return false
		}
	}
}

// Array reads an array, calling elem with the Parser positioned at each
// element, which elem must read; elem returns false to stop, making Array
// not ok.
func (p *Parser) Array(elem func() bool) bool {
	if p.skipSpace() != '[' {
		return false
	}
	p.pos++
	if p.skipSpace() == ']' {
		p.pos++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch p.skipSpace() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return true
		default:
			return false
		}
	}
}

// Raw reads any value and returns its text, for encoding/json to decode
// into a type the Parser does not know.
func (p *Parser) Raw() ([]byte, bool) {
	p.skipSpace()
	start := p.pos
	if _, ok := p.value(0); !ok {
		return nil, false
	}
	return p.buf[start:p.pos], true
}

// Value reads any value as encoding/json decodes it into an any.
func (p *Parser) Value() (any, bool) { return p.value(0) }

// MapValue reads an object as encoding/json decodes it into a
// map[string]any (a fresh map; null is not ok).
func (p *Parser) MapValue() (map[string]any, bool) { return p.object(0) }

func (p *Parser) value(depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	switch c := p.skipSpace(); {
	case c == '"':
		return p.String()
	case c == '{':
		m, ok := p.object(depth)
		return m, ok
	case c == '[':
		var a []any
		ok := p.Array(func() bool {
			v, ok := p.value(depth + 1)
			a = append(a, v)
			return ok
		})
		if ok && a == nil {
			a = []any{}
		}
		return a, ok
	case c == 't' || c == 'f':
		return p.Bool()
	case c == 'n':
		return nil, p.Null()
	case c == '-' || c >= '0' && c <= '9':
		if p.UseNumber {
			lit, ok := p.number()
			return json.Number(lit), ok
		}
		return p.Float()
	}
	return nil, false
}

func (p *Parser) object(depth int) (map[string]any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	m := map[string]any{}
	ok := p.Object(func(key string) bool {
		v, ok := p.value(depth + 1)
		m[key] = v
		return ok
	})
	return m, ok
}

// The strings of the event messages repeat from one message to the next
// (integration and event names, field names, mission ids), and allocating
// them was half of the allocations of decoding an answer: short ones are
// kept in a small cache and shared. A string is immutable, so sharing one
// is invisible to its users.
const (
	internMax   = 32  // longest string kept, in bytes
	internSlots = 512 // strings kept, at most
)

var (
	internSeed  = maphash.MakeSeed()
	internCache [internSlots]atomic.Pointer[string]
)

// intern returns b as a string, the cached one when there is one.
func intern(b []byte) string {
	if len(b) > internMax {
		return string(b)
	}
	slot := &internCache[maphash.Bytes(internSeed, b)%internSlots]
	if s := slot.Load(); s != nil && *s == string(b) {
		return *s
	}
	s := string(b)
	slot.Store(&s)
	return s
}
