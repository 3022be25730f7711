// Package control is afstudio's local control API: JSON over HTTP,
// versioned under /v1, token-protected, for a mission engine that
// delivers events and for scripts that manage integrations. It is a front
// end like the studio: it talks to the host only through the
// starhost.Manager API and its notices. Package control/client is its Go
// client; the endpoints carry the Manager's names (see the starhost
// package documentation for the mapping to the Python API).
//
//	GET    /v1/health                        liveness (no token)
//	GET    /v1/integrations                  Snapshot: every integration's info and the failed modules
//	GET    /v1/integrations/{name}           IntegrationInfo (404 when unknown)
//	POST   /v1/integrations/{name}/reload    ReloadIntegration (422 with the error; the old version serves)
//	POST   /v1/reload                        ReloadAllIntegrations: name -> ReloadResult
//	POST   /v1/integrations                  AddIntegration: AddRequest {"module": PATH, "class": NAME} -> 201 AddResponse
//	DELETE /v1/integrations/{name}           RemoveIntegration (204; 404 when unknown)
//	POST   /v1/events/{event}                Emit; body: the data (a JSON object) -> EmitResponse;
//	                                         with an Idempotency-Key header, EmitID
//	POST   /v1/events                        Emit many: BatchRequest (an optional "id" per event) -> BatchResponse
//	GET    /v1/notices                       server-sent events: lifecycle notices and handler results
//	POST   /v1/open                          add .star files, as if dropped on the studio (OpenRequest)
//
// hostapi.go adds the endpoints a remote studio drives a host with (view,
// files/reload, modules/remove, roots, state/reset, GET and PUT /v1/state).
//
// Every error answers a JSON body {"error": "what is wrong and what to
// do", "diagnostic": {file, line, col, message, kind}} (the diagnostic
// only when there is one): 400 for a bad body, 401 for a missing or wrong
// token, 404 for an unknown name or path, 405 with an Allow header for a
// known path asked with another method, 413 for an oversized body, 422
// when the host refuses a change.
package control

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/afstudio/afstudio/control/internal/jsonwire"
	"github.com/afstudio/afstudio/starhost"
)

// Limits of a request; a request past one answers 413.
const (
	MaxBodyBytes  = 1 << 20  // bytes in the body of one event or a management request
	MaxBatchBytes = 16 << 20 // bytes in the body of a batch of events (POST /v1/events)
	MaxBatch      = 10_000   // events in one batch
)

// Options configure a Handler.
type Options struct {
	// Token is the bearer token every request but health must carry
	// (Authorization: Bearer TOKEN, compared in constant time). ""
	// refuses every such request: there is no unauthenticated mode.
	Token string
	// Version is reported by health; "" reports "".
	Version string
	// Open adds files as if dropped on the window (POST /v1/open); nil
	// disables that endpoint (the headless host).
	Open func(files []string) error
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
	// AnyFile lets POST /v1/integrations add a .star file anywhere, as
	// the studio's window does (a studio's worker serves its window over
	// a private API); false keeps additions inside the integration
	// folders.
	AnyFile bool
	// Greeting are notices every notice stream opens with, before the
	// live ones: a worker started again by its supervisor greets the
	// clients that reconnect with why the previous one stopped.
	Greeting []starhost.Notice
}

// Handler serves the API for one host. Get one from NewHandler; it is
// safe for concurrent use, and serves any number of servers.
type Handler struct {
	m    *starhost.Manager
	opts Options
	mux  *http.ServeMux
	log  *slog.Logger
}

