package studio

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"

	"github.com/afstudio/afstudio/starhost"
)

// Adding files and folders. Drops, the Add… dialog, the hand-off of a
// second `afstudio FILE.star` and the files of the last session all go
// through addPaths, which adds them to the host, watches their folders
// and remembers them for the next start.

// HandleDrop adds dropped .star files and folders (the window's
// SetOnDropped calls it; tests call it directly, since Fyne's test driver
// ignores drops). Anything else is refused with a message that says why.
// A dropped file that is invalid is still added: it is listed as failed
// with its error and loads as soon as it is fixed.
func (s *Studio) HandleDrop(uris []fyne.URI) {
	var files, folders, refused []string
	for _, u := range uris {
		if u == nil {
			continue
		}
		if u.Scheme() != "file" {
			refused = append(refused, fmt.Sprintf("%s: only local files can be added", u.String()))
			continue
		}
		p := u.Path()
		switch {
		case isDir(p):
			folders = append(folders, p)
		case starhost.IsModuleFile(filepath.Base(p)):
			files = append(files, p)
		default:
			refused = append(refused, fmt.Sprintf("%s: not a .star file; integrations are Starlark files ending in .star", u.Name()))
		}
	}
	if len(refused) > 0 {
		msg := strings.Join(refused, "\n")
		s.log.Info("refused dropped items", "items", msg)
		s.logs.addLine("warn", "drop", msg)
		s.status.message(fmt.Sprintf("Refused %d dropped item(s): not .star files", len(refused)))
		s.notify("Not added", msg)
	}
	if len(files)+len(folders) > 0 {
		s.addPaths(files, folders, false)
	}
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

// OpenFiles adds files handed over by a second `afstudio FILE.star` (the
// single-instance hand-off) as if dropped on the window, and brings the
// window forward. It is safe to call from any goroutine.
func (s *Studio) OpenFiles(files []string) error {
	uris := make([]fyne.URI, len(files))
	for i, f := range files {
		uris[i] = storage.NewFileURI(f)
	}
	s.do(func() {
		s.HandleDrop(uris)
		s.win.RequestFocus()
	})
	return nil
}

// addStartFiles adds the files of earlier sessions and Options.Files (UI
// goroutine, at Start), skipping those the host has loaded already.
func (s *Studio) addStartFiles() {
	files := slices.Concat(RememberedFiles(s.app.Preferences()), s.opts.Files)
	if len(files) > 0 {
		s.addPaths(files, nil, true)
	}
}

// addPaths adds files and folders to the host off the UI goroutine,
// watches the folders and the files' folders, and remembers both for the
// next start. A file that does not load is still added: it is listed as
// failed with its error, and loads once it is fixed. With skipLoaded, a
// file whose module the host already has (loaded or failed) is not added
// again, since adding reloads it; it is still watched and remembered.
func (s *Studio) addPaths(files, folders []string, skipLoaded bool) {
	files = absPaths(files)
	folders = absPaths(folders)
	s.wg.Go(func() {
		added, failed := 0, 0
		for _, dir := range folders {
			if err := s.m.AddRoot(s.ctx, dir); err != nil {
				s.log.Warn("could not add a folder", "folder", dir, "error", err)
				failed++
			}
			if s.w != nil {
				s.w.AddRoot(dir)
			}
			added++
		}
		// Read after the folders are added: a file inside one of them is
		// loaded already and must not be added (reloaded) again.
		known := map[string]bool{}
		if skipLoaded || len(folders) > 0 {
			known = knownModules(s.m.Snapshot())
		}
		for _, f := range files {
			if s.w != nil {
				s.w.AddRoot(filepath.Dir(f))
			}
			if known[f] {
				continue
			}
			if _, err := s.m.AddIntegration(s.ctx, f, ""); err != nil {
				s.log.Warn("could not load a file", "file", f, "error", err)
				failed++
			}
			added++
		}
		h := s.readHost()
		s.do(func() {
			for _, f := range files {
				rememberFile(s.app.Preferences(), f)
			}
			for _, d := range folders {
				rememberFolder(s.app.Preferences(), d)
			}
			s.show(h)
			if added == 0 {
				return
			}
			msg := fmt.Sprintf("Added %d item(s)", added)
			if failed > 0 {
				msg += fmt.Sprintf(", %d with errors (shown as failed)", failed)
			}
			s.status.message(msg)
		})
	})
}

// knownModules is the set of modules in a view, live or failed.
func knownModules(v starhost.View) map[string]bool {
	known := map[string]bool{}
	for _, in := range v.Integrations {
		known[in.Module] = true
	}
	for _, fm := range v.FailedModules {
		known[fm.Module] = true
	}
	return known
}

// absPaths makes paths absolute (from the working directory) and drops
// repeats, keeping the order.
func absPaths(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// isDir reports whether p is a folder.
func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
