package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/starhost"
)

// cmdToken prints the control API token, creating it on first use.
func cmdToken(stdout io.Writer) error {
	tok, err := control.UserToken()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// apiServer starts and stops the control API of one host; the studio's
// settings view drives it. It is safe for concurrent use.
type apiServer struct {
	handler     http.Handler
	token       string
	allowRemote bool
	log         *slog.Logger

	mu  sync.Mutex
	srv *control.Server
}

func newAPIServer(m *starhost.Manager, open func([]string) error, allowRemote bool, log *slog.Logger) (*apiServer, error) {
	tok, err := control.UserToken()
	if err != nil {
		return nil, err
	}
	h := control.NewHandler(m, control.Options{Token: tok, Version: version, Open: open, Logger: log})
	return &apiServer{handler: h, token: tok, allowRemote: allowRemote, log: log}, nil
}

// Serve starts serving on addr (stopping a previous server) and returns
// the address it listens on.
func (a *apiServer) Serve(addr string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv != nil {
		_ = a.srv.Close()
		a.srv = nil
	}
	srv, err := control.Listen(addr, a.handler, a.allowRemote)
	if err != nil {
		return "", err
	}
	if !control.IsLoopback(addr) {
		a.log.Warn("the control API is reachable from the network; anyone with the token can run events and change integrations", "addr", srv.Addr())
	}
	a.srv = srv
	a.log.Info("control API serving", "addr", "http://"+srv.Addr())
	return srv.Addr(), nil
}

// Stop stops serving.
func (a *apiServer) Stop() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv == nil {
		return nil
	}
	err := a.srv.Close()
	a.srv = nil
	return err
}

// Addr returns the address served on, or "" when stopped.
func (a *apiServer) Addr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv == nil {
		return ""
	}
	return a.srv.Addr()
}

// Token returns the bearer token.
func (a *apiServer) Token() string { return a.token }