// NewHandler returns the API's HTTP handler for m. Serve it with Listen,
// or with any http.Server (httptest in tests).
func NewHandler(m *starhost.Manager, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{m: m, opts: opts, mux: http.NewServeMux(), log: opts.Logger}
	h.handle("GET /v1/health", h.health)
	h.handle("GET /v1/integrations", h.auth(h.list))
	h.handle("GET /v1/integrations/{name}", h.auth(h.info))
	h.handle("POST /v1/integrations/{name}/reload", h.auth(h.reload))
	h.handle("POST /v1/reload", h.auth(h.reloadAll))
	h.handle("POST /v1/integrations", h.auth(h.add))
	h.handle("DELETE /v1/integrations/{name}", h.auth(h.remove))
	h.handle("GET /v1/integrations/{name}/state", h.auth(h.state))
	h.handle("PUT /v1/integrations/{name}/state", h.auth(h.putState))
	h.handle("DELETE /v1/integrations/{name}/state", h.auth(h.forgetState))
	h.handle("POST /v1/integrations/{name}/enable", h.auth(h.switchTo(true)))
	h.handle("POST /v1/integrations/{name}/disable", h.auth(h.switchTo(false)))
	h.handle("POST /v1/events/{event}", h.auth(h.emit))
	h.handle("POST /v1/events", h.auth(h.emitBatch))
	h.handle("GET /v1/notices", h.auth(h.notices))
	h.handle("POST /v1/open", h.auth(h.open))
	h.handle("GET /v1/view", h.auth(h.view))
	h.handle("POST /v1/files/reload", h.auth(h.reloadFiles))
	h.handle("POST /v1/modules/remove", h.auth(h.removeModule))
	h.handle("POST /v1/roots", h.auth(h.addRoot))
	h.handle("POST /v1/integrations/{name}/state/reset", h.auth(h.resetState))
	h.handle("GET /v1/state", h.auth(h.exportStates))
	h.handle("PUT /v1/state", h.auth(h.importStates))
	h.handle("PUT /v1/integrations/{name}/shadow", h.auth(h.startShadow))
	h.handle("GET /v1/integrations/{name}/shadow", h.auth(h.shadowReport))
	h.handle("POST /v1/integrations/{name}/shadow/promote", h.auth(h.promoteShadow))
	h.handle("DELETE /v1/integrations/{name}/shadow", h.auth(h.discardShadow))
	// No catch-all "/" pattern: it would match every method on every
	// path and hide the mux's 405. ServeHTTP dresses the mux's own 404
	// and 405 answers in the JSON error body instead.
	return h
}

// ServeHTTP implements http.Handler. A path no endpoint serves answers 404
// and a known path asked with another method answers 405 with an Allow
// header, both with the JSON error body of every other error; a panic in
// a handler becomes a 500.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("control API handler panicked", "path", r.URL.Path, "panic", p)
			writeError(w, http.StatusInternalServerError, "internal error", nil)
		}
	}()
	// When no endpoint matches, the mux answers 404, 405 or a redirect
	// to the cleaned path; unmatched rewrites the first two as JSON. An
	// endpoint unwraps it (handle). Routing once here and again in the
	// mux cost more than this one allocation.
	h.mux.ServeHTTP(&unmatched{ResponseWriter: w, r: r}, r)
}

// handle registers an endpoint with the mux; fn gets the server's own
// response writer, not the unmatched one ServeHTTP gives the mux.
func (h *Handler) handle(pattern string, fn http.HandlerFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if u, ok := w.(*unmatched); ok {
			w = u.ResponseWriter
		}
		fn(w, r)
	})
}

// unmatched is the response writer ServeHTTP gives the mux, which writes
// to it only when no endpoint matched the request. It replaces the mux's
// plain-text 404 and 405 answers with the API's JSON error (keeping the
// Allow header the mux sets for a 405) and passes any other answer
// through.
type unmatched struct {
	http.ResponseWriter
	r       *http.Request
	written bool // the JSON error is written; drop the mux's body
}

// WriteHeader writes the JSON error for a 404 or a 405, or passes code on.
func (u *unmatched) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		u.written = true
		writeError(u.ResponseWriter, code, fmt.Sprintf("no endpoint %s %s; see GET /v1/health and the README's API section", u.r.Method, u.r.URL.Path), nil)
	case http.StatusMethodNotAllowed:
		u.written = true
		allow := u.Header().Get("Allow")
		writeError(u.ResponseWriter, code, fmt.Sprintf("%s does not accept %s; use %s", u.r.URL.Path, u.r.Method, allow), nil)
	default:
		u.ResponseWriter.WriteHeader(code)
	}
}

// Write drops the mux's plain-text body once the JSON error is written.
func (u *unmatched) Write(b []byte) (int, error) {
	if u.written {
		return len(b), nil
	}
	return u.ResponseWriter.Write(b)
}

