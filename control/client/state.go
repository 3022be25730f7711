package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/afstudio/afstudio/starhost"
)

// statePath is the path of an integration's state.
func statePath(name string) string { return "/v1/integrations/" + segment(name) + "/state" }

// State returns the named integration's state in its JSON form (GET
// /v1/integrations/{name}/state; Manager.StateJSON).
func (c *Client) State(ctx context.Context, name string) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.do(ctx, http.MethodGet, statePath(name), nil, &out)
	return out, err
}

// PutState replaces the named integration's state with state, a JSON
// object (PUT /v1/integrations/{name}/state; Manager.ImportStates). A
// state that is not valid is an *Error with Status 400, and nothing
// changes.
func (c *Client) PutState(ctx context.Context, name string, state json.RawMessage) error {
	return c.do(ctx, http.MethodPut, statePath(name), state, nil)
}

// ForgetState empties the named integration's state and deletes its
// stored record (DELETE /v1/integrations/{name}/state;
// Manager.ForgetState).
func (c *Client) ForgetState(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, statePath(name), nil, nil)
}

// EnableIntegration switches the named integration on (POST
// /v1/integrations/{name}/enable) and returns its info.
func (c *Client) EnableIntegration(ctx context.Context, name string) (starhost.Info, error) {
	var in starhost.Info
	err := c.do(ctx, http.MethodPost, "/v1/integrations/"+segment(name)+"/enable", nil, &in)
	return in, err
}

// DisableIntegration switches the named integration off (POST
// /v1/integrations/{name}/disable): it stays loaded but gets no events.
// It returns its info.
func (c *Client) DisableIntegration(ctx context.Context, name string) (starhost.Info, error) {
	var in starhost.Info
	err := c.do(ctx, http.MethodPost, "/v1/integrations/"+segment(name)+"/disable", nil, &in)
	return in, err
}
