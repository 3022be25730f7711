package studio

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/starhost"
)

// The details pane's state actions beyond Reset state…: Forget state…
// (the state and its stored copy), Export state… and Import state…, in
// the file format of afstudio state export and import
// (starhost.StateExport), so that files move between the studio, the
// command line and the API.
//
// Export state… asks whether to export the selected integration or every
// one (the selected one is the default: the button sits under its state;
// every one is what a backup or a move to another machine needs, and the
// studio is the only way to export while it holds the state file, since
// afstudio state export cannot open it then). Import state… takes every
// state the file holds, after a confirmation that names them, all or
// nothing (Manager.ImportStates).

// stateDialogs are the dialogs of the state actions; nil ones are Fyne's
// (see dialogs). Tests replace them.
type stateDialogs struct {
	// exportScope asks whether to export only name or all n integrations;
	// done is not called when the user cancels.
	exportScope func(name string, n int, done func(all bool))
	// save asks for the file to write, suggesting a name; done receives
	// it open, and is not called when the user cancels.
	save func(suggested string, done func(fyne.URIWriteCloser))
	// open asks for the file to read; done receives it open, and is not
	// called when the user cancels.
	open func(done func(fyne.URIReadCloser))
}

// dialogs returns s.stateDialogs with Fyne's dialogs in place of nil ones.
func (s *Studio) dialogs() stateDialogs {
	d := s.stateDialogs
	if d.exportScope == nil {
		d.exportScope = func(name string, n int, done func(bool)) {
			only, all := "Only "+name, fmt.Sprintf("All %d integrations", n)
			choice := widget.NewRadioGroup([]string{only, all}, nil)
			choice.Required = true
			choice.SetSelected(only)
			what := widget.NewLabel("Export the state of:")
			hint := widget.NewLabel("Import state… or afstudio state import reads the file.")
			dialog.ShowCustomConfirm("Export state", "Choose file…", "Cancel", container.NewVBox(what, choice, hint), func(ok bool) {
				if ok {
					done(choice.Selected == all)
				}
			}, s.win)
		}
	}
	if d.save == nil {
		d.save = func(suggested string, done func(fyne.URIWriteCloser)) {
			fd := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
				if err != nil {
					s.report("Export state", err)
				} else if w != nil {
					done(w)
				}
			}, s.win)
			fd.SetFileName(suggested)
			fd.SetFilter(storage.NewExtensionFileFilter([]string{".json"}))
			fd.Resize(fileDialogSize(s.win))
			fd.Show()
		}
	}
	if d.open == nil {
		d.open = func(done func(fyne.URIReadCloser)) {
			fd := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
				if err != nil {
					s.report("Import state", err)
				} else if r != nil {
					done(r)
				}
			}, s.win)
			fd.SetFilter(storage.NewExtensionFileFilter([]string{".json"}))
			fd.Resize(fileDialogSize(s.win))
			fd.Show()
		}
	}
	return d
}

// fileDialogSize is most of the window, so that names and folders fit.
func fileDialogSize(w fyne.Window) fyne.Size {
	size := w.Canvas().Size()
	return fyne.NewSize(max(600, size.Width*0.7), max(400, size.Height*0.75))
}

// forgetState empties an integration's state and deletes its stored
// copy, after confirmation.
func (s *Studio) forgetState(name string) {
	s.confirm("Forget state", fmt.Sprintf("Forget the state of %s? Its state is emptied now and its stored copy is deleted from the state file too, "+
		"so nothing of it comes back after a restart or when %s is added again. This cannot be undone.", name, name), func() {
		s.wg.Go(func() {
			err := s.m.ForgetState(name)
			h := s.readHost()
			s.do(func() {
				if err != nil {
					s.report("Forget state failed", err)
				} else {
					s.status.message("Forgot the state of " + name)
				}
				s.show(h)
			})
		})
	})
}

// exportState writes the state of name, or of every integration, to a
// file the user chooses.
func (s *Studio) exportState(name string) {
	d := s.dialogs()
	save := func(all bool) {
		names, suggested := []string{name}, name+"-state.json"
		if all {
			names, suggested = nil, "afstudio-state.json"
		}
		d.save(suggested, func(w fyne.URIWriteCloser) {
			s.wg.Go(func() {
				n, err := s.writeStates(w, names)
				s.do(func() {
					if err != nil {
						s.report("Export state failed", err)
						return
					}
					s.status.message(fmt.Sprintf("Exported the state of %s to %s", describeNames(n), w.URI().Path()))
				})
			})
		})
	}
	if n := len(s.m.Names()); n > 1 {
		d.exportScope(name, n, save)
	} else {
		save(false)
	}
}

// writeStates writes the states of names (all when nil) to w as a
// starhost.StateExport, closes w, and returns the names written. It runs
// off the UI goroutine.
func (s *Studio) writeStates(w io.WriteCloser, names []string) ([]string, error) {
	export, err := s.m.ExportStates(names...)
	if err == nil {
		err = export.Encode(w)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("export state: %w", err)
	}
	return slices.Sorted(maps.Keys(export.Integrations)), nil
}

// importState replaces states with those of a file the user chooses,
// after confirmation, all or nothing. name is the selected integration;
// the file says which states it replaces.
func (s *Studio) importState(string) {
	s.dialogs().open(func(r fyne.URIReadCloser) {
		path := r.URI().Path()
		s.wg.Go(func() {
			export, err := readStateFile(r)
			s.do(func() {
				if err != nil {
					s.report("Import state failed", fmt.Errorf("%s: %w; nothing was imported", path, err))
					return
				}
				s.confirmImport(path, export)
			})
		})
	})
}

// readStateFile reads and closes an export file.
func readStateFile(r io.ReadCloser) (starhost.StateExport, error) {
	data, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return starhost.StateExport{}, err
	}
	return starhost.ReadStateExport(data)
}

// confirmImport asks before importing the states of export, read from
// path, and imports them (UI goroutine).
func (s *Studio) confirmImport(path string, export starhost.StateExport) {
	names := slices.Sorted(maps.Keys(export.Integrations))
	if len(names) == 0 {
		s.notify("Import state", path+" holds no state: nothing to import.")
		return
	}
	s.confirm("Import state", fmt.Sprintf("Replace the state of %s with the one in %s (exported %s)? "+
		"The current state is lost. All or nothing: if one cannot be imported, nothing is.",
		describeNames(names), path, export.ExportedAt.Local().Format(time.DateTime)), func() {
		s.wg.Go(func() {
			err := s.m.ImportStates(s.ctx, export.States())
			h := s.readHost()
			s.do(func() {
				switch {
				case errors.Is(err, starhost.ErrStateNotSaved):
					s.report("Imported, not yet saved", fmt.Errorf("the state of %s was imported, but it is not on disk yet (the studio keeps trying): %w", describeNames(names), err))
				case err != nil:
					s.report("Import state failed", fmt.Errorf("%s: %w", path, err))
				default:
					s.status.message(fmt.Sprintf("Imported the state of %s from %s", describeNames(names), path))
				}
				s.show(h)
			})
		})
	})
}

// describeNames names integrations in a sentence: "a", "a and b", "3
// integrations (a, b, c)".
func describeNames(names []string) string {
	switch len(names) {
	case 0:
		return "no integration"
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return fmt.Sprintf("%d integrations (%s)", len(names), strings.Join(names, ", "))
}
