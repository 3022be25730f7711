package integrations_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// defaults gives a test host the embedded default integrations.
var defaults = hosttest.Defaults(integrations.FS)

// emit emits an event and fails the test if any handler failed.
func emit(t testing.TB, m *starhost.Manager, event string, data map[string]any) []starhost.Result {
	t.Helper()
	rs := hosttest.Emit(t, m, event, data)
	for _, r := range rs {
		if !r.OK {
			t.Fatalf("emit %s: handler of %s for %s failed: %v", event, r.Integration, r.Event, r.Error)
		}
	}
	return rs
}

// resultOf returns the result of integration's handler for event at the
// given depth.
func resultOf(t testing.TB, rs []starhost.Result, integration, event string, depth int) starhost.Result {
	t.Helper()
	for _, r := range rs {
		if r.Integration == integration && r.Event == event && r.Depth == depth {
			return r
		}
	}
	t.Fatalf("no result of %s for %s at depth %d in %s", integration, event, depth, describe(rs))
	return starhost.Result{}
}

func hasResult(rs []starhost.Result, integration, event string) bool {
	for _, r := range rs {
		if r.Integration == integration && r.Event == event {
			return true
		}
	}
	return false
}

func describe(rs []starhost.Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %s/%s depth %d ok=%v result=%v err=%v", r.Integration, r.Event, r.Depth, r.OK, r.Value, r.Error)
	}
	return b.String()
}

// resultMap returns the integration's result for event (depth 0) as a map.
func resultMap(t testing.TB, rs []starhost.Result, integration, event string) map[string]any {
	t.Helper()
	r := resultOf(t, rs, integration, event, 0)
	mp, ok := r.Value.(map[string]any)
	if !ok {
		t.Fatalf("result of %s for %s is %T %v, want a dict", integration, event, r.Value, r.Value)
	}
	return mp
}