// apiError is the JSON body of every error response.
type apiError struct {
	Error      string                `json:"error"`
	Diagnostic *starhost.Diagnostic  `json:"diagnostic,omitempty"`
	Problems   []starhost.Diagnostic `json:"problems,omitempty"`
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers status with the JSON error body: msg, and the
// diagnostics of err when it is not nil.
func writeError(w http.ResponseWriter, status int, msg string, err error) {
	body := apiError{Error: msg}
	if err != nil {
		diags := starhost.Diagnose(err, "")
		body.Diagnostic = diags[0]
		if len(diags) > 1 {
			for _, d := range diags {
				body.Problems = append(body.Problems, *d)
			}
		}
	}
	writeJSON(w, status, body)
}

// auth checks the bearer token in constant time.
func (h *Handler) auth(next http.HandlerFunc) http.HandlerFunc { return withToken(h.opts.Token, next) }

// withToken returns next behind tokenCheck: served only to a request
// that carries token, answered 401 otherwise.
func withToken(token string, next http.HandlerFunc) http.HandlerFunc {
	check := tokenCheck(token)
	return func(w http.ResponseWriter, r *http.Request) {
		if check(w, r) {
			next(w, r)
		}
	}
}

// tokenCheck returns a function that reports whether a request carries
// token (compared in constant time), answering 401 itself when not. An
// empty token refuses every request.
func tokenCheck(token string) func(w http.ResponseWriter, r *http.Request) bool {
	want := []byte("Bearer " + token)
	return func(w http.ResponseWriter, r *http.Request) bool {
		if token == "" || subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="afstudio"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer TOKEN (afstudio token prints it)", nil)
			return false
		}
		return true
	}
}

// decodeBody decodes a JSON body strictly: size-limited, unknown fields
// and trailing data rejected. It writes the error response itself.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return decodeJSON(w, r.Body, v)
}

// decodeJSON decodes body into v for decodeBody, writing the error
// response itself.
func decodeJSON(w http.ResponseWriter, body io.Reader, v any) bool {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit), nil)
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "request body is empty; send a JSON object", nil)
		case errors.Is(err, io.ErrUnexpectedEOF):
			writeError(w, http.StatusBadRequest, "request body ends in the middle of the JSON value; send a complete JSON object", nil)
		case errors.As(err, &syntaxErr):
			writeError(w, http.StatusBadRequest, fmt.Sprintf("request body is not valid JSON at byte %d: %v", syntaxErr.Offset, err), nil)
		case errors.As(err, &typeErr):
			writeError(w, http.StatusBadRequest, fmt.Sprintf("field %q must be %s, got a JSON %s", typeErr.Field, typeErr.Type, typeErr.Value), nil)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			writeError(w, http.StatusBadRequest, "request body has an "+strings.TrimPrefix(err.Error(), "json: "), nil)
		default:
			writeError(w, http.StatusBadRequest, "request body: "+err.Error(), nil)
		}
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "request body has data after the JSON value", nil)
		return false
	}
	return true
}

// health serves GET /v1/health.
func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "version": h.opts.Version, "integrations": len(h.m.Names())})
}

// list serves GET /v1/integrations: Manager.Snapshot.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.m.Snapshot())
}

// info serves GET /v1/integrations/{name}: Manager.IntegrationInfo.
func (h *Handler) info(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	in, ok := h.m.IntegrationInfo(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no integration named %q", name), nil)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

// reload serves POST /v1/integrations/{name}/reload:
// Manager.ReloadIntegration, answering the new info.
func (h *Handler) reload(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := h.m.IntegrationInfo(name); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no integration named %q", name), nil)
		return
	}
	if err := h.m.ReloadIntegration(r.Context(), name); err != nil {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("reload of %s failed; the previous version keeps serving", name), err)
		return
	}
	in, _ := h.m.IntegrationInfo(name)
	writeJSON(w, http.StatusOK, in)
}

