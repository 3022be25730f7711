package startest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/afstudio/afstudio/startest"
)

// ExampleRun runs the test file of an integration and prints each test's
// outcome and failures.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "startest-example-")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "greeter.star"), []byte(`
def on_ping(event, ctx):
    ctx.state["pings"] = ctx.state.get("pings", 0) + 1
    return "pong " + event.data.get("who", "nobody")

integration(name = "greeter", handlers = {"ping": on_ping})
`), 0o644)
	os.WriteFile(filepath.Join(dir, "greeter_test.star"), []byte(`
def test_answers():
    h = harness("greeter")
    assert.eq(h.emit("ping", {"who": "ada"}), "pong ada")
    assert.eq(h.state, {"pings": 1})

def test_wrong():
    h = harness("greeter")
    assert.eq(h.emit("ping"), "pong ada")
`), 0o644)

	rep, err := startest.Run(context.Background(), startest.Options{Paths: startest.TestFiles(filepath.Join(dir, "greeter.star"))})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range rep.Tests {
		fmt.Println(t.Name, "passed:", t.Passed)
		for _, f := range t.Failures {
			fmt.Printf("  line %d: %s\n", f.Line, f.Message)
		}
	}
	fmt.Println("passed", rep.Passed, "failed", rep.Failed)
	// Output:
	// test_answers passed: true
	// test_wrong passed: false
	//   line 9: assert.eq: "pong nobody" != "pong ada"
	// passed 1 failed 1
}
