package studio

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/afstudio/afstudio/supervise"
)

// ControlAPI is the local control API server the settings view turns on
// and off (control.Service implements it).
type ControlAPI interface {
	// Serve starts serving on addr and returns the address it listens on.
	Serve(addr string) (string, error)
	// Stop stops serving.
	Stop() error
	// Addr returns the address served on, or "" when stopped.
	Addr() string
	// Token returns the bearer token clients must send.
	Token() string
}

// Preference keys of the control API settings.
const (
	prefAPIEnabled = "afstudio.api.enabled"
	prefAPIAddr    = "afstudio.api.addr"
	// DefaultAPIAddr is where the control API listens unless told otherwise.
	DefaultAPIAddr = "127.0.0.1:7777"
)

// prefMemoryLimit keeps the memory limit the user set for the worker.
const prefMemoryLimit = "afstudio.worker.memory_limit"

// MemoryLimitSetting returns the worker memory limit the user set in the
// Settings tab ("" when none), as written there (supervise.ParseMemoryLimit
// reads it).
func MemoryLimitSetting(p fyne.Preferences) string { return p.String(prefMemoryLimit) }

// APIEnabled reports whether the user turned the control API on in an
// earlier session, and on which address.
func APIEnabled(p fyne.Preferences) (bool, string) {
	return p.Bool(prefAPIEnabled), p.StringWithFallback(prefAPIAddr, DefaultAPIAddr)
}

// settingsView turns the control API on and off and shows its address
// and token, so that an engine can be connected without a terminal.
type settingsView struct {
	api     ControlAPI
	prefs   fyne.Preferences
	do      func(func())
	copy    func(string)
	enabled *widget.Check
	addr    *widget.Entry
	status  *widget.Label
	token   *widget.Entry
	root    fyne.CanvasObject
	busy    bool
}

func newSettingsView(api ControlAPI, prefs fyne.Preferences, do func(func()), copy func(string)) *settingsView {
	v := &settingsView{api: api, prefs: prefs, do: do, copy: copy}
	v.addr = widget.NewEntry()
	v.addr.SetText(prefs.StringWithFallback(prefAPIAddr, DefaultAPIAddr))
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.token = widget.NewPasswordEntry()
	v.token.Disable()
	v.enabled = widget.NewCheck("Serve the control API", func(on bool) { v.apply(on) })
	if api == nil {
		v.enabled.Disable()
		v.addr.Disable()
		v.status.SetText("The control API is not available in this build.")
		v.root = container.NewPadded(container.NewVBox(v.status))
		return v
	}
	v.token.SetText(api.Token())
	copyBtn := widget.NewButtonWithIcon("Copy token", theme.ContentCopyIcon(), func() { v.copy(api.Token()) })
	hint := widget.NewLabel("An engine delivers events with POST http://ADDRESS/v1/events/{event} and the header Authorization: Bearer TOKEN. The address binds to this computer only (127.0.0.1) unless afstudio runs with --allow-remote.")
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance
	form := widget.NewForm(
		widget.NewFormItem("", v.enabled),
		widget.NewFormItem("Address", v.addr),
		widget.NewFormItem("Token", container.NewBorder(nil, nil, nil, copyBtn, v.token)),
		widget.NewFormItem("Status", v.status),
	)
	title := widget.NewLabelWithStyle("Control API", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.root = container.NewPadded(container.NewVBox(title, form, hint))
	v.showState()
	return v
}

func (v *settingsView) object() fyne.CanvasObject { return v.root }

// showState reflects whether the API serves (UI goroutine).
func (v *settingsView) showState() {
	if v.api == nil {
		return
	}
	addr := v.api.Addr()
	v.busy = true
	v.enabled.SetChecked(addr != "")
	v.busy = false
	if addr != "" {
		v.addr.SetText(addr)
		v.status.SetText(fmt.Sprintf("Serving on http://%s", addr))
		v.addr.Disable()
	} else {
		v.status.SetText("Off")
		v.addr.Enable()
	}
}

// apply turns the API on or off as the user asked (the check box).
func (v *settingsView) apply(on bool) {
	if v.busy {
		return
	}
	addr := v.addr.Text
	v.prefs.SetBool(prefAPIEnabled, on)
	v.prefs.SetString(prefAPIAddr, addr)
	go func() {
		var err error
		if on {
			_, err = v.api.Serve(addr)
		} else {
			err = v.api.Stop()
		}
		v.do(func() {
			v.showState()
			if err != nil {
				v.status.SetText("Not serving: " + err.Error())
				v.prefs.SetBool(prefAPIEnabled, false)
			}
		})
	}()
}

// workerSettings is the Settings tab's section about the integrations'
// worker process: its memory limit, saved for the next start.
type workerSettings struct {
	limit  *widget.Entry
	status *widget.Label
	root   fyne.CanvasObject
}

// newWorkerSettings returns the section; current is the limit in effect
// ("" when the integrations do not run in this studio's worker).
func newWorkerSettings(prefs fyne.Preferences, current string) *workerSettings {
	w := &workerSettings{limit: widget.NewEntry(), status: widget.NewLabel("")}
	w.status.Wrapping = fyne.TextWrapWord
	title := widget.NewLabelWithStyle("Integrations' worker", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if current == "" {
		w.limit.Disable()
		w.status.SetText("The integrations this window shows do not run in its worker process (--in-process, --connect, or Windows).")
		w.root = container.NewVBox(title, w.status)
		return w
	}
	w.limit.SetText(prefs.StringWithFallback(prefMemoryLimit, current))
	w.limit.SetPlaceHolder("e.g. 1GiB, 512MiB; 0: no limit")
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() {
		text := strings.TrimSpace(w.limit.Text)
		if _, err := supervise.ParseMemoryLimit(text); err != nil {
			w.status.SetText("Not saved: " + err.Error())
			return
		}
		prefs.SetString(prefMemoryLimit, text)
		w.status.SetText(fmt.Sprintf("Saved: %s from the next start of afstudio (now %s).", text, current))
	})
	w.status.SetText(fmt.Sprintf("Now %s. When the worker uses more, it is restarted and the integration that was running is quarantined; --memory-limit overrides this setting.", current))
	form := widget.NewForm(widget.NewFormItem("Memory limit", container.NewBorder(nil, nil, nil, save, w.limit)), widget.NewFormItem("", w.status))
	w.root = container.NewVBox(title, form)
	return w
}