// ReloadResult is one integration's outcome in POST /v1/reload, whose
// body is {"results": {NAME: ReloadResult, ...}} with every integration
// loaded when the reload began.
type ReloadResult struct {
	// OK is true when the new version went live; false when the old one
	// keeps serving (Error says why).
	OK bool `json:"ok"`
	// Generation is the version serving after the reload: one more than
	// before when OK, unchanged otherwise; 0 when the integration is gone
	// (removed meanwhile).
	Generation int `json:"generation"`
	// Error is why the reload failed, with file:line:col where known; nil
	// (left out of the JSON) when OK.
	Error *starhost.Diagnostic `json:"error,omitempty"`
}

// reloadAll serves POST /v1/reload: Manager.ReloadAllIntegrations.
func (h *Handler) reloadAll(w http.ResponseWriter, r *http.Request) {
	out := map[string]ReloadResult{}
	for name, err := range h.m.ReloadAllIntegrations(r.Context()) {
		res := ReloadResult{OK: err == nil}
		if in, ok := h.m.IntegrationInfo(name); ok {
			res.Generation = in.Generation
		}
		if err != nil {
			res.Error = starhost.Diagnose(err, "")[0]
		}
		out[name] = res
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

// AddRequest is the body of POST /v1/integrations: the arguments of
// Manager.AddIntegration.
type AddRequest struct {
	// Module is the path of a .star file inside one of the host's
	// integration folders; a relative path is relative to the first.
	// Required. A path outside the folders (also through a symlink) is
	// refused with 400.
	Module string `json:"module"`
	// Class names the integration to add, as the module declares it; ""
	// adds every integration the module declares.
	Class string `json:"class,omitempty"`
}

// AddResponse is the body of a successful POST /v1/integrations (201).
type AddResponse struct {
	// Integrations are the infos of the integrations added, in the order
	// the module declares them.
	Integrations []starhost.Info `json:"integrations"`
}

// add serves POST /v1/integrations: Manager.AddIntegration, for a module
// inside the host's folders.
func (h *Handler) add(w http.ResponseWriter, r *http.Request) {
	var req AddRequest
	if !decodeBody(w, r, MaxBodyBytes, &req) {
		return
	}
	if req.Module == "" {
		writeError(w, http.StatusBadRequest, `field "module" is required: the path of a .star file inside an integration folder`, nil)
		return
	}
	path, err := h.insideRoots(req.Module)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	added, err := h.m.AddIntegration(r.Context(), path, req.Class)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "add failed", err)
		return
	}
	writeJSON(w, http.StatusCreated, AddResponse{Integrations: added})
}

// insideRoots resolves a module path (relative paths are relative to the
// first root) and checks that it stays inside an integration root, also
// after resolving symlinks.
func (h *Handler) insideRoots(module string) (string, error) {
	if h.opts.AnyFile && filepath.IsAbs(module) && strings.HasSuffix(module, ".star") {
		if _, err := os.Stat(module); err != nil {
			return "", fmt.Errorf(`field "module": %w`, err)
		}
		return filepath.Clean(module), nil
	}
	roots := h.m.Roots()
	if len(roots) == 0 {
		return "", errors.New(`field "module": this host has no integration folders, so nothing can be added through the API; start it with --dir`)
	}
	if !strings.HasSuffix(module, ".star") {
		return "", fmt.Errorf(`field "module": %q is not a .star file`, module)
	}
	p := module
	if !filepath.IsAbs(p) {
		p = filepath.Join(roots[0], p)
	}
	p = filepath.Clean(p)
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf(`field "module": %s: no such file (a relative path is relative to %s)`, module, roots[0])
	}
	if err != nil {
		return "", fmt.Errorf(`field "module": %w`, err)
	}
	for _, root := range roots {
		rootReal, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(rootReal, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return p, nil
		}
	}
	return "", fmt.Errorf(`field "module": %s is outside the integration folders (%s); the API only adds files inside them`, module, strings.Join(roots, ", "))
}

