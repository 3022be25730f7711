package studio

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/starhost"
)

// statusBar is the line at the bottom: counts, watching, the last reload,
// progress and messages.
type statusBar struct {
	counts   *widget.Label
	watching *widget.Label
	last     *widget.Label
	msg      *widget.Label
	progress *widget.ProgressBarInfinite
	box      fyne.CanvasObject
}

func newStatusBar() *statusBar {
	b := &statusBar{counts: widget.NewLabel(""), watching: widget.NewLabel(""), last: widget.NewLabel(""), msg: widget.NewLabel("")}
	b.msg.Truncation = fyne.TextTruncateEllipsis
	b.msg.Alignment = fyne.TextAlignTrailing
	b.progress = widget.NewProgressBarInfinite()
	b.progress.Stop()
	b.progress.Hide()
	b.box = container.NewBorder(widget.NewSeparator(), nil,
		container.NewHBox(b.counts, widget.NewSeparator(), b.watching, widget.NewSeparator(), b.last),
		container.NewHBox(b.progress), b.msg)
	return b
}

func (b *statusBar) object() fyne.CanvasObject { return b.box }

// setCounts shows how many rows are live, switched off and failed (see
// countRows).
func (b *statusBar) setCounts(live, off, failed int) {
	b.counts.SetText(fmt.Sprintf("%d live · %d off · %d failed", live, off, failed))
	if failed > 0 {
		b.counts.Importance = widget.DangerImportance
	} else {
		b.counts.Importance = widget.MediumImportance
	}
	b.counts.Refresh()
}

func (b *statusBar) setWatching(on, available bool) {
	switch {
	case !available:
		b.watching.SetText("not watching")
	case on:
		b.watching.SetText("watching on")
	default:
		b.watching.SetText("watching paused")
	}
}

// setHost says which host the window shows, when it is another process's.
func (b *statusBar) setHost(label string) {
	b.watching.SetText("host " + label)
}

func (b *statusBar) setFolders(dirs []string) {
	if len(dirs) > 0 {
		b.watching.SetText(b.watching.Text + ": " + strings.Join(dirs, ", "))
	}
}

// lastChange records a load, reload, add, remove or failure notice.
func (b *statusBar) lastChange(n starhost.Notice) {
	what := string(n.Kind)
	who := n.Integration
	if who == "" {
		who = filepath.Base(n.Module)
	}
	text := fmt.Sprintf("last: %s %s", who, strings.ReplaceAll(what, "_", " "))
	if n.Duration > 0 {
		text += " in " + formatDuration(n.Duration.Std())
	}
	b.last.SetText(text + " at " + n.Time.Format(time.TimeOnly))
}

func (b *statusBar) busy(msg string) {
	b.msg.SetText(msg)
	b.progress.Show()
	b.progress.Start()
}

func (b *statusBar) done() {
	b.progress.Stop()
	b.progress.Hide()
}

func (b *statusBar) message(msg string) { b.msg.SetText(msg) }
