package starhost

// report is stage 5: after the swap, outside the slot locks, it records
// each integration's outcome on its slot and tells subscribers: one notice
// per change (loaded, added, reloaded, removed, reload_failed), one
// reload_failed for a module that failed before declaring anything, and
// the lines its top level printed for a module that built.
func (m *Manager) report(cs *changeSet) {
	for _, c := range cs.changes {
		m.reportChange(cs, c)
	}
	for i, it := range cs.items {
		err := cs.itemErr[i]
		if err != nil && len(cs.names[i]) == 0 {
			m.publishFailure("", it.module, err)
		}
		if b := cs.builds[it.module]; err == nil && b.bm != nil {
			for _, line := range b.bm.logs {
				m.notices.publish(Notice{Kind: NoticeLog, Module: it.module, Level: "info", Message: line})
			}
		}
	}
}

// reportChange records and announces the outcome of one change.
func (m *Manager) reportChange(cs *changeSet, c *change) {
	name, module := c.slot.name, cs.items[c.item].module
	if err := cs.errByName[name]; err != nil {
		if !c.isNew {
			c.slot.setError(err)
		}
		m.publishFailure(name, module, err)
		return
	}
	if c.remove {
		v := c.slot.current.Load()
		m.log.Info("removed integration", "name", name, "module", v.module)
		m.notices.publish(Notice{Kind: NoticeRemoved, Integration: name, Module: v.module, Generation: v.generation, Message: c.why})
		return
	}
	c.slot.mu.Lock()
	c.slot.lastErr = nil
	c.slot.lastReload = cs.took
	c.slot.mu.Unlock()
	m.log.Info(string(c.noticed)+" integration", "name", name, "generation", c.v.generation, "module", c.v.module, "took", cs.took)
	m.notices.publish(Notice{Kind: c.noticed, Integration: name, Module: c.v.module, Generation: c.v.generation, Duration: Duration(cs.took)})
}

// publishFailure logs and announces a failed change of an integration (or
// of a module, when name is "").
func (m *Manager) publishFailure(name, module string, err error) {
	d := Diagnose(err, module)[0]
	m.log.Warn("reload failed", "name", name, "module", module, "error", d.Error())
	m.notices.publish(Notice{Kind: NoticeReloadFailed, Integration: name, Module: module, Error: d, Message: d.Msg})
}
