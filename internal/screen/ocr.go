package screen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	_ "image/png" // screenshots are PNG
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// scale is how much a screenshot is enlarged before OCR; coordinates are
// divided by it again, so Words are in screen pixels.
const scale = 2

// Word is one word read from a screenshot, with its box in screen pixels.
type Word struct {
	// Text is the word as read.
	Text string
	// X and Y are the top-left corner of its box, in screen pixels (not
	// in the enlarged image that was read).
	X, Y int
	// W and H are the box's width and height, in screen pixels.
	W, H int
}

// Center returns the middle of the word's box.
func (w Word) Center() (x, y int) { return w.X + w.W/2, w.Y + w.H/2 }

// Line is the words at one height of the screen, left to right: a row
// of a list with its badge and generation, a label of a form with its
// value, and whatever else is beside them in other panes.
type Line struct {
	// Words are the line's words, left to right.
	Words []Word
}

// Text returns the line's words separated by single spaces.
func (l Line) Text() string {
	s := make([]string, len(l.Words))
	for i, w := range l.Words {
		s[i] = w.Text
	}
	return strings.Join(s, " ")
}

// Page is the text read from one screenshot.
type Page struct {
	// Shot is the screenshot's path.
	Shot string
	// Lines are the rows of words, top to bottom.
	Lines []Line

	dark bool // the screenshot is mostly dark (see isDark)
}

// Text returns every line of the page, one per line.
func (p *Page) Text() string {
	var b strings.Builder
	for _, l := range p.Lines {
		b.WriteString(l.Text())
		b.WriteByte('\n')
	}
	return b.String()
}

// Has reports whether some line matches re.
func (p *Page) Has(re *regexp.Regexp) bool {
	for _, l := range p.Lines {
		if re.MatchString(l.Text()) {
			return true
		}
	}
	return false
}

// Word returns the first word that matches re as a whole (re is anchored).
func (p *Page) Word(re *regexp.Regexp) (Word, bool) {
	whole := regexp.MustCompile(`^(?:` + re.String() + `)$`)
	for _, l := range p.Lines {
		for _, w := range l.Words {
			if whole.MatchString(w.Text) {
				return w, true
			}
		}
	}
	return Word{}, false
}

// The strips FindWord reads when the whole page lost a word, in screen
// pixels: a strip holds a few rows, and strips overlap by more than a row.
const (
	stripHeight = 96
	stripStep   = 64
)

// FindWord returns the first word that matches re as a whole: from the
// page's reading, or else from reading the screenshot again in
// overlapping horizontal strips, top to bottom, as sparse text.
// Tesseract's layout analysis of a whole screen can drop a small block —
// a button's label, under wine — that it reads fine in a strip of a few
// rows. The strips cost a few seconds, so it is for a word that must be
// there (a button to click), not for polling.
func (p *Page) FindWord(ctx context.Context, re *regexp.Regexp) (Word, bool) {
	if w, ok := p.Word(re); ok {
		return w, true
	}
	return p.findInStrips(ctx, re)
}

// findInStrips is FindWord's second look: the strips, top to bottom.
func (p *Page) findInStrips(ctx context.Context, re *regexp.Regexp) (Word, bool) {
	height, err := imageHeight(p.Shot)
	if err != nil {
		return Word{}, false
	}
	whole := regexp.MustCompile(`^(?:` + re.String() + `)$`)
	for top := 0; top < height; top += stripStep {
		crop := fmt.Sprintf("%dx%d+0+%d", 1<<16, stripHeight, top) // as wide as the screen: ImageMagick clips it
		words, err := readImage(ctx, p.Shot, p.dark, []string{"11"}, "-crop", crop, "+repage")
		if err != nil {
			return Word{}, false
		}
		for _, w := range words {
			if whole.MatchString(w.Text) {
				w.Y += top // the strip's words are placed in the strip
				return w, true
			}
		}
	}
	return Word{}, false
}

// imageHeight returns the height of the image at path, in pixels.
func imageHeight(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, fmt.Errorf("read the size of %s: %w", path, err)
	}
	return cfg.Height, nil
}

// HasRow reports whether the texts stand on one row of the screen, in
// order (Row). It first looks in the page's rows; when they do not show
// it, it reads again just the band of the screen around each word that
// matches the first text's first word or the last text's last word: read
// alone, a
// row's small text (a selected row's "g1", say) comes out right where
// the whole screen's layout analysis lost it. The band is read across
// the whole width, then, if that fails, only from the left edge to a
// little past the word (a list row, without the pane beside it, whose
// text at the same height can garble the reading), then as sparse text.
func (p *Page) HasRow(ctx context.Context, texts ...string) bool {
	re := Row(texts...)
	if p.Has(re) {
		return true
	}
	// The band is found by the row's first word, or, when OCR garbled
	// that one too ("greeier" for greeter), by its last ("g1").
	first := Loose(strings.Fields(texts[0])[0])
	lastWords := strings.Fields(texts[len(texts)-1])
	last := Loose(lastWords[len(lastWords)-1])
	for _, l := range p.Lines {
		for _, w := range l.Words {
			if !first.MatchString(w.Text) && !last.MatchString(w.Text) {
				continue
			}
			for _, try := range []struct {
				width int
				psm   string
			}{{1 << 16, "7"}, {w.X + w.W + 24*w.H, "7"}, {1 << 16, "11"}} { // ImageMagick clips a crop to the image
				if band, err := p.readBand(ctx, w, try.width, try.psm); err == nil && re.MatchString(band) {
					return true
				}
			}
		}
	}
	return false
}

