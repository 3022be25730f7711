package starhost_test

// Bad input: every way an integration file, a handler or an event payload
// can be wrong must end in a clear error positioned at file:line:col, and
// must leave everything else (other integrations, the old version of the
// integration being reloaded) untouched.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// badGoodSrc is the bystander integration every test loads first: it must
// keep answering "ping" whatever the other integrations do.
const badGoodSrc = `def ping(event, ctx):
    return {"from": "good", "n": event.data.get("n", 0)}

integration(name = "good", priority = "HIGH", handlers = {"ping": ping})
`

// badVictimSrc is a working integration that a reload case then breaks.
const badVictimSrc = `def ping(event, ctx):
    return {"from": "victim", "v": 1}

integration(name = "victim", handlers = {"ping": ping})
`

// badEnv is a manager with one root holding good.star, loaded.
type badEnv struct {
	opts    starhost.Options
	t       *testing.T
	ctx     context.Context
	root    string
	outside string // a folder outside the root, for escape cases
	m       *starhost.Manager
}

func newBadEnv(t *testing.T, limits starhost.Limits) *badEnv {
	t.Helper()
	base := t.TempDir()
	e := &badEnv{t: t, ctx: context.Background(), root: filepath.Join(base, "root"), outside: filepath.Join(base, "outside")}
	if err := os.MkdirAll(e.outside, 0o755); err != nil {
		t.Fatal(err)
	}
	e.write("good.star", badGoodSrc)
	e.opts = starhost.Options{Roots: []string{e.root}, Limits: limits}
	e.m = hosttest.New(t, hosttest.Roots(e.root), hosttest.Limits(limits))
	return e
}

// emitJSON emits an event with a JSON payload, as the front ends do:
// DecodeEventData, then Emit.
func (e *badEnv) emitJSON(event string, payload []byte) ([]starhost.Result, error) {
	data, err := starhost.DecodeEventData(payload)
	if err != nil {
		return nil, err
	}
	return e.m.Emit(e.ctx, event, data)
}

// path returns the absolute path of a file in the root.
func (e *badEnv) path(rel string) string { return filepath.Join(e.root, filepath.FromSlash(rel)) }

// write writes a file in the root (creating folders) and returns its path.
func (e *badEnv) write(rel, content string) string {
	e.t.Helper()
	hosttest.WriteFiles(e.t, e.root, map[string]string{rel: content})
	return e.path(rel)
}

// ping emits "ping" and returns the results by integration name.
func (e *badEnv) ping(n int) map[string]starhost.Result {
	e.t.Helper()
	rs, err := e.m.Emit(e.ctx, "ping", map[string]any{"n": n})
	if err != nil {
		e.t.Fatalf("emit ping: %v", err)
	}
	out := map[string]starhost.Result{}
	for _, r := range rs {
		if _, dup := out[r.Integration]; dup {
			e.t.Fatalf("integration %s handled one event twice: %+v", r.Integration, rs)
		}
		out[r.Integration] = r
	}
	return out
}

// assertGoodServes checks that the bystander still answers, with its own
// result, and that it has never failed.
func (e *badEnv) assertGoodServes() {
	e.t.Helper()
	r, ok := e.ping(7)["good"]
	if !ok {
		e.t.Fatalf("good did not handle ping")
	}
	if !r.OK || r.Error != nil {
		e.t.Fatalf("good failed: %v", r.Error)
	}
	res, _ := r.Value.(map[string]any)
	if res["from"] != "good" || res["n"] != int64(7) {
		e.t.Fatalf("good returned %#v, want from=good n=7", r.Value)
	}
	if !e.m.IsAvailable("good") {
		e.t.Fatalf("good is not available")
	}
	in, _ := e.m.IntegrationInfo("good")
	if in.Failed || in.Errors != 0 || in.Generation != 1 {
		e.t.Fatalf("good was affected: failed=%v errors=%d generation=%d", in.Failed, in.Errors, in.Generation)
	}
}

// badWant is the expected first diagnostic of an error.
type badWant struct {
	file   string // absolute path
	line   int    // exact line; 0: any line >= 1
	lineTo int    // if > 0, line may be anywhere in [line, lineTo]
	col    int    // exact column; 0: any column >= 1
	msg    []string
}

