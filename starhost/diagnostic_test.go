package starhost_test

import (
	"cmp"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// spinSrc loops far longer than any budget, at the top level or (with
// handler set) in the handler of "ping".
func spinSrc(handler bool) string {
	loop := "def spin():\n    n = 0\n    for x in range(1000000000):\n        n += x\n    return n\n\n"
	if handler {
		return loop + "integration(name = \"bad\", handlers = {\"ping\": lambda e, c: spin()})\n"
	}
	return loop + "spin()\n"
}

// TestDiagnosticKinds: every way a module or a handler fails is
// classified, so that front ends need not read messages; the limits'
// messages quote the limits that applied, not the defaults.
func TestDiagnosticKinds(t *testing.T) {
	const ok = "\nintegration(name = \"bad\", handlers = {\"ping\": lambda e, c: 1})\n"
	for _, c := range []struct {
		name   string
		files  map[string]string // written into the root (a.star is added first); the module is bad.star
		file   string            // where the error is, if not in bad.star
		event  bool              // the error is the result of a "ping" handler, not of the load
		limits starhost.Limits
		kind   starhost.ErrorKind
		msg    []string
	}{
		{name: "missing module file", kind: starhost.ErrorMissingFile, msg: []string{"no such file"}},
		{name: "missing library", files: map[string]string{"bad.star": "load(\"lib/missing.star\", \"x\")" + ok}, kind: starhost.ErrorMissingFile, msg: []string{`load("lib/missing.star")`, "no such file"}},
		{name: "syntax error", files: map[string]string{"bad.star": "def h(:\n"}, kind: starhost.ErrorSyntax},
		{name: "undefined name", files: map[string]string{"bad.star": "x = no_such_name" + ok}, kind: starhost.ErrorSyntax, msg: []string{"undefined: no_such_name"}},
		{name: "fail at the top level", files: map[string]string{"bad.star": "fail(\"boom\")" + ok}, kind: starhost.ErrorRuntime, msg: []string{"boom"}},
		{name: "fail in a handler", files: map[string]string{"bad.star": "def h(e, c):\n    fail(\"boom\")\nintegration(name = \"bad\", handlers = {\"ping\": h})\n"}, event: true, kind: starhost.ErrorRuntime, msg: []string{"boom"}},
		{name: "key error in a handler", files: map[string]string{"bad.star": "def h(e, c):\n    return {}[\"nope\"]\nintegration(name = \"bad\", handlers = {\"ping\": h})\n"}, event: true, kind: starhost.ErrorRuntime, msg: []string{"nope"}},
		{name: "step budget at the top level", files: map[string]string{"bad.star": spinSrc(false)}, limits: starhost.Limits{Steps: 1234, Timeout: time.Minute}, kind: starhost.ErrorLimit, msg: []string{"step budget of 1234 steps"}},
		{name: "step budget after a library", files: map[string]string{"lib/l.star": "X = [x * x for x in range(100)]\n", "bad.star": "load(\"lib/l.star\", \"X\")\n" + spinSrc(false)}, limits: starhost.Limits{Steps: 1234, Timeout: time.Minute}, kind: starhost.ErrorLimit, msg: []string{"step budget of 1234 steps"}},
		{name: "step budget in a library", files: map[string]string{"lib/l.star": spinSrc(false), "bad.star": "x = [i for i in range(10)]\nload(\"lib/l.star\", \"spin\")" + ok}, file: "l.star", limits: starhost.Limits{Steps: 1234, Timeout: time.Minute}, kind: starhost.ErrorLimit, msg: []string{"step budget of 1234 steps"}},
		{name: "step budget in a handler", files: map[string]string{"bad.star": spinSrc(true)}, event: true, limits: starhost.Limits{Steps: 1234, Timeout: time.Minute}, kind: starhost.ErrorLimit, msg: []string{"step budget of 1234 steps"}},
		{name: "timeout at the top level", files: map[string]string{"bad.star": spinSrc(false)}, limits: starhost.Limits{Steps: 1 << 50, Timeout: 123 * time.Millisecond}, kind: starhost.ErrorLimit, msg: []string{"timed out after 123ms"}},
		{name: "timeout in a handler", files: map[string]string{"bad.star": spinSrc(true)}, event: true, limits: starhost.Limits{Steps: 1 << 50, Timeout: 123 * time.Millisecond}, kind: starhost.ErrorLimit, msg: []string{"timed out after 123ms"}},
		{name: "duplicate name in one module", files: map[string]string{"bad.star": ok + ok}, kind: starhost.ErrorInvalid, msg: []string{"already declared"}},
		{name: "duplicate name across modules", files: map[string]string{"a.star": ok, "bad.star": ok}, kind: starhost.ErrorInvalid, msg: []string{"already loaded from"}},
		{name: "bad declaration", files: map[string]string{"bad.star": "integration(name = \"bad\", priority = \"URGENT\", handlers = {\"ping\": lambda e, c: 1})\n"}, kind: starhost.ErrorInvalid, msg: []string{`unknown priority "URGENT"`}},
		{name: "declares nothing", files: map[string]string{"bad.star": "x = 1\n"}, kind: starhost.ErrorInvalid, msg: []string{"declares no integration"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, dir := hosttest.NewRoot(t, nil, hosttest.Limits(c.limits))
			ctx := context.Background()
			if a, ok := c.files["a.star"]; ok {
				hosttest.WriteFiles(t, dir, map[string]string{"a.star": a})
				if _, err := m.AddIntegration(ctx, "a.star", ""); err != nil {
					t.Fatal(err)
				}
			}
			hosttest.WriteFiles(t, dir, c.files)
			_, err := m.AddIntegration(ctx, "bad.star", "")
			var d *starhost.Diagnostic
			if c.event {
				if err != nil {
					t.Fatal(err)
				}
				r := hosttest.ResultOf(t, hosttest.Emit(t, m, "ping", nil), "bad")
				if r.OK || r.Error == nil {
					t.Fatalf("the handler succeeded: %+v", r)
				}
				d = r.Error
			} else {
				if err == nil {
					t.Fatal("the module loaded")
				}
				d = starhost.Diagnose(err, "")[0]
				if f := m.Snapshot().FailedModules; len(f) != 1 || f[0].Errors[0].Kind != c.kind {
					t.Errorf("want bad.star alone among the failed modules, of kind %q: %d failed", c.kind, len(f))
				}
			}
			if want := cmp.Or(c.file, "bad.star"); !strings.HasSuffix(d.File, want) {
				t.Errorf("file %q, want %s", d.File, want)
			}
			if d.Kind != c.kind {
				t.Errorf("kind %q, want %q: %v", d.Kind, c.kind, d)
			}
			for _, s := range c.msg {
				if !strings.Contains(d.Msg, s) {
					t.Errorf("message %q lacks %q", d.Msg, s)
				}
			}
		})
	}
}
