// Package remotehost is a host of integrations reached over the control
// API: it implements the studio's Host with a control client and the
// host's notice stream.
//
// A Host's methods mean what the starhost.Manager methods of the same
// name mean, and its errors carry the same meaning: errors.Is finds
// starhost.ErrNotFound and starhost.ErrStateNotSaved where the Manager's
// would, and starhost.Diagnose finds the diagnostics (file, line, col) of
// a failed reload or add. One goroutine relays the host's notice stream
// (GET /v1/notices) to Subscribe's subscribers and reconnects when the
// stream breaks: a supervised worker that is restarted comes back on the
// same address.
//
// The methods without a context are called from a UI goroutine: they
// give up after Options.Timeout, and while the host is unreachable the
// reads answer from the last view fetched (Snapshot, Names,
// IntegrationInfo, IsAvailable) and the changes fail at once.
//
// The package does not import the studio (and so not Fyne); the studio's
// tests check that *Host is a studio.Host.
package remotehost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost"
)

// Defaults of Options.
const (
	DefaultTimeout    = 3 * time.Second       // Options.Timeout
	DefaultMinBackoff = 20 * time.Millisecond // Options.MinBackoff
	DefaultMaxBackoff = 1 * time.Second       // Options.MaxBackoff
)

// Options configure a Host. The zero value takes the defaults.
type Options struct {
	// Timeout bounds New's checks and each method without a context; 0:
	// DefaultTimeout.
	Timeout time.Duration
	// MinBackoff is the first wait before the notice stream is opened
	// again after it broke, doubled after every failed attempt up to
	// MaxBackoff; zero fields take DefaultMinBackoff and
	// DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// NoticeLimit asks the host to send at most this many events,
	// results and logs a second (a window that draws a few times a
	// second need not have the host encode every one); the others count
	// as dropped for the subscribers (Subscription.Dropped). 0: all.
	NoticeLimit int
	// Logger receives the relay's logs (lost and found again); nil
	// discards them.
	Logger *slog.Logger
}

// ErrUnreachable is wrapped by New's error when nothing answers at the
// URL (yet): a caller waiting for a host that starts may try again.
var ErrUnreachable = errors.New("unreachable")

// A Host is a host of integrations in another process, reached over the
// control API. Get one from New and Close it when done; its methods are
// safe for concurrent use.
type Host struct {
	at      atomic.Pointer[endpoint] // where the host is; Retarget moves it
	token   string
	timeout time.Duration
	minBack time.Duration
	maxBack time.Duration
	log     *slog.Logger

	hub       starhost.NoticeHub
	limit     int         // Options.NoticeLimit
	connected atomic.Bool // the notice stream is open

	mu   sync.Mutex
	last starhost.View // the last view fetched; zero before the first

	cancel       context.CancelFunc
	done         chan struct{} // closed when the relay has returned
	streamMu     sync.Mutex
	streamCancel context.CancelFunc // ends the notice stream open now; Retarget calls it
	retargeted   chan struct{}      // Retarget wakes a relay waiting to reconnect
}

// endpoint is where a Host's API is: its base URL and a client for it.
type endpoint struct {
	url string
	c   *client.Client
}