// remove serves DELETE /v1/integrations/{name}: Manager.RemoveIntegration.
func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := h.m.RemoveIntegration(r.Context(), name); err != nil {
		if errors.Is(err, starhost.ErrNotFound) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no integration named %q", name), nil)
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error(), nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// EmitResponse is the body of a successful POST /v1/events/{event}.
type EmitResponse struct {
	// Results holds one Result per handler call, in call order (the
	// event's subscribers in priority order, then the follow-ups, breadth
	// first); nil (JSON null) when nothing handles the event. A failed
	// handler is a Result with OK false, not an error response.
	Results []starhost.Result `json:"results"`
	// Duplicate is true when the request's id (IDHeader) was handled
	// already (starhost.ErrDuplicateEvent): the event was not handled
	// again, and Results is null (the first answer's results are not
	// kept). Left out when false.
	Duplicate bool `json:"duplicate,omitempty"`
}

// IDHeader is the request header of POST /v1/events/{event} that carries
// the event's id (Manager.EmitID): the IETF's Idempotency-Key, since the
// body is the event's data and the id is not part of it. A retry with
// the same key after a restart is handled at most once, and answered 200
// with "duplicate": true: for an engine that retries, the event being
// done already is success, not a conflict.
const IDHeader = "Idempotency-Key"

// emit serves POST /v1/events/{event}: Manager.Emit (EmitID with an
// IDHeader) with the body as the data, the results also published on the
// notices stream.
func (h *Handler) emit(w http.ResponseWriter, r *http.Request) {
	event := r.PathValue("event")
	id := r.Header.Get(IDHeader)
	if _, sent := r.Header[IDHeader]; sent {
		if err := starhost.CheckEventID(id); err != nil {
			writeError(w, http.StatusBadRequest, "header "+IDHeader+": "+err.Error(), nil)
			return
		}
	}
	buf := jsonwire.GetBuffer()
	defer jsonwire.PutBuffer(buf)
	body, err := readBody(w, r, MaxBodyBytes, buf)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("event data is larger than %d bytes", tooBig.Limit), nil)
			return
		}
		writeError(w, http.StatusBadRequest, "read body: "+err.Error(), nil)
		return
	}
	data, ok := parseEventData(body)
	if !ok {
		if data, err = starhost.DecodeEventData(body); err != nil {
			writeError(w, http.StatusBadRequest, err.Error(), nil)
			return
		}
	}
	rs, err := h.m.EmitID(r.Context(), id, event, data)
	if errors.Is(err, starhost.ErrDuplicateEvent) {
		writeBody(w, http.StatusOK, append(body[:0], "{\"results\":null,\"duplicate\":true}\n"...))
		return
	}
	if errors.Is(err, starhost.ErrStateNotSaved) {
		// Handled (--durable sync), but not on disk: not a bad request,
		// and not one to send again.
		h.publishResults(rs)
		writeError(w, http.StatusServiceUnavailable, err.Error()+"; the event was handled: do not send it again", nil)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	h.publishResults(rs)
	out, ok := appendEmitResponse(body[:0], rs)
	if !ok {
		writeJSON(w, http.StatusOK, EmitResponse{Results: rs})
		return
	}
	*buf = out
	writeBody(w, http.StatusOK, out)
}

// BatchRequest is the body of POST /v1/events.
type BatchRequest struct {
	// Events are delivered one after another, in order; at most MaxBatch.
	Events []BatchEvent `json:"events"`
}

// BatchEvent is one event of a batch.
type BatchEvent struct {
	// Event is the event's name, as in POST /v1/events/{event}.
	Event string `json:"event"`
	// Data is the event's payload; nil (or absent) means {}.
	Data map[string]any `json:"data"`
	// ID is the event's optional id (Manager.EmitID): an event whose id
	// was handled already is not handled again (BatchResult.Duplicate).
	// "" (or absent) for none; a bad one is the event's error ("events[3]:
	// id: ...").
	ID string `json:"id,omitempty"`
}

// BatchResponse is the body of a successful POST /v1/events.
type BatchResponse struct {
	// Events holds one BatchResult per event of the request, in order;
	// an event that could not be dispatched has an error instead of
	// results, and the others are still delivered.
	Events []BatchResult `json:"events"`
}

// BatchResult is the outcome of one event of a batch.
type BatchResult struct {
	// Results are the event's handler results, as in EmitResponse; nil
	// (JSON null) when Error is set, unless the event was handled and only
	// its states could not be written (--durable sync; Error says so).
	Results []starhost.Result `json:"results"`
	// Error says why the event could not be dispatched at all, prefixed
	// with its index ("events[3]: invalid event name ..."); "" (left
	// out) when it was.
	Error string `json:"error,omitempty"`
	// Duplicate is true when the event's id was handled already: it was
	// not handled again, and Results is null. Left out when false.
	Duplicate bool `json:"duplicate,omitempty"`
}

