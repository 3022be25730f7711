package studio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// How the studio writes values for people. Every view uses these, so that
// a duration or a time reads the same everywhere.

// oneLineJSON formats plain Go data (event data, handler results) as
// compact JSON, without HTML escaping.
func oneLineJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// clipRunes shortens s to at most n characters, ending in "…" when cut.
func clipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// clockTime formats a time of day to the millisecond.
func clockTime(t time.Time) string { return t.Format("15:04:05.000") }

// formatDuration formats a duration for people: "–" when there is none
// (zero or less), µs below a millisecond, ms below a second, else seconds.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// eventDepthLabel names an event in a result or stream row: an event from
// the engine as is, a follow-up indented behind an arrow, with its depth
// when it is a follow-up of a follow-up.
func eventDepthLabel(event string, depth int) string {
	switch {
	case depth <= 0:
		return event
	case depth == 1:
		return "↳ " + event
	default:
		return fmt.Sprintf("%s↳ %s (depth %d)", strings.Repeat("  ", depth-1), event, depth)
	}
}

// orDash shows an empty value as a dash.
func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// formatBytes formats a size for people: "512 B", "7.1 KiB", "256 MiB";
// a negative size (no limit) as "no limit".
func formatBytes(n int64) string {
	if n < 0 {
		return "no limit"
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + [...]string{"KiB", "MiB", "GiB", "TiB"}[i]
}
