package startest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/afstudio/afstudio/starhost"
	starlarkjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
)

// A harness is the value harness(name) returns: one integration, alone in
// a Manager of its own that holds follow-up events (see the package
// documentation for its attributes).
type harness struct {
	t       *testRun
	name    string
	m       *starhost.Manager
	sub     *starhost.Subscription
	logs    []string
	emitted []starhost.Emitted
}

// harnessBuiltin implements harness(name, state = None).
func harnessBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var state starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "state?", &state); err != nil {
		return nil, err
	}
	t, ok := runOf(thread)
	if !ok {
		return nil, errors.New("harness() can only be called inside a test function (test_*), not at the top level of a test file")
	}
	h, err := t.newHarness(thread, name, state)
	if err != nil {
		return nil, fmt.Errorf("harness(%q): %w", name, err)
	}
	return h, nil
}

// newHarness builds integration name, alone, in a new Manager, with the
// given state (None: empty).
func (t *testRun) newHarness(thread *starlark.Thread, name string, state starlark.Value) (*harness, error) {
	module, err := t.r.index(t.file.folder).find(name)
	if err != nil {
		return nil, err
	}
	m, err := starhost.New(starhost.Options{
		Defaults:                t.r.opts.Defaults,
		SkipDefaultIntegrations: true,
		Roots:                   []string{t.file.folder},
		Limits:                  t.r.opts.Limits,
		Parallel:                1,
		HoldFollowUps:           true,
	})
	if err != nil {
		return nil, err
	}
	h := &harness{t: t, name: name, m: m, sub: m.Subscribe(4096)}
	t.harnesses = append(t.harnesses, h)
	if _, err := m.AddIntegration(t.r.ctx, module, name); err != nil {
		return nil, t.relErr(err)
	}
	if state != starlark.None {
		if _, ok := state.(*starlark.Dict); !ok {
			return nil, fmt.Errorf("state must be a dict, got %s", state.Type())
		}
		data, err := encodeJSON(thread, state)
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		if err := m.ImportStates(t.r.ctx, map[string][]byte{name: data}); err != nil {
			return nil, err
		}
	}
	h.drain()
	return h, nil
}

// close stops the harness's Manager.
func (h *harness) close() {
	h.sub.Close()
	_ = h.m.Close(h.t.r.ctx) // no store: nothing to flush
}

// drain moves the lines the integration logged since the last call from
// the notice stream to h.logs and the test's logs.
func (h *harness) drain() {
	for {
		select {
		case n := <-h.sub.C:
			if n.Kind != starhost.NoticeLog || n.Integration != h.name {
				continue
			}
			line := n.Level + ": " + n.Message
			h.logs = append(h.logs, line)
			h.t.logs = append(h.t.logs, h.name+": "+line)
		default:
			if d := h.sub.Dropped(); d > 0 {
				h.logs = append(h.logs, fmt.Sprintf("error: (%d lines lost: more than 4096 at once)", d))
			}
			return
		}
	}
}

// relErr rewrites the absolute module paths in err's message relative to
// the working folder when the test file's path is relative, so that
// messages name files as the user typed them.
func (t *testRun) relErr(err error) error {
	if err == nil || filepath.IsAbs(t.file.path) {
		return err
	}
	wd, werr := os.Getwd()
	if werr != nil {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), wd+string(filepath.Separator), ""))
}

// String returns harness("NAME").
func (h *harness) String() string { return fmt.Sprintf("harness(%q)", h.name) }

// Type returns "harness".
func (h *harness) Type() string { return "harness" }

// Freeze does nothing: a harness is a handle to an instance that changes.
func (h *harness) Freeze() {}

// Truth returns True.
func (h *harness) Truth() starlark.Bool { return true }

// Hash fails: a harness is not hashable.
func (h *harness) Hash() (uint32, error) { return 0, errors.New("unhashable: harness") }

// AttrNames lists the harness's attributes.
func (h *harness) AttrNames() []string {
	return []string{"emit", "emitted", "logs", "name", "reload", "state"}
}

// Attr returns an attribute; the data ones are new values on each access.
func (h *harness) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(h.name), nil
	case "emit":
		return starlark.NewBuiltin("emit", h.emit).BindReceiver(h), nil
	case "reload":
		return starlark.NewBuiltin("reload", h.reload).BindReceiver(h), nil
	case "state":
		st, err := h.m.State(h.name)
		if err != nil {
			return nil, err
		}
		return toStarlark(st), nil
	case "logs":
		h.drain()
		list := make([]starlark.Value, len(h.logs))
		for i, l := range h.logs {
			list[i] = starlark.String(l)
		}
		return starlark.NewList(list), nil
	case "emitted":
		list := make([]starlark.Value, len(h.emitted))
		for i, e := range h.emitted {
			list[i] = toStarlark(map[string]any{"event": e.Event, "data": e.Data})
		}
		return starlark.NewList(list), nil
	}
	return nil, nil // no such attribute
}

// emit implements h.emit(event, data = {}).
func (h *harness) emit(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var event string
	var data starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "event", &event, "data?", &data); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("%s.emit(%q)", h, event)
	goData := map[string]any{}
	if data != starlark.None {
		if _, ok := data.(*starlark.Dict); !ok {
			return nil, fmt.Errorf("%s: data must be a dict, got %s", what, data.Type())
		}
		b, err := encodeJSON(thread, data)
		if err != nil {
			return nil, fmt.Errorf("%s: data: %w", what, err)
		}
		if goData, err = starhost.DecodeEventData(b); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	rs, err := h.m.Emit(h.t.r.ctx, event, goData)
	h.drain()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for _, r := range rs {
		if r.Integration != h.name || r.Depth != 0 {
			continue
		}
		if !r.OK {
			return nil, fmt.Errorf("%s: the handler failed: %w", what, h.t.relErr(r.Error))
		}
		h.emitted = append(h.emitted, r.Emitted...)
		return toStarlark(r.Value), nil
	}
	subs := "nothing"
	if in, ok := h.m.IntegrationInfo(h.name); ok && len(in.Subscriptions) > 0 {
		subs = strings.Join(in.Subscriptions, ", ")
	}
	return nil, fmt.Errorf("%s: %s does not handle %q (it handles %s)", what, h.name, event, subs)
}

// reload implements h.reload().
func (h *harness) reload(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	err := h.m.ReloadIntegration(h.t.r.ctx, h.name)
	h.drain()
	if err != nil {
		return nil, fmt.Errorf("%s.reload(): %w", h, h.t.relErr(err))
	}
	return starlark.None, nil
}

// encodeJSON encodes a Starlark value with the json module's encode.
func encodeJSON(thread *starlark.Thread, v starlark.Value) ([]byte, error) {
	out, err := starlark.Call(thread, starlarkjson.Module.Members["encode"], starlark.Tuple{v}, nil)
	if err != nil {
		return nil, err
	}
	s, _ := starlark.AsString(out)
	return []byte(s), nil
}
