package recording

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxLineBytes is the longest line a Reader accepts: 4 MiB, as the
// headless host.
const MaxLineBytes = 4 << 20

// A LineError is a line of a recording that is not an entry.
type LineError struct {
	// File names the recording, as given to NewReader.
	File string
	// Line and Col locate the problem, from 1.
	Line, Col int
	// Msg says what is wrong and what to write instead.
	Msg string
}

// Error formats the error as FILE:LINE:COL: message.
func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// A Reader reads the entries of a recording, one line each; blank lines
// are skipped. A line that is not an entry is a *LineError, after which
// Next goes on with the next line; a line longer than MaxLineBytes, or a
// failure to read, ends the reading.
type Reader struct {
	name string
	sc   *bufio.Scanner
	line int
	err  error // sticky: the reading has ended
}

// NewReader returns a Reader of r, whose errors name it name (the file's
// path, or "stdin").
func NewReader(r io.Reader, name string) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes+1)
	return &Reader{name: name, sc: sc}
}

// Line returns the number of the line Next read last (from 1).
func (r *Reader) Line() int { return r.line }

// Next returns the next entry. At the end of the input it returns io.EOF.
func (r *Reader) Next() (Entry, error) {
	for r.err == nil {
		if !r.sc.Scan() {
			r.err = io.EOF
			if err := r.sc.Err(); errors.Is(err, bufio.ErrTooLong) {
				r.line++
				r.err = r.lineError(1, fmt.Sprintf("the line is longer than %d bytes; a recording holds one event per line, each at most that long", MaxLineBytes))
			} else if err != nil {
				r.err = fmt.Errorf("read %s after line %d: %w", r.name, r.line, err)
			}
			return Entry{}, r.err
		}
		r.line++
		text := r.sc.Bytes()
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		return r.decode(text)
	}
	return Entry{}, r.err
}

// decode decodes one line strictly: one object, known keys only, an event
// name, data that is an object.
func (r *Reader) decode(text []byte) (Entry, error) {
	const want = `; write one JSON object per line: {"event": NAME, "data": {...}, "id": ID, "time": RFC3339} (id and time optional)`
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, r.lineError(errorColumn(err, dec, text), err.Error()+want)
	}
	if dec.More() {
		return Entry{}, r.lineError(int(dec.InputOffset())+1, "more than one JSON value on the line"+want)
	}
	if e.Event == "" || strings.ContainsAny(e.Event, " \t\r\n") {
		return Entry{}, r.lineError(1, fmt.Sprintf("invalid event name %q: use a non-empty name without spaces, like \"mission_started\"", e.Event))
	}
	switch d := bytes.TrimSpace(e.Data); {
	case len(d) == 0 || string(d) == "null":
		e.Data = json.RawMessage("{}")
	case d[0] != '{':
		return Entry{}, r.lineError(1, fmt.Sprintf("the data of event %q is not a JSON object; write \"data\": {...}", e.Event))
	}
	return e, nil
}

func (r *Reader) lineError(col int, msg string) *LineError {
	return &LineError{File: r.name, Line: r.line, Col: col, Msg: msg}
}

// errorColumn returns the 1-based column of a JSON decoding error of
// text: the unknown key's, or where the decoder stopped.
func errorColumn(err error, dec *json.Decoder, text []byte) int {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if i := bytes.Index(text, []byte(key+":")); i >= 0 {
			return i + 1
		}
		if i := bytes.Index(text, []byte(key)); i >= 0 {
			return i + 1
		}
	}
	switch {
	case errors.As(err, &syn) && syn.Offset > 0:
		return int(syn.Offset)
	case errors.As(err, &typ) && typ.Offset > 0:
		return int(typ.Offset)
	}
	return max(int(dec.InputOffset()), 1)
}

// ReadFile reads every entry of the recording at path. It stops at the
// first error: a *LineError for a bad line, or the file's read error.
func ReadFile(path string) ([]Entry, error) {
	var out []Entry
	err := Each(path, func(_ int, e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// Each calls fn with every entry of the recording at path, in order, and
// its line number, without holding them all. It stops at the first
// error: the file's (an *fs.PathError when it cannot be opened), a
// *LineError for a bad line, or fn's.
func Each(path string, fn func(line int, e Entry) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read the recording: %w", err)
	}
	defer f.Close()
	r := NewReader(f, path)
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil {
			err = fn(r.Line(), e)
		}
		if err != nil {
			return err
		}
	}
}