// New connects to the host whose control API is at baseURL (for example
// "http://127.0.0.1:7777") with the token that `afstudio token` prints
// on its machine. It checks that the host answers and accepts the token,
// reads its view and opens its notice stream (waiting for it at most
// Options.Timeout: a stream that opens later is relayed from then on).
// ctx bounds the checks, not the Host's life.
func New(ctx context.Context, baseURL, token string, opts Options) (*Host, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("connect to %q: not a URL of the control API; give one such as http://127.0.0.1:7777", baseURL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = opts.MinBackoff
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Host{token: token, timeout: opts.Timeout, retargeted: make(chan struct{}, 1),
		minBack: opts.MinBackoff, maxBack: opts.MaxBackoff, log: opts.Logger, done: make(chan struct{}), limit: opts.NoticeLimit}

	h.at.Store(&endpoint{url: strings.TrimRight(baseURL, "/"), c: client.New(baseURL, token)})
	cctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	if err := h.c().Health(cctx); err != nil {
		return nil, fmt.Errorf("connect to %s: no afstudio host answers there (%w: %w); start one with `afstudio run --headless --listen ADDR`, or check the address", h.URL(), ErrUnreachable, err)
	}
	v, err := h.c().View(cctx)
	if err != nil {
		var ae *client.Error
		switch {
		case errors.As(err, &ae) && ae.Status == 401:
			return nil, fmt.Errorf("connect to %s: the host refused the token; pass the token that `afstudio token` prints on the host's machine", h.URL())
		case errors.As(err, &ae) && ae.Status == 503: // a cluster host's partition being taken: ready in a moment
			return nil, fmt.Errorf("connect to %s: %s (%w)", h.URL(), ae.Body.Error, ErrUnreachable)
		case errors.As(err, &ae) && ae.Status == 404:
			return nil, fmt.Errorf("connect to %s: the host does not serve GET /v1/view (%s): a cluster host serves each partition at /p/N; otherwise it runs an older afstudio: update it", h.URL(), ae.Body.Error)
		}
		return nil, fmt.Errorf("connect to %s: read the host's integrations: %w", h.URL(), err)
	}
	h.last = viewOf(v)

	rctx, rcancel := context.WithCancel(context.Background())
	h.cancel = rcancel
	opened := make(chan struct{})
	go h.relay(rctx, opened)
	select {
	case <-opened:
	case <-cctx.Done():
		h.log.Warn("the host's notice stream did not open in time; it is relayed once it does", "url", h.URL())
	}
	return h, nil
}

// Close stops the notice relay and waits for it. Subscriptions stay open
// (and receive nothing more) until their owners close them.
func (h *Host) Close() {
	h.cancel()
	<-h.done
}

// URL returns the address of the host's control API, as given to New
// (without a trailing slash).
func (h *Host) URL() string { return h.at.Load().url }

// c returns the client of the host's API.
func (h *Host) c() *client.Client { return h.at.Load().c }

// Retarget moves the Host to the API at baseURL (another partition of a
// cluster host, http://HOST:PORT/p/N), with the same token: it reads the
// view there, then relays that host's notice stream instead of the one
// it relayed. On an error the Host stays where it was.
func (h *Host) Retarget(ctx context.Context, baseURL string) error {
	ep := &endpoint{url: strings.TrimRight(baseURL, "/"), c: client.New(baseURL, h.token)}
	cctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	v, err := ep.c.View(cctx)
	if err != nil {
		return fmt.Errorf("show %s: %w", ep.url, err)
	}
	h.mu.Lock()
	h.at.Store(ep)
	h.last = viewOf(v)
	h.mu.Unlock()
	h.streamMu.Lock()
	if h.streamCancel != nil {
		h.streamCancel()
	}
	h.streamMu.Unlock()
	select {
	case h.retargeted <- struct{}{}:
	default: // a wake-up is pending already
	}
	h.log.Info("showing another host", "url", ep.url)
	return nil
}

// Connected reports whether the host's notice stream is open: false while
// the host cannot be reached (the relay is reconnecting).
func (h *Host) Connected() bool { return h.connected.Load() }

// relay fills the hub from the host's notice stream until ctx ends,
// opening it again (after a backoff) whenever it breaks; it closes opened
// the first time the stream opens, and h.done when it returns.
func (h *Host) relay(ctx context.Context, opened chan struct{}) {
	defer close(h.done)
	defer h.connected.Store(false)
	backoff := h.minBack
	lost := false
	var first sync.Once
	onOpen := func() {
		h.connected.Store(true)
		backoff = h.minBack
		if lost {
			lost = false
			h.log.Info("found the host again", "url", h.URL())
			h.hub.Publish(starhost.Notice{Kind: starhost.NoticeLog, Level: "info", Message: fmt.Sprintf("connected to the host at %s again", h.URL())})
		}
		first.Do(func() { close(opened) })
	}
	for {
		sctx, scancel := context.WithCancel(ctx)
		h.streamMu.Lock()
		h.streamCancel = scancel
		h.streamMu.Unlock()
		err := h.c().NoticeStream(sctx, client.StreamOptions{Opened: onOpen, Limit: h.limit}, h.relayNotice)
		retargeted := sctx.Err() != nil
		scancel()
		if ctx.Err() != nil {
			return
		}
		if retargeted { // Retarget ended it: open the new host's at once
			continue
		}
		h.connected.Store(false)
		if !lost {
			lost = true
			why := "the host ended the notice stream"
			if err != nil {
				why = err.Error()
			}
			h.log.Warn("lost the host; reconnecting", "url", h.URL(), "error", why)
			h.hub.Publish(starhost.Notice{Kind: starhost.NoticeLog, Level: "error", Message: fmt.Sprintf("lost the host at %s: %s; reconnecting", h.URL(), why)})
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-h.retargeted: // somewhere else now: try there at once
			t.Stop()
			continue
		case <-t.C:
		}
		backoff = min(2*backoff, h.maxBack)
	}
}

// call returns a context for a method without one: bounded by the
// timeout.
func (h *Host) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), h.timeout)
}

