package starhost_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// TestOnEvent: Options.OnEvent hears of each event a front end delivers
// and the host accepts, with its id, once, before its handlers run; not
// of follow-ups, duplicates or refused events.
func TestOnEvent(t *testing.T) {
	const src = `
def on_ping(event, ctx):
    ctx.emit("pong", {})
    return None

integration(name = "p", handlers = {"ping": on_ping, "pong": on_ping})
`
	var mu sync.Mutex
	var got []string
	m, _ := hosttest.NewRoot(t, map[string]string{"p.star": src}, hosttest.OnEvent(func(e starhost.AcceptedEvent) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%s %s %v %v", e.ID, e.Event, e.Data, e.Time.IsZero()))
	}))
	ctx := context.Background()
	steps := []struct {
		id, event string
		data      map[string]any
		want      string // "" for no call
	}{
		{"", "ping", map[string]any{"n": 1}, " ping map[n:1] false"},
		{"e1", "ping", nil, "e1 ping map[] false"},
		{"e1", "ping", nil, ""},                          // a duplicate
		{"", "bad name", nil, ""},                        // refused
		{"", "ping", map[string]any{"f": func() {}}, ""}, // data refused
		{"e2", "nobody_listens", map[string]any{}, "e2 nobody_listens map[] false"},
	}
	var want []string
	for _, s := range steps {
		m.EmitID(ctx, s.id, s.event, s.data)
		if s.want != "" {
			want = append(want, s.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("OnEvent heard\n%q\nwant\n%q", got, want)
	}
}
