package starhost

import "fmt"

// report is stage 5: after the swap, outside the slot locks, it tells
// subscribers what the change did: one notice per change (loaded, added,
// reloaded, removed, reload_failed), a reload_failed for each name or
// module an item failed on before it made a change, and, once per module
// that went live, the lines its top level printed.
func (m *Manager) report(cs *changeSet) {
	made := make([]bool, len(cs.items))
	for _, c := range cs.changes {
		made[c.item] = true
		m.reportChange(cs, c)
	}
	logged := map[string]bool{}
	for i, it := range cs.items {
		err := cs.itemErr[i]
		switch {
		case err != nil && !made[i] && len(cs.names[i]) == 0:
			m.publishFailure("", it.module, err)
		case err != nil && !made[i]:
			for _, n := range cs.names[i] {
				m.publishFailure(n, it.module, err)
			}
		}
		if b := cs.builds[it.module]; err == nil && b.bm != nil && !logged[it.module] {
			logged[it.module] = true
			for _, line := range b.bm.logs {
				m.notices.Publish(Notice{Kind: NoticeLog, Module: it.module, Level: "info", Message: line})
			}
		}
	}
}

// reportChange announces the outcome of one change.
func (m *Manager) reportChange(cs *changeSet, c *change) {
	name, module := c.slot.name, cs.items[c.item].module
	switch {
	case c.remove && c.movedTo != nil && cs.live(c.movedTo):
		// The reload that took the slot over announces it.
	case cs.failed(c.item):
		m.publishFailure(name, module, cs.errFor(c))
	case c.remove:
		v := c.slot.current.Load()
		m.log.Info("removed integration", "name", name, "module", v.module)
		m.notices.Publish(Notice{Kind: NoticeRemoved, Integration: name, Module: v.module, Generation: v.generation, Message: c.why})
	case c.shadow:
		serving := c.slot.current.Load().generation
		m.log.Info("shadow started", "name", name, "generation", c.v.generation, "serving", serving, "module", c.v.module)
		m.notices.Publish(Notice{Kind: NoticeShadow, Integration: name, Module: c.v.module, Generation: c.v.generation, Duration: Duration(cs.took),
			Message: fmt.Sprintf("shadow started: generation %d runs beside generation %d on a copy of its state; promote it to serve", c.v.generation, serving)})
	default:
		m.log.Info(string(c.noticed)+" integration", "name", name, "generation", c.v.generation, "module", c.v.module, "took", cs.took)
		n := Notice{Kind: c.noticed, Integration: name, Module: c.v.module, Generation: c.v.generation, Duration: Duration(cs.took)}
		if cs.items[c.item].promote != nil {
			n.Message = "promoted: the shadow serves"
		}
		m.notices.Publish(n)
	}
}

// publishFailure logs and announces a failed change of an integration (or
// of a module, when name is "").
func (m *Manager) publishFailure(name, module string, err error) {
	d := Diagnose(err, module)[0]
	m.log.Warn("reload failed", "name", name, "module", module, "error", d.Error())
	m.notices.Publish(Notice{Kind: NoticeReloadFailed, Integration: name, Module: module, Error: d, Message: d.Msg})
}
