package studio

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/starhost"
)

const (
	// logMax is how many lines the log pane keeps.
	logMax = 2000
	// logRowChars is how much of a message a row shows.
	logRowChars = 400
)

// logLevels are the level filter's choices and the lowest level each
// shows.
var logLevels = []struct {
	label string
	min   int
}{
	{"All levels", 0},
	{"Info and above", 1},
	{"Warnings and above", 2},
	{"Errors only", 3},
}

// levelRank orders log levels: debug, info, warn, error.
func levelRank(level string) int {
	switch level {
	case "debug":
		return 0
	case "warn":
		return 2
	case "error":
		return 3
	default:
		return 1
	}
}

// normalLevel maps the level names integrations may use onto debug, info,
// warn and error.
func normalLevel(level string) string {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug", "trace":
		return "debug"
	case "warn", "warning":
		return "warn"
	case "error", "err", "fatal", "critical":
		return "error"
	default:
		return "info"
	}
}

// logLine is one line of the log pane.
type logLine struct {
	seq    uint64
	at     time.Time
	level  string // debug, info, warn or error
	source string // the integration, or the module's base name
	msg    string
	text   string // the whole line, as lines() and Copy give it
	lower  string // text in lower case, for the filter
}

func (l logLine) sequence() uint64 { return l.seq }

func newLogLine(at time.Time, level, source, msg string) logLine {
	l := logLine{at: at, level: normalLevel(level), source: source, msg: msg}
	l.text = fmt.Sprintf("%s %-5s ", clockTime(at), strings.ToUpper(l.level))
	if source != "" {
		l.text += source + ": "
	}
	l.text += msg
	l.lower = strings.ToLower(l.text)
	return l
}

// noticeLine turns a lifecycle notice into a log line.
func noticeLine(n starhost.Notice) logLine {
	at := n.Time
	if at.IsZero() {
		at = time.Now()
	}
	source := n.Integration
	if source == "" && n.Module != "" {
		source = filepath.Base(n.Module)
	}
	var level string
	switch n.Kind {
	case starhost.NoticeHandlerFailed, starhost.NoticeReloadFailed, starhost.NoticeWatchError:
		level = "error"
	case starhost.NoticeLog:
		level = n.Level
	case starhost.NoticeStateReset:
		level = "warn"
	default:
		level = "info"
	}
	return newLogLine(at, level, source, n.Summary())
}

// logPane shows lifecycle notices and integration logs, newest at the
// bottom. It keeps the last logMax lines and filters them by text and
// minimum level. All methods run on the UI goroutine.
type logPane struct {
	filteredList[logLine]
	minLevel int
	notShown int // lines dropped before the pane could show them (a storm)
	copy     func(string)

	level    *widget.Select
	copyBtn  *widget.Button
	clearBtn *widget.Button
	root     fyne.CanvasObject
}

// newLogPane builds an empty log pane; copy receives the visible text
// when Copy is pressed.
func newLogPane(copy func(string)) *logPane {
	p := &logPane{copy: copy}
	p.filteredList = filteredList[logLine]{limit: logMax, show: p.matches, describe: p.statusText}
	p.build("Filter lines…", newRowList(p.rows, newLogRowView))
	labels := make([]string, len(logLevels))
	for i, l := range logLevels {
		labels[i] = l.label
	}
	p.level = widget.NewSelect(labels, p.applyLevel)
	p.level.SetSelectedIndex(0)
	p.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		if p.copy != nil {
			p.copy(strings.Join(p.lines(), "\n"))
		}
	})
	p.clearBtn = widget.NewButtonWithIcon("Clear", theme.DeleteIcon(), func() { p.notShown = 0; p.clear() })
	p.root = p.layout("Log", p.level, p.copyBtn, p.clearBtn)
	return p
}

// object returns the log pane's UI.
func (p *logPane) object() fyne.CanvasObject { return p.root }

