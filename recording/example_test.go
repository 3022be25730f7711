package recording_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/afstudio/afstudio/recording"
)

// A studio records the events it sends with a Writer, and replays them
// with a Reader.
func Example() {
	dir, _ := os.MkdirTemp("", "recording-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "events.jsonl")

	w, err := recording.Create(path, recording.DefaultLimit)
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2026, 11, 26, 3, 43, 37, 611955223, time.UTC)
	w.Write(recording.Entry{Event: "mission_started", Data: json.RawMessage(`{"mission_id":"m1"}`), Time: at})
	w.Write(recording.Entry{Event: "mission_completed", Data: json.RawMessage(`{"mission_id":"m1"}`), ID: "evt-2", Time: at.Add(time.Second)})
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))

	entries, err := recording.ReadFile(path)
	for _, e := range entries {
		fmt.Println(e.Event, string(e.Data), e.ID, e.Time.Sub(at))
	}
	fmt.Println(err)
	// Output:
	// {"event":"mission_started","data":{"mission_id":"m1"},"time":"2026-11-26T03:43:37.611955223Z"}
	// {"event":"mission_completed","data":{"mission_id":"m1"},"id":"evt-2","time":"2026-11-26T03:43:38.611955223Z"}
	// mission_started {"mission_id":"m1"}  0s
	// mission_completed {"mission_id":"m1"} evt-2 1s
	// <nil>
}

// A bad line is reported at its line and column; the Reader goes on with
// the next line.
func ExampleReader() {
	in := strings.NewReader(`{"event": "ping", "data": {"n": 1}}

{"event": "ping", "dta": {}}
{"event": "pong"}
`)
	r := recording.NewReader(in, "events.jsonl")
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(r.Line(), e.Event, string(e.Data))
	}
	// Output:
	// 1 ping {"n": 1}
	// events.jsonl:3:19: json: unknown field "dta"; write one JSON object per line: {"event": NAME, "data": {...}, "id": ID, "time": RFC3339} (id and time optional)
	// 4 pong {}
}
