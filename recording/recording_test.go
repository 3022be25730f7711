package recording_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afstudio/afstudio/recording"
)

// entry returns an entry whose line is entryLen bytes long (i < 9000).
func entry(i int) recording.Entry {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	return recording.Entry{Event: "tick", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, 1000+i)), Time: at}
}

const entryLen = 75 // len of entry(i)'s line, "\n" included

func TestEntryLength(t *testing.T) {
	b, _ := json.Marshal(entry(1))
	if len(b)+1 != entryLen {
		t.Fatalf("an entry's line is %d bytes, the tests assume %d: %s", len(b)+1, entryLen, b)
	}
}

func TestWriterLimit(t *testing.T) {
	for _, tc := range []struct {
		name           string
		limit          int64
		writes         int
		entries, bytes int64
		dropped        int64
	}{
		{"no limit", 0, 10, 10, 10 * entryLen, 0},
		{"exactly at the limit", 3 * entryLen, 3, 3, 3 * entryLen, 0},
		{"one byte short of the fourth", 4*entryLen - 1, 10, 3, 3 * entryLen, 7},
		{"smaller than one line", entryLen - 1, 2, 0, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.jsonl")
			w, err := recording.Create(path, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.writes {
				err := w.Write(entry(i))
				if wantFull := int64(i) >= tc.entries; wantFull != errors.Is(err, recording.ErrFull) {
					t.Errorf("write %d: err %v, want ErrFull: %v", i, err, wantFull)
				}
			}
			st := w.Stats()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if st.Entries != tc.entries || st.Bytes != tc.bytes || st.Dropped != tc.dropped || st.Full != (tc.dropped > 0) {
				t.Errorf("stats %+v, want %d entries, %d bytes, %d dropped", st, tc.entries, tc.bytes, tc.dropped)
			}
			checkWholeLines(t, path, int(tc.entries))
		})
	}
}

// checkWholeLines checks that the file at path holds n entries, whole
// lines only, read back by a Reader.
func checkWholeLines(t *testing.T, path string, n int) []recording.Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("the file ends in half a line: %q", b[max(0, len(b)-40):])
	}
	got, err := recording.ReadFile(path)
	if err != nil || len(got) != n {
		t.Fatalf("read back %d entries (%v), want %d", len(got), err, n)
	}
	return got
}

// Once an entry is dropped, later ones are too, even those that would
// fit: a recording is a prefix of the events.
func TestWriterStopsAtTheFirstDrop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	w, _ := recording.Create(path, entryLen+40) // room for small, not for big
	w.Write(entry(1))
	big := recording.Entry{Event: "big", Data: json.RawMessage(`{"s":"` + strings.Repeat("x", 40) + `"}`)}
	small := recording.Entry{Event: "e"}
	if err := w.Write(big); !errors.Is(err, recording.ErrFull) {
		t.Fatalf("big entry: %v, want ErrFull", err)
	}
	if err := w.Write(small); !errors.Is(err, recording.ErrFull) {
		t.Fatalf("small entry after a drop: %v, want ErrFull", err)
	}
	w.Close()
	if st := w.Stats(); st.Dropped != 2 || st.Entries != 1 {
		t.Errorf("stats %+v, want 1 entry, 2 dropped", st)
	}
	checkWholeLines(t, path, 1)
}

// Append continues a recording and counts what the file holds against
// the limit (a restarted worker).
func TestAppendCountsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	w, _ := recording.Create(path, 3*entryLen)
	w.Write(entry(0))
	w.Write(entry(1))
	w.Close()
	w, err := recording.Append(path, 3*entryLen)
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i < 5; i++ {
		w.Write(entry(i))
	}
	w.Close()
	if st := w.Stats(); st.Entries != 1 || st.Dropped != 2 || st.Bytes != 3*entryLen {
		t.Errorf("stats %+v, want 1 entry more, 2 dropped, %d bytes", st, 3*entryLen)
	}
	got := checkWholeLines(t, path, 3)
	if string(got[2].Data) != `{"n":1002}` {
		t.Errorf("third entry %s, want n 2", got[2].Data)
	}
	// Create starts again.
	w, _ = recording.Create(path, 0)
	w.Close()
	checkWholeLines(t, path, 0)
}

func TestWriterConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	const goroutines, each = 8, 200
	limit := int64(goroutines*each/2) * entryLen
	w, _ := recording.Create(path, limit)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				w.Write(entry(g*each + i))
			}
		})
	}
	wg.Wait()
	w.Close()
	st := w.Stats()
	if st.Entries != goroutines*each/2 || st.Entries+st.Dropped != goroutines*each {
		t.Errorf("stats %+v, want %d written and the rest dropped", st, goroutines*each/2)
	}
	checkWholeLines(t, path, goroutines*each/2)
}

func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := recording.Create(filepath.Join(dir, "missing", "r.jsonl"), 0); err == nil || !strings.Contains(err.Error(), "choose a file") {
		t.Errorf("Create in a missing folder: %v", err)
	}
	w, _ := recording.Create(filepath.Join(dir, "r.jsonl"), 0)
	if err := w.Write(recording.Entry{Event: "e", Data: json.RawMessage(`{"a":`)}); err == nil {
		t.Error("an entry with bad JSON data was written")
	}
	w.Close()
	if err := w.Write(entry(1)); err == nil {
		t.Error("an entry was written after Close")
	}
	if st := w.Stats(); st.Entries != 0 || st.Dropped != 2 {
		t.Errorf("stats %+v, want 0 written, 2 dropped (bad data, after Close)", st)
	}
}

func TestReaderErrors(t *testing.T) {
	const want = "; write one JSON object per line"
	for _, tc := range []struct {
		name, input string
		entries     int    // read before the error
		err         string // "" for none
	}{
		{"good, blank lines and CRLF", "{\"event\":\"a\"}\r\n\n  \n{\"event\":\"b\",\"data\":null,\"id\":\"x\",\"time\":\"2026-01-02T03:04:05.5Z\"}", 2, ""},
		{"not JSON", `{"event":"a"}` + "\n" + `{"event": a}`, 1, "r.jsonl:2:11: invalid character 'a' looking for beginning of value" + want},
		{"unknown key", `{"event":"a","kind":"result"}`, 0, `r.jsonl:1:14: json: unknown field "kind"` + want},
		{"no event", `{"data":{}}`, 0, `r.jsonl:1:1: invalid event name ""`},
		{"data not an object", "\n\n" + `{"event":"a","data":[1]}`, 0, `r.jsonl:3:1: the data of event "a" is not a JSON object`},
		{"bad time", `{"event":"a","time":"yesterday"}`, 0, `r.jsonl:1:`},
		{"two values", `{"event":"a"} {"event":"b"}`, 0, "r.jsonl:1:15: more than one JSON value on the line"},
		{"too long", `{"event":"a"}` + "\n" + `{"event":"a","data":{"s":"` + strings.Repeat("x", recording.MaxLineBytes) + `"}}`, 1, "r.jsonl:2:1: the line is longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := recording.NewReader(strings.NewReader(tc.input), "r.jsonl")
			n := 0
			var err error
			for {
				var e recording.Entry
				e, err = r.Next()
				if err != nil {
					break
				}
				if string(e.Data) == "" {
					t.Errorf("entry %d has no data, want {}", n)
				}
				n++
			}
			if n != tc.entries {
				t.Errorf("%d entries before the error, want %d", n, tc.entries)
			}
			if tc.err == "" {
				if !errors.Is(err, io.EOF) {
					t.Errorf("err %v, want io.EOF", err)
				}
				return
			}
			var le *recording.LineError
			if !errors.As(err, &le) || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("err %v, want a LineError starting %q", err, tc.err)
			}
		})
	}
}

// TestAppendAfterHalfLine: a writer that died in the middle of a line
// left it without its newline; Append cuts it off, so that the file stays
// whole lines and the next entry is read back.
func TestAppendAfterHalfLine(t *testing.T) {
	for _, tc := range []struct {
		name, before string
		entries      int // read back after one more entry
	}{
		{"half line", `{"event":"a","data":{}}` + "\n" + `{"event":"b","da`, 2},
		{"only a half line", `{"event":"b","da`, 1},
		{"whole lines", `{"event":"a","data":{}}` + "\n", 2},
		{"empty", "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.jsonl")
			if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			w, err := recording.Append(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(recording.Entry{Event: "c", Data: json.RawMessage(`{}`)}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			es, err := recording.ReadFile(path)
			if err != nil || len(es) != tc.entries || es[len(es)-1].Event != "c" {
				t.Fatalf("read back %+v, %v; want %d entries ending with c", es, err, tc.entries)
			}
		})
	}
}