// emitBatch serves POST /v1/events: Manager.EmitID for each event in order.
func (h *Handler) emitBatch(w http.ResponseWriter, r *http.Request) {
	buf := jsonwire.GetBuffer()
	defer jsonwire.PutBuffer(buf)
	body, err := readBody(w, r, MaxBatchBytes, buf)
	var req BatchRequest
	if err != nil || !parseBatch(body, &req) {
		req = BatchRequest{}
		if !decodeJSON(w, jsonwire.Replay(body, err), &req) {
			return
		}
	}
	if len(req.Events) > MaxBatch {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a batch holds at most %d events, got %d", MaxBatch, len(req.Events)), nil)
		return
	}
	out := BatchResponse{Events: make([]BatchResult, len(req.Events))}
	for i, ev := range req.Events {
		rs, err := h.m.EmitID(r.Context(), ev.ID, ev.Event, ev.Data)
		if errors.Is(err, starhost.ErrDuplicateEvent) {
			out.Events[i].Duplicate = true
			continue
		}
		if err != nil {
			out.Events[i].Error = fmt.Sprintf("events[%d]: %v", i, err)
			if errors.Is(err, starhost.ErrStateNotSaved) { // handled: its results stand
				h.publishResults(rs)
				out.Events[i].Results = rs
			}
			continue
		}
		h.publishResults(rs)
		out.Events[i].Results = rs
	}
	b, ok := appendBatchResponse(body[:0], &out)
	if !ok {
		writeJSON(w, http.StatusOK, out)
		return
	}
	*buf = b
	writeBody(w, http.StatusOK, b)
}

// publishResults makes handler results of API events visible on the
// notices stream.
func (h *Handler) publishResults(rs []starhost.Result) {
	for _, r := range rs {
		h.m.Notify(r.Notice())
	}
}

// notices streams notices as server-sent events: one "data:" line of JSON
// per notice, with the notice kind as the SSE event name, and a comment
// every 15s to keep connections alive.
func (h *Handler) notices(w http.ResponseWriter, r *http.Request) {
	limit, err := noticeLimit(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream has no end
	sub := h.m.Subscribe(1024)
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": afstudio notices\n\n")
	for _, n := range h.opts.Greeting {
		if !writeEvent(w, n) {
			return
		}
	}
	_ = rc.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	report := time.NewTicker(250 * time.Millisecond)
	defer report.Stop()
	budget := newNoticeBudget(limit, time.Now())
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-report.C:
			if d := budget.takeDropped(); d > 0 && !writeEvent(w, droppedNotice(d, limit)) {
				return
			}
		case n, ok := <-sub.C:
			if !ok {
				return
			}
			if !budget.allow(n.Kind, time.Now()) {
				continue // counted; reported within 250 ms
			}
			if !writeEvent(w, n) {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// NoticeDropped is the kind of the notice a limited notice stream
// (GET /v1/notices?limit=N) sends in place of the notices it left out;
// Data is {"dropped": COUNT}.
const NoticeDropped starhost.NoticeKind = "notices_dropped"

// noticeLimit reads the limit query parameter of GET /v1/notices: how
// many of the high-volume notices (events, results, logs, handler
// failures) a second the stream sends at most; 0, or absent, for all.
func noticeLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("query parameter \"limit\": %q is not a count of notices a second (a whole number; 0 or absent: no limit)", s)
	}
	return n, nil
}

// A noticeBudget lets a limited stream send at most limit high-volume
// notices a second (a token bucket holding a second's worth), counting
// the others. Lifecycle notices (loads, reloads, failures to load, state
// resets, switches, watcher problems) always pass.
type noticeBudget struct {
	limit   float64 // 0: no limit
	tokens  float64
	at      time.Time
	dropped int
}

func newNoticeBudget(limit int, now time.Time) *noticeBudget {
	return &noticeBudget{limit: float64(limit), tokens: float64(limit), at: now}
}