func state(t testing.TB, m *starhost.Manager, name string) map[string]any {
	t.Helper()
	st, err := m.State(name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// get walks a path of dict keys and list indexes through plain Go data.
func get(t testing.TB, v any, path ...any) any {
	t.Helper()
	for i, step := range path {
		switch s := step.(type) {
		case string:
			mp, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: %T is not a dict", path[:i+1], v)
			}
			next, ok := mp[s]
			if !ok {
				t.Fatalf("%v: no key %q (have %v)", path[:i+1], s, keys(mp))
			}
			v = next
		case int:
			l, ok := v.([]any)
			if !ok {
				t.Fatalf("%v: %T is not a list", path[:i+1], v)
			}
			if s < 0 {
				s += len(l)
			}
			if s < 0 || s >= len(l) {
				t.Fatalf("%v: index out of range (len %d)", path[:i+1], len(l))
			}
			v = l[s]
		default:
			t.Fatalf("bad path step %T", step)
		}
	}
	return v
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func listLen(t testing.TB, v any) int {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%T %v is not a list", v, v)
	}
	return len(l)
}

func wantEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestDefaultsLoad(t *testing.T) {
	m := hosttest.New(t, defaults)
	// Dispatch order: CRITICAL, HIGH, NORMAL, LOW.
	wantEqual(t, "Names()", m.Names(), []string{"analytics", "alerts", "afterimage", "audit"})
	for _, in := range m.Snapshot().Integrations {
		if want := starhost.BuiltinPrefix + in.Name + ".star"; in.Module != want {
			t.Errorf("%s: Module = %q, want %q", in.Name, in.Module, want)
		}
		if in.Name != "alerts" && !slices.Contains(in.Dependencies, "builtin:lib/stats.star") {
			t.Errorf("%s: Dependencies = %v, want builtin:lib/stats.star", in.Name, in.Dependencies)
		}
		if in.Generation != 1 || !in.Available || in.Description == "" {
			t.Errorf("%s: info %+v", in.Name, in)
		}
	}
	if f := m.Snapshot().FailedModules; len(f) != 0 {
		t.Errorf("FailedModules = %+v", f)
	}
}

func TestAnalytics(t *testing.T) {
	m := hosttest.New(t, defaults)

	r := resultMap(t, emit(t, m, "mission_started", map[string]any{"mission_id": "m1"}), "analytics", "mission_started")
	wantEqual(t, "missions after m1 started", r["missions"], int64(1))
	r = resultMap(t, emit(t, m, "mission_started", map[string]any{"mission_id": "m2"}), "analytics", "mission_started")
	wantEqual(t, "missions after m2 started", r["missions"], int64(2))

	// Interleaved responses of two missions; percentiles are per mission.
	type resp struct {
		mission string
		latency int
	}
	seq := []resp{{"m1", 120}, {"m2", 200}, {"m1", 340}, {"m2", 100}, {"m1", 95}, {"m2", 400}, {"m1", 410}, {"m2", 300}, {"m1", 2500}}
	last := map[string]map[string]any{}
	for i, s := range seq {
		rs := emit(t, m, "response_received", map[string]any{
			"mission_id": s.mission, "latency_ms": s.latency, "response": fmt.Sprintf("answer %d", i),
		})
		last[s.mission] = resultMap(t, rs, "analytics", "response_received")
		if i == 2 {
			// m1 has [120, 340]: p50 = rank ceil(0.5*2) = 1 -> 120, p99 = rank 2 -> 340.
			wantEqual(t, "m1 after two responses", last["m1"], map[string]any{
				"count": int64(2), "mean": 230.0, "p50": int64(120), "p90": int64(340), "p99": int64(340),
			})
		}
	}
	// m1 sorted: 95 120 340 410 2500. n=5: p50 rank 3 -> 340; p90 rank ceil(4.5)=5 -> 2500;
	// p99 rank ceil(4.95)=5 -> 2500; mean 3465/5 = 693.
	wantEqual(t, "m1 summary", last["m1"], map[string]any{
		"count": int64(5), "mean": 693.0, "p50": int64(340), "p90": int64(2500), "p99": int64(2500),
	})
	// m2 sorted: 100 200 300 400. n=4: p50 rank 2 -> 200; p90 rank ceil(3.6)=4 -> 400;
	// p99 rank 4 -> 400; mean 250.
	wantEqual(t, "m2 summary", last["m2"], map[string]any{
		"count": int64(4), "mean": 250.0, "p50": int64(200), "p90": int64(400), "p99": int64(400),
	})

	// A response without a numeric latency counts as a response, not a sample.
	r = resultMap(t, emit(t, m, "response_received", map[string]any{"mission_id": "m1", "latency_ms": "slow", "response": "no timing"}), "analytics", "response_received")
	wantEqual(t, "count after a non-numeric latency", r["count"], int64(5))

	r = resultMap(t, emit(t, m, "mission_completed", map[string]any{"mission_id": "m1"}), "analytics", "mission_completed")
	wantEqual(t, "m1 completed", r, map[string]any{
		"status": "completed", "responses": int64(6),
		"count": int64(5), "mean": 693.0, "p50": int64(340), "p90": int64(2500), "p99": int64(2500),
	})
	r = resultMap(t, emit(t, m, "mission_failed", map[string]any{"mission_id": "m2", "error": "model timeout"}), "analytics", "mission_failed")
	wantEqual(t, "m2 failed", r, map[string]any{
		"status": "failed", "responses": int64(4),
		"count": int64(4), "mean": 250.0, "p50": int64(200), "p90": int64(400), "p99": int64(400),
	})

	st := state(t, m, "analytics")
	wantEqual(t, "state.events", st["events"], map[string]any{
		"mission_started": int64(2), "response_received": int64(10), "mission_completed": int64(1), "mission_failed": int64(1),
	})
	wantEqual(t, "state.missions.m1", get(t, st, "missions", "m1"), map[string]any{
		"status": "completed", "responses": int64(6),
		"latencies": []any{int64(120), int64(340), int64(95), int64(410), int64(2500)},
	})
	wantEqual(t, "state.missions.m2.status", get(t, st, "missions", "m2", "status"), "failed")

	// A mission that finishes without any response has no percentiles.
	r = resultMap(t, emit(t, m, "mission_completed", map[string]any{"mission_id": "quiet"}), "analytics", "mission_completed")
	wantEqual(t, "quiet mission", r, map[string]any{
		"status": "completed", "responses": int64(0), "count": int64(0), "mean": nil, "p50": nil, "p90": nil, "p99": nil,
	})

	t.Run("bounded samples", func(t *testing.T) {
		m := hosttest.New(t, defaults)
		for i := 1; i <= 300; i++ {
			emit(t, m, "response_received", map[string]any{"mission_id": "long", "latency_ms": i})
		}
		lat := get(t, state(t, m, "analytics"), "missions", "long", "latencies")
		if n := listLen(t, lat); n != 256 {
			t.Fatalf("kept %d latency samples, want MAX_SAMPLES = 256", n)
		}
		// The oldest 44 samples (1..44) were dropped.
		wantEqual(t, "oldest kept sample", get(t, lat, 0), int64(45))
		wantEqual(t, "newest kept sample", get(t, lat, -1), int64(300))
		r := resultMap(t, emit(t, m, "mission_completed", map[string]any{"mission_id": "long"}), "analytics", "mission_completed")
		wantEqual(t, "count", r["count"], int64(256))
		wantEqual(t, "responses", r["responses"], int64(300))
		// 45..300: p50 is rank 128 -> 45+127 = 172; mean (45+300)/2.
		wantEqual(t, "p50", r["p50"], int64(172))
		wantEqual(t, "mean", r["mean"], 172.5)
	})

	t.Run("bounded missions", func(t *testing.T) {
		m := hosttest.New(t, defaults)
		for i := range 205 {
			emit(t, m, "mission_started", map[string]any{"mission_id": fmt.Sprintf("a%03d", i)})
		}
		missions, _ := state(t, m, "analytics")["missions"].(map[string]any)
		if len(missions) != 200 {
			t.Fatalf("tracks %d missions, want MAX_MISSIONS = 200", len(missions))
		}
		for i := range 5 {
			if _, ok := missions[fmt.Sprintf("a%03d", i)]; ok {
				t.Errorf("oldest mission a%03d is still tracked", i)
			}
		}
		for _, id := range []string{"a005", "a204"} {
			if _, ok := missions[id]; !ok {
				t.Errorf("mission %s is not tracked", id)
			}
		}
	})
}

func TestAfterimage(t *testing.T) {
	const perMission, maxMissions, previewChars = 20, 50, 200
	m := hosttest.New(t, defaults)

	for i := range perMission + 5 {
		rs := emit(t, m, "response_received", map[string]any{
			"mission_id": "m0", "latency_ms": 100 + i, "response": fmt.Sprintf("answer %02d", i),
		})
		r := resultMap(t, rs, "afterimage", "response_received")
		wantEqual(t, fmt.Sprintf("result of response %d", i), r, map[string]any{
			"mission_id": "m0", "remembered": int64(min(i+1, perMission)),
		})
	}
	recent := get(t, state(t, m, "afterimage"), "missions", "m0")
	if n := listLen(t, recent); n != perMission {
		t.Fatalf("remembers %d responses of m0, want PER_MISSION = %d", n, perMission)
	}
	// The first five were forgotten, oldest first.
	wantEqual(t, "oldest remembered preview", get(t, recent, 0, "preview"), "answer 05")
	wantEqual(t, "newest remembered preview", get(t, recent, -1, "preview"), "answer 24")
	newest := get(t, recent, -1).(map[string]any)
	wantEqual(t, "entry keys", keys(newest), []string{"chars", "latency_ms", "preview", "time"})
	wantEqual(t, "newest chars", newest["chars"], int64(len("answer 24")))
	wantEqual(t, "newest latency_ms", newest["latency_ms"], int64(124))
	if s, _ := newest["time"].(string); s == "" {
		t.Errorf("entry time = %#v, want the event time as a string", newest["time"])
	}

	// A long response is cut to PREVIEW_CHARS; chars is the full length.
	long := strings.Repeat("x", 150) + strings.Repeat("y", 350)
	emit(t, m, "response_received", map[string]any{"mission_id": "m0", "latency_ms": 80, "response": long})
	entry := get(t, state(t, m, "afterimage"), "missions", "m0", -1)
	wantEqual(t, "long preview", get(t, entry, "preview"), long[:previewChars])
	wantEqual(t, "long chars", get(t, entry, "chars"), int64(500))

	r := resultMap(t, emit(t, m, "mission_completed", map[string]any{"mission_id": "m0"}), "afterimage", "mission_completed")
	wantEqual(t, "m0 completed", r, map[string]any{"last_response": long[:previewChars], "remembered": int64(perMission)})
	r = resultMap(t, emit(t, m, "mission_failed", map[string]any{"mission_id": "never-answered", "error": "boom"}), "afterimage", "mission_failed")
	wantEqual(t, "mission without responses", r, map[string]any{"last_response": nil, "remembered": int64(0)})

	// More than MAX_MISSIONS missions: the oldest are forgotten.
	for i := 1; i < maxMissions+5; i++ {
		emit(t, m, "response_received", map[string]any{"mission_id": fmt.Sprintf("m%d", i), "latency_ms": 50, "response": "ok"})
	}
	missions, _ := state(t, m, "afterimage")["missions"].(map[string]any)
	if len(missions) != maxMissions {
		t.Fatalf("remembers %d missions, want MAX_MISSIONS = %d", len(missions), maxMissions)
	}
	for i := range 5 {
		if _, ok := missions[fmt.Sprintf("m%d", i)]; ok {
			t.Errorf("oldest mission m%d is still remembered", i)
		}
	}
	for i := 5; i < maxMissions+5; i++ {
		if _, ok := missions[fmt.Sprintf("m%d", i)]; !ok {
			t.Errorf("mission m%d was forgotten", i)
		}
	}
	// m0 was forgotten with everything it said.
	r = resultMap(t, emit(t, m, "mission_completed", map[string]any{"mission_id": "m0"}), "afterimage", "mission_completed")
	wantEqual(t, "forgotten m0", r, map[string]any{"last_response": nil, "remembered": int64(0)})
	// Coming back, it starts over and pushes out the next oldest (m5).
	r = resultMap(t, emit(t, m, "response_received", map[string]any{"mission_id": "m0", "response": "again"}), "afterimage", "response_received")
	wantEqual(t, "returning m0", r, map[string]any{"mission_id": "m0", "remembered": int64(1)})
	missions, _ = state(t, m, "afterimage")["missions"].(map[string]any)
	if _, ok := missions["m5"]; ok || len(missions) != maxMissions {
		t.Errorf("after m0 returns: %d missions, m5 remembered %v; want %d and false", len(missions), ok, maxMissions)
	}

	t.Run("non-ASCII preview", func(t *testing.T) {
		// PREVIEW_CHARS counts characters ("characters of each response
		// kept"), and "chars" is the response's length in characters. A
		// response of 100 three-byte characters is shorter than the
		// preview limit and must be kept whole, as valid UTF-8.
		m := hosttest.New(t, defaults)
		text := strings.Repeat("€", 100)
		emit(t, m, "response_received", map[string]any{"mission_id": "eu", "latency_ms": 10, "response": text})
		entry := get(t, state(t, m, "afterimage"), "missions", "eu", 0)
		preview, _ := get(t, entry, "preview").(string)
		if !utf8.ValidString(preview) {
			t.Errorf("preview is not valid UTF-8 (cut inside a character): ends in %q", preview[max(0, len(preview)-4):])
		}
		if preview != text {
			t.Errorf("preview has %d characters (%d bytes), want the whole %d-character response", utf8.RuneCountInString(preview), len(preview), utf8.RuneCountInString(text))
		}
		wantEqual(t, "chars", get(t, entry, "chars"), int64(utf8.RuneCountInString(text)))
	})
}

func TestAudit(t *testing.T) {
	m := hosttest.New(t, defaults)
	emit(t, m, "mission_started", map[string]any{"mission_id": "m1", "goal": "summarise"})
	emit(t, m, "response_received", map[string]any{"mission_id": "m1", "latency_ms": 300, "response": "first"})
	rs := emit(t, m, "response_received", map[string]any{"mission_id": "m1", "latency_ms": 7200, "response": "slow"})
	// The slow response raises an alert; audit records it as a follow-up.
	r := resultOf(t, rs, "audit", "alert_raised", 1)
	wantEqual(t, "audit result for the alert", r.Value, map[string]any{"total": int64(4), "kept": int64(4)})
	emit(t, m, "response_received", map[string]any{"mission_id": "m1", "latency_ms": 250, "response": "third"})
	rs = emit(t, m, "mission_failed", map[string]any{"mission_id": "m1", "error": "tool crashed"})
	// Audit is LOW: it handles the engine event after the others, then the follow-up.
	last := rs[len(rs)-1]
	if last.Integration != "audit" || last.Event != "alert_raised" || last.Depth != 1 {
		t.Errorf("last handler call = %s/%s depth %d, want audit/alert_raised depth 1%s", last.Integration, last.Event, last.Depth, describe(rs))
	}
	wantEqual(t, "audit result for mission_failed", resultOf(t, rs, "audit", "mission_failed", 0).Value, map[string]any{"total": int64(6), "kept": int64(6)})

	st := state(t, m, "audit")
	wantEqual(t, "total", st["total"], int64(7))
	entries, _ := st["entries"].([]any)
	type rec struct {
		event  string
		depth  int64
		source any
		keys   []any
	}
	want := []rec{
		{"mission_started", 0, nil, []any{"goal", "mission_id"}},
		{"response_received", 0, nil, []any{"latency_ms", "mission_id", "response"}},
		{"response_received", 0, nil, []any{"latency_ms", "mission_id", "response"}},
		{"alert_raised", 1, "alerts", []any{"kind", "mission_id", "reason", "severity"}},
		{"response_received", 0, nil, []any{"latency_ms", "mission_id", "response"}},
		{"mission_failed", 0, nil, []any{"error", "mission_id"}},
		{"alert_raised", 1, "alerts", []any{"kind", "mission_id", "reason", "severity"}},
	}
	if len(entries) != len(want) {
		t.Fatalf("audit kept %d entries, want %d: %v", len(entries), len(want), entries)
	}
	for i, w := range want {
		e, _ := entries[i].(map[string]any)
		got := rec{event: fmt.Sprint(e["event"]), source: e["source"]}
		got.depth, _ = e["depth"].(int64)
		got.keys, _ = e["keys"].([]any)
		if !reflect.DeepEqual(got, w) {
			t.Errorf("entry %d = %+v, want %+v", i, got, w)
		}
		if s, _ := e["time"].(string); s == "" {
			t.Errorf("entry %d has no time: %v", i, e)
		}
	}

	// Bounded at 500 entries: the oldest go first; the total keeps counting.
	for i := range 600 {
		rs := emit(t, m, fmt.Sprintf("tick_%d", i), map[string]any{"n": i})
		if len(rs) != 1 || rs[0].Integration != "audit" {
			t.Fatalf("tick_%d handled by %s, want audit alone", i, describe(rs))
		}
	}
	st = state(t, m, "audit")
	wantEqual(t, "total after 607 events", st["total"], int64(607))
	entries, _ = st["entries"].([]any)
	if len(entries) != 500 {
		t.Fatalf("audit kept %d entries, want MAX_ENTRIES = 500", len(entries))
	}
	// 607 events, 500 kept: the first 107 (7 mission events, tick_0..tick_99) were dropped.
	wantEqual(t, "oldest kept", get(t, entries, 0, "event"), "tick_100")
	wantEqual(t, "newest kept", get(t, entries, -1, "event"), "tick_599")
	wantEqual(t, "newest keys", get(t, entries, -1, "keys"), []any{"n"})
}

func TestAlerts(t *testing.T) {
	// A user integration that records the alerts it receives, to check
	// their data, depth and source.
	m, _ := hosttest.NewRoot(t, map[string]string{"catcher.star": `
def on_alert(event, ctx):
    ctx.state.setdefault("alerts", []).append(dict(event.data))
    return {"depth": event.depth, "source": event.source, "data": dict(event.data)}

integration(name = "catcher", handlers = {"alert_raised": on_alert})
`}, defaults)
	sub := m.Subscribe(1024)
	defer sub.Close()

	emit(t, m, "mission_started", map[string]any{"mission_id": "m1"})
	for _, lat := range []any{120, 4999, 5000} {
		rs := emit(t, m, "response_received", map[string]any{"mission_id": "m1", "latency_ms": lat, "response": "fine"})
		wantEqual(t, fmt.Sprintf("alerts result for %v ms", lat), resultMap(t, rs, "alerts", "response_received"), map[string]any{"alerted": false})
		if hasResult(rs, "catcher", "alert_raised") || hasResult(rs, "audit", "alert_raised") {
			t.Errorf("a %v ms response raised an alert:%s", lat, describe(rs))
		}
	}

	// Over the threshold: an alert_raised follow-up with depth 1 and source "alerts".
	rs := emit(t, m, "response_received", map[string]any{"mission_id": "m1", "latency_ms": 5001, "response": "slow"})
	wantEqual(t, "alerts result for 5001 ms", resultMap(t, rs, "alerts", "response_received"), map[string]any{"alerted": true, "latency_ms": int64(5001)})
	wantEqual(t, "slow alert", resultOf(t, rs, "catcher", "alert_raised", 1).Value, map[string]any{
		"depth": int64(1), "source": "alerts",
		"data": map[string]any{"kind": "slow_response", "mission_id": "m1", "reason": "slow_response: 5001 ms", "severity": "warning"},
	})
	resultOf(t, rs, "audit", "alert_raised", 1)

	// A float latency over the threshold also alerts.
	rs = emit(t, m, "response_received", map[string]any{"mission_id": "m2", "latency_ms": 5000.5})
	wantEqual(t, "alerts result for 5000.5 ms", resultMap(t, rs, "alerts", "response_received"), map[string]any{"alerted": true, "latency_ms": 5000.5})
	resultOf(t, rs, "catcher", "alert_raised", 1)

	// A missing or non-numeric latency does not.
	for _, data := range []map[string]any{{"mission_id": "m1"}, {"mission_id": "m1", "latency_ms": "9000"}} {
		rs := emit(t, m, "response_received", data)
		wantEqual(t, fmt.Sprintf("alerts result for %v", data), resultMap(t, rs, "alerts", "response_received"), map[string]any{"alerted": false})
	}

	// A failed mission always alerts, critically, with its error.
	rs = emit(t, m, "mission_failed", map[string]any{"mission_id": "m1", "error": "tool crashed"})
	wantEqual(t, "alerts result for mission_failed", resultMap(t, rs, "alerts", "mission_failed"), map[string]any{"alerted": true})
	wantEqual(t, "failure alert", get(t, resultOf(t, rs, "catcher", "alert_raised", 1).Value, "data"), map[string]any{
		"kind": "mission_failed", "mission_id": "m1", "reason": "mission_failed: tool crashed", "severity": "critical",
	})
	rs = emit(t, m, "mission_failed", map[string]any{"mission_id": "m3"})
	wantEqual(t, "failure alert without an error", get(t, resultOf(t, rs, "catcher", "alert_raised", 1).Value, "data", "reason"), "mission_failed: no reason given")
	// A completed mission does not alert.
	rs = emit(t, m, "mission_completed", map[string]any{"mission_id": "m2"})
	if hasResult(rs, "alerts", "mission_completed") || hasResult(rs, "catcher", "alert_raised") {
		t.Errorf("mission_completed raised an alert:%s", describe(rs))
	}

	// Counts are per kind of alert, so the state does not grow with every
	// distinct error message.
	wantEqual(t, "alerts state", state(t, m, "alerts"), map[string]any{
		"last": map[string]any{"mission_id": "m3", "reason": "mission_failed: no reason given"},
		"raised": map[string]any{
			"slow_response": int64(2), "mission_failed": int64(2),
		}})
	if n := listLen(t, state(t, m, "catcher")["alerts"]); n != 4 {
		t.Errorf("catcher received %d alerts, want 4", n)
	}

	// Each alert is also logged at level warn.
	var logs []string
	for len(sub.C) > 0 {
		n := <-sub.C
		if n.Kind == starhost.NoticeLog && n.Integration == "alerts" {
			logs = append(logs, n.Level+": "+n.Message)
		}
	}
	wantEqual(t, "alert logs", logs, []string{
		"warn: alert: slow_response: 5001 ms for mission m1",
		"warn: alert: slow_response: 5000.5 ms for mission m2",
		"warn: alert: mission_failed: tool crashed for mission m1",
		"warn: alert: mission_failed: no reason given for mission m3",
	})
	if d := sub.Dropped(); d != 0 {
		t.Errorf("%d notices dropped", d)
	}
}

func TestStatsLibrary(t *testing.T) {
	// The user root has no lib folder: load("lib/stats.star") resolves
	// in the defaults.
	m, _ := hosttest.NewRoot(t, map[string]string{"stats_probe.star": `
load("lib/stats.star", "percentile", "mean", "push_bounded", "summarize")

def on_stats(event, ctx):
    values = event.data["values"]
    out = {"mean": mean(values), "summary": summarize(values), "empty": [percentile([], 50), mean([])]}
    for p in event.data.get("ps", []):
        out["p%d" % p] = percentile(values, p)
    return out

def on_push(event, ctx):
    items = ctx.state.setdefault("items", [])
    return push_bounded(items, event.data["item"], 3)

integration(name = "stats_probe", handlers = {"stats": on_stats, "push": on_push})
`}, defaults, hosttest.SkipDefaultIntegrations())
	wantEqual(t, "Names()", m.Names(), []string{"stats_probe"})
	in, _ := m.IntegrationInfo("stats_probe")
	wantEqual(t, "Dependencies", in.Dependencies, []string{"builtin:lib/stats.star"})

	stats := func(t *testing.T, values []any, ps ...int) map[string]any {
		t.Helper()
		psAny := make([]any, len(ps))
		for i, p := range ps {
			psAny[i] = p
		}
		return resultMap(t, emit(t, m, "stats", map[string]any{"values": values, "ps": psAny}), "stats_probe", "stats")
	}
	ints := func(vs ...int) []any {
		out := make([]any, len(vs))
		for i, v := range vs {
			out[i] = v
		}
		return out
	}
	seq := func(from, to int) []any {
		var out []any
		for v := from; v <= to; v++ {
			out = append(out, v)
		}
		return out
	}

	t.Run("basic", func(t *testing.T) {
		// Unsorted input; nearest rank on sorted 10 20 30 40 50.
		r := stats(t, ints(40, 10, 50, 30, 20), 0, 20, 50, 90, 100)
		wantEqual(t, "mean", r["mean"], 30.0)
		wantEqual(t, "p0", r["p0"], int64(10))
		wantEqual(t, "p20", r["p20"], int64(10))
		wantEqual(t, "p50", r["p50"], int64(30))
		wantEqual(t, "p90", r["p90"], int64(50))
		wantEqual(t, "p100", r["p100"], int64(50))
		wantEqual(t, "summary", r["summary"], map[string]any{
			"count": int64(5), "mean": 30.0, "p50": int64(30), "p90": int64(50), "p99": int64(50),
		})
		wantEqual(t, "empty percentile and mean", r["empty"], []any{nil, nil})
	})
	t.Run("single and floats", func(t *testing.T) {
		r := stats(t, ints(7), 1, 50, 99)
		wantEqual(t, "single value", []any{r["p1"], r["p50"], r["p99"], r["mean"]}, []any{int64(7), int64(7), int64(7), 7.0})
		r = stats(t, []any{1.5, 2.5, 0.5, 3.5}, 50, 75)
		wantEqual(t, "float mean", r["mean"], 2.0)
		wantEqual(t, "float p50", r["p50"], 1.5)
		wantEqual(t, "float p75", r["p75"], 2.5)
	})
	t.Run("nearest rank", func(t *testing.T) {
		// The nearest-rank percentile is the value at rank ceil(p/100*n):
		// the smallest value with at least p% of the values at or below
		// it. For 1..60, p99 is rank ceil(59.4) = 60; for 1..7, p90 is
		// rank ceil(6.3) = 7; for 1..10, p14 is rank ceil(1.4) = 2.
		r := stats(t, seq(1, 60), 99)
		wantEqual(t, "p99 of 1..60", r["p99"], int64(60))
		wantEqual(t, "summary p99 of 1..60", get(t, r, "summary", "p99"), int64(60))
		r = stats(t, seq(1, 7), 90)
		wantEqual(t, "p90 of 1..7", r["p90"], int64(7))
		r = stats(t, seq(1, 10), 14)
		wantEqual(t, "p14 of 1..10", r["p14"], int64(2))
	})
	t.Run("push_bounded", func(t *testing.T) {
		var got any
		for i := 1; i <= 5; i++ {
			got = resultOf(t, emit(t, m, "push", map[string]any{"item": i}), "stats_probe", "push", 0).Value
		}
		wantEqual(t, "bounded list", got, []any{int64(3), int64(4), int64(5)})
		wantEqual(t, "state", state(t, m, "stats_probe")["items"], []any{int64(3), int64(4), int64(5)})
	})
}

func TestUserOverridesDefault(t *testing.T) {
	m, root := hosttest.NewRoot(t, map[string]string{"audit.star": `
def on_any(event, ctx):
    ctx.state["seen"] = ctx.state.get("seen", 0) + 1
    return "user audit saw " + event.name

integration(name = "audit", priority = HIGH, description = "My own audit.", handlers = {"*": on_any})
`}, defaults)
	wantEqual(t, "Names()", m.Names(), []string{"analytics", "alerts", "audit", "afterimage"})
	in, ok := m.IntegrationInfo("audit")
	if !ok {
		t.Fatal("audit is not loaded")
	}
	wantEqual(t, "audit Module", in.Module, filepath.Join(root, "audit.star"))
	wantEqual(t, "audit Priority", in.Priority, starhost.High)
	wantEqual(t, "audit Description", in.Description, "My own audit.")
	wantEqual(t, "audit Generation", in.Generation, 1)
	wantEqual(t, "audit Dependencies", in.Dependencies, []string{})
	an, _ := m.IntegrationInfo("analytics")
	wantEqual(t, "analytics Module", an.Module, "builtin:analytics.star")
	if f := m.Snapshot().FailedModules; len(f) != 0 {
		t.Errorf("FailedModules = %+v", f)
	}

	rs := emit(t, m, "mission_started", map[string]any{"mission_id": "m1"})
	wantEqual(t, "user audit result", resultOf(t, rs, "audit", "mission_started", 0).Value, "user audit saw mission_started")
	rs = emit(t, m, "mission_failed", map[string]any{"mission_id": "m1"})
	wantEqual(t, "user audit sees the follow-up", resultOf(t, rs, "audit", "alert_raised", 1).Value, "user audit saw alert_raised")
	wantEqual(t, "user audit state", state(t, m, "audit"), map[string]any{"seen": int64(3)})
}

// The embedded defaults, loaded into a host, handling one event.
func ExampleFS() {
	ctx := context.Background()
	m, err := starhost.New(starhost.Options{Defaults: integrations.FS})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Names())
	rs, _ := m.Emit(ctx, "mission_failed", map[string]any{"mission_id": "m1", "error": "timeout"})
	for _, r := range rs {
		fmt.Println(r.Integration, r.Event, r.Depth, r.Value)
	}
	// Output:
	// [analytics alerts afterimage audit]
	// analytics mission_failed 0 map[count:0 mean:<nil> p50:<nil> p90:<nil> p99:<nil> responses:0 status:failed]
	// alerts mission_failed 0 map[alerted:true]
	// afterimage mission_failed 0 map[last_response:<nil> remembered:0]
	// audit mission_failed 0 map[kept:1 total:1]
	// audit alert_raised 1 map[kept:2 total:2]
}

// TestEmbeddedFiles checks that FS holds every .star file of this folder
// and its lib folder except the tests: a new default that is not listed in
// embed.go, or a test file that is, fails here.
func TestEmbeddedFiles(t *testing.T) {
	var onDisk, embedded []string
	for _, pattern := range []string{"*.star", "lib/*.star"} {
		found, err := filepath.Glob(filepath.FromSlash(pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			if !starhost.IsTestFile(filepath.Base(f)) {
				onDisk = append(onDisk, filepath.ToSlash(f))
			}
		}
		in, err := fs.Glob(integrations.FS, pattern)
		if err != nil {
			t.Fatal(err)
		}
		embedded = append(embedded, in...)
	}
	slices.Sort(onDisk)
	slices.Sort(embedded)
	wantEqual(t, "embedded files (the list in embed.go)", embedded, onDisk)
}
