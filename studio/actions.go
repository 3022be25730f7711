package studio

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/afstudio/afstudio/starhost"
)

// The user's actions. Each runs host work on its own goroutine and comes
// back to the UI through fyne.Do.

// reload reloads the row with key (Ctrl+R): an integration, or a module
// that never loaded, which is tried again.
func (s *Studio) reload(key string) {
	if key == "" {
		return
	}
	label := s.list.label(key)
	s.status.busy(fmt.Sprintf("Reloading %s…", label))
	s.wg.Go(func() {
		start := time.Now()
		row, err := s.rowNow(key)
		switch {
		case err != nil:
		case row.status == statusLoadFailed:
			s.m.ReloadFiles(s.ctx, []string{row.module}) // the read below says whether it loads now
		default:
			err = s.m.ReloadIntegration(s.ctx, key)
		}
		took := time.Since(start)
		h := s.readHost()
		s.do(func() {
			s.status.done()
			switch {
			case row.key == "":
				s.status.message(err.Error())
			case row.status == statusLoadFailed && hasRow(h.rows, key):
				s.status.message(fmt.Sprintf("%s still does not load", label))
			case err != nil:
				s.status.message(fmt.Sprintf("Reload of %s failed; the previous version keeps serving", label))
			default:
				s.status.message(fmt.Sprintf("Reloaded %s in %s", label, formatDuration(took)))
			}
			s.show(h)
		})
	})
}

// reloadAll reloads every integration (Ctrl+Shift+R), showing progress.
func (s *Studio) reloadAll() {
	s.status.busy("Reloading all integrations…")
	s.bar.setBusy(true)
	s.wg.Go(func() {
		start := time.Now()
		res := s.m.ReloadAllIntegrations(s.ctx)
		took := time.Since(start)
		failed := 0
		for _, err := range res {
			if err != nil {
				failed++
			}
		}
		h := s.readHost()
		s.do(func() {
			s.status.done()
			s.bar.setBusy(false)
			s.status.message(fmt.Sprintf("Reloaded %d integrations in %s, %d failed", len(res)-failed, formatDuration(took), failed))
			s.show(h)
		})
	})
}

// askRemove removes the row with key after confirmation (Delete): an
// integration, or a module that never loaded. The file stays; the studio
// forgets it (no longer loads it at start) once nothing of it is live.
func (s *Studio) askRemove(key string) {
	if key == "" {
		return
	}
	s.confirm("Remove integration", fmt.Sprintf("Remove %s? It stops receiving events. Its file is not deleted.", s.list.label(key)), func() {
		s.wg.Go(func() {
			row, err := s.rowNow(key)
			switch {
			case err != nil:
			case row.status == statusLoadFailed:
				_, err = s.m.RemoveModule(s.ctx, row.module)
			default:
				err = s.m.RemoveIntegration(s.ctx, key)
			}
			h := s.readHost()
			s.do(func() {
				if err != nil {
					s.report("Remove failed", err)
				}
				if row.module != "" && rowOfModule(h.rows, row.module) == "" {
					forgetFile(s.app.Preferences(), row.module)
				}
				if s.selected == key {
					s.selected = ""
					s.current.Store("")
				}
				s.show(h)
			})
		})
	})
}

// resetState empties an integration's state after confirmation.
func (s *Studio) resetState(name string) {
	s.confirm("Reset state", fmt.Sprintf("Reset the state of %s to {}? This cannot be undone.", name), func() {
		s.wg.Go(func() {
			err := s.m.ResetState(name)
			h := s.readHost()
			s.do(func() {
				if err != nil {
					s.report("Reset failed", err)
				}
				s.show(h)
			})
		})
	})
}

// switchIntegration switches an integration on or off (the switch of its
// row). The row then shows what the host says, so a switch that failed
// flips back; the error is shown.
func (s *Studio) switchIntegration(name string, on bool) {
	label := s.list.label(name)
	s.wg.Go(func() {
		var err error
		if on {
			err = s.m.EnableIntegration(name)
		} else {
			err = s.m.DisableIntegration(name)
		}
		h := s.readHost()
		s.do(func() {
			switch {
			case err != nil:
				s.report(fmt.Sprintf("Cannot switch %s %s", label, onOff(on)), err)
			case on:
				s.status.message(fmt.Sprintf("Switched %s on", label))
			default:
				s.status.message(fmt.Sprintf("Switched %s off: it gets no events until it is switched on", label))
			}
			s.list.redraw() // the switch shows the host's position, even when the rows did not change
			s.show(h)
		})
	})
}

// onOff names a switch position.
func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// openError opens the file of an error at its line in the editor.
func (s *Studio) openError(d *starhost.Diagnostic) {
	if d == nil || strings.HasPrefix(d.File, starhost.BuiltinPrefix) {
		s.notify("Built-in integration", "Built-in integrations are embedded in afstudio. To change one, copy it into your integration folder: a file there with the same integration name overrides it.")
		return
	}
	if err := s.opts.OpenEditor(d.File, d.Line); err != nil {
		s.report("Cannot open the editor", err)
	}
}

// newIntegration creates a file from the template in the user's folder and
// opens it in the editor; the watcher picks it up.
func (s *Studio) newIntegration() {
	if len(s.opts.Dirs) == 0 {
		s.notify("No integration folder", "Start afstudio with --dir FOLDER to create integrations.")
		return
	}
	dir := s.opts.Dirs[0]
	s.wg.Go(func() {
		path, name, err := createFromTemplate(dir)
		if err == nil {
			s.m.ReloadFiles(s.ctx, []string{path})
			err = s.opts.OpenEditor(path, templateHandlerLine)
		}
		h := s.readHost()
		s.do(func() {
			if err != nil {
				s.report("New integration", err)
			}
			s.show(h)
			if name != "" {
				s.selectRow(name)
				s.status.message("Created " + path)
			}
		})
	})
}

// toggleWatching pauses or resumes the file watcher.
func (s *Studio) toggleWatching() {
	if s.w == nil {
		return
	}
	paused := !s.w.Paused()
	s.w.SetPaused(paused)
	s.bar.setPaused(paused)
	s.status.setWatching(!paused, true)
}

// addShortcuts binds the keyboard shortcuts.
func (s *Studio) addShortcuts() {
	c := s.win.Canvas()
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyR, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { s.reload(s.selected) })
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyR, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}, func(fyne.Shortcut) { s.reloadAll() })
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { s.showAddDialog() })
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { s.newIntegration() })
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyDelete {
			s.askRemove(s.selected)
		}
	})
}