// allow reports whether a notice of kind k may be sent at now.
func (b *noticeBudget) allow(k starhost.NoticeKind, now time.Time) bool {
	if b.limit == 0 {
		return true
	}
	switch k {
	case starhost.NoticeEvent, starhost.NoticeResult, starhost.NoticeLog, starhost.NoticeHandlerFailed:
	default:
		return true
	}
	b.tokens = min(b.limit, b.tokens+now.Sub(b.at).Seconds()*b.limit)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	b.dropped++
	return false
}

// takeDropped returns the count of notices left out since the last call.
func (b *noticeBudget) takeDropped() int {
	d := b.dropped
	b.dropped = 0
	return d
}

// droppedNotice reports d notices left out of a stream limited to limit
// a second.
func droppedNotice(d, limit int) starhost.Notice {
	return starhost.Notice{Kind: NoticeDropped, Time: time.Now(), Data: map[string]any{"dropped": d},
		Message: fmt.Sprintf("%d notices not sent: this stream sends at most %d events, results and logs a second", d, limit)}
}

// writeEvent writes n as one server-sent event named after its kind; it
// returns false when the stream is broken.
func writeEvent(w io.Writer, n starhost.Notice) bool {
	b, err := json.Marshal(n)
	if err != nil {
		return true // nothing the stream can carry: skipped
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", n.Kind, b)
	return err == nil
}

// OpenRequest is the body of POST /v1/open, which only a studio serves
// (Options.Open); the headless host answers 404.
type OpenRequest struct {
	// Files are absolute paths of .star files to add, as if dropped on
	// the studio's window; a relative path or another extension is
	// refused with 400.
	Files []string `json:"files"`
}

// open serves POST /v1/open: Options.Open with absolute .star paths.
func (h *Handler) open(w http.ResponseWriter, r *http.Request) {
	if h.opts.Open == nil {
		writeError(w, http.StatusNotFound, "this host has no window to open files in", nil)
		return
	}
	var req OpenRequest
	if !decodeBody(w, r, MaxBodyBytes, &req) {
		return
	}
	for i, f := range req.Files {
		if !filepath.IsAbs(f) || !strings.HasSuffix(f, ".star") {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("files[%d]: %q must be an absolute path to a .star file", i, f), nil)
			return
		}
	}
	if err := h.opts.Open(req.Files); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error(), nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"opened": len(req.Files)})
}

// IsLoopback reports whether a listen address ("host:port") binds only
// the loopback interface: "localhost" or a loopback IP. An address
// without a port, or with an empty host (every interface), is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server is a running API server, started by Listen and stopped by
// Close.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	done   chan error
	cancel context.CancelFunc // ends the requests' contexts: open notice streams return
}

// Listen starts serving h on addr ("127.0.0.1:7777"; port 0 picks a free
// one, see Addr) and returns at once. A non-loopback address needs
// allowRemote. Timeouts protect against slow clients: 5s for the
// headers, 30s for the whole request, 60s for the answer (not for the
// notices stream, which has no end), 120s for an idle connection.
func Listen(addr string, h http.Handler, allowRemote bool) (*Server, error) {
	ln, err := ListenTCP(addr, allowRemote)
	if err != nil {
		return nil, err
	}
	return ServeListener(ln, h), nil
}

// ListenTCP opens the control API's listening socket on addr, refusing a
// non-loopback address unless allowRemote. A supervisor (package
// supervise) opens it once and hands it to each worker it starts, so that
// the API keeps its address across restarts.
func ListenTCP(addr string, allowRemote bool) (net.Listener, error) {
	if !IsLoopback(addr) && !allowRemote {
		return nil, fmt.Errorf("refusing to serve the control API on %s: it is not a loopback address; pass --allow-remote to expose it to the network", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("control API: %w", err)
	}
	return ln, nil
}

// ServeListener starts serving h on ln, as Listen does, and returns at
// once. Close closes ln.
func ServeListener(ln net.Listener, h http.Handler) *Server {
	base, cancel := context.WithCancel(context.Background())
	s := &Server{ln: ln, done: make(chan error, 1), cancel: cancel, srv: &http.Server{
		Handler:           h,
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

// Addr returns the address the server listens on, with the port it got.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close shuts the server down: open notice streams end at once (their
// request contexts are cancelled), other requests in flight may finish
// for up to five seconds.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
