package studio

import (
	"runtime/debug"
	"time"
)

// Giving back what a storm took. During a storm of events the window
// draws new text twice a second; Fyne keeps a texture for every text it
// draws until it has gone undrawn for Options.TextureLifetime, and frees
// the expired ones only when it paints a frame; the Go runtime keeps the
// heap it freed for reuse. So after a storm a window that shows nothing
// new would keep all of it. follow gives it back in three steps: at calm
// (calmAfter without a notice) it returns the Go heap's free memory to
// the operating system; once the textures of what the storm drew have
// expired it has the window painted once, so that Fyne frees them; then
// it returns memory again.

const (
	// calmAfter is how long without a notice ends a storm.
	calmAfter = time.Second
	// paintedAfter is how long after asking for a frame follow takes it
	// as painted: Fyne paints at 60 Hz, and the UI is idle after a storm.
	// (The frame probe could say when; a fixed wait keeps the steps the
	// same under Fyne's test driver, which paints only when asked.)
	paintedAfter = 250 * time.Millisecond
	// defaultTextureLifetime is Fyne's, when FYNE_CACHE does not set it.
	defaultTextureLifetime = time.Minute
)

// afterStormStep is what follow does next after a storm.
type afterStormStep int

const (
	stepNone    afterStormStep = iota
	stepRelease                // return free memory to the operating system
	stepRedraw                 // have the window painted once
)

// afterStorm schedules the steps that give back what a storm took. It
// runs on follow's goroutine.
type afterStorm struct {
	lifetime time.Duration // Options.TextureLifetime, or Fyne's default
	last     time.Time     // the last notice
	stage    int           // 0 nothing due; 1 storm, release at calm; 2 redraw once textures expired; 3 release once painted
	redrawn  time.Time     // when stage 3 asked for a frame
}

// notice records a notice at now: it delays the steps (textures drawn
// for it are younger).
func (a *afterStorm) notice(now time.Time) { a.last = now }

// storm records that a storm's batch was delivered: the steps start
// again from the first.
func (a *afterStorm) storm() { a.stage = 1 }

// step returns what is due at now, and moves on.
func (a *afterStorm) step(now time.Time) afterStormStep {
	quiet := now.Sub(a.last)
	switch {
	case a.stage == 1 && quiet >= calmAfter:
		a.stage = 2
		return stepRelease
	case a.stage == 2 && quiet >= calmAfter+a.lifetime:
		a.stage, a.redrawn = 3, now
		return stepRedraw
	case a.stage == 3 && now.Sub(a.redrawn) >= paintedAfter:
		a.stage = 0
		return stepRelease
	}
	return stepNone
}

// afterStormStep does step (follow's goroutine): a release runs on its
// own goroutine, a redraw on the UI goroutine.
func (s *Studio) afterStormStep(step afterStormStep) {
	switch step {
	case stepRelease:
		s.wg.Go(s.releaseMemory)
	case stepRedraw:
		s.do(func() { s.frames.next(s.win.Canvas(), nil) })
	}
}

// releaseMemory returns free memory to the operating system: the Go
// heap's, then (Options.ReleaseMemory) what was freed outside Go.
func (s *Studio) releaseMemory() {
	debug.FreeOSMemory()
	if s.opts.ReleaseMemory != nil {
		s.opts.ReleaseMemory()
	}
}