// badCheck diagnoses err and checks its first diagnostic against w.
func badCheck(t *testing.T, err error, fallback string, w badWant) *starhost.Diagnostic {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s: %q", w.file, w.msg)
	}
	ds := starhost.Diagnose(err, fallback)
	if len(ds) == 0 {
		t.Fatalf("Diagnose(%v) returned nothing", err)
	}
	d := ds[0]
	t.Logf("diagnostic: %v", d)
	if d.File != w.file {
		t.Errorf("file = %q, want %q\n(diagnostic: %v)\n(error: %v)", d.File, w.file, d, err)
	}
	switch {
	case w.lineTo > 0:
		if d.Line < w.line || d.Line > w.lineTo {
			t.Errorf("line = %d, want %d..%d\n(diagnostic: %v)", d.Line, w.line, w.lineTo, d)
		}
	case w.line > 0:
		if d.Line != w.line {
			t.Errorf("line = %d, want %d\n(diagnostic: %v)", d.Line, w.line, d)
		}
	default:
		if d.Line < 1 {
			t.Errorf("line = %d, want a position (>= 1)\n(diagnostic: %v)", d.Line, d)
		}
	}
	switch {
	case w.col > 0:
		if d.Col != w.col {
			t.Errorf("col = %d, want %d\n(diagnostic: %v)", d.Col, w.col, d)
		}
	default:
		if d.Col < 1 {
			t.Errorf("col = %d, want a position (>= 1)\n(diagnostic: %v)", d.Col, d)
		}
	}
	for _, s := range w.msg {
		if !strings.Contains(d.Msg, s) {
			t.Errorf("message %q does not contain %q", d.Msg, s)
		}
	}
	if d.Line >= 1 && d.Col >= 1 {
		if pos := fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Col); !strings.HasPrefix(d.Error(), pos+": ") {
			t.Errorf("Error() = %q, want it to start with %q", d.Error(), pos)
		}
	}
	if strings.Contains(err.Error(), "internal error (recovered)") {
		t.Errorf("error is a recovered panic: %v", err)
	}
	return d
}

// badPos returns the 1-based line and rune column of the first occurrence
// of marker in src.
func badPos(t *testing.T, src, marker string) (int, int) {
	t.Helper()
	off := strings.Index(src, marker)
	if off < 0 {
		t.Fatalf("marker %q not in source", marker)
	}
	line := 1 + strings.Count(src[:off], "\n")
	lineStart := strings.LastIndex(src[:off], "\n") + 1
	return line, 1 + utf8.RuneCountInString(src[lineStart:off])
}

// A badLoadCase is a module that cannot be loaded.
type badLoadCase struct {
	name   string
	module string            // the module, relative to the root
	files  map[string]string // every file to write, relative to the root; "$OUTSIDE" is replaced
	setup  func(t *testing.T, e *badEnv)
	want   func(t *testing.T, e *badEnv) badWant
	limits starhost.Limits
}

