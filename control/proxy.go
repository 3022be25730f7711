package control

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// ProxyOptions configure NewProxy.
type ProxyOptions struct {
	// Token is the token the proxy's clients send (the user's); ""
	// refuses every request but health.
	Token string
	// Target is the base URL of the API the proxy forwards to (a studio's
	// worker, on a private loopback port).
	Target string
	// TargetToken is the token of the API at Target.
	TargetToken string
	// Open serves POST /v1/open in this process (the studio's window);
	// nil answers 404 as the headless host does.
	Open func(files []string) error
	// Logger receives proxy errors; nil discards them.
	Logger *slog.Logger
}

// NewProxy returns the control API of a host in another process: it
// checks the caller's token, answers POST /v1/open itself (the window is
// here), and forwards every other request, notice streams included, to
// the API at opts.Target with that API's token. A studio that runs its
// integrations in a supervised worker serves it as its own API, so that
// engines and the single-instance hand-off see one address and one token
// whatever worker is running. While the worker restarts, a forwarded
// request fails with 502 and a message saying so.
func NewProxy(opts ProxyOptions) (http.Handler, error) {
	target, err := url.Parse(opts.Target)
	if err != nil || target.Scheme == "" || target.Host == "" {
		return nil, fmt.Errorf("control proxy: target %q is not a base URL such as http://127.0.0.1:7777", opts.Target)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Set("Authorization", "Bearer "+opts.TargetToken)
		},
		FlushInterval: -1, // notice streams: every event at once
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("control proxy: the host did not answer", "path", r.URL.Path, "error", err)
			writeError(w, http.StatusBadGateway, "the integrations' worker process did not answer (it may be restarting after a crash; retry in a moment): "+err.Error(), nil)
		},
	}
	// Open is served here; the rest goes to the worker. Health is open,
	// as on the host itself.
	local := NewHandler(nil, Options{Token: opts.Token, Open: opts.Open, Logger: log})
	check := tokenCheck(opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/open":
			local.ServeHTTP(w, r)
		case r.URL.Path == "/v1/health" || check(w, r):
			rp.ServeHTTP(w, r)
		}
	}), nil
}
