package studio

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
)

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
		case strings.HasSuffix(strings.ToLower(p), ".star"):
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
		s.addPaths(files, folders)
	}
}
