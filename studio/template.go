package studio

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// templateHandlerLine is the line of the template's first handler body,
// where the editor opens.
var templateHandlerLine = 2 + strings.Count(integrationTemplate[:strings.Index(integrationTemplate, "def on_response")], "\n")

// integrationTemplate is the commented starting point of a new
// integration; %[1]s is its name.
const integrationTemplate = `# %[1]s: a new afstudio integration.
#
# Save this file and afstudio reloads it at once; mistakes are shown with
# file:line:col while the previous version keeps serving.
#
# A handler receives the event (event.name, event.data, event.time) and a
# context: ctx.state is this integration's own dict, kept across reloads;
# ctx.log(...) writes to the log; ctx.emit(name, data) sends a follow-up event.

load("lib/stats.star", "percentile", "push_bounded")

def on_response(event, ctx):
    latencies = ctx.state.setdefault("latencies", [])
    push_bounded(latencies, event.data.get("latency_ms", 0), 100)
    return {"p50_ms": percentile(latencies, 50), "samples": len(latencies)}

def on_mission(event, ctx):
    ctx.state["missions"] = ctx.state.get("missions", 0) + 1
    ctx.log("mission", event.data.get("mission_id"), event.name)
    return ctx.state["missions"]

# Optional: reshape the state when a new version replaces an old one.
def migrate(old_state):
    return old_state

integration(
    name = "%[1]s",
    priority = NORMAL,  # CRITICAL, HIGH, NORMAL or LOW
    description = "Describe what this integration does.",
    handlers = {
        "response_received": on_response,
        "mission_started": on_mission,
        "mission_completed": on_mission,
    },
    migrate = migrate,
)
`

// createFromTemplate writes a new integration file in dir with a name
// that is not taken yet, and returns its path and integration name.
func createFromTemplate(dir string) (path, name string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("create %s: %w", dir, err)
	}
	for i := 1; i < 1000; i++ {
		name = "my_integration"
		if i > 1 {
			name = fmt.Sprintf("my_integration_%d", i)
		}
		path = filepath.Join(dir, name+".star")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("create %s: %w", path, err)
		}
		_, err = fmt.Fprintf(f, integrationTemplate, name)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return path, name, err
	}
	return "", "", fmt.Errorf("create a new integration in %s: too many my_integration files", dir)
}
