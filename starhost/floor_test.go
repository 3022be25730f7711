package starhost_test

import (
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hostbench"
)

// BenchmarkInterpreterFloor runs the generated benchmark integration's
// response handler (hostbench.Module) with go.starlark.net alone: one
// reused thread, a plain struct for the event and for ctx, the host's fast
// sorted, no budget, no timeout, no result conversion, no state audit. It
// is the floor under BenchmarkEmit: what the interpreter itself costs per
// call on this code, so that the host's share can be read as the
// difference, and so that a throughput target can be checked against what
// the interpreter allows at all.
func BenchmarkInterpreterFloor(b *testing.B) {
	var handler starlark.Callable
	predeclared := starlark.StringDict{
		"sorted": starlark.NewBuiltin("sorted", starhost.SortedBuiltin),
		"integration": starlark.NewBuiltin("integration", func(_ *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			for _, kv := range kwargs {
				if kv[0].(starlark.String) == "handlers" {
					h, _, _ := kv[1].(*starlark.Dict).Get(starlark.String("response_received"))
					handler = h.(starlark.Callable)
				}
			}
			return starlark.None, nil
		}),
	}
	thread := &starlark.Thread{Name: "floor"}
	if _, err := starlark.ExecFile(thread, "bench.star", hostbench.Module(0, 0), predeclared); err != nil {
		b.Fatal(err)
	}
	ctx := starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{"state": starlark.NewDict(2)})
	args := make(starlark.Tuple, 2)
	args[1] = ctx
	b.ReportAllocs()
	calls := 0
	for i := 0; b.Loop(); i++ {
		data := starlark.NewDict(2)
		_ = data.SetKey(starlark.String("mission_id"), starlark.String("bench"))
		_ = data.SetKey(starlark.String("latency_ms"), starlark.MakeInt(i%500))
		data.Freeze()
		args[0] = starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{"name": starlark.String("response_received"), "data": data})
		// One event is built per 100 calls in the host; build it once per
		// call here and discount nothing: the floor is an upper bound.
		for range 100 {
			if _, err := starlark.Call(thread, handler, args, nil); err != nil {
				b.Fatal(err)
			}
			calls++
		}
	}
	b.ReportMetric(float64(calls)/b.Elapsed().Seconds(), "handler-calls/s")
}