// readBand reads the band of the screenshot around the row of w, width
// pixels from the left edge, as one line of text (tesseract's page
// segmentation psm: "7", one line, or "11", sparse text, which reads a
// word beside a badge that garbles the line).
func (p *Page) readBand(ctx context.Context, w Word, width int, psm string) (string, error) {
	top := max(w.Y-w.H/2, 0)
	crop := fmt.Sprintf("%dx%d+0+%d", width, 2*w.H, top)
	words, err := readImage(ctx, p.Shot, p.dark, []string{psm}, "-crop", crop, "+repage")
	if err != nil {
		return "", err
	}
	return (&Page{Lines: rows(words)}).Text(), nil
}

// ReadImage reads the text of a screenshot with tesseract, after
// enlarging and greying it with ImageMagick, and inverting it when it is
// dark (Fyne's dark theme reads far better that way), and returns it as
// rows. The prepared image is written next to the screenshot and removed
// again.
func ReadImage(ctx context.Context, shot string) (*Page, error) {
	dark, err := isDark(shot)
	if err != nil {
		return nil, err
	}
	words, err := readImage(ctx, shot, dark, []string{"3", "11"})
	if err == nil && len(words) == 0 {
		// An almost empty window (one label on a plain ground): tesseract
		// finds no text on a page it takes for a photo until the
		// contrast is stretched, which would blur a busy window's small
		// text, so only here.
		words, err = readImage(ctx, shot, dark, []string{"3", "11"}, "-level", "20%,80%")
	}
	if err != nil {
		return nil, err
	}
	return &Page{Shot: shot, Lines: rows(words), dark: dark}, nil
}

// readImage prepares a screenshot with ImageMagick (extra options
// first, before it is enlarged; inverted when dark) and reads its words
// with tesseract in each page segmentation mode of psms, merging the
// readings.
func readImage(ctx context.Context, shot string, dark bool, psms []string, extra ...string) ([]Word, error) {
	f, err := os.CreateTemp(filepath.Dir(shot), "ocr-*.png")
	if err != nil {
		return nil, fmt.Errorf("prepare %s for OCR: %w", shot, err)
	}
	prepared := f.Name()
	f.Close()
	defer os.Remove(prepared)
	args := append(append([]string{shot}, extra...), "-resize", strconv.Itoa(scale*100)+"%", "-colorspace", "Gray")
	if dark {
		args = append(args, "-negate") // tesseract reads dark text on a light ground
	}
	if out, err := exec.CommandContext(ctx, "convert", append(args, prepared)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("prepare %s for OCR: %w: %s", shot, err, bytes.TrimSpace(out))
	}
	// Page segmentation (--psm 3) reads labels and sentences in context;
	// sparse text (--psm 11) finds what stands alone, such as a badge or
	// the single digit of a form row; --psm 7 reads one line.
	words := make([][]Word, len(psms))
	errs := make([]error, len(psms))
	var wg sync.WaitGroup
	for i, psm := range psms {
		wg.Go(func() { words[i], errs[i] = tesseract(ctx, prepared, psm) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("read %s: %w", shot, err)
	}
	merged := words[0]
	for _, w := range words[1:] {
		merged = merge(merged, w)
	}
	return merged, nil
}

// isDark reports whether a screenshot is mostly dark (Fyne's dark theme;
// the light theme is the default on Windows), from the mean brightness
// of a sample of its pixels.
func isDark(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return false, fmt.Errorf("screenshot %s: %w", path, err)
	}
	b := img.Bounds()
	var sum, n uint64
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			sum += uint64(r+g+bl) / 3
			n++
		}
	}
	return n > 0 && sum/n < 0x8000, nil
}

// tesseract reads the words of an image in one page segmentation mode.
func tesseract(ctx context.Context, image, psm string) ([]Word, error) {
	cmd := exec.CommandContext(ctx, "tesseract", image, "-", "--psm", psm, "tsv")
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1") // one thread each: steadier on a loaded machine
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tesseract --psm %s: %w: %s", psm, err, bytes.TrimSpace(stderr.Bytes()))
	}
	words, err := parseTSV(out)
	if err != nil {
		return nil, fmt.Errorf("tesseract --psm %s: %w", psm, err)
	}
	return words, nil
}

// merge adds to a the words of b that a did not read (whose boxes
// overlap none of a's by more than half); where both read a word, the
// longer reading wins (one reading often drops a character: "g" for
// "g1").
func merge(a, b []Word) []Word {
	out := append([]Word(nil), a...)
	for _, w := range b {
		seen := false
		for i, v := range a {
			if overlap(w, v)*2 > min(w.W*w.H, v.W*v.H) {
				seen = true
				if len([]rune(w.Text)) > len([]rune(out[i].Text)) {
					out[i] = w
				}
				break
			}
		}
		if !seen {
			out = append(out, w)
		}
	}
	return out
}

