package watch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/watch"
)

// ForHost watches a host's folders: saving a module reloads it, and a
// save that breaks it is reported while the old version keeps serving.
// Every front end sees both as notices.
func ExampleForHost() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "greeter.star")
	save := func(src string) { // as editors save: a whole new file renamed over the old one
		_ = os.WriteFile(path+".tmp", []byte(src), 0o644)
		_ = os.Rename(path+".tmp", path)
	}
	save(`integration(name = "greeter", handlers = {"ping": lambda event, ctx: "v1"})` + "\n")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, _ := starhost.New(starhost.Options{Roots: []string{dir}})
	_ = m.LoadDefaultIntegrations(ctx)
	notices := m.Subscribe(0)
	defer notices.Close()
	w := watch.ForHost(m, watch.Options{Roots: m.Roots()})
	go w.Run(ctx)

	// next waits for the next notice of one of the kinds.
	next := func(kinds ...starhost.NoticeKind) starhost.Notice {
		timeout := time.After(10 * time.Second)
		for {
			select {
			case n := <-notices.C:
				for _, k := range kinds {
					if n.Kind == k {
						return n
					}
				}
			case <-timeout:
				return starhost.Notice{Error: &starhost.Diagnostic{Msg: "no notice within 10s"}}
			}
		}
	}
	ping := func() any {
		rs, _ := m.Emit(ctx, "ping", nil)
		return rs[0].Value
	}

	save(`integration(name = "greeter", handlers = {"ping": lambda event, ctx: "v2"})` + "\n")
	n := next(starhost.NoticeReloaded, starhost.NoticeReloadFailed)
	fmt.Println(n.Kind, n.Integration, "generation", n.Generation, "answers", ping())

	save(`integration(name = "greeter", handlers = {"ping": lambda event, ctx: v3})` + "\n")
	n = next(starhost.NoticeReloaded, starhost.NoticeReloadFailed)
	fmt.Printf("%s %s at line %d: %s; answers %v\n", n.Kind, n.Integration, n.Error.Line, n.Error.Msg, ping())
	// Output:
	// reloaded greeter generation 2 answers v2
	// reload_failed greeter at line 1: undefined: v3; answers v2
}
