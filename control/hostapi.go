package control

// The endpoints of this file complete the API to every method a front
// end drives a host with (the studio's Host), so that a studio can show a
// host in another process (package control/remotehost):
//
//	GET    /v1/view                            Snapshot with each integration's recent latencies
//	POST   /v1/files/reload                    ReloadFiles: FilesRequest -> FilesResponse
//	POST   /v1/modules/remove                  RemoveModule: ModuleRequest -> ModuleResponse
//	POST   /v1/roots                           AddRoot: RootRequest -> RootResponse
//	POST   /v1/integrations/{name}/state/reset ResetState (204; 404 when unknown)
//	GET    /v1/state?name=NAME...              ExportStates: a starhost.StateExport
//	PUT    /v1/state                           ImportStates, all or nothing: the body is a starhost.StateExport
//
// Their errors carry the host's own error message, so that a remote
// front end shows what the host in this process would.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/afstudio/afstudio/starhost"
)

// HostView is the body of GET /v1/view: the Snapshot (as GET
// /v1/integrations answers it) and, by integration name, the latencies of
// its most recent calls (Info.Recent, which the Info's JSON leaves out),
// oldest first, in microseconds.
type HostView struct {
	starhost.View
	// Recent holds Info.Recent of each integration with at least one
	// call.
	Recent map[string][]starhost.Duration `json:"recent_us"`
}

// FilesRequest is the body of POST /v1/files/reload.
type FilesRequest struct {
	// Paths are absolute paths of files as they are now on disk (changed,
	// created or deleted), as the file watcher passes them to
	// Manager.ReloadFiles. Required (may be empty).
	Paths []string `json:"paths"`
}

// FileOutcome is one starhost.Outcome in JSON.
type FileOutcome struct {
	// Integration is the integration concerned; "" when the module failed
	// before it declared anything.
	Integration string `json:"integration,omitempty"`
	// Module is the module's path.
	Module string `json:"module"`
	// Removed is true when the integration was removed.
	Removed bool `json:"removed,omitempty"`
	// Error is the outcome's error message, as the host's error says it;
	// "" when the change went live.
	Error string `json:"error,omitempty"`
	// Diagnostics are the error's diagnostics (starhost.Diagnose), with
	// file:line:col where known; absent when Error is "".
	Diagnostics []starhost.Diagnostic `json:"diagnostics,omitempty"`
	// Is names the host's sentinel errors the error wraps, so that a
	// client can test for them: "not_found" (starhost.ErrNotFound),
	// "state_not_saved" (starhost.ErrStateNotSaved); absent when none.
	Is []string `json:"is,omitempty"`
}

// Sentinels names the host's sentinel errors err wraps, as
// FileOutcome.Is lists them; nil when none.
func Sentinels(err error) []string {
	var out []string
	if errors.Is(err, starhost.ErrNotFound) {
		out = append(out, "not_found")
	}
	if errors.Is(err, starhost.ErrStateNotSaved) {
		out = append(out, "state_not_saved")
	}
	return out
}

// FilesResponse is the body of a successful POST /v1/files/reload.
type FilesResponse struct {
	// Outcomes are ReloadFiles' outcomes, in its order.
	Outcomes []FileOutcome `json:"outcomes"`
}

// ModuleRequest is the body of POST /v1/modules/remove.
type ModuleRequest struct {
	// Module is the module's path: absolute, relative to the first
	// integration folder, or "builtin:NAME.star". Required.
	Module string `json:"module"`
}

// ModuleResponse is the body of a successful POST /v1/modules/remove.
type ModuleResponse struct {
	// Removed are the names of the integrations removed; empty, never
	// null.
	Removed []string `json:"removed"`
}

// RootRequest is the body of POST /v1/roots.
type RootRequest struct {
	// Dir is the absolute path of a folder on the host's machine.
	// Required.
	Dir string `json:"dir"`
}

// RootResponse is the body of a successful POST /v1/roots.
type RootResponse struct {
	// Roots are the host's integration folders after the addition.
	Roots []string `json:"roots"`
}

// view serves GET /v1/view: Manager.Snapshot with the recent latencies.
func (h *Handler) view(w http.ResponseWriter, r *http.Request) {
	v := h.m.Snapshot()
	out := HostView{View: v, Recent: map[string][]starhost.Duration{}}
	for _, in := range v.Integrations {
		if len(in.Recent) == 0 {
			continue
		}
		ds := make([]starhost.Duration, len(in.Recent))
		for i, d := range in.Recent {
			ds[i] = starhost.Duration(d)
		}
		out.Recent[in.Name] = ds
	}
	writeJSON(w, http.StatusOK, out)
}

