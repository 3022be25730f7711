package studio

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "–"},
		{-time.Second, "–"},
		{37 * time.Microsecond, "37 µs"},
		{1234 * time.Microsecond, "1.23 ms"},
		{1500 * time.Millisecond, "1.50 s"},
	} {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestEventDepthLabel(t *testing.T) {
	for _, tc := range []struct {
		depth int
		want  string
	}{
		{0, "x"},
		{1, "↳ x"},
		{3, "    ↳ x (depth 3)"},
	} {
		if got := eventDepthLabel("x", tc.depth); got != tc.want {
			t.Errorf("eventDepthLabel(x, %d) = %q, want %q", tc.depth, got, tc.want)
		}
	}
}
