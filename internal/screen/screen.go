// Package screen reads and drives a real X screen for end-to-end tests of
// the studio window: it starts a private X server (Xvfb), takes
// screenshots (ImageMagick's import), reads the text on them with OCR
// (tesseract) and clicks and types with xdotool, the way a person would.
//
// Tests wait on what the screen shows, never on fixed sleeps:
// WaitFor polls the screen until a condition over the text read from it
// holds or a deadline passes, and every screenshot it takes is kept in
// the folder the Display was started with, so a failure can be looked
// at.
//
// The screenshot is enlarged twice, made grey and, when dark (Fyne's dark
// theme draws light text on a dark ground), inverted before tesseract
// reads it. Tesseract reads
// Fyne's text reliably at FYNE_SCALE=1.5 (small badges too); it still
// confuses a few glyphs ("g1" can come out as "gl"), so Loose builds
// patterns that accept those confusions, and Row matches texts that
// stand on one row of the screen.
package screen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Tools are the programs this package runs; Missing reports which of them
// are not installed (make deps installs them on Debian).
var Tools = []string{"Xvfb", "import", "convert", "tesseract", "xdotool"}

// Missing returns the names of the Tools not found on PATH.
func Missing() []string {
	var missing []string
	for _, t := range Tools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	return missing
}

// Display is a private X server and the folder its screenshots go to.
// Its methods are for one goroutine at a time.
type Display struct {
	// Name is the X display, such as ":42"; Env gives DISPLAY=Name.
	Name string
	// Dir is where screenshots are written (shot-NNN-LABEL.png).
	Dir string

	xvfb  *exec.Cmd
	fd    *os.File // the read end of -displayfd, open while Xvfb runs
	shots int
}

// Start starts Xvfb with one screen of width x height on a free display
// (Xvfb picks it: -displayfd) and returns when it accepts clients.
// Screenshots are written to dir. Close stops the server.
func Start(ctx context.Context, dir string, width, height int) (*Display, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("screenshot folder: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	// -noreset: every screenshot is a client that comes and goes, and a
	// server reset after each would rewrite -displayfd and slow things.
	x := exec.Command("Xvfb", "-displayfd", "3", "-noreset", "-screen", "0", fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	x.Stderr = &stderr
	if err := x.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start Xvfb: %w", err)
	}
	w.Close()
	num := make(chan string, 1)
	go func() {
		buf := make([]byte, 32)
		n, _ := r.Read(buf)
		num <- strings.TrimSpace(string(buf[:n]))
	}()
	select {
	case n := <-num:
		if _, err := strconv.Atoi(n); err != nil {
			_ = x.Process.Kill()
			_ = x.Wait()
			r.Close()
			return nil, fmt.Errorf("Xvfb gave no display number (%q): %s", n, stderr.String())
		}
		return &Display{Name: ":" + n, Dir: dir, xvfb: x, fd: r}, nil
	case <-ctx.Done():
		_ = x.Process.Kill()
		_ = x.Wait()
		r.Close()
		return nil, fmt.Errorf("Xvfb did not start: %w: %s", ctx.Err(), stderr.String())
	}
}

// Close stops the X server.
func (d *Display) Close() error {
	if d.xvfb == nil || d.xvfb.Process == nil {
		return nil
	}
	_ = d.xvfb.Process.Kill()
	_ = d.xvfb.Wait()
	return d.fd.Close()
}

// Env returns the environment entry that points X clients at the display.
func (d *Display) Env() string { return "DISPLAY=" + d.Name }

// Shot writes a screenshot of the whole screen to Dir and returns its
// path; label names the file (shot-NNN-label.png).
func (d *Display) Shot(ctx context.Context, label string) (string, error) {
	d.shots++
	path := filepath.Join(d.Dir, fmt.Sprintf("shot-%03d-%s.png", d.shots, sanitize(label)))
	if err := d.run(ctx, "import", "-display", d.Name, "-window", "root", path); err != nil {
		return "", fmt.Errorf("screenshot: %w", err)
	}
	return path, nil
}

// Read takes a screenshot and reads its text.
func (d *Display) Read(ctx context.Context, label string) (*Page, error) {
	shot, err := d.Shot(ctx, label)
	if err != nil {
		return nil, err
	}
	return ReadImage(ctx, shot)
}

// ErrTimeout is returned (wrapped) by WaitFor when its condition never held.
var ErrTimeout = errors.New("the screen never showed it")

// WaitFor reads the screen until cond holds for what it shows, and
// returns that page. After timeout it gives up with an error wrapping
// ErrTimeout that names what was awaited, the last screenshot and the
// text read from it; when ctx ends first, with ctx's error. A pass takes about a second on an
// idle machine; there is no fixed sleep, only this poll.
func (d *Display) WaitFor(ctx context.Context, what string, timeout time.Duration, cond func(*Page) bool) (*Page, error) {
	deadline := time.Now().Add(timeout)
	var last *Page
	var lastErr error
	for {
		// A read started before the deadline runs to its end, so the
		// last look at the screen is a whole one.
		p, err := d.Read(ctx, what)
		if err == nil && cond(p) {
			return p, nil
		}
		if err != nil {
			lastErr = err
		} else {
			last = p
		}
		if err := ctx.Err(); err != nil {
			return last, fmt.Errorf("waiting for %s: %w", what, err)
		}
		if time.Now().After(deadline) {
			if last == nil {
				return nil, fmt.Errorf("waiting %s for %s: %w (no screenshot read: %v)", timeout, what, ErrTimeout, lastErr)
			}
			return last, fmt.Errorf("waiting %s for %s: %w; last screenshot %s reads:\n%s", timeout, what, ErrTimeout, last.Shot, last.Text())
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Click moves the pointer to (x, y) on the screen and clicks the left
// button.
func (d *Display) Click(ctx context.Context, x, y int) error {
	return d.run(ctx, "xdotool", "mousemove", strconv.Itoa(x), strconv.Itoa(y), "click", "1")
}

// ClickWord clicks the middle of a word read from the screen.
func (d *Display) ClickWord(ctx context.Context, w Word) error {
	x, y := w.Center()
	return d.Click(ctx, x, y)
}

// Key presses keys such as "ctrl+r" or "Return" in the window that has
// the keyboard focus.
func (d *Display) Key(ctx context.Context, keys ...string) error {
	return d.run(ctx, "xdotool", append([]string{"key", "--delay", "50"}, keys...)...)
}

// Type types text into the window that has the keyboard focus.
func (d *Display) Type(ctx context.Context, text string) error {
	return d.run(ctx, "xdotool", "type", "--delay", "30", text)
}

func (d *Display) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), d.Env())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// sanitize keeps a label usable in a file name.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}
