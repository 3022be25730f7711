package starhost_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// fuzzCheckSeeds are the seed corpus of FuzzCheck; valid ones must load.
var fuzzCheckSeeds = []struct {
	valid bool
	src   string
}{
	{true, "def ping(event, ctx):\n    return {\"n\": event.data.get(\"n\", 0)}\n\nintegration(name = \"ok\", handlers = {\"ping\": ping})\n"},
	{true, "def on(event, ctx):\n    ctx.state.setdefault(\"seen\", []).append(event.name)\n    ctx.log(\"seen\", event.name, level = \"debug\")\n    ctx.emit(\"follow_up\", {\"from\": event.name})\n\ndef migrate(old):\n    return dict(old)\n\nintegration(\n    name = \"all\",\n    priority = CRITICAL,\n    description = \"every event\",\n    handlers = {\"*\": on},\n    migrate = migrate,\n)\n"},
	{true, "def a(event, ctx):\n    return json.encode(struct(x = math.floor(1.5), s = set([1, 2])))\n\ndef b(event, ctx, *rest, **kw):\n    return [x * x for x in range(10) if x % 2]\n\nintegration(name = \"one\", priority = \"LOW\", handlers = {\"a\": a})\nintegration(name = \"two\", priority = \"HIGH\", handlers = {\"b\": b})\n"},
	{false, ""},
	{false, "def ping(event, ctx)\n    return 1\n"},
	{false, "integration(name = \"bad name!\", handlers = {\"ping\": len})\n"},
	{false, "integration(name = \"x\", priority = \"URGENT\", handlers = {\"e\": lambda e, c: 1})\n"},
	{false, "integration(name = \"x\", handlers = {\"e\": 42})\n"},
	{false, "def spin():\n    n = 0\n    for x in range(1000000000):\n        n += x\n    return n\n\nspin()\n"},
	{false, "def f(n):\n    return f(n - 1)\n\nf(3)\n"},
	{false, "load(\"lib/missing.star\", \"x\")\nload(\"../up.star\", \"y\")\nload(\"/abs.star\", \"z\")\n"},
	{false, "load(\"mod.star\", \"x\")\n"},
	{false, "x = []\ndef deep():\n    y = []\n    for i in range(200):\n        y = [y]\n    return json.encode(y)\n\ndeep()\n"},
	{false, "x = json.decode(\"" + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "\")\n"},
	{false, "fail(\"boom\")\n"},
	{false, "# caf\xe9\n\x00\xff\n"},
	{false, "def h(event, ctx):\n    return 1\nintegration(name = \"d\", handlers = {\"e\": h})\nintegration(name = \"d\", handlers = {\"e\": h})\n"},
	{false, "s = \"x\" * 1000\nt = [s] * 1000\nu = {str(i): t for i in range(10)}\n"},
}

// TestFuzzCheckSeeds keeps the valid seeds valid, so that the fuzzer
// starts from modules that get past every check.
func TestFuzzCheckSeeds(t *testing.T) {
	opts := starhost.Options{Limits: fuzzLimits}
	for i, s := range fuzzCheckSeeds {
		path := filepath.Join(t.TempDir(), "mod.star")
		if err := os.WriteFile(path, []byte(s.src), 0o644); err != nil {
			t.Fatal(err)
		}
		decls, err := starhost.Check(opts, path)
		if s.valid && (err != nil || len(decls) == 0) {
			t.Errorf("valid seed %d: %v", i, err)
		}
		if !s.valid && err == nil {
			t.Errorf("invalid seed %d loads: %+v", i, decls)
		}
	}
}

var fuzzLimits = starhost.Limits{Steps: 10_000, Timeout: 100 * time.Millisecond}

// FuzzCheck feeds arbitrary bytes to starhost.Check as a module file. Check
// must never panic (nor recover from a panic of its own); it either
// returns at least one declaration, or an error that Diagnose turns into
// messages.
func FuzzCheck(f *testing.F) {
	for _, s := range fuzzCheckSeeds {
		f.Add([]byte(s.src))
	}
	opts := starhost.Options{Limits: fuzzLimits}
	f.Fuzz(func(t *testing.T, src []byte) {
		path := filepath.Join(t.TempDir(), "mod.star")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		decls, err := starhost.Check(opts, path)
		if err == nil {
			if len(decls) == 0 {
				t.Fatalf("Check returned no error and no declarations")
			}
			for _, d := range decls {
				if d.Name == "" || len(d.Events) == 0 || !strings.HasPrefix(d.Pos, path+":") {
					t.Fatalf("bad declaration %+v", d)
				}
			}
			return
		}
		if decls != nil {
			t.Fatalf("Check returned declarations %+v with error %v", decls, err)
		}
		if strings.Contains(err.Error(), "internal error (recovered)") {
			t.Fatalf("Check recovered from a panic: %v", err)
		}
		ds := starhost.Diagnose(err, path)
		if len(ds) == 0 {
			t.Fatalf("Diagnose(%v) returned nothing", err)
		}
		for _, d := range ds {
			if d.File == "" || d.Msg == "" {
				t.Fatalf("empty diagnostic %+v for %v", d, err)
			}
			_ = d.Error()
		}
	})
}
