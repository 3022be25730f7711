package studio

import "strings"

// sequenced rows carry the number of their arrival, so that a buffer can
// tell which shown rows have been evicted.
type sequenced interface{ sequence() uint64 }

// rowBuffer keeps the newest rows of a view that grows forever (the log,
// the event stream), bounded to limit, and the subset its filter shows,
// both oldest first. Views embed it; it runs on the UI goroutine.
type rowBuffer[T sequenced] struct {
	all   []T // the last limit rows
	shown []T // the ones the filter lets through
}

// push adds a row, shown or not, and evicts the oldest beyond limit.
func (b *rowBuffer[T]) push(r T, show bool, limit int) {
	b.all = append(b.all, r)
	if len(b.all) > limit {
		b.all = b.all[len(b.all)-limit:]
	}
	if show {
		b.shown = append(b.shown, r)
	}
	for len(b.shown) > 0 && b.shown[0].sequence() < b.all[0].sequence() {
		b.shown = b.shown[1:] // evicted from all
	}
}

// refilter recomputes the shown rows.
func (b *rowBuffer[T]) refilter(show func(T) bool) {
	b.shown = nil
	for _, r := range b.all {
		if show(r) {
			b.shown = append(b.shown, r)
		}
	}
}

// reset forgets every row.
func (b *rowBuffer[T]) reset() { b.all, b.shown = nil, nil }

// normFilter is how both views compare filter text: trimmed, lower case.
func normFilter(f string) string { return strings.ToLower(strings.TrimSpace(f)) }
