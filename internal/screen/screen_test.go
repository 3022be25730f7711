package screen

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoose(t *testing.T) {
	tests := []struct {
		want, read string
		match      bool
	}{
		{"greeter HIGH g1", "Y greeter “HIGH g!", true},
		{"greeter HIGH g1", "Y greeter HIGH gl", true},
		{"greeter HIGH g1", "greeter HIGH g2", false},
		{"5 live 0 failed", "5 live-O failed", true},
		{"5 live 0 failed", "5 live · 0 failed", true},
		{"5 live 0 failed", "15 live · 0 failed", false},
		{"5 live 0 failed", "5 live · 10 failed", false},
		{"6 live 0 failed", "6 live -O0 failed", true},
		{"1 failed", "11 failed", false},
		{"g1", "g11", false},
		{"greeter.star:2:18", "/tmp/x/greeter.star:2:18: got newline", true},
		{"greeter.star:2:18", "greeter,star;2:18", true},
		{"greeter.star:2:18", "greeter.star:2:19", false},
		{"Last reload", "Lastreload 1.86ms", true},
		{"audit", "auditor", false},
	}
	for _, tt := range tests {
		if got := Loose(tt.want).MatchString(tt.read); got != tt.match {
			t.Errorf("Loose(%q) on %q = %v, want %v", tt.want, tt.read, got, tt.match)
		}
	}
}

func TestRow(t *testing.T) {
	tests := []struct {
		want  []string
		read  string
		match bool
	}{
		{[]string{"audit", "LOW", "g1"}, "Y audit ‘Low g1", true},
		{[]string{"analytics", "CRITICAL", "g1"}, "Y analytics CRITICAL g g1 Description", true},
		{[]string{"analytics", "g2"}, "Y analytics CRITICAL g1 Generation 2", false},
		{[]string{"Generation", "2"}, "Description Counts Generation 2", true},
		{[]string{"Generation", "2"}, "Generation 12", false},
		{[]string{"greeter", "g2"}, "greeter2 g2", false},
		{[]string{"greeter", "answer v2"}, "ping greeter ok answer v2 120 µs", true},
	}
	for _, tt := range tests {
		if got := Row(tt.want...).MatchString(tt.read); got != tt.match {
			t.Errorf("Row(%q) on %q = %v, want %v", tt.want, tt.read, got, tt.match)
		}
	}
}

func TestParseTSV(t *testing.T) {
	tsv := "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n" +
		"1\t1\t0\t0\t0\t0\t0\t0\t3840\t2400\t-1\t\n" +
		"4\t1\t1\t1\t1\t0\t30\t300\t600\t60\t-1\t\n" +
		"5\t1\t1\t1\t1\t1\t30\t300\t90\t60\t95.1\tY\n" +
		"5\t1\t1\t1\t1\t2\t150\t300\t300\t60\t96.0\tgreeter\n" +
		"5\t1\t1\t1\t2\t1\t150\t420\t300\t60\t96.0\tanalytics\n" +
		"5\t1\t2\t1\t1\t1\t1200\t300\t30\t60\t96.0\t \n" +
		"5\t1\t2\t1\t1\t2\t1200\t300\t300\t60\t96.0\tDetails\n"
	words, err := parseTSV([]byte(tsv))
	if err != nil {
		t.Fatal(err)
	}
	p := &Page{Lines: rows(words)}
	if got, want := p.Text(), "Y greeter Details\nanalytics\n"; got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
	w, ok := p.Word(Loose("greeter"))
	if !ok || w != (Word{Text: "greeter", X: 75, Y: 150, W: 150, H: 30}) {
		t.Fatalf("word greeter: %+v %v", w, ok)
	}
	if x, y := w.Center(); x != 150 || y != 165 {
		t.Fatalf("center %d,%d", x, y)
	}
	if _, ok := p.Word(Loose("greet")); ok {
		t.Fatal("a part of a word matched as the word")
	}
	if _, err := parseTSV([]byte("h\n5\t1\t1\t1\t1\t1\tx\t0\t1\t1\t9\tw\n")); err == nil {
		t.Fatal("a bad coordinate was accepted")
	}
}

// TestReadImage reads text drawn the way Fyne's dark theme draws it
// (light on dark) with the real tesseract.
func TestReadImage(t *testing.T) {
	needTools(t, "convert", "tesseract")
	img := filepath.Join(t.TempDir(), "text.png")
	draw := exec.Command("convert", "-size", "640x120", "xc:#171719", "-fill", "#f3f3f3", "-pointsize", "18",
		"-annotate", "+20+40", "greeter HIGH g2", "-annotate", "+20+90", "5 live · 1 failed", img)
	if out, err := draw.CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	p, err := ReadImage(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"greeter HIGH g2", "5 live 1 failed"} {
		if !p.Has(Loose(want)) {
			t.Errorf("%q not read; read:\n%s", want, p.Text())
		}
	}
	if p.Has(Loose("0 failed")) {
		t.Errorf("read a count that is not there:\n%s", p.Text())
	}
	if !p.HasRow(context.Background(), "greeter", "g2") || p.HasRow(context.Background(), "greeter", "g3") {
		t.Errorf("HasRow greeter g2 (there) or g3 (not there) wrong; read:\n%s", p.Text())
	}
}

