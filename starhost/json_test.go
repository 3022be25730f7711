package starhost_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestDurationJSON: a Duration is written as microseconds, with the
// nanoseconds as decimals, and reads back to the same value.
func TestDurationJSON(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		json string
	}{
		{0, "0"},
		{time.Nanosecond, "0.001"},
		{41200 * time.Nanosecond, "41.2"},
		{1500 * time.Microsecond, "1500"},
		{2*time.Second + 7, "2000000.007"},
		{-3 * time.Microsecond, "-3"},
	} {
		b, err := json.Marshal(starhost.Duration(c.d))
		if err != nil || string(b) != c.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.d, b, err, c.json)
		}
		var back starhost.Duration
		if err := json.Unmarshal(b, &back); err != nil || back.Std() != c.d {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", b, back.Std(), err, c.d)
		}
	}
	for _, bad := range []string{`"41µs"`, `1e300`, `{}`} {
		var d starhost.Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", bad, d)
		}
	}
}

// jsonKeys marshals v and returns its top-level object.
func jsonKeys(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestResultAndInfoJSON: a successful result says "error": null; a failed
// one carries the diagnostic; durations are "_us" keys in microseconds,
// and no key is in milliseconds any more.
func TestResultAndInfoJSON(t *testing.T) {
	m, _ := hosttest.NewRoot(t, map[string]string{"j.star": "def h(e, c):\n    if e.data.get(\"fail\"):\n        fail(\"asked to\")\n    return {\"answer\": 42}\nintegration(name = \"j\", handlers = {\"e\": h})\n"})
	ok := jsonKeys(t, hosttest.ResultOf(t, hosttest.Emit(t, m, "e", nil), "j"))
	if e, has := ok["error"]; !has || e != nil || ok["ok"] != true || ok["result"].(map[string]any)["answer"] != 42.0 {
		t.Fatalf("successful result JSON: %v", ok)
	}
	failed := jsonKeys(t, hosttest.ResultOf(t, hosttest.Emit(t, m, "e", map[string]any{"fail": true}), "j"))
	d, _ := failed["error"].(map[string]any)
	if failed["ok"] != false || failed["result"] != nil || d["line"] != 3.0 || d["kind"] != "runtime" || !strings.Contains(d["message"].(string), "asked to") {
		t.Fatalf("failed result JSON: %v", failed)
	}
	in, _ := m.IntegrationInfo("j")
	info := jsonKeys(t, in)
	for name, obj := range map[string]map[string]any{"result": ok, "info": info} {
		for k := range obj {
			if strings.HasSuffix(k, "_ms") {
				t.Errorf("%s JSON has the millisecond key %q", name, k)
			}
		}
	}
	if us, _ := ok["duration_us"].(float64); us <= 0 {
		t.Errorf("result duration_us = %v", ok["duration_us"])
	}
	for k, want := range map[string]starhost.Duration{"last_reload_us": in.LastReload, "latency_mean_us": in.LatencyMean, "latency_p99_us": in.LatencyP99} {
		if got, has := info[k].(float64); !has || got != want.Micros() || got <= 0 {
			t.Errorf("info %s = %v, want %v µs", k, info[k], want.Micros())
		}
	}
}
