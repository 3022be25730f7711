package jsonwire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/afstudio/afstudio/starhost"
)

// common are texts as the event endpoints carry them: the Parser must
// read every one itself (else the fast path is silently lost).
var common = []string{
	`{}`, ` {"mission_id": "m1", "latency_ms": 420} `, "{\n\t\"a\": [1, 2.5, -3e-2, true, false, null, {}], \"b\": {\"c\": \"d\"}\r\n}",
	`{"s": "héllo 🚀 日本語", "n": -0, "big": 12345678901234567890, "f": 1E+2}`,
	`{"dup": 1, "dup": 2}`, `{"esc": "line\nbreak \"q\" \u00e9 \ud83d\ude80 \/"}`,
	`[]`, `[1]`, `"str"`, `true`, `null`, `0.5`,
}

// odd are texts the Parser may refuse: encoding/json then decides.
var odd = []string{
	``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `{"a":1}}`, `{"a":1} x`, `{} {}`,
	`{"a": 01}`, `{"a": +1}`, `{"a": .5}`, `{"a": 1.}`, `{"a": 1e}`, `{"a": -}`, `{"a": 1e400}`, `{"a": tru}`, `{"a": nul}`,
	"{\"a\": \"ctl \x01\"}", `{"a": "bad \u12"}`, `{"a": "lone \ud800"}`, "{\"a\": \"bad \xff\"}", "{\"bad \xfe key\": 1}",
	`{'a': 1}`, `{a: 1}`, `[1 2]`, `{"a" 1}`, "\ufeff{}", strings.Repeat("[", 600) + strings.Repeat("]", 600),
	strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600),
}

// decode reads text with encoding/json, as the API's decoders do.
func decode(text string, useNumber bool) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	if useNumber {
		dec.UseNumber()
	}
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

// checkValue fails t unless the Parser either refuses text or reads
// exactly what encoding/json reads from it.
func checkValue(t *testing.T, text string, useNumber bool) (ok bool) {
	t.Helper()
	p := NewParser([]byte(text))
	p.UseNumber = useNumber
	got, ok := p.Value()
	ok = ok && p.End()
	if !ok {
		return false
	}
	want, err := decode(text, useNumber)
	if err != nil {
		t.Fatalf("Parser read %q (UseNumber %v) as %#v; encoding/json fails: %v", text, useNumber, got, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parser read %q (UseNumber %v) as %#v; encoding/json: %#v", text, useNumber, got, want)
	}
	return true
}

// TestParserValueIsDecode: the Parser reads the common texts itself,
// each as encoding/json does, and refuses or reads correctly the odd
// ones.
func TestParserValueIsDecode(t *testing.T) {
	for _, useNumber := range []bool{false, true} {
		for _, text := range common {
			if !checkValue(t, text, useNumber) {
				t.Errorf("Parser refuses %q (UseNumber %v); it must read it itself", text, useNumber)
			}
		}
		for _, text := range odd {
			checkValue(t, text, useNumber)
		}
	}
}

// TestParserFields: Int, Bool, String, Duration and Null read what
// encoding/json reads into an int, a bool, a string, a
// starhost.Duration and a pointer, and refuse what it refuses.
func TestParserFields(t *testing.T) {
	texts := []string{"0", "-0", "42", "-7", "9223372036854775807", "9223372036854775808", "1.5", "1e3", "0.000", "-1.0005",
		"123.4567", "1e-3", "9.2e15", "9.3e15", "-9.2e15", "1e400", "true", "false", "null", `"x"`, `"a\"b"`, `"é"`, "nul", "[]"}
	for _, text := range texts {
		b := []byte(text)
		{
			var want int
			err := json.Unmarshal(b, &want)
			got, ok := NewParser(b).Int()
			if ok && (err != nil || got != want) {
				t.Errorf("Int(%s) = %d; encoding/json: %d, %v", text, got, want, err)
			}
			if !ok && err == nil && text != "null" {
				t.Errorf("Int(%s) refused; encoding/json reads %d", text, want)
			}
		}
		{
			var want starhost.Duration
			err := want.UnmarshalJSON(b)
			got, ok := NewParser(b).Duration()
			if ok && (err != nil || got != want) {
				t.Errorf("Duration(%s) = %d; UnmarshalJSON: %d, %v", text, got, want, err)
			}
			if !ok && err == nil && text != "null" {
				t.Errorf("Duration(%s) refused; UnmarshalJSON reads %d", text, want)
			}
		}
		{
			var want bool
			err := json.Unmarshal(b, &want)
			got, ok := NewParser(b).Bool()
			if ok && (err != nil || got != want) || !ok && err == nil && text != "null" {
				t.Errorf("Bool(%s) = %v, %v; encoding/json: %v, %v", text, got, ok, want, err)
			}
		}
		{
			var want string
			err := json.Unmarshal(b, &want)
			got, ok := NewParser(b).String()
			if ok && (err != nil || got != want) || !ok && err == nil && text != "null" {
				t.Errorf("String(%s) = %q, %v; encoding/json: %q, %v", text, got, ok, want, err)
			}
		}
		if got := NewParser(b).Null(); got != (text == "null") {
			t.Errorf("Null(%s) = %v", text, got)
		}
	}
}

// TestRaw: Raw returns a value's text and leaves the Parser after it.
func TestRaw(t *testing.T) {
	p := NewParser([]byte(` [ {"a": [1, "]"]}, 2 ] `))
	var raws []string
	if !p.Array(func() bool {
		raw, ok := p.Raw()
		raws = append(raws, string(raw))
		return ok
	}) || !p.End() {
		t.Fatal("Raw: not ok")
	}
	if want := []string{`{"a": [1, "]"]}`, "2"}; !reflect.DeepEqual(raws, want) {
		t.Errorf("Raw: %q, want %q", raws, want)
	}
}

// FuzzParserValue: whatever the Parser reads, it reads as encoding/json
// does.
func FuzzParserValue(f *testing.F) {
	for _, text := range append(common, odd...) {
		f.Add([]byte(text), false)
	}
	f.Fuzz(func(t *testing.T, text []byte, useNumber bool) {
		if bytes.Count(text, []byte("[")) > 1000 {
			return
		}
		checkValue(t, string(text), useNumber)
	})
}

// TestInternShares: strings read by goroutines at once, more distinct
// ones than the cache holds, each read as it is written.
func TestInternShares(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 4 * internSlots {
				want := fmt.Sprintf("k%d-%d", i%(2*internSlots), g%2)
				got, ok := NewParser([]byte(`"` + want + `"`)).String()
				if !ok || got != want {
					t.Errorf("String(%q) = %q, %v", want, got, ok)
					return
				}
			}
		})
	}
	wg.Wait()
}
