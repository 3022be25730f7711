package studio

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// meterSrc is an integration that counts pings in its state (by step)
// and answers a p50; extra is more of its handler's body.
func meterSrc(p50, step int, extra string) string {
	return fmt.Sprintf(`def on_ping(event, ctx):
    ctx.state["n"] = ctx.state.get("n", 0) + %d
%s
    return {"p50": %d, "n": ctx.state["n"]}

integration(name = "meter", handlers = {"ping": on_ping})
`, step, extra, p50)
}

// shadowStudio is a studio with meter v1 live and selected.
func shadowStudio(t *testing.T) (s *Studio, m *starhost.Manager, save func(src string), notes *[]string) {
	t.Helper()
	s, m, dir, notes := newTestStudio(t, map[string]string{"meter.star": meterSrc(35, 1, "")})
	path := filepath.Join(dir, "meter.star")
	runOnUI(func() { s.selectRow("meter") })
	eventually(t, "meter's details", func() bool { return s.details.title.Text == "meter" && s.details.shadow.name == "meter" })
	save = func(src string) {
		t.Helper()
		hosttest.WriteFile(t, path, src)
		if outs := m.ReloadFiles(context.Background(), []string{path}); outs[0].Err != nil {
			t.Fatal(outs[0].Err)
		}
	}
	return s, m, save, notes
}

// texts returns the text of every visible label and button under o, in
// order: what the user reads.
func texts(o fyne.CanvasObject) []string {
	if !o.Visible() {
		return nil
	}
	switch w := o.(type) {
	case *widget.Label:
		return []string{w.Text}
	case *widget.Button:
		return []string{w.Text}
	case *fyne.Container:
		var out []string
		for _, c := range w.Objects {
			out = append(out, texts(c)...)
		}
		return out
	}
	return nil
}

// shadowText is what the shadow part shows, one text a line.
func shadowText(s *Studio) string { return strings.Join(texts(s.details.shadow.root), "\n") }

// shadowOn reads the host's shadow report of meter.
func shadowReportOf(t *testing.T, m *starhost.Manager) starhost.ShadowReport {
	t.Helper()
	rep, err := m.ShadowReport("meter")
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestShadowSwitch: the switch turns the host's shadow mode on, the
// panel then says to save, and off again (no shadow: nothing to confirm).
func TestShadowSwitch(t *testing.T) {
	s, m, _, _ := shadowStudio(t)
	if strings.Contains(shadowText(s), shadowHint) {
		t.Fatal("the hint shows while the mode is off")
	}
	runOnUI(func() { test.Tap(s.details.shadow.toggle) })
	hosttest.Eventually(t, uiWait, func() bool { return shadowReportOf(t, m).On }, "shadow mode on in the host")
	eventually(t, "the hint to save", func() bool {
		return s.details.shadow.toggle.On && strings.Contains(shadowText(s), shadowHint) && s.details.shadow.panel.Hidden
	})
	runOnUI(func() { test.Tap(s.details.shadow.toggle) })
	hosttest.Eventually(t, uiWait, func() bool { return !shadowReportOf(t, m).On }, "shadow mode off in the host")
	eventually(t, "the switch off, no hint", func() bool {
		return !s.details.shadow.toggle.On && !strings.Contains(shadowText(s), shadowHint)
	})
}

// TestShadowPanelShowsDifferences: with the mode on, a save makes a
// shadow; events then show in the panel as counts, both results side by
// side with the path that differs, the state difference and the shadow's
// log; Promote makes the shadow's generation serve.
func TestShadowPanelShowsDifferences(t *testing.T) {
	s, m, save, _ := shadowStudio(t)
	if err := m.StartShadow("meter"); err != nil { // the notice turns the switch on
		t.Fatal(err)
	}
	eventually(t, "the switch on", func() bool { return s.details.shadow.toggle.On })
	save(meterSrc(36, 2, `    print("v2 saw", event.name)`))
	for range 3 {
		hosttest.Emit(t, m, "ping", map[string]any{"id": 7})
	}
	if err := m.WaitShadow(context.Background(), "meter"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Serving g1 · shadow g2",
		"3 events compared: 0 equal, 3 different",
		"Latency p50: serving ",
		"Promote shadow", "Discard shadow…",
		"First differences (3 of 3 shown)\n" + `data {"id":7}` + "\nping at ",
		"Serving g1\n{\n  \"emitted\": [],\n  \"error\": null,\n  \"ok\": true,\n  \"result\": {\n    \"n\": 1,\n    \"p50\": 35\n  }\n}",
		"Shadow g2\n{\n  \"emitted\": [],\n  \"error\": null,\n  \"ok\": true,\n  \"result\": {\n    \"n\": 2,\n    \"p50\": 36\n  }\n}",
		"$.result.n: 1 → 2\n$.result.p50: 35 → 36",
		"$.n: 3 → 6\nState differences\n", // a Border lists its centre first
		"Shadow log\n",
		"v2 saw ping",
	}
	var got, missing string
	defer func() {
		if t.Failed() {
			t.Logf("missing %q in:\n%s", missing, got)
		}
	}()
	eventually(t, "the differences in the panel", func() bool {
		got = shadowText(s)
		for _, w := range want {
			if !strings.Contains(got, w) {
				missing = w
				return false
			}
		}
		return !s.details.shadow.hint.Visible()
	})
	if strings.Contains(got, shadowHint) {
		t.Fatalf("the hint shows with a shadow running:\n%s", got)
	}

	eventually(t, "the row's note", func() bool { r, _ := rowNamed(s, "meter"); return r.shadow == "shadow: 3 diff" })
	runOnUI(func() { test.Tap(s.details.shadow.promoteBtn) })
	eventually(t, "generation 2 serving, the mode still on, waiting for a save", func() bool {
		return s.details.fields["Generation"].Text == "2" && s.details.shadow.toggle.On && s.details.shadow.panel.Hidden &&
			strings.Contains(shadowText(s), shadowHint) && strings.HasPrefix(s.status.msg.Text, "Promoted g2 of meter")
	})
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "ping", nil), "meter"); r.Generation != 2 {
		t.Fatalf("after Promote, generation %d serves; want 2", r.Generation)
	}
	eventually(t, "the row's note after Promote", func() bool { r, _ := rowNamed(s, "meter"); return r.shadow == "shadow on" })
}