// errLost is the error of a change asked while the host is unreachable.
func (h *Host) errLost(op string) error {
	return fmt.Errorf("%s: lost the host at %s; reconnecting", op, h.URL())
}

// viewOf returns the view of a /v1/view answer, with each Info's Recent
// filled in.
func viewOf(hv control.HostView) starhost.View {
	v := hv.View
	if v.Integrations == nil {
		v.Integrations = []starhost.Info{}
	}
	if v.FailedModules == nil {
		v.FailedModules = []starhost.ModuleError{}
	}
	for i := range v.Integrations {
		in := &v.Integrations[i]
		if rs := hv.Recent[in.Name]; len(rs) > 0 {
			in.Recent = make([]time.Duration, len(rs))
			for j, d := range rs {
				in.Recent[j] = d.Std()
			}
		}
	}
	for i := range v.FailedModules {
		fm := &v.FailedModules[i]
		l := make(starhost.DiagnosticList, len(fm.Errors))
		for j := range fm.Errors {
			l[j] = &fm.Errors[j]
		}
		if len(l) > 0 {
			fm.Err = l
		}
	}
	return v
}

// lastView returns the last view fetched.
func (h *Host) lastView() starhost.View {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// Snapshot returns the host's view (Manager.Snapshot), fetched now; when
// the host cannot be reached, or does not answer within the timeout, the
// last view fetched (the zero View before any). Do not change the View:
// it may be the one the next failure returns.
func (h *Host) Snapshot() starhost.View {
	if !h.Connected() {
		return h.lastView()
	}
	ctx, cancel := h.call()
	defer cancel()
	at := h.at.Load()
	hv, err := at.c.View(ctx)
	if err != nil {
		h.log.Debug("snapshot: answering the last view", "url", at.url, "error", err)
		return h.lastView()
	}
	v := viewOf(hv)
	h.mu.Lock()
	if h.at.Load() == at { // not moved by Retarget meanwhile: the view of where it is now
		h.last = v
	}
	h.mu.Unlock()
	return v
}

// Names returns the names of every integration in dispatch order
// (Manager.Names), from Snapshot.
func (h *Host) Names() []string {
	v := h.Snapshot()
	out := make([]string, len(v.Integrations))
	for i, in := range v.Integrations {
		out[i] = in.Name
	}
	return out
}

// IntegrationInfo returns the named integration's info, or false when the
// host has none of that name (Manager.IntegrationInfo); when the host
// cannot be reached, what the last view says. The Info has no Recent
// latencies (Snapshot's have).
func (h *Host) IntegrationInfo(name string) (starhost.Info, bool) {
	if h.Connected() {
		ctx, cancel := h.call()
		defer cancel()
		in, err := h.c().IntegrationInfo(ctx, name)
		var ae *client.Error
		switch {
		case err == nil:
			return in, true
		case errors.As(err, &ae) && ae.Status == 404 && !noEndpoint(ae):
			return starhost.Info{}, false
		}
	}
	v := h.lastView()
	for _, in := range v.Integrations {
		if in.Name == name {
			return in, true
		}
	}
	return starhost.Info{}, false
}

// IsAvailable reports whether the named integration is loaded and
// switched on (Manager.IsAvailable), as IntegrationInfo reads it.
func (h *Host) IsAvailable(name string) bool {
	in, ok := h.IntegrationInfo(name)
	return ok && in.Available
}

// Subscribe returns a subscription to the host's notices from now on
// (Manager.Subscribe), and to the relay's own: a log notice at level
// "error" when the host is lost, one at level "info" when it is back.
// Notices the host published while it was unreachable are not seen.
func (h *Host) Subscribe(buffer int) *starhost.Subscription { return h.hub.Subscribe(buffer) }

// Emit delivers one event and returns each handler's result
// (Manager.Emit). It goes through POST /v1/events, whose answer keeps
// the results of an event that was handled when the error is
// starhost.ErrStateNotSaved, as Manager.Emit does.
func (h *Host) Emit(ctx context.Context, event string, data map[string]any) ([]starhost.Result, error) {
	out, err := h.c().EmitBatch(ctx, []control.BatchEvent{{Event: event, Data: data}})
	if err != nil {
		return nil, h.fail("emit "+event, err)
	}
	if len(out) != 1 {
		return nil, fmt.Errorf("emit %s: the host answered %d outcomes for one event", event, len(out))
	}
	r := out[0]
	if r.Error == "" {
		return r.Results, nil
	}
	msg := strings.TrimPrefix(r.Error, "events[0]: ")
	if strings.Contains(msg, starhost.ErrStateNotSaved.Error()) {
		return r.Results, &Error{Message: msg, sentinel: starhost.ErrStateNotSaved}
	}
	return nil, &Error{Message: msg}
}

// ReloadIntegration reloads the named integration (Manager.ReloadIntegration).
// A failed reload's error has the diagnostics (starhost.Diagnose); an
// unknown name is starhost.ErrNotFound.
func (h *Host) ReloadIntegration(ctx context.Context, name string) error {
	if _, err := h.c().ReloadIntegration(ctx, name); err != nil {
		return h.fail("reload "+name, err)
	}
	return nil
}

// ReloadAllIntegrations reloads every integration and returns each one's
// error by name, nil for those that went live (Manager.ReloadAllIntegrations).
// When the host cannot be reached, every integration of the last view has
// that error.
func (h *Host) ReloadAllIntegrations(ctx context.Context) map[string]error {
	res, err := h.c().ReloadAllIntegrations(ctx)
	if err != nil {
		err = h.fail("reload all", err)
		out := map[string]error{}
		for _, in := range h.lastView().Integrations {
			out[in.Name] = err
		}
		return out
	}
	out := make(map[string]error, len(res))
	for name, r := range res {
		if r.OK {
			out[name] = nil
			continue
		}
		e := &Error{Status: 422, Message: fmt.Sprintf("reload of %s failed; the previous version keeps serving", name)}
		if r.Error != nil {
			e.Diagnostics = starhost.DiagnosticList{r.Error}
		}
		out[name] = e
	}
	return out
}

// ReloadFiles brings the host in line with files as they are now on its
// disk (Manager.ReloadFiles): paths are paths on the host's machine. When
// the host cannot be reached, each path has an outcome with that error.
func (h *Host) ReloadFiles(ctx context.Context, paths []string) []starhost.Outcome {
	res, err := h.c().ReloadFiles(ctx, paths)
	if err != nil {
		err = h.fail("reload files", err)
		out := make([]starhost.Outcome, len(paths))
		for i, p := range paths {
			out[i] = starhost.Outcome{Module: p, Err: err}
		}
		return out
	}
	var out []starhost.Outcome
	for _, fo := range res {
		o := starhost.Outcome{Integration: fo.Integration, Module: fo.Module, Removed: fo.Removed}
		if fo.Error != "" {
			e := &Error{Message: fo.Error}
			for i := range fo.Diagnostics {
				e.Diagnostics = append(e.Diagnostics, &fo.Diagnostics[i])
			}
			for _, s := range fo.Is {
				switch s {
				case "not_found":
					e.sentinel = starhost.ErrNotFound
				case "state_not_saved":
					e.sentinel = starhost.ErrStateNotSaved
				}
			}
			o.Err = e
		}
		out = append(out, o)
	}
	return out
}

// AddIntegration adds integrations from a module (Manager.AddIntegration).
// Unlike the Manager, the host's API only adds modules inside its
// integration folders (a relative path is relative to the first): add the
// folder of a file elsewhere first (AddRoot).
func (h *Host) AddIntegration(ctx context.Context, module, class string) ([]starhost.Info, error) {
	ins, err := h.c().AddIntegration(ctx, module, class)
	if err != nil {
		return nil, h.fail("add "+module, err)
	}
	return ins, nil
}

// AddRoot adds an integration folder and loads its modules
// (Manager.AddRoot). dir is a folder on the host's machine; a relative
// path is made absolute here, against this process's working directory.
func (h *Host) AddRoot(ctx context.Context, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("add folder %s: %w", dir, err)
	}
	if _, err := h.c().AddRoot(ctx, abs); err != nil {
		return h.fail("add folder "+abs, err)
	}
	return nil
}