func badLoadCases() []badLoadCase {
	// Sources are named so that positions are computed from them.
	const (
		syntaxSrc = "def ping(event, ctx):\n    return {\"n\": }\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		colonSrc  = "def ping(event, ctx)\n    return 1\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		undefSrc  = "def ping(event, ctx):\n    return {\"x\": no_such_name}\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		failSrc   = "def ping(event, ctx):\n    return 1\n\nfail(\"boom\")\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		spinSrc   = `def spin():
    n = 0
    for x in range(1000000000):
        n += x
    return n

def ping(event, ctx):
    return 1

spin()

integration(name = "bad", handlers = {"ping": ping})
`
		recurSrc = `def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)

def ping(event, ctx):
    return 1

fact(5)

integration(name = "bad", handlers = {"ping": ping})
`
		noDeclSrc   = "def ping(event, ctx):\n    return 1\n\nanswer = 42\n"
		prioSrc     = "def ping(event, ctx):\n    return 1\n\nintegration(name = \"bad\", priority = \"URGENT\", handlers = {\"ping\": ping})\n"
		notCallSrc  = "integration(name = \"bad\", handlers = {\"ping\": 42})\n"
		aritySrc    = "def ping(event):\n    return 1\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		missingSrc  = "# uses a library that does not exist\nload(\"lib/nope.star\", \"helper\")\n\ndef ping(event, ctx):\n    return helper()\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		cycleA      = "load(\"lib/b.star\", \"b\")\n\ndef ping(event, ctx):\n    return b\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		cycleB      = "# b needs c\nload(\"lib/c.star\", \"c\")\nb = c + 1\n"
		cycleC      = "\n\n  # c needs b\nload(\"lib/b.star\", \"b\")\nc = b + 1\n"
		escapeSrc   = "def ping(event, ctx):\n    return x\n\nload(\"../outside/x.star\", \"x\")\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		absSrc      = "load(\"$OUTSIDE/x.star\", \"x\")\n\ndef ping(event, ctx):\n    return x\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		symlinkSrc  = "load(\"lib/evil.star\", \"x\")\n\ndef ping(event, ctx):\n    return x\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		nulSrc      = "def ping(event, ctx):\n    return 1\n# \x00 here\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		latin1Src   = "def ping(event, ctx):\n    return \"caf\xe9\"\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		utf8LeadSrc = "def ping(event, ctx):\n    return 1\n# naïve: \xff\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		outsideX    = "x = 1\n"
	)
	// A valid module padded past 1 MiB with comments.
	var big strings.Builder
	big.WriteString("def ping(event, ctx):\n    return 1\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n")
	for big.Len() <= 1<<20 {
		big.WriteString("# " + strings.Repeat("padding ", 12) + "\n")
	}
	bigSrc := big.String()

	pos := func(rel, src, marker string, msg ...string) func(t *testing.T, e *badEnv) badWant {
		return func(t *testing.T, e *badEnv) badWant {
			l, c := badPos(t, src, marker)
			return badWant{file: e.path(rel), line: l, col: c, msg: msg}
		}
	}
	return []badLoadCase{
		{
			name: "syntax error", module: "bad.star", files: map[string]string{"bad.star": syntaxSrc},
			want: pos("bad.star", syntaxSrc, "}\n", "got '}', want primary expression"),
		},
		{
			name: "syntax error: missing colon", module: "bad.star", files: map[string]string{"bad.star": colonSrc},
			// go.starlark.net positions "got X, want Y" errors after the
			// unexpected token: here the newline, so line 2 column 1.
			// Either line names the right place closely enough.
			want: func(t *testing.T, e *badEnv) badWant {
				return badWant{file: e.path("bad.star"), line: 1, lineTo: 2, msg: []string{"got newline, want ':'"}}
			},
		},
		{
			name: "undefined name", module: "bad.star", files: map[string]string{"bad.star": undefSrc},
			want: pos("bad.star", undefSrc, "no_such_name", "undefined: no_such_name"),
		},
		{
			name: "failing top level", module: "bad.star", files: map[string]string{"bad.star": failSrc},
			want: pos("bad.star", failSrc, `("boom")`, "boom"),
		},
		{
			name: "endless loop at top level", module: "bad.star", files: map[string]string{"bad.star": spinSrc},
			limits: starhost.Limits{Steps: 100_000},
			want: func(t *testing.T, e *badEnv) badWant {
				// Cancelled somewhere in the loop (lines 3-4) of spin.
				return badWant{file: e.path("bad.star"), line: 3, lineTo: 4, msg: []string{"step budget of 100000 steps"}}
			},
		},
		{
			name: "recursion", module: "bad.star", files: map[string]string{"bad.star": recurSrc},
			want: pos("bad.star", recurSrc, "(n - 1)", "fact called recursively"),
		},
		{
			name: "empty file", module: "bad.star", files: map[string]string{"bad.star": ""},
			want: func(t *testing.T, e *badEnv) badWant {
				return badWant{file: e.path("bad.star"), line: 1, col: 1, msg: []string{"declares no integration"}}
			},
		},
		{
			name: "no integration declared", module: "bad.star", files: map[string]string{"bad.star": noDeclSrc},
			want: func(t *testing.T, e *badEnv) badWant {
				return badWant{file: e.path("bad.star"), line: 1, col: 1, msg: []string{"declares no integration", "integration(name"}}
			},
		},
		{
			name: "unknown priority", module: "bad.star", files: map[string]string{"bad.star": prioSrc},
			want: pos("bad.star", prioSrc, "(name", `unknown priority "URGENT"`, "CRITICAL, HIGH, NORMAL, LOW"),
		},
		{
			name: "handler not callable", module: "bad.star", files: map[string]string{"bad.star": notCallSrc},
			want: pos("bad.star", notCallSrc, "(name", `handler for "ping" is a int, not a function`),
		},
		{
			name: "handler wrong arity", module: "bad.star", files: map[string]string{"bad.star": aritySrc},
			want: func(t *testing.T, e *badEnv) badWant {
				l, c := badPos(t, aritySrc, "(name")
				return badWant{file: e.path("bad.star"), line: l, col: c, msg: []string{
					`handler for "ping" ping at ` + e.path("bad.star") + ":1:1", "takes 1 parameter;", "(event, ctx)",
				}}
			},
		},
		{
			name: "missing load", module: "bad.star", files: map[string]string{"bad.star": missingSrc},
			want: pos("bad.star", missingSrc, "load(", `load("lib/nope.star"): no such file`),
		},
		{
			name: "cyclic load", module: "a.star",
			files: map[string]string{"a.star": cycleA, "lib/b.star": cycleB, "lib/c.star": cycleC},
			want: func(t *testing.T, e *badEnv) badWant {
				// The error is at the load that closes the cycle (in c) and
				// names every link of it with its position.
				bl, bc := badPos(t, cycleB, "load(")
				cl, cc := badPos(t, cycleC, "load(")
				return badWant{file: e.path("lib/c.star"), line: cl, col: cc, msg: []string{
					"load cycle",
					fmt.Sprintf(`%s:%d:%d loads "lib/c.star"`, e.path("lib/b.star"), bl, bc),
					fmt.Sprintf(`%s:%d:%d loads "lib/b.star"`, e.path("lib/c.star"), cl, cc),
				}}
			},
		},
		{
			name: "load escapes root with ..", module: "bad.star",
			files: map[string]string{"bad.star": escapeSrc, "../outside/x.star": outsideX},
			want:  pos("bad.star", escapeSrc, "load(", "leaves the integration root"),
		},
		{
			name: "load of an absolute path", module: "bad.star",
			files: map[string]string{"bad.star": absSrc, "../outside/x.star": outsideX},
			want:  pos("bad.star", absSrc, "load(", "absolute paths are not allowed"),
		},
		{
			name: "load through a symlink out of the root", module: "bad.star",
			files: map[string]string{"bad.star": symlinkSrc, "../outside/x.star": outsideX},
			setup: func(t *testing.T, e *badEnv) {
				if err := os.MkdirAll(e.path("lib"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.Join(e.outside, "x.star"), e.path("lib/evil.star")); err != nil {
					t.Skipf("symlinks unsupported: %v", err)
				}
			},
			want: pos("bad.star", symlinkSrc, "load(", "symlink", "outside the integration root"),
		},
		{
			name: "file over 1 MiB", module: "bad.star", files: map[string]string{"bad.star": bigSrc},
			// A whole-file problem is positioned like the other whole-file
			// diagnostics (or at the first byte past the limit), so that
			// editors can jump to it: file:line:col, not a bare "file:".
			want: func(t *testing.T, e *badEnv) badWant {
				return badWant{file: e.path("bad.star"), msg: []string{"larger than 1048576 bytes", "split it into libraries"}}
			},
		},
		{
			name: "binary file", module: "bad.star", files: map[string]string{"bad.star": nulSrc},
			want: pos("bad.star", nulSrc, "\x00", "binary file (NUL byte)"),
		},
		{
			name: "non-UTF-8 file", module: "bad.star", files: map[string]string{"bad.star": latin1Src},
			want: pos("bad.star", latin1Src, "\xe9", "invalid UTF-8 byte 0xe9"),
		},
		{
			// After a multi-byte character the column must be counted in
			// characters (runes), as Starlark counts every other column.
			name: "non-UTF-8 byte after multi-byte characters", module: "bad.star", files: map[string]string{"bad.star": utf8LeadSrc},
			want: func(t *testing.T, e *badEnv) badWant {
				return badWant{file: e.path("bad.star"), line: 3, col: utf8.RuneCountInString("# naïve: ") + 1, msg: []string{"invalid UTF-8 byte 0xff"}}
			},
		},
	}
}

func (c badLoadCase) writeFiles(t *testing.T, e *badEnv) {
	t.Helper()
	for rel, content := range c.files {
		e.write(rel, strings.ReplaceAll(content, "$OUTSIDE", e.outside))
	}
	if c.setup != nil {
		c.setup(t, e)
	}
}

// TestBadInputLoad adds each bad module to a manager that serves good.star:
// the add fails with a positioned diagnostic, Check reports the same,
// nothing named "bad" appears, and good still answers.
func TestBadInputLoad(t *testing.T) {
	for _, c := range badLoadCases() {
		t.Run(c.name, func(t *testing.T) {
			e := newBadEnv(t, c.limits)
			c.writeFiles(t, e)
			want := c.want(t, e)
			mod := e.path(c.module)

			_, err := e.m.AddIntegration(e.ctx, mod, "")
			badCheck(t, err, mod, want)

			decls, cerr := starhost.Check(e.opts, mod)
			if decls != nil {
				t.Errorf("Check returned declarations %+v with the error", decls)
			}
			badCheck(t, cerr, mod, want)

			if e.m.IsAvailable("bad") {
				t.Errorf("bad is available after a failed add")
			}
			if names := e.m.Names(); len(names) != 1 || names[0] != "good" {
				t.Errorf("names = %v, want [good]", names)
			}
			failed := e.m.Snapshot().FailedModules
			if len(failed) != 1 || failed[0].Module != mod || len(failed[0].Errors) == 0 {
				t.Fatalf("FailedModules = %+v, want just %s", failed, mod)
			}
			if fd := failed[0].Errors[0]; fd.File != want.file || fd.Line < 1 {
				t.Errorf("FailedModules diagnostic = %v, want it positioned in %s", &fd, want.file)
			}
			e.assertGoodServes()
		})
	}
}

// TestBadInputReload breaks a working integration with each bad module:
// the reload fails with the same positioned diagnostic, the old version
// keeps serving its old result and reports the failure.
func TestBadInputReload(t *testing.T) {
	for _, c := range badLoadCases() {
		t.Run(c.name, func(t *testing.T) {
			e := newBadEnv(t, c.limits)
			mod := e.write(c.module, badVictimSrc)
			if _, err := e.m.AddIntegration(e.ctx, mod, ""); err != nil {
				t.Fatalf("add victim: %v", err)
			}
			c.writeFiles(t, e)
			want := c.want(t, e)

			err := e.m.ReloadIntegration(e.ctx, "victim")
			badCheck(t, err, mod, want)

			if !e.m.IsAvailable("victim") {
				t.Fatalf("victim is not available after a failed reload")
			}
			r, ok := e.ping(1)["victim"]
			if !ok || !r.OK || r.Generation != 1 {
				t.Fatalf("victim after failed reload: %+v", r)
			}
			if res, _ := r.Value.(map[string]any); res["from"] != "victim" || res["v"] != int64(1) {
				t.Errorf("victim returned %#v, want the old result v=1", r.Value)
			}
			in, _ := e.m.IntegrationInfo("victim")
			if !in.Failed || in.LastError == nil || in.Generation != 1 {
				t.Fatalf("info after failed reload: failed=%v lastError=%v generation=%d", in.Failed, in.LastError, in.Generation)
			}
			if in.LastError.File != want.file || in.LastError.Line < 1 {
				t.Errorf("Info.LastError = %v, want it positioned in %s", in.LastError, want.file)
			}
			if len(e.m.Snapshot().FailedModules) != 0 {
				t.Errorf("FailedModules = %+v, want none: the old version serves", e.m.Snapshot().FailedModules)
			}
			e.assertGoodServes()
		})
	}
}

// TestBadInputDuplicateName loads two files of one root that declare the
// same name: the second (in path order) fails at its declaration, naming
// the first; the first serves.
func TestBadInputDuplicateName(t *testing.T) {
	const src = "def ping(event, ctx):\n    return {\"file\": %q}\n\n\nintegration(name = \"dup\", handlers = {\"ping\": ping})\n"
	var err error
	m, root := hosttest.NewRoot(t, map[string]string{
		"a.star": fmt.Sprintf(src, "a.star"), "b.star": fmt.Sprintf(src, "b.star"), "good.star": badGoodSrc,
	}, hosttest.LoadError(&err))
	a, b := filepath.Join(root, "a.star"), filepath.Join(root, "b.star")
	ctx := context.Background()
	l, c := badPos(t, fmt.Sprintf(src, "b.star"), "(name")
	want := badWant{file: b, line: l, col: c, msg: []string{
		`duplicate integration name "dup"`, fmt.Sprintf("already declared at %s:%d:%d", a, l, c),
	}}
	badCheck(t, err, b, want)

	failed := m.Snapshot().FailedModules
	if len(failed) != 1 || failed[0].Module != b {
		t.Fatalf("FailedModules = %+v, want just %s", failed, b)
	}
	fd := failed[0].Errors[0]
	if fd.File != b || fd.Line != l || fd.Col != c {
		t.Errorf("FailedModules diagnostic = %v, want %s:%d:%d", &fd, b, l, c)
	}

	rs, err := m.Emit(ctx, "ping", map[string]any{"n": 7})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, r := range rs {
		if !r.OK {
			t.Errorf("%s failed: %v", r.Integration, r.Error)
		}
		got[r.Integration] = r.Value
	}
	if len(rs) != 2 || got["dup"].(map[string]any)["file"] != "a.star" || got["good"].(map[string]any)["n"] != int64(7) {
		t.Errorf("results = %#v, want good and dup (from a.star)", got)
	}
	if in, _ := m.IntegrationInfo("dup"); in.Module != a {
		t.Errorf("dup module = %s, want %s", in.Module, a)
	}
}

// A badHandlerCase is an integration that loads but whose handler goes wrong.
type badHandlerCase struct {
	name   string
	src    string
	limits starhost.Limits
	want   func(t *testing.T, path string) badWant
}

func badHandlerCases() []badHandlerCase {
	const (
		raiseSrc = "def ping(event, ctx):\n    if event.data[\"n\"] > 0:\n        fail(\"handler boom\", event.data[\"n\"])\n    return 1\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		spinSrc  = `def ping(event, ctx):
    n = 0
    for x in range(1000000000):
        n += x
    return n

integration(name = "bad", handlers = {"ping": ping})
`
		funcSrc = "def helper():\n    return 1\n\ndef ping(event, ctx):\n    return {\"f\": helper}\n\nintegration(name = \"bad\", handlers = {\"ping\": ping})\n"
		deepSrc = `def ping(event, ctx):
    x = []
    for i in range(200):
        x = [x]
    return x

integration(name = "bad", handlers = {"ping": ping})
`
		deepJSONSrc = `def ping(event, ctx):
    x = []
    for i in range(200):
        x = [x]
    return {"json": json.encode(x)}

integration(name = "bad", handlers = {"ping": ping})
`
	)
	pos := func(src, marker string, msg ...string) func(t *testing.T, path string) badWant {
		return func(t *testing.T, path string) badWant {
			l, c := badPos(t, src, marker)
			return badWant{file: path, line: l, col: c, msg: msg}
		}
	}
	return []badHandlerCase{
		{name: "raises", src: raiseSrc, want: pos(raiseSrc, `("handler boom"`, "handler boom 7")},
		{
			name: "endless loop, step budget", src: spinSrc, limits: starhost.Limits{Steps: 100_000},
			want: func(t *testing.T, path string) badWant {
				return badWant{file: path, line: 3, lineTo: 4, msg: []string{"handler of bad exceeded the step budget of 100000 steps"}}
			},
		},
		{
			name: "endless loop, timeout", src: spinSrc, limits: starhost.Limits{Steps: 1 << 50, Timeout: 50 * time.Millisecond},
			want: func(t *testing.T, path string) badWant {
				return badWant{file: path, line: 3, lineTo: 4, msg: []string{"handler of bad timed out after 50ms"}}
			},
		},
		{
			name: "returns a function", src: funcSrc,
			// The conversion happens after the handler returned: the
			// diagnostic points at the handler.
			want: pos(funcSrc, "def ping", "handler ping", "cannot leave the sandbox", "f: a function is not data"),
		},
		{
			name: "returns a deeply nested value", src: deepSrc,
			want: pos(deepSrc, "def ping", "handler ping", "nested deeper than 64 levels"),
		},
		{
			name: "json.encode of a deeply nested value", src: deepJSONSrc,
			want: pos(deepJSONSrc, "(x)", "json.encode", "nested deeper than 64 levels"),
		},
	}
}

// TestBadInputHandler runs each failing handler next to good.star in one
// dispatch: the failure is reported in its result and info with a
// position, good's result in the same Emit is unaffected, and the failing
// integration stays loaded.
func TestBadInputHandler(t *testing.T) {
	for _, c := range badHandlerCases() {
		t.Run(c.name, func(t *testing.T) {
			e := newBadEnv(t, c.limits)
			mod := e.write("bad.star", c.src)
			if _, err := e.m.AddIntegration(e.ctx, mod, ""); err != nil {
				t.Fatalf("add: %v", err)
			}
			want := c.want(t, mod)
			var last *starhost.Diagnostic
			for round := range 2 { // a failure does not poison the next call
				rs := e.ping(7)
				bad, ok := rs["bad"]
				if !ok {
					t.Fatalf("round %d: bad did not run", round)
				}
				if bad.OK || bad.Value != nil {
					t.Fatalf("round %d: bad succeeded: %#v", round, bad.Value)
				}
				last = badCheck(t, bad.Error, mod, want)
				if g := rs["good"]; !g.OK || g.Value.(map[string]any)["n"] != int64(7) {
					t.Fatalf("round %d: good in the same dispatch: %+v", round, g)
				}
			}
			in, _ := e.m.IntegrationInfo("bad")
			if !e.m.IsAvailable("bad") || in.Calls != 2 || in.Errors != 2 || in.LastHandlerError == nil {
				t.Fatalf("info: available=%v calls=%d errors=%d last=%v", e.m.IsAvailable("bad"), in.Calls, in.Errors, in.LastHandlerError)
			}
			if *in.LastHandlerError != *last {
				t.Errorf("Info.LastHandlerError = %v, want %v", in.LastHandlerError, last)
			}
			if in.Failed {
				t.Errorf("a handler error marked the integration as failed to load")
			}
			e.assertGoodServes()
		})
	}
}

// TestBadInputEventData emits payloads that are not JSON objects: each is
// rejected before any handler runs, and the next good event is handled.
func TestBadInputEventData(t *testing.T) {
	e := newBadEnv(t, starhost.Limits{})
	deep := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	cases := []struct {
		payload string
		msg     string
	}{
		{`[1,2]`, "must be a JSON object"},
		{`[1,2]`, "got an array"},
		{`"s"`, "got a string"},
		{`null`, "got null"},
		{`42`, "got a number"},
		{`true`, "got a boolean"},
		{`{"a": 1`, "not valid JSON"},
		{`{bad}`, "not valid JSON"},
		{`{"a": 1} {"b": 2}`, "trailing content"},
		{deep, "nested deeper than 64 levels"},
	}
	for _, c := range cases {
		rs, err := e.emitJSON("ping", []byte(c.payload))
		if err == nil {
			t.Errorf("emit of %.40s succeeded: %+v", c.payload, rs)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("emit of %.40s = %v, want it to mention %q", c.payload, err, c.msg)
		}
		if len(rs) != 0 {
			t.Errorf("emit of %.40s ran handlers: %+v", c.payload, rs)
		}
	}
	if in, _ := e.m.IntegrationInfo("good"); in.Calls != 0 {
		t.Errorf("good was called %d times by rejected events", in.Calls)
	}
	rs, err := e.emitJSON("ping", []byte(`{"n": 3}`))
	if err != nil || len(rs) != 1 || !rs[0].OK || rs[0].Value.(map[string]any)["n"] != int64(3) {
		t.Fatalf("good event after bad ones: %+v, %v", rs, err)
	}
	e.assertGoodServes()
}

// TestBadInputFailedReloadKeepsOldVersion breaks a file with a syntax
// error, checks the old version serves and reports the failure, then
// fixes it.
func TestBadInputFailedReloadKeepsOldVersion(t *testing.T) {
	e := newBadEnv(t, starhost.Limits{})
	const v1 = "def ping(event, ctx):\n    return {\"v\": 1}\n\nintegration(name = \"rel\", handlers = {\"ping\": ping})\n"
	const broken = "def ping(event, ctx):\n    return {\"v\": }\n\nintegration(name = \"rel\", handlers = {\"ping\": ping})\n"
	const v3 = "def ping(event, ctx):\n    return {\"v\": 3}\n\nintegration(name = \"rel\", handlers = {\"ping\": ping})\n"
	mod := e.write("rel.star", v1)
	if _, err := e.m.AddIntegration(e.ctx, mod, ""); err != nil {
		t.Fatal(err)
	}
	result := func(wantV int64, wantGen int) {
		t.Helper()
		r, ok := e.ping(0)["rel"]
		if !ok || !r.OK || r.Generation != wantGen || r.Value.(map[string]any)["v"] != wantV {
			t.Fatalf("rel result = %+v, want v=%d generation %d", r, wantV, wantGen)
		}
	}
	result(1, 1)

	e.write("rel.star", broken)
	err := e.m.ReloadIntegration(e.ctx, "rel")
	l, c := badPos(t, broken, "}\n")
	d := badCheck(t, err, mod, badWant{file: mod, line: l, col: c, msg: []string{"got '}', want primary expression"}})
	if !e.m.IsAvailable("rel") {
		t.Fatal("rel not available after a failed reload")
	}
	result(1, 1)
	in, _ := e.m.IntegrationInfo("rel")
	if !in.Failed || in.LastError == nil || in.Generation != 1 {
		t.Fatalf("info after failed reload: failed=%v lastError=%v generation=%d", in.Failed, in.LastError, in.Generation)
	}
	if *in.LastError != *d {
		t.Errorf("Info.LastError = %v, want %v", in.LastError, d)
	}

	e.write("rel.star", v3)
	if err := e.m.ReloadIntegration(e.ctx, "rel"); err != nil {
		t.Fatalf("reload of the fixed file: %v", err)
	}
	in, _ = e.m.IntegrationInfo("rel")
	if in.Failed || in.LastError != nil || in.Generation != 2 {
		t.Fatalf("info after the fix: failed=%v lastError=%v generation=%d", in.Failed, in.LastError, in.Generation)
	}
	result(3, 2)
	e.assertGoodServes()
}

// TestBadInputStateLimit grows a state past Limits.MaxValues: that call
// fails, the state is reset, the next call starts afresh, and good is
// unaffected.
func TestBadInputStateLimit(t *testing.T) {
	e := newBadEnv(t, starhost.Limits{MaxValues: 1000})
	const src = `def ping(event, ctx):
    items = ctx.state.setdefault("items", [])
    for i in range(event.data["n"]):
        items.append(i)
    return len(items)

integration(name = "hoard", handlers = {"ping": ping})
`
	mod := e.write("hoard.star", src)
	if _, err := e.m.AddIntegration(e.ctx, mod, ""); err != nil {
		t.Fatal(err)
	}
	count := func(n int) starhost.Result {
		t.Helper()
		rs := e.ping(n)
		if g := rs["good"]; !g.OK {
			t.Fatalf("good failed next to hoard: %v", g.Error)
		}
		return rs["hoard"]
	}
	if r := count(10); !r.OK || r.Value != int64(10) {
		t.Fatalf("first call: %+v", r)
	}
	st, err := e.m.State("hoard")
	if err != nil || len(st["items"].([]any)) != 10 {
		t.Fatalf("state = %v, %v; want 10 items", st, err)
	}
	r := count(2000)
	if r.OK {
		t.Fatalf("growing the state to 2010 values succeeded: %+v", r)
	}
	l, c := badPos(t, src, "def ping")
	badCheck(t, r.Error, mod, badWant{file: mod, line: l, col: c, msg: []string{"state grew past the limits and was reset", "more than 1000 values"}})
	st, err = e.m.State("hoard")
	if err != nil || len(st) != 0 {
		t.Fatalf("state after the reset = %v, %v; want {}", st, err)
	}
	if r := count(5); !r.OK || r.Value != int64(5) {
		t.Fatalf("call after the reset: %+v, want 5 (a fresh state)", r)
	}
	e.assertGoodServes()
}

// TestBadInputMigrateFails reloads an integration whose migrate raises:
// the reload fails at the fail() call, and the old version and its state
// stay.
func TestBadInputMigrateFails(t *testing.T) {
	e := newBadEnv(t, starhost.Limits{})
	const v1 = `def ping(event, ctx):
    ctx.state["count"] = ctx.state.get("count", 0) + 1
    return {"v": 1, "count": ctx.state["count"]}

integration(name = "mig", handlers = {"ping": ping})
`
	const v2 = `def ping(event, ctx):
    return {"v": 2}

def migrate(old):
    if old.get("count", 0) > 1:
        fail("cannot migrate a count of", old["count"])
    return {}

integration(name = "mig", handlers = {"ping": ping}, migrate = migrate)
`
	mod := e.write("mig.star", v1)
	if _, err := e.m.AddIntegration(e.ctx, mod, ""); err != nil {
		t.Fatal(err)
	}
	call := func() map[string]any {
		t.Helper()
		r := e.ping(0)["mig"]
		if !r.OK || r.Generation != 1 {
			t.Fatalf("mig result = %+v", r)
		}
		return r.Value.(map[string]any)
	}
	call()
	call()

	e.write("mig.star", v2)
	err := e.m.ReloadIntegration(e.ctx, "mig")
	l, c := badPos(t, v2, `("cannot migrate`)
	badCheck(t, err, mod, badWant{file: mod, line: l, col: c, msg: []string{"cannot migrate a count of 2"}})
	if !strings.Contains(err.Error(), "migrate") {
		t.Errorf("error %q does not say it was the migration", err)
	}

	if !e.m.IsAvailable("mig") {
		t.Fatal("mig not available after a failed migrate")
	}
	if res := call(); res["v"] != int64(1) || res["count"] != int64(3) {
		t.Fatalf("after the failed migrate: %#v, want the old version (v=1) with its state (count=3)", res)
	}
	in, _ := e.m.IntegrationInfo("mig")
	if !in.Failed || in.LastError == nil || in.LastError.Line != l || in.Generation != 1 {
		t.Fatalf("info: failed=%v lastError=%v generation=%d", in.Failed, in.LastError, in.Generation)
	}
	st, err := e.m.State("mig")
	if err != nil || st["count"] != int64(3) {
		t.Fatalf("state = %v, %v; want count=3", st, err)
	}
	e.assertGoodServes()
}