// add appends a notice of any kind but starhost.NoticeEvent (ignored;
// events go to the event stream).
func (p *logPane) add(n starhost.Notice) {
	if n.Kind == starhost.NoticeEvent {
		return
	}
	p.append(noticeLine(n))
}

// addLines appends a batch of lines made by noticeLine (oldest first),
// updating the pane once, and counts notShown lines dropped before they
// reached it.
func (p *logPane) addLines(lines []logLine, notShown int) {
	p.notShown += notShown
	for i := range lines {
		p.seq++
		lines[i].seq = p.seq
	}
	p.addAll(lines)
}

// addLine appends a line of the studio's own: level is debug, info, warn
// or error; source says where it comes from.
func (p *logPane) addLine(level, source, msg string) {
	p.append(newLogLine(time.Now(), level, source, msg))
}

func (p *logPane) append(l logLine) {
	p.seq++
	l.seq = p.seq
	p.filteredList.add(l)
}

// lines returns the visible lines as text, oldest first.
func (p *logPane) lines() []string {
	out := make([]string, len(p.shown))
	for i, l := range p.shown {
		out[i] = l.text
	}
	return out
}

func (p *logPane) applyLevel(label string) {
	for _, l := range logLevels {
		if l.label == label && l.min != p.minLevel {
			p.minLevel = l.min
			p.refilter()
		}
	}
}

// matches reports whether the level and the text filter let l through.
func (p *logPane) matches(l logLine) bool {
	return levelRank(l.level) >= p.minLevel && (p.filter == "" || strings.Contains(l.lower, p.filter))
}

// statusText is the status line: how many lines are kept and shown.
func (p *logPane) statusText() string {
	var msg string
	switch {
	case len(p.all) == 0:
		msg = "No log lines yet."
	case len(p.shown) == len(p.all):
		msg = fmt.Sprintf("%d lines (the last %d are kept)", len(p.all), logMax)
	default:
		msg = fmt.Sprintf("showing %d of %d lines", len(p.shown), len(p.all))
	}
	if p.notShown > 0 {
		msg += fmt.Sprintf(" · %d lines not shown", p.notShown)
	}
	return msg
}

// logRowView shows one logLine in columns: a level icon, time, source
// and message.
type logRowView struct {
	widget.BaseWidget
	icon       *widget.Icon
	at, source *widget.Label
	msg        *widget.Label
}

func newLogRowView() *logRowView {
	v := &logRowView{
		icon:   widget.NewIcon(theme.InfoIcon()),
		at:     newCell(fyne.TextStyle{Monospace: true}, widget.LowImportance, fyne.TextTruncateOff),
		source: newCell(fyne.TextStyle{Bold: true}, widget.MediumImportance, fyne.TextTruncateClip),
		msg:    widget.NewLabel(""),
	}
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer lays the row out in columns shared by every log row.
func (v *logRowView) CreateRenderer() fyne.WidgetRenderer {
	widths := []float32{
		theme.Size(theme.SizeNameInlineIcon),
		labelWidth("00:00:00.000", v.at.TextStyle),
		labelWidth("afterimage.star", v.source.TextStyle),
		0,
	}
	return widget.NewSimpleRenderer(newColumns(widths, container.NewCenter(v.icon), v.at, v.source, v.msg))
}

func (v *logRowView) set(l logLine) {
	switch l.level {
	case "error":
		v.icon.SetResource(theme.ErrorIcon())
		v.msg.Importance = widget.DangerImportance
	case "warn":
		v.icon.SetResource(theme.WarningIcon())
		v.msg.Importance = widget.WarningImportance
	case "debug":
		v.icon.SetResource(theme.InfoIcon())
		v.msg.Importance = widget.LowImportance
	default:
		v.icon.SetResource(theme.InfoIcon())
		v.msg.Importance = widget.MediumImportance
	}
	v.at.SetText(clockTime(l.at))
	v.source.SetText(l.source)
	// A row is one line; Copy gives the full text.
	v.msg.SetText(clipRunes(strings.ReplaceAll(l.msg, "\n", " ⏎ "), logRowChars))
}