// RemoveIntegration removes the named integration
// (Manager.RemoveIntegration); an unknown name is starhost.ErrNotFound.
func (h *Host) RemoveIntegration(ctx context.Context, name string) error {
	if err := h.c().RemoveIntegration(ctx, name); err != nil {
		return h.fail("remove "+name, err)
	}
	return nil
}

// RemoveModule removes every integration a module declares and forgets
// its failure (Manager.RemoveModule); it returns the names removed.
func (h *Host) RemoveModule(ctx context.Context, module string) ([]string, error) {
	names, err := h.c().RemoveModule(ctx, module)
	if err != nil {
		return nil, h.fail("remove "+module, err)
	}
	return names, nil
}

// EnableIntegration switches the named integration on
// (Manager.EnableIntegration).
func (h *Host) EnableIntegration(name string) error {
	return h.change("switch "+name, func(ctx context.Context) error {
		_, err := h.c().EnableIntegration(ctx, name)
		return err
	})
}

// DisableIntegration switches the named integration off
// (Manager.DisableIntegration).
func (h *Host) DisableIntegration(name string) error {
	return h.change("switch "+name, func(ctx context.Context) error {
		_, err := h.c().DisableIntegration(ctx, name)
		return err
	})
}

// StateJSON returns the named integration's state in its JSON form
// (Manager.StateJSON).
func (h *Host) StateJSON(name string) ([]byte, error) {
	var b []byte
	err := h.change("state of "+name, func(ctx context.Context) error {
		raw, err := h.c().State(ctx, name)
		b = raw
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ResetState empties the named integration's state (Manager.ResetState).
func (h *Host) ResetState(name string) error {
	return h.change("reset state of "+name, func(ctx context.Context) error { return h.c().ResetState(ctx, name) })
}

// ForgetState empties the named integration's state and deletes its
// stored record (Manager.ForgetState).
func (h *Host) ForgetState(name string) error {
	return h.change("forget state of "+name, func(ctx context.Context) error { return h.c().ForgetState(ctx, name) })
}

// ExportStates returns the states of the named integrations, of every
// one when none is named (Manager.ExportStates).
func (h *Host) ExportStates(names ...string) (starhost.StateExport, error) {
	var e starhost.StateExport
	err := h.change("export state", func(ctx context.Context) error {
		var err error
		e, err = h.c().ExportStates(ctx, names...)
		return err
	})
	if err != nil {
		return starhost.StateExport{}, err
	}
	return e, nil
}

// ImportStates replaces the states of the named integrations, all or
// nothing (Manager.ImportStates). A state that is not JSON at all is
// refused here, before the host sees any.
func (h *Host) ImportStates(ctx context.Context, states map[string][]byte) error {
	e := starhost.NewStateExport(time.Now())
	for _, name := range slices.Sorted(maps.Keys(states)) {
		if !json.Valid(states[name]) {
			return fmt.Errorf("import state of %s: not valid JSON; nothing was imported", name)
		}
		e.Integrations[name] = starhost.ExportedState{State: states[name]}
	}
	if err := h.c().ImportStates(ctx, e); err != nil {
		return h.fail("import state", err)
	}
	return nil
}

// change runs a method without a context: at once an error while the
// host is unreachable, otherwise fn within the timeout, its error mapped
// by fail.
func (h *Host) change(op string, fn func(ctx context.Context) error) error {
	if !h.Connected() {
		return h.errLost(op)
	}
	ctx, cancel := h.call()
	defer cancel()
	if err := fn(ctx); err != nil {
		return h.fail(op, err)
	}
	return nil
}

// noEndpoint reports whether a 404 says that the host has no such
// endpoint (an older afstudio), not that a name is unknown.
func noEndpoint(ae *client.Error) bool {
	return strings.HasPrefix(ae.Body.Error, "no endpoint ")
}

// fail maps an error of the client to one with the Manager's meaning: an
// answer of the host becomes an *Error (404 wraps starhost.ErrNotFound,
// 503 starhost.ErrStateNotSaved, the body's diagnostics are its
// diagnostics); a failure to reach the host says so, naming its URL.
func (h *Host) fail(op string, err error) error {
	var ae *client.Error
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: the host at %s does not answer: %w", op, h.URL(), err)
	}
	e := &Error{Status: ae.Status, Message: ae.Body.Error}
	switch {
	case len(ae.Body.Problems) > 0:
		for i := range ae.Body.Problems {
			e.Diagnostics = append(e.Diagnostics, &ae.Body.Problems[i])
		}
	case ae.Body.Diagnostic != nil:
		e.Diagnostics = starhost.DiagnosticList{ae.Body.Diagnostic}
	}
	switch {
	case ae.Status == 404 && noEndpoint(ae):
		e.Message = fmt.Sprintf("%s: the host at %s does not have this endpoint: it runs an older afstudio; update it (%s)", op, h.URL(), ae.Body.Error)
	case ae.Status == 404:
		e.sentinel = starhost.ErrNotFound
	case ae.Status == 503:
		e.sentinel = starhost.ErrStateNotSaved
	case ae.Status == 409 && strings.Contains(ae.Body.Error, starhost.ErrNoShadow.Error()):
		e.sentinel = starhost.ErrNoShadow
	case ae.Status == 401:
		e.Message = fmt.Sprintf("%s: the host at %s refused the token; pass the token that `afstudio token` prints on its machine", op, h.URL())
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("%s: the host answered %d", op, ae.Status)
	}
	return e
}

// An Error is an error the host answered. errors.Is finds in it the
// host's sentinel errors (starhost.ErrNotFound for an unknown name,
// starhost.ErrStateNotSaved for a change done but not on disk), and
// starhost.Diagnose its diagnostics.
type Error struct {
	// Status is the HTTP status of the answer; 0 for an error the host
	// reported inside a successful answer (an Outcome of ReloadFiles, an
	// event of Emit).
	Status int
	// Message is the host's message.
	Message string
	// Diagnostics are the error's positions in the user's code (file,
	// line, col), when it has any.
	Diagnostics starhost.DiagnosticList
	sentinel    error // starhost.ErrNotFound, starhost.ErrStateNotSaved or nil
}

// Error returns the host's message, followed by the first diagnostic when
// the message does not hold it already.
func (e *Error) Error() string {
	if len(e.Diagnostics) > 0 {
		if d := e.Diagnostics[0].Error(); !strings.Contains(e.Message, d) {
			return e.Message + ": " + d
		}
	}
	return e.Message
}

// Unwrap returns the sentinel error and the diagnostics the error
// carries, for errors.Is and starhost.Diagnose.
func (e *Error) Unwrap() []error {
	var out []error
	if e.sentinel != nil {
		out = append(out, e.sentinel)
	}
	if len(e.Diagnostics) > 0 {
		out = append(out, e.Diagnostics)
	}
	return out
}

// Notify publishes n to this Host's subscribers only (not to the host):
// what a watcher in this process finds (a file that vanished, a folder it
// cannot watch) shows with the host's own notices.
func (h *Host) Notify(n starhost.Notice) { h.hub.Publish(n) }

// relayNotice publishes a notice of the host's stream to the
// subscribers, or counts the notices a limited stream left out as
// dropped.
func (h *Host) relayNotice(n starhost.Notice) {
	if n.Kind == control.NoticeDropped {
		if m, ok := n.Data.(map[string]any); ok {
			if d, ok := m["dropped"].(float64); ok && d > 0 {
				h.hub.Lost(uint64(d))
			}
		}
		return
	}
	h.hub.Publish(n)
}

// StartShadow turns the named integration's shadow mode on
// (Manager.StartShadow).
func (h *Host) StartShadow(name string) error {
	return h.change("shadow "+name, func(ctx context.Context) error {
		_, err := h.c().StartShadow(ctx, name)
		return err
	})
}

// ShadowReport returns what the named integration's shadow did
// differently so far (Manager.ShadowReport).
func (h *Host) ShadowReport(name string) (starhost.ShadowReport, error) {
	var rep starhost.ShadowReport
	err := h.change("shadow report of "+name, func(ctx context.Context) error {
		var err error
		rep, err = h.c().ShadowReport(ctx, name)
		return err
	})
	return rep, err
}

// PromoteShadow swaps the named integration's shadow in
// (Manager.PromoteShadow); errors.Is finds starhost.ErrNoShadow when
// there is none.
func (h *Host) PromoteShadow(ctx context.Context, name string) error {
	if _, err := h.c().PromoteShadow(ctx, name); err != nil {
		return h.fail("promote "+name, err)
	}
	return nil
}

// DiscardShadow drops the named integration's shadow and turns its
// shadow mode off (Manager.DiscardShadow).
func (h *Host) DiscardShadow(name string) error {
	return h.change("discard shadow of "+name, func(ctx context.Context) error { return h.c().DiscardShadow(ctx, name) })
}
