package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
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

// instanceSocket is where a running studio accepts files from a second
// `afstudio FILE.star` (the single-instance hand-off): a Unix socket in
// the user's runtime or config folder, served by the control API.
func instanceSocket() (string, error) {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, "afstudio.sock"), nil
	}
	path, err := control.TokenPath()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), "studio.sock"), nil
}

// handOff gives files to a studio already running for this user. It
// returns false when none answers.
func handOff(ctx context.Context, files []string) (bool, error) {
	sock, err := instanceSocket()
	if err != nil {
		return false, nil
	}
	conn, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return false, nil // nobody listens: this process becomes the studio
	}
	conn.Close()
	tok, err := control.UserToken()
	if err != nil {
		return false, err
	}
	abs := make([]string, len(files))
	for i, f := range files {
		if abs[i], err = filepath.Abs(f); err != nil {
			return false, err
		}
	}
	c := client.NewUnix(sock, tok)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Open(ctx, abs); err != nil {
		return false, fmt.Errorf("hand %d file(s) to the running studio: %w", len(files), err)
	}
	return true, nil
}

// serveInstanceSocket serves the control API on the single-instance
// socket until the returned stop function is called.
func serveInstanceSocket(h http.Handler, log *slog.Logger) (stop func()) {
	sock, err := instanceSocket()
	if err != nil {
		return func() {}
	}
	_ = os.MkdirAll(filepath.Dir(sock), 0o700)
	if conn, err := net.DialTimeout("unix", sock, 200*time.Millisecond); err == nil {
		conn.Close()
		log.Warn("another studio already serves the instance socket", "socket", sock)
		return func() {}
	}
	_ = os.Remove(sock) // a stale socket of a studio that crashed
	ln, err := net.Listen("unix", sock)
	if err != nil {
		log.Warn("single-instance socket unavailable", "socket", sock, "error", err)
		return func() {}
	}
	_ = os.Chmod(sock, 0o600)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("instance socket", "error", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		_ = os.Remove(sock)
	}
}
