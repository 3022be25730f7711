package control_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/starhost"
)

// TestMethodNotAllowed asks known paths with methods they do not serve
// and unknown paths with any method, through a real server: a known path
// answers 405 with an Allow header that lists its methods, an unknown one
// 404, and both carry the JSON error body of every other error. The token
// is not needed to learn either.
func TestMethodNotAllowed(t *testing.T) {
	m, err := starhost.New(starhost.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(control.NewHandler(m, control.Options{Token: testToken}))
	t.Cleanup(srv.Close)

	tests := []struct {
		method, path string
		status       int
		allow        []string // methods the Allow header must list; nil: no Allow header
	}{
		{"GET", "/v1/reload", http.StatusMethodNotAllowed, []string{"POST"}},
		{"PUT", "/v1/integrations/x", http.StatusMethodNotAllowed, []string{"GET", "DELETE"}},
		{"POST", "/v1/integrations/x", http.StatusMethodNotAllowed, []string{"GET", "DELETE"}},
		{"GET", "/v1/integrations/x/reload", http.StatusMethodNotAllowed, []string{"POST"}},
		{"POST", "/v1/integrations/x/state", http.StatusMethodNotAllowed, []string{"GET", "PUT", "DELETE"}},
		{"GET", "/v1/integrations/x/disable", http.StatusMethodNotAllowed, []string{"POST"}},
		{"DELETE", "/v1/integrations", http.StatusMethodNotAllowed, []string{"GET", "POST"}},
		{"GET", "/v1/events/ping", http.StatusMethodNotAllowed, []string{"POST"}},
		{"POST", "/v1/health", http.StatusMethodNotAllowed, []string{"GET"}},
		{"POST", "/v1/notices", http.StatusMethodNotAllowed, []string{"GET"}},
		{"GET", "/v1/open", http.StatusMethodNotAllowed, []string{"POST"}},
		{"GET", "/v1/nope", http.StatusNotFound, nil},
		{"POST", "/v1/integrations/x/nope", http.StatusNotFound, nil},
		{"DELETE", "/", http.StatusNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			allow := resp.Header.Get("Allow")
			if tt.allow == nil && allow != "" {
				t.Errorf("Allow: %q on a %d", allow, resp.StatusCode)
			}
			for _, m := range tt.allow {
				if !strings.Contains(", "+allow+",", ", "+m+",") {
					t.Errorf("Allow: %q does not list %s", allow, m)
				}
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var body struct {
				Error string `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body is not the JSON error: %v", err)
			}
			if !strings.Contains(body.Error, tt.path) || !strings.Contains(body.Error, tt.method) {
				t.Errorf("error %q should name %s and %s", body.Error, tt.method, tt.path)
			}
		})
	}
}
