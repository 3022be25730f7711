package studio

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// stateTree shows an integration's state as a collapsible tree. Node IDs
// are paths ("missions/m1/latencies"), so open branches stay open when
// the state refreshes.
type stateTree struct {
	tree     *widget.Tree
	children map[string][]string
	labels   map[string]string
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

// set shows a new state value.
func (st *stateTree) set(state map[string]any) {
	st.children = map[string][]string{}
	st.labels = map[string]string{}
	st.add(stateRoot, "state", state)
	st.tree.Refresh()
}

func (st *stateTree) add(id, key string, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kids := make([]string, 0, len(keys))
		for _, k := range keys {
			child := id + "/" + strings.ReplaceAll(k, "/", "∕")
			kids = append(kids, child)
			st.add(child, k, v[k])
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
	default:
		b, _ := json.Marshal(v)
		st.labels[id] = key + ": " + string(b)
	}
}

// labelOf returns a node's text (for tests).
func (st *stateTree) labelOf(id string) string { return st.labels[id] }
