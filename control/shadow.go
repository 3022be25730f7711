package control

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/afstudio/afstudio/starhost"
)

// The shadow mode's endpoints (starhost's StartShadow, ShadowReport,
// PromoteShadow and DiscardShadow):
//
//	PUT    /v1/integrations/{name}/shadow          turn shadow mode on; answers the report
//	GET    /v1/integrations/{name}/shadow          the comparison so far (starhost.ShadowReport)
//	POST   /v1/integrations/{name}/shadow/promote  swap the shadow in; answers the integration's info
//	DELETE /v1/integrations/{name}/shadow          drop the shadow, turn the mode off; 204

// startShadow serves PUT /v1/integrations/{name}/shadow.
func (h *Handler) startShadow(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := h.m.StartShadow(name); err != nil {
		h.hostError(w, err)
		return
	}
	h.shadowReport(w, r)
}

// shadowReport serves GET /v1/integrations/{name}/shadow.
func (h *Handler) shadowReport(w http.ResponseWriter, r *http.Request) {
	rep, err := h.m.ShadowReport(r.PathValue("name"))
	if err != nil {
		h.hostError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// promoteShadow serves POST /v1/integrations/{name}/shadow/promote: 409
// when there is no shadow, 422 when its migrate fails (the serving
// version and the shadow stay).
func (h *Handler) promoteShadow(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := h.m.PromoteShadow(r.Context(), name)
	switch {
	case errors.Is(err, starhost.ErrNotFound):
		h.hostError(w, err)
		return
	case errors.Is(err, starhost.ErrNoShadow):
		writeError(w, http.StatusConflict, err.Error(), nil)
		return
	case err != nil:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("promote of %s failed; the serving version and the shadow stay", name), err)
		return
	}
	in, _ := h.m.IntegrationInfo(name)
	writeJSON(w, http.StatusOK, in)
}

// discardShadow serves DELETE /v1/integrations/{name}/shadow.
func (h *Handler) discardShadow(w http.ResponseWriter, r *http.Request) {
	if err := h.m.DiscardShadow(r.PathValue("name")); err != nil {
		h.hostError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
