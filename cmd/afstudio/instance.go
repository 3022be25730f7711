package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
)

// The single-instance hand-off: a running studio serves the control API
// on an endpoint private to the user, and a second `afstudio FILE.star`
// gives it the files instead of opening another window. The endpoint is
// a Unix socket (instance_unix.go) or a named pipe (instance_windows.go);
// instanceAddr, listenInstance and dialInstance are the per-platform part.

// handOff gives files to a studio already running for this user. It
// returns false when none answers.
func handOff(ctx context.Context, files []string) (bool, error) {
	addr, err := instanceAddr()
	if err != nil {
		return false, nil
	}
	if !instanceAnswers(ctx, addr, time.Second) {
		return false, nil // nobody listens: this process becomes the studio
	}
	tok, err := control.UserToken()
	if err != nil {
		return false, err
	}
	abs := make([]string, len(files))
	for i, f := range files {
		if abs[i], err = filepath.Abs(f); err != nil {
			return false, fmt.Errorf("hand %s to the running studio: %w", f, err)
		}
	}
	c := client.NewDialer(func(ctx context.Context) (net.Conn, error) { return dialInstance(ctx, addr) }, tok)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Open(ctx, abs); err != nil {
		return false, fmt.Errorf("hand %d file(s) to the running studio at %s: %w", len(files), addr, err)
	}
	return true, nil
}

// serveInstance serves h (the control API, which checks the bearer token)
// on the single-instance endpoint until the returned stop function is
// called. When the endpoint is taken or unavailable it logs a warning and
// the studio runs without it.
func serveInstance(h http.Handler, log *slog.Logger) (stop func()) {
	addr, err := instanceAddr()
	if err != nil {
		log.Warn("single-instance endpoint unavailable", "error", err)
		return func() {}
	}
	if instanceAnswers(context.Background(), addr, 200*time.Millisecond) {
		log.Warn("another studio already serves the single-instance endpoint", "addr", addr)
		return func() {}
	}
	ln, err := listenInstance(addr, log)
	if err != nil {
		log.Warn("single-instance endpoint unavailable", "addr", addr, "error", err)
		return func() {}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("single-instance endpoint", "addr", addr, "error", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // closes ln, which removes a Unix socket
		<-done
	}
}

// instanceAnswers reports whether something accepts connections at addr
// within timeout.
func instanceAnswers(ctx context.Context, addr string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := dialInstance(ctx, addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