// reloadFiles serves POST /v1/files/reload: Manager.ReloadFiles.
func (h *Handler) reloadFiles(w http.ResponseWriter, r *http.Request) {
	var req FilesRequest
	if !decodeBody(w, r, MaxBodyBytes, &req) {
		return
	}
	if req.Paths == nil {
		writeError(w, http.StatusBadRequest, `field "paths" is required: a list of absolute file paths`, nil)
		return
	}
	for i, p := range req.Paths {
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, starhost.BuiltinPrefix) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf(`field "paths": paths[%d] %q must be an absolute path`, i, p), nil)
			return
		}
	}
	out := FilesResponse{Outcomes: []FileOutcome{}}
	for _, o := range h.m.ReloadFiles(r.Context(), req.Paths) {
		fo := FileOutcome{Integration: o.Integration, Module: o.Module, Removed: o.Removed}
		if o.Err != nil {
			fo.Error = o.Err.Error()
			fo.Is = Sentinels(o.Err)
			for _, d := range starhost.Diagnose(o.Err, "") {
				fo.Diagnostics = append(fo.Diagnostics, *d)
			}
		}
		out.Outcomes = append(out.Outcomes, fo)
	}
	writeJSON(w, http.StatusOK, out)
}

// removeModule serves POST /v1/modules/remove: Manager.RemoveModule.
func (h *Handler) removeModule(w http.ResponseWriter, r *http.Request) {
	var req ModuleRequest
	if !decodeBody(w, r, MaxBodyBytes, &req) {
		return
	}
	if req.Module == "" {
		writeError(w, http.StatusBadRequest, `field "module" is required: the path of a .star module the host has`, nil)
		return
	}
	removed, err := h.m.RemoveModule(r.Context(), req.Module)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error(), err)
		return
	}
	if removed == nil {
		removed = []string{}
	}
	writeJSON(w, http.StatusOK, ModuleResponse{Removed: removed})
}

// addRoot serves POST /v1/roots: Manager.AddRoot. The folder is added
// even when some of its modules fail to load; the answer is then 422 with
// their diagnostics.
func (h *Handler) addRoot(w http.ResponseWriter, r *http.Request) {
	var req RootRequest
	if !decodeBody(w, r, MaxBodyBytes, &req) {
		return
	}
	switch {
	case req.Dir == "":
		writeError(w, http.StatusBadRequest, `field "dir" is required: the absolute path of a folder on the host's machine`, nil)
		return
	case !filepath.IsAbs(req.Dir):
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`field "dir": %q must be an absolute path (the host's working directory is not yours)`, req.Dir), nil)
		return
	}
	if fi, err := os.Stat(req.Dir); err != nil || !fi.IsDir() {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`field "dir": %s is not a folder on the host's machine`, req.Dir), nil)
		return
	}
	if err := h.m.AddRoot(r.Context(), req.Dir); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error(), err)
		return
	}
	writeJSON(w, http.StatusOK, RootResponse{Roots: h.m.Roots()})
}

// resetState serves POST /v1/integrations/{name}/state/reset:
// Manager.ResetState (unlike DELETE .../state, the stored record stays
// until the empty state is written over it).
func (h *Handler) resetState(w http.ResponseWriter, r *http.Request) {
	if err := h.m.ResetState(r.PathValue("name")); err != nil {
		h.hostError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// exportStates serves GET /v1/state?name=NAME...: Manager.ExportStates
// of the names given (every integration without one).
func (h *Handler) exportStates(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for key := range q {
		if key != "name" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q; GET /v1/state takes only name (repeated)", key), nil)
			return
		}
	}
	names := q["name"]
	for i, n := range names {
		if n == "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("query parameter name[%d] is empty", i), nil)
			return
		}
	}
	e, err := h.m.ExportStates(names...)
	if err != nil {
		h.hostError(w, err)
		return
	}
	// The states as the host keeps them: no HTML escaping of their
	// strings.
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e)
}

// importStates serves PUT /v1/state: Manager.ImportStates of the states
// of the body, a starhost.StateExport: all or nothing.
func (h *Handler) importStates(w http.ResponseWriter, r *http.Request) {
	body, ok := readStateBody(w, r)
	if !ok {
		return
	}
	if len(body) == 0 {
		writeError(w, http.StatusBadRequest, `request body is empty; send a state export: {"format": "afstudio-state", "version": 1, "integrations": {...}}`, nil)
		return
	}
	e, err := starhost.ReadStateExport(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body: "+err.Error(), nil)
		return
	}
	if err := h.m.ImportStates(r.Context(), e.States()); err != nil {
		h.hostError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// hostError answers a Manager error with its own message: 404 for an
// unknown name (starhost.ErrNotFound), 503 for a change done but not on
// disk (starhost.ErrStateNotSaved), 400 for anything else the host
// refused.
func (h *Handler) hostError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, starhost.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error(), nil)
	case errors.Is(err, starhost.ErrStateNotSaved):
		writeError(w, http.StatusServiceUnavailable, err.Error(), nil)
	default:
		writeError(w, http.StatusBadRequest, err.Error(), nil)
	}
}
