package studio

import (
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// chartSamples is how many recent handler calls the latency chart shows.
const chartSamples = 120

// latencyChart draws the latency of recent handler calls as bars, oldest
// on the left, with a line at the p99 and the scale written in the corner.
type latencyChart struct {
	widget.BaseWidget
	samples []time.Duration
}

func newLatencyChart() *latencyChart {
	c := &latencyChart{}
	c.ExtendBaseWidget(c)
	return c
}

// setSamples shows the given latencies (the last chartSamples of them).
func (c *latencyChart) setSamples(s []time.Duration) {
	if len(s) > chartSamples {
		s = s[len(s)-chartSamples:]
	}
	c.samples = slices.Clone(s)
	c.Refresh()
}

// MinSize is room for a readable chart: 240×96.
func (c *latencyChart) MinSize() fyne.Size { return fyne.NewSize(240, 96) }

// CreateRenderer builds the chart's background, bars, p99 line and labels.
func (c *latencyChart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{c: c, bg: canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)),
		p99:   canvas.NewLine(theme.Color(theme.ColorNameError)),
		label: canvas.NewText("", theme.Color(theme.ColorNameForeground)),
		empty: canvas.NewText("no handler calls yet", theme.Color(theme.ColorNamePlaceHolder))}
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.label.TextSize = theme.CaptionTextSize()
	r.empty.TextSize = theme.CaptionTextSize()
	r.p99.StrokeWidth = 1
	return r
}

type chartRenderer struct {
	c     *latencyChart
	bg    *canvas.Rectangle
	bars  []*canvas.Rectangle
	p99   *canvas.Line
	label *canvas.Text
	empty *canvas.Text
}

// Layout scales the bars to the slowest call and draws the p99 line.
func (r *chartRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	samples := r.c.samples
	for len(r.bars) < len(samples) {
		r.bars = append(r.bars, canvas.NewRectangle(theme.Color(theme.ColorNamePrimary)))
	}
	r.bars = r.bars[:len(samples)]
	r.empty.Hidden = len(samples) > 0
	r.empty.Move(fyne.NewPos(theme.Padding()*2, size.Height/2-r.empty.MinSize().Height/2))
	if len(samples) == 0 {
		r.label.Text = ""
		r.p99.Hidden = true
		return
	}
	top := slices.Max(samples)
	sorted := slices.Sorted(slices.Values(samples))
	p99 := sorted[min(len(sorted)-1, int(float64(len(sorted))*0.99))]
	pad := theme.Padding()
	h := size.Height - 2*pad - r.label.MinSize().Height
	w := (size.Width - 2*pad) / chartSamples
	for i, d := range samples {
		bh := float32(1)
		if top > 0 {
			bh = max(1, h*float32(d)/float32(top))
		}
		b := r.bars[i]
		b.FillColor = theme.Color(theme.ColorNamePrimary)
		b.Move(fyne.NewPos(pad+float32(i)*w, size.Height-pad-bh))
		b.Resize(fyne.NewSize(max(1, w-1), bh))
	}
	y := size.Height - pad - h*float32(p99)/float32(max(top, 1))
	r.p99.Hidden = false
	r.p99.Position1 = fyne.NewPos(pad, y)
	r.p99.Position2 = fyne.NewPos(size.Width-pad, y)
	r.label.Text = fmt.Sprintf("last %d calls · max %s · p99 %s (red line)", len(samples), formatDuration(top), formatDuration(p99))
	r.label.Move(fyne.NewPos(pad, pad/2))
}

// MinSize is the chart's.
func (r *chartRenderer) MinSize() fyne.Size { return r.c.MinSize() }

// Refresh follows the theme and redraws the samples.
func (r *chartRenderer) Refresh() {
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.label.Color = theme.Color(theme.ColorNameForeground)
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}

// Objects are the background, the bars, the p99 line and the labels.
func (r *chartRenderer) Objects() []fyne.CanvasObject {
	objs := []fyne.CanvasObject{r.bg}
	for _, b := range r.bars {
		objs = append(objs, b)
	}
	return append(objs, r.p99, r.label, r.empty)
}

// Destroy has nothing to release.
func (r *chartRenderer) Destroy() {}
