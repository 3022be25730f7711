package studio

import (
	"context"
	"slices"
	"testing"
)

// orderedModule keeps keys out of alphabetical order, a float with no
// fraction and an int past 64 bits in its state.
const orderedModule = `
def on_ping(event, ctx):
    ctx.state["zeta"] = 1
    ctx.state["alpha"] = {"y": 2.0, "b": [1.5, "x"]}
    ctx.state["big"] = 1 << 70
    ctx.state["mid"] = None
    return "ok"

integration(name = "ordered", handlers = {"ping": on_ping})
`

// TestStateTreeShowsTheJSONForm: the details show the state as the host
// stores it: keys in the order the integration put them, "2.0" for a
// float, every digit of a big int.
func TestStateTreeShowsTheJSONForm(t *testing.T) {
	s, m, _, _ := newTestStudio(t, map[string]string{"ordered.star": orderedModule})
	if _, err := m.Emit(context.Background(), "ping", nil); err != nil {
		t.Fatal(err)
	}
	runOnUI(func() { s.selectRow("ordered") })
	eventually(t, "the state tree of ordered", func() bool { return s.details.state.labelOf("/big") != "" })
	runOnUI(func() {
		st := s.details.state
		if got, want := st.childrenOf(stateRoot), []string{"/zeta", "/alpha", "/big", "/mid"}; !slices.Equal(got, want) {
			t.Errorf("top-level keys %q, want %q (the order they were put in)", got, want)
		}
		if got, want := st.childrenOf("/alpha"), []string{"/alpha/y", "/alpha/b"}; !slices.Equal(got, want) {
			t.Errorf("alpha's keys %q, want %q", got, want)
		}
		for id, want := range map[string]string{
			stateRoot:    "state: {4}",
			"/zeta":      "zeta: 1",
			"/alpha":     "alpha: {2}",
			"/alpha/y":   "y: 2.0",
			"/alpha/b":   "b: [2]",
			"/alpha/b/0": "[0]: 1.5",
			"/alpha/b/1": `[1]: "x"`,
			"/big":       "big: 1180591620717411303424",
			"/mid":       "mid: null",
		} {
			if got := st.labelOf(id); got != want {
				t.Errorf("node %q shows %q, want %q", id, got, want)
			}
		}
		if got := s.details.stateMsg.Text; got != "4 top-level keys, refreshed live" {
			t.Errorf("state message %q", got)
		}
	})
}

func TestDecodeStateJSON(t *testing.T) {
	for _, bad := range []string{`[1]`, `{"a":1}{}`, `{"a":`, `1`} {
		if _, err := decodeStateJSON([]byte(bad)); err == nil {
			t.Errorf("%s: decoded, want an error", bad)
		}
	}
	got, err := decodeStateJSON([]byte(`{"b":{},"a":[]}`))
	if err != nil || len(got) != 2 || got[0].key != "b" || got[1].key != "a" {
		t.Fatalf("%v %v", got, err)
	}
}
