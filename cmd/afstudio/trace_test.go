package main

import (
	"bytes"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/afstudio/afstudio/studio"
)

// TestTraceUI: without AFSTUDIO_TRACE_UI nothing is traced; with it, each
// action is one line that scripts/studio-under-load.sh can read.
func TestTraceUI(t *testing.T) {
	if traceUI("", slog.Default()) != nil {
		t.Fatal("traced without AFSTUDIO_TRACE_UI")
	}
	var buf bytes.Buffer
	trace := traceUI("1", slog.New(slog.NewTextHandler(&buf, nil)))
	at := time.UnixMicro(1_700_000_000_123_456)
	trace(studio.UITrace{Action: "select audit", Callback: at, Shown: at.Add(12300 * time.Microsecond), Painted: at.Add(20 * time.Millisecond)})
	want := regexp.MustCompile(`msg="ui action" action="select audit" callback_unix_us=1700000000123456 shown_ms=12\.3 painted_ms=20\.0\n$`)
	if !want.MatchString(buf.String()) {
		t.Errorf("logged %q, want it to match %s", buf.String(), want)
	}
}
