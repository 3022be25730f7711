// Package client is a small Go client of afstudio's control API (package
// control): what an engine written in Go, or a test, uses to deliver
// events and manage integrations. Its methods carry the names of the
// starhost.Manager methods they reach (Emit, ReloadIntegration,
// AddIntegration, ...), with the same arguments and results; see the
// starhost package documentation for the mapping to the Python API.
//
// Every method returns an *Error when the API answers with an error
// status, and the transport's error when it cannot be reached.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/internal/jsonwire"
	"github.com/afstudio/afstudio/starhost"
)

// Client talks to one afstudio host. Get one from New or NewDialer; it is
// safe for concurrent use and reuses connections.
type Client struct {
	base string
	auth string // the Authorization header: "Bearer " and the token
	http *http.Client
}

// New returns a client for the API at base (e.g. "http://127.0.0.1:7777";
// a trailing slash is ignored) with the token that `afstudio token`
// prints. It makes no request.
func New(base, token string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), auth: "Bearer " + token, http: &http.Client{}}
}

// Error is an error response of the API: any status of 300 or more. Test
// for it with errors.As.
type Error struct {
	// Status is the HTTP status code: 400 bad request, 401 wrong token,
	// 404 unknown name or path, 405 wrong method, 413 body too large, 422
	// the host refused the change (a failed reload or add), 500 an
	// internal error.
	Status int
	// Body is the API's JSON error body; its fields are zero when the
	// body was not JSON.
	Body struct {
		// Error says what is wrong and what to do.
		Error string `json:"error"`
		// Diagnostic is the error in the user's code, with
		// file:line:col where known (a failed reload or add); nil
		// otherwise.
		Diagnostic *starhost.Diagnostic `json:"diagnostic"`
		// Problems are every diagnostic of an error that has more than
		// one (the first is Diagnostic); nil otherwise.
		Problems []starhost.Diagnostic `json:"problems"`
	}
}

// Error returns "afstudio API: STATUS: MESSAGE", followed by the
// diagnostic as "file:line:col: message" when there is one.
func (e *Error) Error() string {
	msg := fmt.Sprintf("afstudio API: %d: %s", e.Status, e.Body.Error)
	if e.Body.Diagnostic != nil {
		msg += ": " + e.Body.Diagnostic.Error()
	}
	return msg
}

// do sends one request (body encoded as JSON unless nil) and decodes a
// successful answer into out (unless nil); an error status becomes an
// *Error.
func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	resp, err := c.send(ctx, method, path, b, body != nil)
	if err != nil {
		return err
	}
	defer drainClose(resp)
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// send sends one request, with body as its JSON body when hasBody, and
// returns the response to a successful status, which the caller must
// pass to drainClose. An error status is an *Error, the response closed.
func (c *Client) send(ctx context.Context, method, path string, body []byte, hasBody bool) (*http.Response, error) {
	return c.sendID(ctx, method, path, body, hasBody, "")
}

// sendID is send with an event id in the control.IDHeader ("" for none).
func (c *Client) sendID(ctx context.Context, method, path string, body []byte, hasBody bool, id string) (*http.Response, error) {
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", c.auth)
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if id != "" {
		req.Header.Set(control.IDHeader, id)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer drainClose(resp)
		e := &Error{Status: resp.StatusCode}
		_ = json.NewDecoder(resp.Body).Decode(&e.Body)
		return nil, e
	}
	return resp, nil
}

// drainClose reads the rest of resp's body and closes it, so that the
// connection can be reused.
func drainClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// doEvents is do for the event endpoints, with jsonwire's fast paths:
// req is encoded by appendReq (json.Marshal when it returns false), and
// the answer decoded into out by parse (the json.Decoder of do when it
// returns false, out reset to its zero value).
func doEvents[T any](c *Client, ctx context.Context, path string, req any, appendReq func([]byte) ([]byte, bool), out *T, parse func([]byte, *T) bool) error {
	return doEventsID(c, ctx, path, "", req, appendReq, out, parse)
}

// doEventsID is doEvents with an event id in the control.IDHeader.
func doEventsID[T any](c *Client, ctx context.Context, path, id string, req any, appendReq func([]byte) ([]byte, bool), out *T, parse func([]byte, *T) bool) error {
	buf := jsonwire.GetBuffer()
	defer jsonwire.PutBuffer(buf)
	b, ok := appendReq((*buf)[:0])
	if ok {
		b = bytes.Clone(b) // the transport may read it after Do returns
	} else {
		var err error
		if b, err = json.Marshal(req); err != nil {
			return err
		}
	}
	resp, err := c.sendID(ctx, http.MethodPost, path, b, true, id)
	if err != nil {
		return err
	}
	defer drainClose(resp)
	body, err := readAll(resp, buf)
	if err == nil && parse(body, out) {
		return nil
	}
	var zero T
	*out = zero
	return json.NewDecoder(jsonwire.Replay(body, err)).Decode(out)
}

// segment escapes a name (an integration or event name) as one path
// segment, so that "/", "?", "#", "%" and the names "." and ".." reach the
// API as part of the name.
func segment(name string) string {
	if name == "." || name == ".." {
		return strings.Repeat("%2E", len(name))
	}
	return url.PathEscape(name)
}

// Health reports whether the host answers (GET /v1/health, which needs
// no token): nil when it does.
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

