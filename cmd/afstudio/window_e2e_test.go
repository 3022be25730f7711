package main

import (
	"bufio"
	"fmt"
	"image"
	_ "image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWindowE2E runs the real binary in a real X server (Xvfb): it waits
// for the window, changes an integration on disk, checks the app reloaded
// it (its log), and grabs a screenshot with ImageMagick's import, which
// must not be blank. It is skipped when Xvfb or import is missing.
func TestWindowE2E(t *testing.T) {
	bin := buildBinary(t)
	for _, tool := range []string{"Xvfb", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make deps installs it); skipping the window test", tool)
		}
	}
	display := startXvfb(t)
	home := t.TempDir()
	dir := filepath.Join(home, "integrations")
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, "greeter.star")
	src := "def h(event, ctx):\n    return \"v1\"\n\nintegration(name = \"greeter\", priority = \"HIGH\", handlers = {\"ping\": h})\n"
	os.WriteFile(path, []byte(src), 0o644)

	cmd := exec.Command(bin, "--dir", dir, "--select", "greeter")
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "LANG=C")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var logText strings.Builder
	waitLine := func(what string, match func(string) bool) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("afstudio exited before %s; its log:\n%s", what, logText.String())
				}
				logText.WriteString(l + "\n")
				if match(l) {
					return
				}
			case <-timeout:
				t.Fatalf("timed out waiting for %s; log so far:\n%s", what, logText.String())
			}
		}
	}
	waitLine("the window", func(l string) bool { return strings.Contains(l, "studio window open") })
	time.Sleep(time.Second) // let the first frame be drawn
	os.WriteFile(path, []byte(strings.Replace(src, "v1", "v2", 1)), 0o644)
	waitLine("the reload", func(l string) bool {
		return strings.Contains(l, "reloaded integration") && strings.Contains(l, "name=greeter") && strings.Contains(l, "generation=2")
	})
	time.Sleep(700 * time.Millisecond) // let the list and details repaint

	shot := filepath.Join(t.ArtifactDir(), "studio.png")
	if out, err := exec.Command("import", "-display", display, "-window", "root", shot).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if colours := distinctColours(t, shot); colours < 16 {
		t.Fatalf("the screenshot %s has %d colours: blank", shot, colours)
	}
	if strings.Contains(logText.String(), "Error parsing user locale") {
		t.Fatalf("Fyne complained about the locale with LANG=C:\n%s", logText.String())
	}
	t.Logf("screenshot: %s", shot)
}

// startXvfb starts an X server on a free display and returns its name.
func startXvfb(t *testing.T) string {
	t.Helper()
	for range 20 {
		n := 100 + rand.IntN(400)
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		x := exec.Command("Xvfb", fmt.Sprintf(":%d", n), "-screen", "0", "1280x800x24", "-nolisten", "tcp")
		if err := x.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = x.Process.Kill(); _ = x.Wait() })
		for range 100 {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return fmt.Sprintf(":%d", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("Xvfb :%d did not start", n)
	}
	t.Fatal("no free X display")
	return ""
}

// distinctColours counts the colours of a PNG (up to 1000).
func distinctColours(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= 1000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}
