package studio

import (
	"image"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// frameProbe tells when Fyne paints the window. Fyne 2.7 has no frame
// callback, so the probe is a 1×1 transparent raster laid over the
// window's top-left pixel: asking for the next frame refreshes it, which
// drops its texture, and Fyne calls its generator again while it paints
// the next frame, which calls the functions waiting for that frame. The
// probe is the window's last object, so Fyne draws it after the content
// (and before the buffer swap). A refresh also makes Fyne paint a frame
// when nothing else changed, which is what the studio needs after a
// storm (memory.go). It runs on the UI goroutine (Fyne paints on it).
type frameProbe struct {
	raster  *canvas.Raster
	box     *fyne.Container
	img     *image.NRGBA
	waiting []func(painted time.Time)
}

func newFrameProbe() *frameProbe {
	p := &frameProbe{}
	p.raster = canvas.NewRaster(p.generate)
	p.raster.Resize(fyne.NewSize(1, 1))
	p.box = container.NewWithoutLayout(p.raster) // no layout: the raster keeps its size
	return p
}

// object is what to stack over the window's content.
func (p *frameProbe) object() fyne.CanvasObject { return p.box }

// next has c paint a frame, and calls fn (if not nil) with the time the
// painting reached the probe.
func (p *frameProbe) next(c fyne.Canvas, fn func(painted time.Time)) {
	if fn != nil {
		p.waiting = append(p.waiting, fn)
	}
	c.Refresh(p.raster)
}

// generate is the raster's generator, called while Fyne paints.
func (p *frameProbe) generate(w, h int) image.Image {
	now := time.Now()
	fns := p.waiting
	p.waiting = nil
	for _, fn := range fns {
		fn(now)
	}
	if p.img == nil || p.img.Rect.Dx() != w || p.img.Rect.Dy() != h {
		p.img = image.NewNRGBA(image.Rect(0, 0, w, h)) // transparent
	}
	return p.img
}