// TestShadowFailing: a shadow that fails where the serving version does
// not shows as failed, with its error's position and message.
func TestShadowFailing(t *testing.T) {
	s, m, save, _ := shadowStudio(t)
	runOnUI(func() { test.Tap(s.details.shadow.toggle) })
	hosttest.Eventually(t, uiWait, func() bool { return shadowReportOf(t, m).On }, "shadow mode on in the host")
	save(meterSrc(35, 1, `    fail("boom")`))
	hosttest.Emit(t, m, "ping", nil)
	eventually(t, "the failed shadow", func() bool {
		got := shadowText(s)
		return strings.Contains(got, "1 event compared: 0 equal, 1 different (1 shadow failed)") &&
			strings.Contains(got, "the shadow failed at ") && strings.Contains(got, "meter.star:3:9") &&
			strings.Contains(got, `"ok": false`) && strings.Contains(got, "boom") && strings.Contains(got, "$.ok: true → false")
	})
}

// TestShadowDiscard: Discard asks, then drops the shadow and turns the
// mode off; the serving version is untouched. Switching off with a
// shadow running is a Discard too, and a No keeps it.
func TestShadowDiscard(t *testing.T) {
	s, m, save, _ := shadowStudio(t)
	var asked []string
	yes := false
	runOnUI(func() {
		s.confirm = func(title, msg string, ok func()) {
			asked = append(asked, title+": "+msg)
			if yes {
				ok()
			}
		}
	})
	runOnUI(func() { test.Tap(s.details.shadow.toggle) })
	hosttest.Eventually(t, uiWait, func() bool { return shadowReportOf(t, m).On }, "shadow mode on in the host")
	save(meterSrc(36, 1, ""))
	eventually(t, "the shadow's panel", func() bool { return s.details.shadow.panel.Visible() })

	runOnUI(func() { test.Tap(s.details.shadow.toggle) }) // off, answered No
	eventually(t, "the question, the switch back on", func() bool {
		return len(asked) == 1 && s.details.shadow.toggle.On
	})
	if !strings.Contains(asked[0], "Discard the shadow of meter (g2)?") || !shadowReportOf(t, m).Active {
		t.Fatalf("asked %q; the shadow must stay after a No: %+v", asked, shadowReportOf(t, m))
	}

	runOnUI(func() { yes = true; test.Tap(s.details.shadow.discardBtn) })
	hosttest.Eventually(t, uiWait, func() bool { r := shadowReportOf(t, m); return !r.On && !r.Active }, "the shadow dropped, the mode off")
	eventually(t, "the switch off, no panel", func() bool {
		return len(asked) == 2 && !s.details.shadow.toggle.On && s.details.shadow.panel.Hidden
	})
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "ping", nil), "meter"); r.Generation != 1 {
		t.Fatalf("after Discard, generation %d serves; want 1", r.Generation)
	}
	eventually(t, "no note on the row after Discard", func() bool { r, _ := rowNamed(s, "meter"); return r.shadow == "" })
}

// TestShadowCounts: the counts line says how the calls split, and when
// the shadow skipped calls, why.
func TestShadowCounts(t *testing.T) {
	for _, c := range []struct {
		rep  starhost.ShadowReport
		want string
	}{
		{starhost.ShadowReport{Compared: 1, Equal: 1}, "1 event compared: 1 equal, 0 different"},
		{starhost.ShadowReport{Compared: 5, Equal: 2, Different: 3, ShadowFailed: 1, Pending: 4},
			"5 events compared: 2 equal, 3 different (1 shadow failed) · 4 pending"},
		{starhost.ShadowReport{Compared: 9, Equal: 9, Skipped: 7, Throttled: true, Behind: true},
			"9 events compared: 9 equal, 0 different · 7 skipped · throttled: at its CPU budget it skips calls"},
		{starhost.ShadowReport{Compared: 9, Equal: 9, Skipped: 7, Behind: true, CaughtUp: 2},
			"9 events compared: 9 equal, 0 different · 7 skipped · behind: its state misses the calls it skipped · caught up 2×"},
	} {
		if got := shadowCounts(c.rep); got != c.want {
			t.Errorf("shadowCounts(%+v)\n got %q\nwant %q", c.rep, got, c.want)
		}
	}
}