// IntegrationInfo returns one integration's info (GET
// /v1/integrations/{name}); an unknown name is an *Error with Status 404
// (Manager.IntegrationInfo's false).
func (c *Client) IntegrationInfo(ctx context.Context, name string) (starhost.Info, error) {
	var out starhost.Info
	err := c.do(ctx, http.MethodGet, "/v1/integrations/"+segment(name), nil, &out)
	return out, err
}

// ReloadIntegration reloads one integration (POST
// /v1/integrations/{name}/reload) and returns its new info. A failed
// reload is an *Error with Status 422 and the Diagnostic; the old version
// keeps serving.
func (c *Client) ReloadIntegration(ctx context.Context, name string) (starhost.Info, error) {
	var out starhost.Info
	err := c.do(ctx, http.MethodPost, "/v1/integrations/"+segment(name)+"/reload", nil, &out)
	return out, err
}

// ReloadAllIntegrations reloads every integration (POST /v1/reload) and
// returns each one's outcome by name; a failed reload is a result with OK
// false, not an error.
func (c *Client) ReloadAllIntegrations(ctx context.Context) (map[string]control.ReloadResult, error) {
	var out struct {
		Results map[string]control.ReloadResult `json:"results"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/reload", nil, &out)
	return out.Results, err
}

// AddIntegration adds integrations from a module inside the host's
// folders (relative to the first): the one named class, or every one the
// module declares when class is "" (POST /v1/integrations). It returns
// their infos. A module that fails to load is an *Error with Status 422
// and the Diagnostic; a path outside the folders one with Status 400.
func (c *Client) AddIntegration(ctx context.Context, module, class string) ([]starhost.Info, error) {
	var out control.AddResponse
	err := c.do(ctx, http.MethodPost, "/v1/integrations", control.AddRequest{Module: module, Class: class}, &out)
	return out.Integrations, err
}

// RemoveIntegration removes an integration (DELETE
// /v1/integrations/{name}); an unknown name is an *Error with Status 404.
func (c *Client) RemoveIntegration(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/integrations/"+segment(name), nil, nil)
}

// Emit delivers one event (POST /v1/events/{event}; nil data is {}) and
// returns each handler's result, as Manager.Emit does. A handler that
// fails is a Result with OK false; a bad event name or data is an *Error
// with Status 400.
func (c *Client) Emit(ctx context.Context, event string, data map[string]any) ([]starhost.Result, error) {
	if data == nil {
		data = map[string]any{}
	}
	var out control.EmitResponse
	appendReq := func(b []byte) ([]byte, bool) { return jsonwire.AppendValue(b, data) }
	err := doEvents(c, ctx, "/v1/events/"+segment(event), data, appendReq, &out, parseEmitResponse)
	return out.Results, err
}

// EmitID delivers one event with an id (POST /v1/events/{event} with the
// control.IDHeader), as Manager.EmitID does: an event whose id the host
// handled already (also before a restart) is not handled again, and
// EmitID returns no results and an error wrapping
// starhost.ErrDuplicateEvent. An engine that did not get an answer (a
// timeout, a host restarting) sends the event again with the same id.
// An empty id is Emit's.
func (c *Client) EmitID(ctx context.Context, id, event string, data map[string]any) ([]starhost.Result, error) {
	if id == "" {
		return c.Emit(ctx, event, data)
	}
	if data == nil {
		data = map[string]any{}
	}
	var out control.EmitResponse
	appendReq := func(b []byte) ([]byte, bool) { return jsonwire.AppendValue(b, data) }
	if err := doEventsID(c, ctx, "/v1/events/"+segment(event), id, data, appendReq, &out, parseEmitResponse); err != nil {
		return nil, err
	}
	if out.Duplicate {
		return nil, fmt.Errorf("id %q: %w", id, starhost.ErrDuplicateEvent)
	}
	return out.Results, nil
}

// EmitBatch delivers many events in one request (POST /v1/events, at
// most control.MaxBatch) and returns one BatchResult per event, in order;
// an event with an id (BatchEvent.ID) handled already is a BatchResult
// with Duplicate set.
func (c *Client) EmitBatch(ctx context.Context, events []control.BatchEvent) ([]control.BatchResult, error) {
	var out control.BatchResponse
	req := control.BatchRequest{Events: events}
	appendReq := func(b []byte) ([]byte, bool) { return appendBatchRequest(b, &req) }
	err := doEvents(c, ctx, "/v1/events", req, appendReq, &out, parseBatchResponse)
	return out.Events, err
}

// Open asks a running studio to add files (absolute .star paths), as if
// dropped on its window (POST /v1/open); a headless host answers 404.
func (c *Client) Open(ctx context.Context, files []string) error {
	return c.do(ctx, http.MethodPost, "/v1/open", control.OpenRequest{Files: files}, nil)
}

// Notices streams lifecycle notices and handler results (GET
// /v1/notices) until ctx ends or the connection closes; each is passed to
// fn, on the calling goroutine, in order. It returns nil when ctx ends or
// the host ends the stream, and the read error when the connection
// breaks.
func (c *Client) Notices(ctx context.Context, fn func(starhost.Notice)) error {
	return c.NoticeStream(ctx, StreamOptions{}, fn)
}

// NewDialer returns a client that reaches the API over the connections
// dial makes, such as the studio's single-instance Unix socket or named
// pipe, rather than over TCP; token is as for New.
func NewDialer(dial func(ctx context.Context) (net.Conn, error), token string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) }}
	return &Client{base: "http://afstudio", auth: "Bearer " + token, http: &http.Client{Transport: tr}}
}
