package starhost_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestSumMatchesLoop: the sum builtin gives what the Starlark loop it
// replaces in lib/stats.star gave (value, type, error), and a sum of a
// long list is charged to the step budget.
func TestSumMatchesLoop(t *testing.T) {
	cases := []string{
		`[]`, `[1, 2, 3]`, `[1.5, 2, -3]`, `[1 << 62, 1 << 62, 1 << 62]`, `[0.1, 0.2, 0.3]`,
		`(4, 5)`, `{1: "a", 2: "b"}`, `[1, "a"]`, `["a", 1]`, `[float("nan"), 1]`, `[-0.0]`,
		// the fast paths' edges: int64 overflow both ways, big ints coming
		// back into range, ints turning into floats and floats meeting ints
		`[(1 << 63) - 1, 1]`, `[-(1 << 63), -1]`, `[1 << 70, -(1 << 70), 5]`, `[1, 2.5, 3]`, `[0.5, 1, 2, 0.25]`,
		`[1 << 53, 1.0, 1]`, `[1e308, 1e308, -1e308]`, `[float("inf"), float("-inf")]`, `[1, True]`, `[2.0, "x"]`,
		`range(100)`, `range(-7, 300, 3)`, `[i * 0.1 for i in range(1000)]`, `[i for i in range(-500, 500)] + [0.5]`,
		`[1 << 64, 2]`, `[1.0, 1 << 2000]`,
	}
	var src strings.Builder
	src.WriteString("def loop(values):\n    total = 0\n    for v in values:\n        total += v\n    return total\n\n")
	src.WriteString("def ping(event, ctx):\n    v = %s\n    if event.data[\"how\"] == \"builtin\":\n        r = sum(v)\n    else:\n        r = loop(v)\n    return [type(r), str(r)]\n\n")
	src.WriteString("integration(name = \"s\", handlers = {\"ping\": ping})\n")
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			m, _ := hosttest.NewRoot(t, map[string]string{"s.star": fmt.Sprintf(src.String(), c)})
			get := func(how string) (any, string) {
				r := hosttest.ResultOf(t, hosttest.Emit(t, m, "ping", map[string]any{"how": how}), "s")
				if r.Error != nil {
					msg := r.Error.Msg
					return nil, msg[strings.LastIndex(msg, ":")+1:] // the operator's own message
				}
				return fmt.Sprint(r.Value), ""
			}
			want, wantErr := get("loop")
			got, gotErr := get("builtin")
			if fmt.Sprint(got) != fmt.Sprint(want) || gotErr != wantErr {
				t.Errorf("sum(%s) = %v %q, the loop gave %v %q", c, got, gotErr, want, wantErr)
			}
		})
	}
	m, _ := hosttest.NewRoot(t, map[string]string{"s.star": "def ping(event, ctx):\n    return sum(range(1000000))\nintegration(name = \"s\", handlers = {\"ping\": ping})\n"},
		hosttest.Limits(starhost.Limits{Steps: 10_000, Timeout: time.Minute}))
	if r := hosttest.ResultOf(t, hosttest.Emit(t, m, "ping", nil), "s"); r.OK || r.Error.Kind != starhost.ErrorLimit {
		t.Fatalf("sum of a million values under a 10,000-step budget: %+v", r)
	}
}