// TestReadImageAlmostEmpty reads a window that shows one small label
// (what a studio that failed to build its window shows), which tesseract
// misses without the stretched contrast.
func TestReadImageAlmostEmpty(t *testing.T) {
	needTools(t, "convert", "tesseract")
	img := filepath.Join(t.TempDir(), "empty.png")
	draw := exec.Command("convert", "-size", "1920x1200", "xc:black", "-fill", "#1b1b1c", "-draw", "rectangle 0,0 1770,1140",
		"-fill", "#f3f3f3", "-pointsize", "20", "-annotate", "+15+35", "internal error: the studio could not start", img)
	if out, err := draw.CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	p, err := ReadImage(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Has(Loose("internal error: the studio could not start")) {
		t.Fatalf("the label was not read; read:\n%s", p.Text())
	}
}

// TestDisplay starts a real Xvfb, shows an image on it with ImageMagick's
// display, and waits for its text; a text that never shows times out.
func TestDisplay(t *testing.T) {
	needTools(t, Tools...)
	needTools(t, "display")
	ctx := context.Background()
	d, err := Start(ctx, t.TempDir(), 800, 600)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	img := filepath.Join(t.TempDir(), "hello.png")
	if out, err := exec.Command("convert", "-size", "500x100", "xc:#171719", "-fill", "#f3f3f3", "-pointsize", "20",
		"-annotate", "+20+50", "hello from the screen", img).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	show := exec.Command("display", "-geometry", "+0+0", img)
	show.Env = append(show.Environ(), d.Env())
	if err := show.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = show.Process.Kill(); _ = show.Wait() }()
	p, err := d.WaitFor(ctx, "the greeting", time.Minute, func(p *Page) bool { return p.Has(Loose("hello from the screen")) })
	if err != nil {
		t.Fatal(err)
	}
	w, ok := p.Word(Loose("screen"))
	if !ok || w.X < 100 || w.X > 500 || w.Y > 100 {
		t.Fatalf("the word screen is not where it was drawn: %+v %v\n%s", w, ok, p.Text())
	}
	_, err = d.WaitFor(ctx, "a text that is not there", 2*time.Second, func(p *Page) bool { return p.Has(Loose("goodbye")) })
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "hello from the screen") {
		t.Fatalf("waiting for a missing text: %v", err)
	}
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make deps installs it)", tool)
		}
	}
}

// TestFindInStrips: the strips FindWord falls back to find a word and
// place it in screen pixels (its box holds where it was drawn), also far
// down the screen; a word that is not there is not found.
func TestFindInStrips(t *testing.T) {
	needTools(t, "convert", "tesseract")
	img := filepath.Join(t.TempDir(), "strips.png")
	draw := exec.Command("convert", "-size", "1200x900", "xc:#171719", "-fill", "#f3f3f3", "-pointsize", "24",
		"-annotate", "+40+60", "Event console", "-annotate", "+700+745", "Send", img)
	if out, err := draw.CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	p, err := ReadImage(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := p.findInStrips(context.Background(), Loose("Send"))
	if !ok {
		t.Fatalf("Send not found in the strips")
	}
	// -annotate +700+745 puts the text's baseline at y=745, its left at x=700.
	if x, y := w.Center(); x < 700 || x > 780 || y < 715 || y > 750 {
		t.Errorf("Send found at %+v (center %d,%d), not where it was drawn (700..780, 715..750)", w, x, y)
	}
	if w, ok := p.findInStrips(context.Background(), Loose("Replay")); ok {
		t.Errorf("found a word that is not there: %+v", w)
	}
}

// TestHasRowGarbledName reads a real screenshot of the studio (a window
// test's, CI) whose greeter row OCR garbles in the whole page ("ve
// greeier a ich g1"): HasRow finds the row's band by its last word and
// reads it right, and still finds no row that is not there.
func TestHasRowGarbledName(t *testing.T) {
	needTools(t, "convert", "tesseract")
	shot := filepath.Join(t.TempDir(), "shot.png") // ReadImage writes beside it
	b, err := os.ReadFile(filepath.Join("testdata", "greeter-garbled.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shot, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := ReadImage(ctx, shot)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		texts []string
		want  bool
	}{
		{[]string{"greeter", "g1"}, true},
		{[]string{"alpha", "g1"}, true},
		{[]string{"greeter", "g2"}, false},
		{[]string{"bomb", "g1"}, false},
	} {
		if got := p.HasRow(ctx, tc.texts...); got != tc.want {
			t.Errorf("HasRow(%q) = %v, want %v; read:\n%s", tc.texts, got, tc.want, p.Text())
		}
	}
}
