package studio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// The state tree shows an integration's state in the one JSON form that
// the host stores, the API returns and an export holds
// (Manager.StateJSON): a dict's keys in the order the integration put
// them, a float as written ("2.0"), an int with all its digits. The form
// is decoded with its order kept (stateMember lists, json.Number), never
// into a Go map.

// stateData is one read of an integration's state.
type stateData struct {
	raw  []byte        // the JSON form, as StateJSON returned it
	root []stateMember // its top-level keys, in order
}

// stateMember is one key of a JSON object, in the object's order.
type stateMember struct {
	key   string
	value any // []stateMember, []any, json.Number, string, bool or nil
}

// readState reads the named integration's state in its JSON form (off the
// UI goroutine).
func readState(m Host, name string) (*stateData, error) {
	raw, err := m.StateJSON(name)
	if err != nil {
		return nil, err
	}
	root, err := decodeStateJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("state of %s: %w", name, err)
	}
	return &stateData{raw: raw, root: root}, nil
}

// decodeStateJSON decodes a state (a JSON object) keeping its key order
// and its numbers as written.
func decodeStateJSON(data []byte) ([]stateMember, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeJSONValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value")
	}
	obj, ok := v.([]stateMember)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

// decodeJSONValue reads the next value from dec: an object as a
// []stateMember in its order, an array as []any.
func decodeJSONValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := []stateMember{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeJSONValue(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, stateMember{key: k.(string), value: v})
		}
		_, err := dec.Token() // '}'
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := decodeJSONValue(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token() // ']'
		return arr, err
	}
	return tok, nil // json.Number, string, bool or nil
}

// stateTree shows an integration's state as a collapsible tree. Node IDs
// are paths ("missions/m1/latencies"), so open branches stay open when
// the state refreshes.
type stateTree struct {
	tree     *widget.Tree
	children map[string][]string
	labels   map[string]string
	raw      []byte // the JSON form shown, to skip a refresh that changes nothing
	shown    bool   // something was set (raw may be empty)
}

const stateRoot = ""

func newStateTree() *stateTree {
	st := &stateTree{children: map[string][]string{}, labels: map[string]string{}}
	st.tree = widget.NewTree(
		func(id widget.TreeNodeID) []widget.TreeNodeID { return st.children[id] },
		func(id widget.TreeNodeID) bool { _, ok := st.children[id]; return ok },
		func(bool) fyne.CanvasObject {
			l := widget.NewLabel("key: value")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TreeNodeID, _ bool, o fyne.CanvasObject) { o.(*widget.Label).SetText(st.labels[id]) },
	)
	return st
}

// set shows a state; nil shows an empty one. The same JSON form again
// changes nothing.
func (st *stateTree) set(s *stateData) {
	if s == nil {
		s = &stateData{}
	}
	if st.shown && bytes.Equal(s.raw, st.raw) {
		return
	}
	st.raw, st.shown = s.raw, true
	st.children = map[string][]string{}
	st.labels = map[string]string{}
	st.add(stateRoot, "state", s.root)
	st.tree.Refresh()
}

func (st *stateTree) add(id, key string, v any) {
	switch v := v.(type) {
	case []stateMember:
		kids := make([]string, len(v))
		for i, m := range v {
			kids[i] = id + "/" + strings.ReplaceAll(m.key, "/", "∕")
			st.add(kids[i], m.key, m.value)
		}
		st.children[id] = kids
		st.labels[id] = fmt.Sprintf("%s: {%d}", key, len(v))
	case []any:
		kids := make([]string, len(v))
		for i, e := range v {
			kids[i] = fmt.Sprintf("%s/%d", id, i)
			st.add(kids[i], fmt.Sprintf("[%d]", i), e)
		}
		st.children[id] = kids
		st.labels[id] = fmt.Sprintf("%s: [%d]", key, len(v))
	case json.Number:
		st.labels[id] = key + ": " + v.String() // as written: "2.0", every digit of a big int
	default:
		st.labels[id] = key + ": " + oneLineJSON(v)
	}
}

// labelOf returns a node's text (for tests).
func (st *stateTree) labelOf(id string) string { return st.labels[id] }

// childrenOf returns a node's children's IDs, in order (for tests).
func (st *stateTree) childrenOf(id string) []string { return st.children[id] }
