package studio

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// Reading the selected integration's shadow report, and the shadow
// actions. The report is read off the UI goroutine: at once when
// something may have changed it (another row selected, the Details tab
// shown, a shadow or reload notice, an action of the panel), and every
// shadowEvery while the shown integration's shadow mode is on and the
// Details tab shows. An integration without shadow mode costs no reads
// once its report is shown, and a report that did not change is not
// drawn again (shadowView.show).

// shadowEvery is how often the report of a shadow on screen is read.
const shadowEvery = 500 * time.Millisecond

// kickShadow asks followShadow to read the report now; it never waits.
func (s *Studio) kickShadow() {
	select {
	case s.shadowKick <- struct{}{}:
	default: // a read is already asked for
	}
}

// followShadow reads the selected integration's shadow report and shows
// it, until the studio stops (see above).
func (s *Studio) followShadow() {
	tick := time.NewTicker(shadowEvery)
	defer tick.Stop()
	polling := false // the last report read had the mode on
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.shadowKick:
		case <-tick.C:
			if !polling {
				continue
			}
		}
		key, _ := s.current.Load().(string)
		if key == "" || !s.detailsShown.Load() {
			polling = false
			continue
		}
		rep, err := s.m.ShadowReport(key)
		if err != nil {
			// Not an integration (a module that never loaded), or gone:
			// the details show neither's shadow.
			polling = false
			continue
		}
		polling = rep.On
		s.do(func() {
			if s.selected == key {
				s.details.shadow.show(key, rep)
			}
		})
	}
}

// toggleShadow turns the integration's shadow mode on or off (the
// switch). Off with a shadow running is a Discard, which asks first; the
// switch then shows what the host says.
func (s *Studio) toggleShadow(name string, on bool) {
	if !on && s.details.shadow.name == name && s.details.shadow.report.Active {
		s.askDiscardShadow(name)
		return
	}
	s.wg.Go(func() {
		var err error
		if on {
			err = s.m.StartShadow(name)
		} else {
			err = s.m.DiscardShadow(name)
		}
		s.do(func() {
			switch {
			case err != nil:
				s.report(fmt.Sprintf("Cannot turn the shadow mode of %s %s", name, onOff(on)), err)
			case on:
				s.status.message(fmt.Sprintf("Shadow mode of %s on: its next save makes a shadow", name))
			default:
				s.status.message(fmt.Sprintf("Shadow mode of %s off", name))
			}
		})
		s.kickShadow()
	})
}

// askDiscardShadow drops the integration's shadow and turns its shadow
// mode off, after confirmation when a shadow runs.
func (s *Studio) askDiscardShadow(name string) {
	rep := s.details.shadow.report
	if !rep.Active {
		s.discardShadow(name)
		return
	}
	msg := fmt.Sprintf("Discard the shadow of %s (g%d)? Its comparison so far is lost and shadow mode goes off. "+
		"Generation %d keeps serving; the saved file serves after its next save or reload.", name, rep.ShadowGeneration, rep.ServingGeneration)
	// The switch shows the host's position (on) until the user decides.
	s.details.shadow.toggle.set(true)
	s.confirm("Discard shadow", msg, func() { s.discardShadow(name) })
}

// discardShadow drops the integration's shadow and turns its mode off.
func (s *Studio) discardShadow(name string) {
	s.wg.Go(func() {
		err := s.m.DiscardShadow(name)
		s.do(func() {
			if err != nil {
				s.report(fmt.Sprintf("Cannot discard the shadow of %s", name), err)
				return
			}
			s.status.message(fmt.Sprintf("Discarded the shadow of %s; shadow mode off", name))
		})
		s.kickShadow()
	})
}

// promoteShadow swaps the integration's shadow in as its serving
// version; shadow mode stays on.
func (s *Studio) promoteShadow(name string) {
	gen := s.details.shadow.report.ShadowGeneration
	s.status.busy(fmt.Sprintf("Promoting the shadow of %s…", name))
	s.wg.Go(func() {
		err := s.m.PromoteShadow(s.ctx, name)
		h := s.readHost()
		s.do(func() {
			s.status.done()
			switch {
			case errors.Is(err, starhost.ErrNoShadow):
				s.report(fmt.Sprintf("No shadow of %s to promote", name), err)
			case err != nil:
				s.report(fmt.Sprintf("Promote of %s failed; the serving version and the shadow stay", name), err)
			default:
				s.status.message(fmt.Sprintf("Promoted g%d of %s: it serves now; shadow mode stays on", gen, name))
			}
			s.show(h)
		})
		s.kickShadow()
	})
}

// shadowSet is the names of the integrations whose shadow mode may be
// on: those a shadow notice named, until a report says the mode is off.
// It is safe for concurrent use.
type shadowSet struct {
	mu    sync.Mutex
	names map[string]bool
}

// add notes that name's shadow mode may be on.
func (s *shadowSet) add(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names == nil {
		s.names = map[string]bool{}
	}
	s.names[name] = true
}

// remove notes that name's shadow mode is off.
func (s *shadowSet) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.names, name)
}

// list returns the names.
func (s *shadowSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.names))
	for n := range s.names {
		out = append(out, n)
	}
	return out
}

// shadowNotes sets the shadow note of the rows of the integrations whose
// shadow mode is on, from their reports (off the UI goroutine, with the
// read of the host the rows come from): "shadow: N diff" while a shadow
// runs, "shadow on" while the mode waits for a save. Only the few
// integrations a shadow notice named are asked.
func (s *Studio) shadowNotes(rows []integrationRow) {
	for _, name := range s.shadowed.list() {
		rep, err := s.m.ShadowReport(name)
		if err != nil || !rep.On {
			s.shadowed.remove(name)
			continue
		}
		note := "shadow on"
		if rep.Active {
			note = fmt.Sprintf("shadow: %d diff", rep.Different)
		}
		for i := range rows {
			if rows[i].key == name {
				rows[i].shadow = note
			}
		}
	}
}
