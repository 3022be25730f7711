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
	// calls counts the handler calls that had ended, over every
	// integration: two reads with the same count and no notice between
	// them show the same thing (see readPolicy).
	calls uint64
}

// readHost reads the host once, for the row selected now. It runs off
// the UI goroutine.
func (s *Studio) readHost() hostView {
	key, _ := s.current.Load().(string)
	v := s.m.Snapshot()
	rows := rowsFor(v)
	s.shadowNotes(rows)
	h := hostView{rows: rows, details: s.detailsFor(v, rows, key)}
	for i := range v.Integrations {
		h.calls += v.Integrations[i].Calls
	}
	return h
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
			d.state, d.stateErr = readState(s.m, key)
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
	s.status.setCounts(countRows(h.rows))
	switch {
	case s.selected == "" && len(h.rows) > 0:
		s.selectRow(h.rows[0].key)
	case !hasRow(h.rows, s.selected) && rowOfModule(h.rows, s.selected) != "":
		// A module that never loaded loads now: follow it to its first
		// integration.
		s.selectRow(rowOfModule(h.rows, s.selected))
	case h.details.key == s.selected:
		s.details.show(h.details)
		s.trace.detailsShown(h.details.key)
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
	s.kickShadow()
}

const (
	// noticeBatch is how often notices are moved to the UI, at most.
	noticeBatch = 50 * time.Millisecond
	// stormBatch is how often notices are moved to the UI while a storm
	// lasts (a delivery had stormRows rows or more, or dropped some): each
	// delivery draws new text, and Fyne keeps a texture for every text it
	// draws for a minute, so drawing 20 different screens a second grows
	// the window's memory by hundreds of megabytes a minute.
	stormBatch = 500 * time.Millisecond
	// stormRows is how many rows in one delivery make a storm.
	stormRows = 100
	// refreshEvery is how often the host is read while it may be
	// changing, so that the selected integration's calls, latency and
	// state stay live (see readPolicy).
	refreshEvery = 500 * time.Millisecond
)

// readPolicy decides when follow reads the host: every refreshEvery
// while the host may have changed since the last read, and not at all
// while it is idle, so that an idle studio neither reads the host nor
// redraws. The host may have changed when a notice came since the last
// read, or when that read saw more handler calls than the one before:
// the host announces an event before its handlers run, so the read after
// the last notice may miss the last calls, and one more read that sees
// nothing new ends the refreshing.
type readPolicy struct {
	last    time.Time // the last read
	calls   uint64    // handler calls ended, as the last read saw them
	noticed bool      // a notice came (or was dropped) since the last read
	stale   bool      // the host may have changed since the last read
}

// notice records a notice (or a dropped one).
func (r *readPolicy) notice() { r.noticed, r.stale = true, true }

// due reports whether a read is due now.
func (r *readPolicy) due(now time.Time) bool { return r.stale && now.Sub(r.last) >= refreshEvery }

// read records a read made at now that saw calls; changed reports whether
// it may show something the last one did not.
func (r *readPolicy) read(now time.Time, calls uint64) (changed bool) {
	changed = r.noticed || calls != r.calls
	r.last, r.calls, r.noticed, r.stale = now, calls, false, changed
	return changed
}

// pending is what follow has gathered for the UI since its last
// delivery: at most streamMax events and logMax other notices, each
// already formatted as the row that shows it (oldest dropped first), with
// counts of what was dropped, and the last notice that changed what is
// live. It is bounded whatever the rate of notices, so that a storm of
// events costs the studio a fixed amount of memory and UI work, and the
// formatting is done here, off the UI goroutine.
type pending struct {
	events        []streamRow
	eventsDropped int // events dropped here or by the host's subscription buffer
	lines         []logLine
	linesDropped  int
	change        *starhost.Notice // the last load, reload, add, remove or failed reload, for the status bar
	changed       bool             // a notice changed what is live
}

// addEvent keeps n as a stream row, dropping the oldest beyond streamMax.
func (p *pending) addEvent(n starhost.Notice) {
	p.events = append(p.events, streamRowOf(n))
	if len(p.events) >= 2*streamMax { // drop in bulk: amortised O(1)
		k := len(p.events) - streamMax
		p.eventsDropped += k
		p.events = append(p.events[:0:0], p.events[k:]...)
	}
}

// addNotice keeps a notice that is not an event as a log line, dropping
// the oldest beyond logMax.
func (p *pending) addNotice(n starhost.Notice) {
	switch n.Kind {
	case starhost.NoticeLoaded, starhost.NoticeReloaded, starhost.NoticeAdded, starhost.NoticeRemoved, starhost.NoticeReloadFailed,
		starhost.NoticeSwitched:
		p.change = &n
		p.changed = true
	case starhost.NoticeHandlerFailed, starhost.NoticeStateReset:
		p.changed = true
	}
	p.lines = append(p.lines, noticeLine(n))
	if len(p.lines) >= 2*logMax {
		k := len(p.lines) - logMax
		p.linesDropped += k
		p.lines = append(p.lines[:0:0], p.lines[k:]...)
	}
}

// trim drops what the views would evict anyway.
func (p *pending) trim() {
	if k := len(p.events) - streamMax; k > 0 {
		p.eventsDropped += k
		p.events = p.events[k:]
	}
	if k := len(p.lines) - logMax; k > 0 {
		p.linesDropped += k
		p.lines = p.lines[k:]
	}
}

func (p *pending) empty() bool {
	return len(p.events) == 0 && len(p.lines) == 0 && p.eventsDropped == 0 && p.linesDropped == 0
}

// follow moves host notices to the UI in batches: at most one fyne.Do
// every noticeBatch (stormBatch during a storm), and never a second while
// one is still queued or running, so that the UI goroutine is never
// handed more than it can draw. Meanwhile notices gather in a bounded
// pending batch (what does not fit is counted and shown as not shown).
// The host is read off the UI goroutine when a notice changed what is
// live, or every refreshEvery while it may be changing (readPolicy; never
// per batch: a read takes the selected integration's state, which
// competes with its handlers). An idle host costs follow a timer tick
// and nothing else. After a storm it gives back the memory the storm took
// (afterStorm).
func (s *Studio) follow(sub *starhost.Subscription) {
	defer sub.Close()
	var p pending
	tick := time.NewTicker(noticeBatch)
	defer tick.Stop()
	reads := readPolicy{stale: true}
	after := afterStorm{lifetime: s.opts.TextureLifetime}
	if after.lifetime <= 0 {
		after.lifetime = defaultTextureLifetime
	}
	heard := false // a notice came since the last tick
	var lastDropped uint64
	var next time.Time             // no delivery before (stormBatch after one in a storm)
	idle := make(chan struct{}, 1) // a token: the UI is done with the last delivery
	idle <- struct{}{}
	for {
		select {
		case <-s.ctx.Done():
			return
		case n := <-sub.C:
			reads.notice()
			heard = true
			s.gather(&p, n)
		case now := <-tick.C:
			if d := sub.Dropped(); d != lastDropped {
				p.eventsDropped += int(d - lastDropped)
				if r := s.rec.Load(); r != nil {
					r.missed.Add(int64(d - lastDropped))
				}
				lastDropped = d
				reads.notice()
				heard = true
			}
			if heard {
				after.notice(now)
				heard = false
			}
			s.afterStormStep(after.step(now))
			due := reads.due(now)
			if p.empty() && !due || now.Before(next) {
				continue
			}
			select {
			case <-idle:
			default:
				continue // the UI has not drawn the last batch yet: keep gathering
			}
			read := due || p.changed
			var h hostView
			if read {
				h = s.readHost() // host calls stay off the UI goroutine
				if !reads.read(now, h.calls) && !p.changed {
					read = false // the same as the last read: nothing to show
				}
			}
			if p.empty() && !read {
				idle <- struct{}{}
				continue
			}
			p.trim()
			next = time.Time{}
			if len(p.events)+len(p.lines) >= stormRows || p.eventsDropped+p.linesDropped > 0 {
				next = now.Add(stormBatch - noticeBatch/2)
				after.storm()
			}
			b := p
			p = pending{}
			s.do(func() {
				defer func() { idle <- struct{}{} }()
				s.applyNotices(b, h, read)
			})
		}
	}
}

// gather keeps notice n for the UI's next batch; one that may change the
// shadow report shown has it read at once.
func (s *Studio) gather(p *pending, n starhost.Notice) {
	if n.Kind == starhost.NoticeEvent {
		if r := s.rec.Load(); r != nil {
			r.record(n) // every event, before the batch may drop it
		}
		p.addEvent(n)
		return
	}
	p.addNotice(n)
	if n.Kind == starhost.NoticeShadow {
		s.shadowed.add(n.Integration)
	}
	if shadowNotice(n.Kind) {
		s.kickShadow()
	}
}

// shadowNotice reports whether a notice of kind may change a shadow
// report: the mode on or off, a shadow started, a promote (a reload).
func shadowNotice(kind starhost.NoticeKind) bool {
	switch kind {
	case starhost.NoticeShadow, starhost.NoticeReloaded, starhost.NoticeReloadFailed, starhost.NoticeRemoved:
		return true
	}
	return false
}

// applyNotices shows a batch (UI goroutine): events in the stream, the
// rest in the log, each view updated once. h, read after the batch, is
// shown when show is set (a notice changed what is live, or a refresh
// was due).
func (s *Studio) applyNotices(b pending, h hostView, show bool) {
	if len(b.events) > 0 || b.eventsDropped > 0 {
		s.stream.addRows(b.events, b.eventsDropped)
		s.showRecording()
	}
	if b.change != nil {
		s.status.lastChange(*b.change)
	}
	if len(b.lines) > 0 || b.linesDropped > 0 {
		s.logs.addLines(b.lines, b.linesDropped)
	}
	if show {
		s.show(h)
	}
}
