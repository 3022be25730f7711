package starhost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestSnapshotConsistent: while modules are broken and fixed by
// concurrent reloads,
// every Snapshot read has each module either among the failed modules or
// among the integrations, never both and never neither. The modules start
// broken (failed), a fix makes them live, and a later break leaves the old
// version live (not failed).
func TestSnapshotConsistent(t *testing.T) {
	const n = 60
	good := func(i int) string {
		return fmt.Sprintf("integration(name = \"m%03d\", handlers = {\"e\": lambda e, c: 1})\n", i)
	}
	const broken = "def h(:\n"
	files := map[string]string{}
	var paths []string
	for i := range n {
		files[fmt.Sprintf("m%03d.star", i)] = broken
	}
	var loadErr error
	m, dir := hosttest.NewRoot(t, files, hosttest.LoadError(&loadErr))
	for i := range n {
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("m%03d.star", i)))
	}
	if v := m.Snapshot(); loadErr == nil || len(v.FailedModules) != n || len(v.Integrations) != 0 {
		t.Fatalf("after loading broken modules: %d failed, %d live, %v", len(v.FailedModules), len(v.Integrations), loadErr)
	}
	both := &invariant{name: "never both failed and live"}
	neither := &invariant{name: "never neither failed nor live"}
	read := func() {
		where := map[string]int{}
		v := m.Snapshot()
		for _, f := range v.FailedModules {
			where[f.Module]++
		}
		for _, in := range v.Integrations {
			where[in.Module] += 2
		}
		for _, p := range paths {
			both.violated(where[p] == 3)
			neither.violated(where[p] == 0)
		}
	}
	stop := concurrently(read, read)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 2 { // two writers, on the even and the odd modules
		wg.Go(func() {
			for round, step := range []string{"fix", "break", "fix", "break"} {
				for i := w; i < n; i += 2 {
					content := broken
					if step == "fix" {
						content = good(i)
					}
					if err := os.WriteFile(paths[i], []byte(content), 0o644); err != nil {
						t.Error(err)
						return
					}
					errs := outcomeErrs(m.ReloadFiles(ctx, paths[i:i+1]))
					if len(errs) != 1 || (errs[fmt.Sprintf("m%03d", i)] == nil) != (step == "fix") {
						t.Errorf("round %d (%s) of %s: %v", round, step, paths[i], errs)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	stop()
	checkInvariants(t, both, neither)
	v := m.Snapshot()
	if len(v.FailedModules) != 0 || len(v.Integrations) != n {
		t.Fatalf("at the end: %d failed, %d live", len(v.FailedModules), len(v.Integrations))
	}
	for _, in := range v.Integrations {
		if !in.Failed || in.LastError == nil || in.LastError.Kind != starhost.ErrorSyntax {
			t.Fatalf("%s: the last (broken) reload is not reported: %+v", in.Name, in)
		}
	}
}
