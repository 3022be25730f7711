package studio

import (
	"slices"

	"fyne.io/fyne/v2"
)

// Preference keys. Values live in the app's preferences (Fyne stores them
// per app ID in the user's config folder).
const (
	prefFiles       = "afstudio.files"   // files added by drop or Add…, loaded again at start
	prefFolders     = "afstudio.folders" // folders added by drop
	prefWidth       = "afstudio.window.width"
	prefHeight      = "afstudio.window.height"
	prefSplitOffset = "afstudio.split.offset"
)

// RememberedFiles returns the files the user added in earlier sessions.
func RememberedFiles(p fyne.Preferences) []string { return p.StringList(prefFiles) }

// RememberedFolders returns the folders the user added in earlier sessions.
func RememberedFolders(p fyne.Preferences) []string { return p.StringList(prefFolders) }

// rememberFile adds a file to those loaded at the next start.
func rememberFile(p fyne.Preferences, path string) { addToList(p, prefFiles, path) }

// rememberFolder adds a folder to those loaded at the next start.
func rememberFolder(p fyne.Preferences, path string) { addToList(p, prefFolders, path) }

// forgetFile removes a file from those loaded at the next start.
func forgetFile(p fyne.Preferences, path string) {
	list := p.StringList(prefFiles)
	if i := slices.Index(list, path); i >= 0 {
		p.SetStringList(prefFiles, slices.Delete(list, i, i+1))
	}
}

// addToList appends value to the string list under key, once.
func addToList(p fyne.Preferences, key, value string) {
	list := p.StringList(key)
	if !slices.Contains(list, value) {
		p.SetStringList(key, append(list, value))
	}
}

// restoreLayout applies the remembered window size and split position.
func (s *Studio) restoreLayout() {
	p := s.app.Preferences()
	w, h := p.FloatWithFallback(prefWidth, 1180), p.FloatWithFallback(prefHeight, 760)
	s.win.Resize(fyne.NewSize(float32(w), float32(h)))
	s.split.Offset = p.FloatWithFallback(prefSplitOffset, 0.3)
}

// saveLayout remembers the window size and split position.
func (s *Studio) saveLayout() {
	p := s.app.Preferences()
	size := s.win.Canvas().Size()
	if size.Width > 100 && size.Height > 100 {
		p.SetFloat(prefWidth, float64(size.Width))
		p.SetFloat(prefHeight, float64(size.Height))
	}
	p.SetFloat(prefSplitOffset, s.split.Offset)
}
