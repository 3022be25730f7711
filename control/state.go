package control

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/afstudio/afstudio/starhost"
)

// MaxStateBytes bounds the body of PUT /v1/integrations/{name}/state.
const MaxStateBytes = 64 << 20

// state serves GET /v1/integrations/{name}/state: the integration's state
// in its JSON form, the one the state file keeps (Manager.StateJSON).
func (h *Handler) state(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, err := h.m.StateJSON(name)
	if err != nil {
		h.integrationError(w, name, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// putState serves PUT /v1/integrations/{name}/state: the body, a JSON
// object, replaces the state (Manager.ImportStates), or nothing changes
// and the answer says what is wrong with it.
func (h *Handler) putState(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, ok := readStateBody(w, r)
	if !ok {
		return
	}
	if err := h.m.ImportStates(r.Context(), map[string][]byte{name: body}); err != nil {
		switch {
		case errors.Is(err, starhost.ErrNotFound):
			h.integrationError(w, name, err)
		case errors.Is(err, starhost.ErrStateNotSaved): // replaced, but not on disk yet
			writeError(w, http.StatusServiceUnavailable, err.Error(), nil)
		default: // refused: nothing changed
			writeError(w, http.StatusBadRequest, err.Error(), nil)
		}
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// forgetState serves DELETE /v1/integrations/{name}/state: the state is
// emptied and its stored record deleted (Manager.ForgetState).
func (h *Handler) forgetState(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := h.m.ForgetState(name); err != nil {
		h.integrationError(w, name, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// switchTo returns the handler of POST /v1/integrations/{name}/enable
// (on) or /disable: Manager.EnableIntegration or DisableIntegration,
// answering the new info.
func (h *Handler) switchTo(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		set := h.m.DisableIntegration
		if on {
			set = h.m.EnableIntegration
		}
		if err := set(name); err != nil {
			h.integrationError(w, name, err)
			return
		}
		in, _ := h.m.IntegrationInfo(name)
		writeJSON(w, http.StatusOK, in)
	}
}

// integrationError answers the error of an operation on the integration
// name: 404 when there is none, 500 otherwise.
func (h *Handler) integrationError(w http.ResponseWriter, name string, err error) {
	if errors.Is(err, starhost.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no integration named %q", name), nil)
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error(), nil)
}

// readStateBody reads a request body of at most MaxStateBytes, writing
// the error answer itself (413 for a larger one) when it cannot.
func readStateBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxStateBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit), nil)
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "request body: "+err.Error(), nil)
		return nil, false
	}
	return body, true
}
