// Package client is a small Go client of afstudio's control API (package
// control): what an engine written in Go, or a test, uses to deliver
// events and manage integrations.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/starhost"
)

// Client talks to one afstudio host.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client for the API at base (e.g. "http://127.0.0.1:7777")
// with the token that `afstudio token` prints.
func New(base, token string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{}}
}

// Error is an error response of the API.
type Error struct {
	Status int
	Body   struct {
		Error      string               `json:"error"`
		Diagnostic *starhost.Diagnostic `json:"diagnostic"`
	}
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("afstudio API: %d: %s", e.Status, e.Body.Error)
	if e.Body.Diagnostic != nil {
		msg += ": " + e.Body.Diagnostic.Error()
	}
	return msg
}

func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() {
		// Read to the end so that the connection can be reused.
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		_ = json.NewDecoder(resp.Body).Decode(&e.Body)
		return e
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Health reports whether the host answers.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/v1/health", nil, nil)
}

// Snapshot returns every integration's info and the modules that failed
// to load, read in one step (GET /v1/integrations).
func (c *Client) Snapshot(ctx context.Context) (starhost.View, error) {
	var out starhost.View
	err := c.do(ctx, http.MethodGet, "/v1/integrations", nil, &out)
	return out, err
}

// IntegrationInfo returns one integration's info.
func (c *Client) IntegrationInfo(ctx context.Context, name string) (starhost.Info, error) {
	var out starhost.Info
	err := c.do(ctx, http.MethodGet, "/v1/integrations/"+name, nil, &out)
	return out, err
}

// ReloadIntegration reloads one integration and returns its new info.
func (c *Client) ReloadIntegration(ctx context.Context, name string) (starhost.Info, error) {
	var out starhost.Info
	err := c.do(ctx, http.MethodPost, "/v1/integrations/"+name+"/reload", nil, &out)
	return out, err
}

// ReloadAllIntegrations reloads every integration.
func (c *Client) ReloadAllIntegrations(ctx context.Context) (map[string]control.ReloadResult, error) {
	var out struct {
		Results map[string]control.ReloadResult `json:"results"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/reload", nil, &out)
	return out.Results, err
}

// AddIntegration adds integrations from a module inside the host's
// folders (relative to the first): the one named class, or every one the
// module declares when class is "". It returns their infos.
func (c *Client) AddIntegration(ctx context.Context, module, class string) ([]starhost.Info, error) {
	var out control.AddResponse
	err := c.do(ctx, http.MethodPost, "/v1/integrations", control.AddRequest{Module: module, Class: class}, &out)
	return out.Integrations, err
}

// RemoveIntegration removes an integration.
func (c *Client) RemoveIntegration(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/integrations/"+name, nil, nil)
}

// Emit delivers one event and returns each handler's result.
func (c *Client) Emit(ctx context.Context, event string, data map[string]any) ([]starhost.Result, error) {
	if data == nil {
		data = map[string]any{}
	}
	var out control.EmitResponse
	err := c.do(ctx, http.MethodPost, "/v1/events/"+event, data, &out)
	return out.Results, err
}

// EmitBatch delivers many events in one request.
func (c *Client) EmitBatch(ctx context.Context, events []control.BatchEvent) ([]control.BatchResult, error) {
	var out control.BatchResponse
	err := c.do(ctx, http.MethodPost, "/v1/events", control.BatchRequest{Events: events}, &out)
	return out.Events, err
}

// Open asks a running studio to add files, as if dropped on its window.
func (c *Client) Open(ctx context.Context, files []string) error {
	return c.do(ctx, http.MethodPost, "/v1/open", control.OpenRequest{Files: files}, nil)
}

// Notices streams lifecycle notices and handler results until ctx ends or
// the connection closes; each is passed to fn.
func (c *Client) Notices(ctx context.Context, fn func(starhost.Notice)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/notices", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e := &Error{Status: resp.StatusCode}
		_ = json.NewDecoder(resp.Body).Decode(&e.Body)
		return e
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var n starhost.Notice
		if err := json.Unmarshal([]byte(line), &n); err == nil {
			fn(n)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}

// NewDialer returns a client that reaches the API over the connections
// dial makes, such as the studio's single-instance Unix socket or named
// pipe, rather than over TCP.
func NewDialer(dial func(ctx context.Context) (net.Conn, error), token string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) }}
	return &Client{base: "http://afstudio", token: token, http: &http.Client{Transport: tr}}
}
