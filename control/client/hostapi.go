package client

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/starhost"
)

// The methods of this file reach the endpoints a remote studio drives a
// host with (see control/hostapi.go).

// View returns the Snapshot with each integration's recent latencies,
// which the Info's JSON leaves out (GET /v1/view).
func (c *Client) View(ctx context.Context) (control.HostView, error) {
	var out control.HostView
	err := c.do(ctx, http.MethodGet, "/v1/view", nil, &out)
	return out, err
}

// ReloadFiles brings the host in line with files as they are now on its
// disk (POST /v1/files/reload; Manager.ReloadFiles): paths are absolute
// paths on the host's machine. It returns the outcomes, each failure with
// the host's message and diagnostics.
func (c *Client) ReloadFiles(ctx context.Context, paths []string) ([]control.FileOutcome, error) {
	if paths == nil {
		paths = []string{}
	}
	var out control.FilesResponse
	err := c.do(ctx, http.MethodPost, "/v1/files/reload", control.FilesRequest{Paths: paths}, &out)
	return out.Outcomes, err
}

// RemoveModule removes every integration a module declares and forgets
// its load failure (POST /v1/modules/remove; Manager.RemoveModule). It
// returns the names removed.
func (c *Client) RemoveModule(ctx context.Context, module string) ([]string, error) {
	var out control.ModuleResponse
	err := c.do(ctx, http.MethodPost, "/v1/modules/remove", control.ModuleRequest{Module: module}, &out)
	return out.Removed, err
}

// AddRoot adds an integration folder on the host's machine, an absolute
// path, and loads its modules (POST /v1/roots; Manager.AddRoot). It
// returns the host's folders. Modules that fail to load are an *Error
// with Status 422 and their diagnostics; the folder is added all the
// same.
func (c *Client) AddRoot(ctx context.Context, dir string) ([]string, error) {
	var out control.RootResponse
	err := c.do(ctx, http.MethodPost, "/v1/roots", control.RootRequest{Dir: dir}, &out)
	return out.Roots, err
}

// ResetState replaces the named integration's state with an empty one
// (POST /v1/integrations/{name}/state/reset; Manager.ResetState); unlike
// ForgetState it does not delete the stored record at once.
func (c *Client) ResetState(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, statePath(name)+"/reset", nil, nil)
}

// ExportStates returns the states of the named integrations, of every
// one when none is named (GET /v1/state; Manager.ExportStates). An
// unknown name is an *Error with Status 404.
func (c *Client) ExportStates(ctx context.Context, names ...string) (starhost.StateExport, error) {
	q := url.Values{}
	for _, n := range names {
		q.Add("name", n)
	}
	path := "/v1/state"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out starhost.StateExport
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// ImportStates replaces the states of the integrations in e, all or
// nothing (PUT /v1/state; Manager.ImportStates): an unknown name is an
// *Error with Status 404, an invalid state one with Status 400, and then
// nothing changed; Status 503 means imported but not on disk yet.
func (c *Client) ImportStates(ctx context.Context, e starhost.StateExport) error {
	return c.do(ctx, http.MethodPut, "/v1/state", e, nil)
}

// StreamOptions configure NoticeStream.
type StreamOptions struct {
	// Opened, when not nil, is called once the host has accepted the
	// stream (before the first notice): a caller that reconnects knows
	// when it is connected again.
	Opened func()
	// Limit asks the host to send at most Limit events, results and logs
	// a second, and a control.NoticeDropped notice counting the others
	// (GET /v1/notices?limit=N); 0: everything.
	Limit int
}

// NoticeStream is Notices with options.
func (c *Client) NoticeStream(ctx context.Context, opts StreamOptions, fn func(starhost.Notice)) error {
	path := "/v1/notices"
	if opts.Limit > 0 {
		path += "?limit=" + strconv.Itoa(opts.Limit)
	}
	opened := opts.Opened
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", c.auth)
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
	if opened != nil {
		opened()
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
