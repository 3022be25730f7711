package headless_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"testing/fstest"

	"github.com/afstudio/afstudio/headless"
	"github.com/afstudio/afstudio/starhost"
)

// A Host is created before the manager loads, so that the load notices
// are written too; Serve reads the events; Close writes what is left.
func Example() {
	hello := `integration(name = "hello", handlers = {"ping": lambda event, ctx: "pong " + event.data["who"]})`
	m, err := starhost.New(starhost.Options{Defaults: fstest.MapFS{"hello.star": {Data: []byte(hello)}}})
	if err != nil {
		log.Fatal(err)
	}
	var out bytes.Buffer // os.Stdout in afstudio run --headless
	h := headless.New(m, &out, headless.Options{})
	ctx := context.Background()
	if err := m.LoadDefaultIntegrations(ctx); err != nil {
		log.Fatal(err)
	}
	input := `{"event": "ping", "data": {"who": "ada"}}` + "\n" + "oops\n"
	if err := h.Serve(ctx, strings.NewReader(input)); err != nil {
		log.Fatal(err)
	}
	if err := h.Close(); err != nil {
		log.Fatal(err)
	}

	// Every line is a starhost.Notice.
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var n starhost.Notice
		if err := json.Unmarshal([]byte(line), &n); err != nil {
			log.Fatal(err)
		}
		switch n.Kind {
		case starhost.NoticeResult:
			fmt.Println(n.Kind, n.Integration, n.Result.Value)
		case headless.NoticeInputError:
			fmt.Println(n.Kind, n.Error)
		default:
			fmt.Println(n.Kind, n.Integration)
		}
	}
	// Output:
	// loaded hello
	// result hello pong ada
	// input_error stdin:2:1: invalid character 'o' looking for beginning of value; send one JSON object per line: {"event": NAME, "data": {...}}
}
