package studio

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// actionBarHandlers are what the toolbar buttons do.
type actionBarHandlers struct {
	reload, reloadAll, add, remove, create, pause func()
}

// actionBar is the toolbar: labelled buttons with their shortcuts in the
// label, so that both are discoverable.
type actionBar struct {
	reload, reloadAll, add, remove, create, pause *widget.Button
	box                                           fyne.CanvasObject
}

func newActionBar(h actionBarHandlers, watching bool) *actionBar {
	b := &actionBar{
		reload:    widget.NewButtonWithIcon("Reload (Ctrl+R)", theme.ViewRefreshIcon(), h.reload),
		reloadAll: widget.NewButtonWithIcon("Reload all (Ctrl+Shift+R)", theme.MediaReplayIcon(), h.reloadAll),
		add:       widget.NewButtonWithIcon("Add… (Ctrl+O)", theme.FolderOpenIcon(), h.add),
		remove:    widget.NewButtonWithIcon("Remove (Del)", theme.DeleteIcon(), h.remove),
		create:    widget.NewButtonWithIcon("New integration", theme.DocumentCreateIcon(), h.create),
		pause:     widget.NewButtonWithIcon("Pause watching", theme.MediaPauseIcon(), h.pause),
	}
	b.reload.Importance = widget.HighImportance
	if !watching {
		b.pause.Disable()
	}
	b.setSelection(false)
	b.box = container.NewVBox(container.NewHBox(b.reload, b.reloadAll, widget.NewSeparator(), b.add, b.create, b.remove, layout.NewSpacer(), b.pause), widget.NewSeparator())
	return b
}

func (b *actionBar) object() fyne.CanvasObject { return b.box }

func (b *actionBar) setSelection(selected bool) {
	for _, btn := range []*widget.Button{b.reload, b.remove} {
		if selected {
			btn.Enable()
		} else {
			btn.Disable()
		}
	}
}

func (b *actionBar) setBusy(busy bool) {
	if busy {
		b.reloadAll.Disable()
	} else {
		b.reloadAll.Enable()
	}
}

func (b *actionBar) setPaused(paused bool) {
	if paused {
		b.pause.SetText("Resume watching")
		b.pause.SetIcon(theme.MediaPlayIcon())
	} else {
		b.pause.SetText("Pause watching")
		b.pause.SetIcon(theme.MediaPauseIcon())
	}
}
