package control

import (
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/afstudio/afstudio/starhost"
)

// ServiceOptions configure a Service.
type ServiceOptions struct {
	// Options configure the API's handler. Token "" means the user's
	// token (UserToken), created on first use.
	Options
	// AllowRemote lets Serve listen on an address other than loopback;
	// false (the default) refuses such an address.
	AllowRemote bool
}

// A Service is the control API of one host, which can be served, stopped
// and served again on another address while the host runs: the headless
// host serves it for its whole life (--listen), the studio's settings
// view switches it on and off. The handler, and so the token, stays the
// same across restarts. It is safe for concurrent use; the zero value is
// not usable (use NewService).
type Service struct {
	handler     http.Handler
	token       string
	allowRemote bool
	log         *slog.Logger

	mu  sync.Mutex
	srv *Server // nil while stopped
}

// NewService returns a stopped Service for m. It reads (or creates) the
// user's token when opts.Token is "".
func NewService(m *starhost.Manager, opts ServiceOptions) (*Service, error) {
	return newService(opts, func(o Options) (http.Handler, error) { return NewHandler(m, o), nil })
}

// NewProxyService returns a stopped Service for a host in another
// process: its handler is NewProxy to the API at target (with
// targetToken), checking the user's token (opts.Token "", as for
// NewService) and serving opts.Open here.
func NewProxyService(target, targetToken string, opts ServiceOptions) (*Service, error) {
	return newService(opts, func(o Options) (http.Handler, error) {
		return NewProxy(ProxyOptions{Token: o.Token, Target: target, TargetToken: targetToken, Open: o.Open, Logger: o.Logger})
	})
}

// newService fills in opts' token and logger and returns a stopped
// Service with the handler handler makes of them.
func newService(opts ServiceOptions, handler func(Options) (http.Handler, error)) (*Service, error) {
	if opts.Token == "" {
		tok, err := UserToken()
		if err != nil {
			return nil, err
		}
		opts.Token = tok
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := handler(opts.Options)
	if err != nil {
		return nil, err
	}
	return &Service{handler: h, token: opts.Token, allowRemote: opts.AllowRemote, log: opts.Logger}, nil
}

// Serve starts serving on addr ("127.0.0.1:0" picks a port), stopping a
// previous server first, and returns the address it listens on. A
// non-loopback addr is refused unless AllowRemote, and logged as a
// warning when allowed.
func (s *Service) Serve(addr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	srv, err := Listen(addr, s.handler, s.allowRemote)
	if err != nil {
		return "", err
	}
	return s.serving(srv, addr), nil
}

// ServeListener starts serving on ln, opened by ListenTCP (in this
// process, or in a supervisor that handed it over), as Serve does on an
// address.
func (s *Service) ServeListener(ln net.Listener) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	return s.serving(ServeListener(ln, s.handler), ln.Addr().String())
}

// stopLocked stops the running server, if any, before another is served
// (s.mu is held).
func (s *Service) stopLocked() {
	if s.srv == nil {
		return
	}
	if err := s.srv.Close(); err != nil {
		s.log.Warn("stopping the control API before serving it again", "addr", s.srv.Addr(), "error", err)
	}
	s.srv = nil
}

// serving records srv as the running server (s.mu is held) and returns
// its address.
func (s *Service) serving(srv *Server, addr string) string {
	if !IsLoopback(addr) {
		s.log.Warn("the control API is reachable from the network; anyone with the token can run events and change integrations", "addr", srv.Addr())
	}
	s.srv = srv
	s.log.Info("control API serving", "addr", "http://"+srv.Addr())
	return srv.Addr()
}

// Stop stops serving, letting requests in flight finish (see
// Server.Close). Stopping a stopped Service does nothing.
func (s *Service) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	s.srv = nil
	return err
}

// Addr returns the address served on, or "" while stopped.
func (s *Service) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return ""
	}
	return s.srv.Addr()
}

// Token returns the bearer token clients must send.
func (s *Service) Token() string { return s.token }

// Handler returns the API's handler, to serve it elsewhere too (the
// single-instance endpoint, see package control/instance).
func (s *Service) Handler() http.Handler { return s.handler }
