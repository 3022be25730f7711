package studio

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// onOffSwitch is a small sliding switch, on (knob right, in the primary
// colour) or off (knob left, grey): the on/off control of an integration's
// row. A tap or the space bar flips it and calls OnChanged with the new
// position; set moves it without calling OnChanged.
type onOffSwitch struct {
	widget.BaseWidget
	On        bool
	OnChanged func(on bool)

	track   *canvas.Rectangle
	knob    *canvas.Circle
	focused bool
}

// switchWidth and switchHeight are the size of the switch's track, in
// Fyne units; switchMargin is the room it keeps after the track, so that
// it does not crowd what follows it.
const switchWidth, switchHeight, switchMargin = 30, 16, 4

func newOnOffSwitch(onChanged func(bool)) *onOffSwitch {
	s := &onOffSwitch{On: true, OnChanged: onChanged, track: canvas.NewRectangle(color.Transparent), knob: canvas.NewCircle(color.White)}
	s.track.CornerRadius = switchHeight / 2
	s.ExtendBaseWidget(s)
	return s
}

// set shows the switch on or off.
func (s *onOffSwitch) set(on bool) {
	if s.On != on {
		s.On = on
		s.Refresh()
	}
}

// Tapped flips the switch.
func (s *onOffSwitch) Tapped(*fyne.PointEvent) {
	s.On = !s.On
	s.Refresh()
	if s.OnChanged != nil {
		s.OnChanged(s.On)
	}
}

// Cursor is the pointer: the switch is clickable.
func (s *onOffSwitch) Cursor() desktop.Cursor { return desktop.PointerCursor }

// FocusGained, FocusLost, TypedRune and TypedKey let the keyboard flip
// it with the space bar.

// FocusGained shows the switch focused.
func (s *onOffSwitch) FocusGained() { s.focused = true; s.Refresh() }

// FocusLost shows it unfocused.
func (s *onOffSwitch) FocusLost() { s.focused = false; s.Refresh() }

// TypedRune ignores typed characters.
func (s *onOffSwitch) TypedRune(r rune) {}

// TypedKey flips the switch on the space bar.
func (s *onOffSwitch) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeySpace {
		s.Tapped(nil)
	}
}

// MinSize is the switch's fixed size.
func (s *onOffSwitch) MinSize() fyne.Size {
	return fyne.NewSize(switchWidth+switchMargin, switchHeight)
}

// CreateRenderer draws the track and the knob.
func (s *onOffSwitch) CreateRenderer() fyne.WidgetRenderer {
	return &switchRenderer{s: s, objects: []fyne.CanvasObject{s.track, s.knob}}
}

type switchRenderer struct {
	s       *onOffSwitch
	objects []fyne.CanvasObject
}

// Destroy has nothing to release.
func (r *switchRenderer) Destroy() {}

// MinSize is the switch's.
func (r *switchRenderer) MinSize() fyne.Size { return r.s.MinSize() }

// Objects are the track and the knob.
func (r *switchRenderer) Objects() []fyne.CanvasObject { return r.objects }

// Layout puts the track at the start of the space given, centred
// vertically, and the knob at the end its position says.
func (r *switchRenderer) Layout(size fyne.Size) {
	x, y := float32(0), (size.Height-switchHeight)/2
	r.s.track.Move(fyne.NewPos(x, y))
	r.s.track.Resize(fyne.NewSize(switchWidth, switchHeight))
	const inset = 2
	d := float32(switchHeight - 2*inset)
	kx := x + inset
	if r.s.On {
		kx = x + switchWidth - inset - d
	}
	r.s.knob.Move(fyne.NewPos(kx, y+inset))
	r.s.knob.Resize(fyne.NewSize(d, d))
}

// Refresh colours the track by the position (and focus) and moves the
// knob.
func (r *switchRenderer) Refresh() {
	th := r.s.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	if r.s.On {
		r.s.track.FillColor = th.Color(theme.ColorNamePrimary, v)
	} else {
		r.s.track.FillColor = th.Color(theme.ColorNameDisabled, v)
	}
	r.s.track.StrokeWidth = 0
	if r.s.focused {
		r.s.track.StrokeColor = th.Color(theme.ColorNameFocus, v)
		r.s.track.StrokeWidth = 2
	}
	r.Layout(r.s.Size())
	canvas.Refresh(r.s.track)
	canvas.Refresh(r.s.knob)
}
