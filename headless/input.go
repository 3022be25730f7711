package headless

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
)

// An inputLine is one line of input: its 1-based number and its text
// without the line ending, or why it has none.
type inputLine struct {
	n       int
	text    []byte
	tooLong bool  // longer than the limit; text is empty
	err     error // the input could not be read; the last line sent
}

// readLines sends every line of r on lines, then closes it: at the end of
// r, after a read error (sent as the last line), or when ctx ends.
func readLines(ctx context.Context, r io.Reader, max int, lines chan<- inputLine) {
	defer close(lines)
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		text, tooLong, err := readLine(br, max)
		if errors.Is(err, io.EOF) {
			return
		}
		select {
		case lines <- inputLine{n: n, text: text, tooLong: tooLong, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// readLine reads one line of at most max bytes, without its "\n" or
// "\r\n". A longer line is read to its end and reported tooLong. It
// returns io.EOF only when no line is left; a last line without a newline
// is a line.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	var buf []byte
	n := 0 // bytes of this line read so far, line ending included
	for {
		frag, err := br.ReadSlice('\n')
		n += len(frag)
		if n <= max+len("\r\n") {
			buf = append(buf, frag...) // copies: frag is only valid until the next read
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && n == 0:
			return nil, false, io.EOF
		case err != nil && !errors.Is(err, io.EOF):
			return nil, false, err
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
		if n > max+len("\r\n") || len(line) > max {
			return nil, true, nil
		}
		return line, false, nil
	}
}

// decodeInput decodes one line strictly: one object, known keys only.
// On error it returns the 1-based column where the line went wrong, or 1
// when that is not known.
func decodeInput(text []byte) (Input, int, error) {
	var in Input
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Input{}, errorColumn(err), err
	}
	if dec.More() {
		return Input{}, int(dec.InputOffset()) + 1, errors.New("more than one JSON value on the line")
	}
	return in, 0, nil
}

// errorColumn returns the column of a JSON decoding error.
func errorColumn(err error) int {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && syn.Offset > 0:
		return int(syn.Offset)
	case errors.As(err, &typ) && typ.Offset > 0:
		return int(typ.Offset)
	}
	return 1
}

// isBlank reports whether a line holds only white space.
func isBlank(text []byte) bool { return len(bytes.TrimSpace(text)) == 0 }
