package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestStateFilesMoveBetweenStudioAndCLI: a file the studio's Export
// state… writes (Manager.ExportStates, StateExport.Encode) is imported by
// afstudio state import, and what afstudio state export writes is read by
// the studio's Import state… (ReadStateExport, Manager.ImportStates), with
// the state's exact form ("2.0", key order).
func TestStateFilesMoveBetweenStudioAndCLI(t *testing.T) {
	dir := hosttest.TempDir(t, map[string]string{"counter.star": counterSource + `
def on_mark(event, ctx):
    ctx.state["z"] = 2.0
    ctx.state["a"] = 1 << 70

integration(name = "marker", handlers = {"mark": on_mark})
`})
	studio := hosttest.New(t, hosttest.Roots(dir))
	hosttest.Emit(t, studio, "tick", map[string]any{"i": 1})
	hosttest.Emit(t, studio, "mark", nil)
	want := map[string]string{}
	for _, name := range []string{"counter", "marker"} {
		b, _ := studio.StateJSON(name)
		want[name] = string(b)
	}
	export, err := studio.ExportStates()
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := export.Encode(&file); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "from-studio.json")
	hosttest.WriteFile(t, path, file.String())

	data := t.TempDir()
	if r := runCLI(t, nil, "state", "import", path, "--data", data); r.code != 0 {
		t.Fatalf("afstudio state import of the studio's file: %v", r)
	}
	r := runCLI(t, nil, "state", "export", "--data", data)
	if r.code != 0 {
		t.Fatalf("afstudio state export: %v", r)
	}
	back, err := starhost.ReadStateExport([]byte(r.stdout))
	if err != nil {
		t.Fatalf("the studio cannot read afstudio state export's file: %v\n%s", err, r.stdout)
	}
	fresh := hosttest.New(t, hosttest.Roots(dir))
	if err := fresh.ImportStates(context.Background(), back.States()); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		var compact bytes.Buffer
		_ = json.Compact(&compact, back.Integrations[name].State)
		got, _ := fresh.StateJSON(name)
		if compact.String() != w || string(got) != w {
			t.Errorf("%s: the CLI exported %s, the studio imported %s, want %s", name, compact.String(), got, w)
		}
		if back.Integrations[name].ModuleHash != export.Integrations[name].ModuleHash {
			t.Errorf("%s: the module hash did not survive the trip", name)
		}
	}
}