// overlap is the area two boxes share.
func overlap(a, b Word) int {
	w := min(a.X+a.W, b.X+b.W) - max(a.X, b.X)
	h := min(a.Y+a.H, b.Y+b.H) - max(a.Y, b.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// parseTSV turns tesseract's TSV output (level, page, block, paragraph,
// line, word, left, top, width, height, confidence, text) into words in
// screen pixels.
func parseTSV(tsv []byte) ([]Word, error) {
	var words []Word
	for i, row := range strings.Split(string(tsv), "\n") {
		f := strings.Split(strings.TrimRight(row, "\r"), "\t")
		if i == 0 || len(f) < 12 || f[0] != "5" {
			continue // the header, and page, block, paragraph and line rows
		}
		text := strings.TrimSpace(f[11])
		if text == "" {
			continue
		}
		var box [4]int
		for j := range box {
			n, err := strconv.Atoi(f[6+j])
			if err != nil {
				return nil, fmt.Errorf("row %d: %q is not a number", i+1, f[6+j])
			}
			box[j] = n / scale
		}
		words = append(words, Word{Text: text, X: box[0], Y: box[1], W: box[2], H: box[3]})
	}
	return words, nil
}

// rows groups words into rows, top to bottom. Rows are made here, from the
// words' boxes, not taken from tesseract's lines: tesseract reads a
// list's names, badges and generations as separate columns, a person
// reads them as rows.
func rows(words []Word) []Line {
	if len(words) == 0 {
		return nil
	}
	mid := func(w Word) int { return w.Y + w.H/2 }
	sort.SliceStable(words, func(i, j int) bool { return mid(words[i]) < mid(words[j]) })
	// Words taken by their middles, top to bottom: a gap of more than
	// half a typical word's height starts a new row. The median height
	// is the typical one: OCR gives a badge or an icon a box much taller
	// or shorter than the text beside it.
	heights := make([]int, len(words))
	for i, w := range words {
		heights[i] = w.H
	}
	slices.Sort(heights)
	tolerance := max(heights[len(heights)/2]/2, 2)
	var lines []Line
	prev := 0
	for _, w := range words {
		if len(lines) == 0 || mid(w)-prev > tolerance {
			lines = append(lines, Line{})
		}
		prev = mid(w)
		l := &lines[len(lines)-1]
		l.Words = append(l.Words, w)
	}
	for _, l := range lines {
		sort.SliceStable(l.Words, func(i, j int) bool { return l.Words[i].X < l.Words[j].X })
	}
	return lines
}

// confusions are the characters OCR mistakes for one another on Fyne's
// font: Loose accepts any of a group where the pattern has one of them.
var confusions = []string{"1lI|i!", "0Oo", "5S", "8B", ":;", ".,"}

// Loose compiles a pattern for text read by OCR: the words of want, in
// order, separated by anything that is not a letter or digit, or by
// nothing (OCR reads a dot between words, a badge's edge as a quote, and
// sometimes drops a space), case-insensitive, and with the characters of
// each confusion group standing for one another ("g1" matches "gl" and
// "g!"; "0 failed" matches "O0 failed", as OCR reads a glyph twice now
// and then). It does not match inside a longer word or number: "0 failed"
// does not match "10 failed". want is literal text, not a regular
// expression.
func Loose(want string) *regexp.Regexp {
	return Row(want)
}

// Row compiles a pattern for texts that stand on one row of the screen,
// in this order, with anything between them; each is matched as Loose
// matches it.
func Row(texts ...string) *regexp.Regexp {
	const (
		start = `(?i)(?:^|[^\pL\pN])`
		end   = `(?:$|[^\pL\pN])`
		gap   = `(?:[^\pL\pN]|[^\pL\pN].*[^\pL\pN])` // at least one non-word character
	)
	parts := make([]string, len(texts))
	for i, t := range texts {
		parts[i] = looseWords(t)
	}
	return regexp.MustCompile(start + strings.Join(parts, gap) + end)
}

// looseWords is the pattern of one Loose text, without its boundaries.
func looseWords(want string) string {
	var b strings.Builder
	for i, word := range strings.Fields(want) {
		if i > 0 {
			b.WriteString(`[^\pL\pN]*`)
		}
		for _, r := range word {
			b.WriteString(looseRune(r))
		}
	}
	return b.String()
}

func looseRune(r rune) string {
	for _, group := range confusions {
		if strings.ContainsRune(group, r) {
			// OCR now and then reads a glyph twice ("O0" for "0"); a
			// letter of the group may come first, a second digit may not
			// ("1 failed" must not match "11 failed").
			letters := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return -1
				}
				return r
			}, group)
			return "[" + regexp.QuoteMeta(letters) + "]?[" + regexp.QuoteMeta(group) + "]"
		}
	}
	return regexp.QuoteMeta(string(r))
}
