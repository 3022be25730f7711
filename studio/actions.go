package studio

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"

	"github.com/afstudio/afstudio/starhost"
)

// The user's actions. Each runs host work on its own goroutine and comes
// back to the UI through fyne.Do.

// reload reloads one integration (Ctrl+R).
func (s *Studio) reload(name string) {
	if name == "" {
		return
	}
	if _, ok := s.m.IntegrationInfo(name); !ok {
		s.reloadFailedModule(name)
		return
	}
	s.status.busy(fmt.Sprintf("Reloading %s…", name))
	s.wg.Go(func() {
		start := time.Now()
		err := s.m.ReloadIntegration(s.ctx, name)
		took := time.Since(start)
		rows := s.rowsFromHost()
		s.do(func() {
			s.status.done()
			if err != nil {
				s.status.message(fmt.Sprintf("Reload of %s failed; the previous version keeps serving", name))
			} else {
				s.status.message(fmt.Sprintf("Reloaded %s in %s", name, fmtDuration(took)))
			}
			s.setRows(rows)
		})
	})
}

// reloadFailedModule retries a module that never loaded.
func (s *Studio) reloadFailedModule(name string) {
	for _, fm := range s.m.Snapshot().FailedModules {
		if failedRowName(fm.Module) == name {
			module := fm.Module
			s.wg.Go(func() {
				s.m.ReloadFiles(s.ctx, []string{module})
				rows := s.rowsFromHost()
				s.do(func() { s.setRows(rows) })
			})
			return
		}
	}
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
		rows := s.rowsFromHost()
		s.do(func() {
			s.status.done()
			s.bar.setBusy(false)
			s.status.message(fmt.Sprintf("Reloaded %d integrations in %s, %d failed", len(res)-failed, fmtDuration(took), failed))
			s.setRows(rows)
		})
	})
}

// showAddDialog asks for a .star file to add (Ctrl+O).
func (s *Studio) showAddDialog() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			s.report("Cannot open the file", err)
			return
		}
		if r == nil {
			return
		}
		uri := r.URI()
		r.Close()
		s.HandleDrop([]fyne.URI{uri})
	}, s.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".star"}))
	if len(s.opts.Dirs) > 0 {
		if l, err := storage.ListerForURI(storage.NewFileURI(s.opts.Dirs[0])); err == nil {
			d.SetLocation(l)
		}
	}
	d.Show()
}

// askRemove removes the selected integration after confirmation (Delete).
func (s *Studio) askRemove(name string) {
	if name == "" {
		return
	}
	s.confirm("Remove integration", fmt.Sprintf("Remove %s? It stops receiving events. Its file is not deleted.", name), func() {
		s.wg.Go(func() {
			info, ok := s.m.IntegrationInfo(name)
			var err error
			if ok {
				err = s.m.RemoveIntegration(s.ctx, name)
			} else {
				s.forgetFailedModule(name)
			}
			rows := s.rowsFromHost()
			s.do(func() {
				if err != nil {
					s.report("Remove failed", err)
				}
				if ok && !moduleStillLoaded(rows, info.Module) {
					forgetFile(s.app.Preferences(), info.Module)
				}
				if s.selected == name {
					s.selected = ""
					s.current.Store("")
				}
				s.setRows(rows)
			})
		})
	})
}

func (s *Studio) forgetFailedModule(name string) {
	for _, fm := range s.m.Snapshot().FailedModules {
		if failedRowName(fm.Module) == name {
			_, _ = s.m.RemoveModule(s.ctx, fm.Module)
			s.do(func() { forgetFile(s.app.Preferences(), fm.Module) })
		}
	}
}

func moduleStillLoaded(rows []integrationRow, module string) bool {
	for _, r := range rows {
		if r.module == module {
			return true
		}
	}
	return false
}

// resetState empties an integration's state after confirmation.
func (s *Studio) resetState(name string) {
	s.confirm("Reset state", fmt.Sprintf("Reset the state of %s to {}? This cannot be undone.", name), func() {
		s.wg.Go(func() {
			err := s.m.ResetState(name)
			snap := s.snapshotOf(name)
			s.do(func() {
				if err != nil {
					s.report("Reset failed", err)
				}
				s.details.show(snap)
			})
		})
	})
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
		rows := s.rowsFromHost()
		s.do(func() {
			if err != nil {
				s.report("New integration", err)
			}
			s.setRows(rows)
			if name != "" {
				s.selectIntegration(name)
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

// addPaths adds dropped or opened files and folders to the host, watches
// them and remembers them for the next start.
func (s *Studio) addPaths(files, folders []string) {
	ctx := s.ctx
	s.wg.Go(func() {
		var added []string
		var problems []string
		for _, dir := range folders {
			if err := s.m.AddRoot(ctx, dir); err != nil {
				problems = append(problems, err.Error())
			}
			if s.w != nil {
				s.w.AddRoot(dir)
			}
			added = append(added, dir)
		}
		for _, f := range files {
			if _, err := s.m.AddIntegration(ctx, f, ""); err != nil {
				problems = append(problems, err.Error())
			}
			if s.w != nil {
				s.w.AddRoot(filepath.Dir(f))
			}
			added = append(added, f)
		}
		rows := s.rowsFromHost()
		s.do(func() {
			for _, f := range files {
				rememberFile(s.app.Preferences(), f)
			}
			for _, d := range folders {
				rememberFolder(s.app.Preferences(), d)
			}
			s.setRows(rows)
			msg := fmt.Sprintf("Added %d item(s)", len(added))
			if len(problems) > 0 {
				msg += fmt.Sprintf(", %d with errors (shown as failed)", len(problems))
			}
			s.status.message(msg)
		})
	})
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
