package studio

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// Following the host. Every read of the host is one Manager.Snapshot,
// made off the UI goroutine, from which both the list's rows and the
// selected row's details are built; the UI shows them together in one
// fyne.Do, so that the list and the details never disagree about what
// is live and what failed.

// hostView is one read of the host: the list's rows and what the detail
// pane shows for the row that was selected when it was read.
type hostView struct {
	rows    []integrationRow
	details detailSnapshot
}

// readHost reads the host once, for the row selected now. It runs off
// the UI goroutine.
func (s *Studio) readHost() hostView {
	key, _ := s.current.Load().(string)
	v := s.m.Snapshot()
	rows := rowsFor(v)
	return hostView{rows: rows, details: s.detailsFor(v, rows, key)}
}

// detailsFor builds what the detail pane shows for the row with key, from
// the same read as rows. An integration's state is read with it; state
// is not part of a snapshot.
func (s *Studio) detailsFor(v starhost.View, rows []integrationRow, key string) detailSnapshot {
	d := detailSnapshot{key: key}
	for _, r := range rows {
		if r.key == key {
			d.title = r.label
		}
	}
	for i := range v.Integrations {
		if in := &v.Integrations[i]; in.Name == key {
			d.info = in
			// State is read after the snapshot: an integration removed in
			// between reads as ErrNotFound. The view is then stale, not
			// wrong: show no state, and the next refresh drops the row.
			d.state, d.stateErr = s.m.State(key)
			if errors.Is(d.stateErr, starhost.ErrNotFound) {
				d.state, d.stateErr = nil, nil
			}
			if in.LastError != nil {
				d.errLine = sourceLine(in.LastError.File, in.LastError.Line)
			}
			return d
		}
	}
	for i := range v.FailedModules {
		if fm := &v.FailedModules[i]; fm.Module == key {
			d.failed = fm
			if len(fm.Errors) > 0 {
				d.errLine = sourceLine(fm.Errors[0].File, fm.Errors[0].Line)
			}
			return d
		}
	}
	return d
}

// rowNow reads the row with key from the host, for an action on it; it
// runs off the UI goroutine. The list may not show the row yet (or any
// more), so actions ask the host rather than the list.
func (s *Studio) rowNow(key string) (integrationRow, error) {
	for _, r := range rowsFor(s.m.Snapshot()) {
		if r.key == key {
			return r, nil
		}
	}
	return integrationRow{}, fmt.Errorf("%s is not loaded: no integration of that name, and no module of that path", key)
}

// refresh reads the host off the UI goroutine and shows what it read.
func (s *Studio) refresh() {
	s.wg.Go(func() {
		h := s.readHost()
		s.do(func() { s.show(h) })
	})
}

// show shows one read of the host (UI goroutine): the rows, the counts
// in the status bar, and the details when the read was made for the row
// selected now (otherwise it reads again for that row). With nothing
// selected, it selects the first row.
func (s *Studio) show(h hostView) {
	s.list.setRows(h.rows)
	live := 0
	for _, r := range h.rows {
		if r.status == statusLive {
			live++
		}
	}
	s.status.setCounts(live, len(h.rows)-live)
	switch {
	case s.selected == "" && len(h.rows) > 0:
		s.selectRow(h.rows[0].key)
	case !hasRow(h.rows, s.selected) && rowOfModule(h.rows, s.selected) != "":
		// A module that never loaded loads now: follow it to its first
		// integration.
		s.selectRow(rowOfModule(h.rows, s.selected))
	case h.details.key == s.selected:
		s.details.show(h.details)
	default:
		s.refresh() // the selection changed since the read
	}
}

// hasRow reports whether a row has key.
func hasRow(rows []integrationRow, key string) bool {
	return slices.ContainsFunc(rows, func(r integrationRow) bool { return r.key == key })
}

// rowOfModule returns the key of the first row of module, or "".
func rowOfModule(rows []integrationRow, module string) string {
	for _, r := range rows {
		if r.module == module {
			return r.key
		}
	}
	return ""
}

// selectRow selects the row with key (an integration's name or the path
// of a module that never loaded) and shows its details (UI goroutine).
func (s *Studio) selectRow(key string) {
	s.selected = key
	s.current.Store(key)
	s.list.selectKey(key)
	s.bar.setSelection(key != "")
	s.refresh()
}

const (
	// noticeBatch is how often notices are moved to the UI, at most.
	noticeBatch = 50 * time.Millisecond
	// refreshEvery is how often the host is read when nothing changes, so
	// that the selected integration's calls, latency and state stay live.
	refreshEvery = 500 * time.Millisecond
)

// follow moves host notices to the UI in batches (at most one fyne.Do
// every noticeBatch, so that a storm of events cannot flood the UI
// goroutine), each with a read of the host made after it, and shows a
// read of the host every refreshEvery whatever the notices.
func (s *Studio) follow(sub *starhost.Subscription) {
	defer sub.Close()
	var batch []starhost.Notice
	tick := time.NewTicker(noticeBatch)
	defer tick.Stop()
	lastRefresh := time.Now()
	for {
		select {
		case <-s.ctx.Done():
			return
		case n := <-sub.C:
			batch = append(batch, n)
		case now := <-tick.C:
			due := now.Sub(lastRefresh) >= refreshEvery
			if len(batch) == 0 && !due {
				continue
			}
			if due {
				lastRefresh = now
			}
			b := batch
			batch = nil
			h := s.readHost() // host calls stay off the UI goroutine
			s.do(func() { s.applyNotices(b, h, due) })
		}
	}
}

// applyNotices shows a batch of notices (UI goroutine): events in the
// stream, the rest in the log. h, read after the batch, is shown when a
// notice changed what is live, or when a refresh is due.
func (s *Studio) applyNotices(batch []starhost.Notice, h hostView, due bool) {
	changed := due
	for _, n := range batch {
		switch n.Kind {
		case starhost.NoticeEvent:
			s.stream.add(n)
			continue
		case starhost.NoticeLoaded, starhost.NoticeReloaded, starhost.NoticeAdded, starhost.NoticeRemoved, starhost.NoticeReloadFailed:
			changed = true
			s.status.lastChange(n)
		case starhost.NoticeHandlerFailed, starhost.NoticeStateReset:
			changed = true
		}
		s.logs.add(n)
	}
	if changed {
		s.show(h)
	}
}
