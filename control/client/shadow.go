package client

import (
	"context"
	"net/http"

	"github.com/afstudio/afstudio/starhost"
)

// shadowPath is the path of the named integration's shadow.
func shadowPath(name string) string { return "/v1/integrations/" + segment(name) + "/shadow" }

// StartShadow turns the named integration's shadow mode on (PUT
// /v1/integrations/{name}/shadow; Manager.StartShadow): its next reload
// makes a shadow. It returns the shadow's report.
func (c *Client) StartShadow(ctx context.Context, name string) (starhost.ShadowReport, error) {
	var rep starhost.ShadowReport
	err := c.do(ctx, http.MethodPut, shadowPath(name), nil, &rep)
	return rep, err
}

// ShadowReport returns what the named integration's shadow did
// differently so far (GET /v1/integrations/{name}/shadow).
func (c *Client) ShadowReport(ctx context.Context, name string) (starhost.ShadowReport, error) {
	var rep starhost.ShadowReport
	err := c.do(ctx, http.MethodGet, shadowPath(name), nil, &rep)
	return rep, err
}

// PromoteShadow swaps the named integration's shadow in (POST
// /v1/integrations/{name}/shadow/promote) and returns its info; an *Error
// with Status 409 when there is no shadow.
func (c *Client) PromoteShadow(ctx context.Context, name string) (starhost.Info, error) {
	var in starhost.Info
	err := c.do(ctx, http.MethodPost, shadowPath(name)+"/promote", nil, &in)
	return in, err
}

// DiscardShadow drops the named integration's shadow and turns its shadow
// mode off (DELETE /v1/integrations/{name}/shadow).
func (c *Client) DiscardShadow(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, shadowPath(name), nil, nil)
}
