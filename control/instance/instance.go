// Package instance makes the studio a single-instance application: a
// running studio serves the control API on an endpoint private to the
// user (Serve), and a second `afstudio FILE.star` hands it the files
// (HandOff) instead of opening another window.
//
// The endpoint is a Unix socket readable only by the user
// (instance_unix.go) or, on Windows, a named pipe named for the user's
// security identifier whose server is checked to run as the user before
// the token is sent (instance_windows.go); endpoint, listen and dial are
// that per-platform part. The API's bearer token guards every request on
// it, as on TCP.
package instance

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

// HandOff gives files (made absolute) to a studio already running for
// this user, through POST /v1/open on the single-instance endpoint. It
// returns false, nil when no studio answers there: the caller then
// becomes the studio.
func HandOff(ctx context.Context, files []string) (bool, error) {
	addr, err := endpoint()
	if err != nil {
		return false, nil
	}
	if !answers(ctx, addr, time.Second) {
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
	c := client.NewDialer(func(ctx context.Context) (net.Conn, error) { return dial(ctx, addr) }, tok)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Open(ctx, abs); err != nil {
		return false, fmt.Errorf("hand %d file(s) to the running studio at %s: %w", len(files), addr, err)
	}
	return true, nil
}

// Serve serves h (the control API, which checks the bearer token) on the
// single-instance endpoint until the returned stop function is called.
// When the endpoint is taken or unavailable it logs a warning and returns
// a stop function that does nothing: the studio runs without it.
func Serve(h http.Handler, log *slog.Logger) (stop func()) {
	addr, err := endpoint()
	if err != nil {
		log.Warn("single-instance endpoint unavailable", "error", err)
		return func() {}
	}
	if answers(context.Background(), addr, 200*time.Millisecond) {
		log.Warn("another studio already serves the single-instance endpoint", "addr", addr)
		return func() {}
	}
	ln, err := listen(addr, log)
	if err != nil {
		log.Warn("single-instance endpoint unavailable", "addr", addr, "error", err)
		return func() {}
	}
	base, cancelRequests := context.WithCancel(context.Background())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return base }}
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
		cancelRequests()      // open notice streams end at once
		_ = srv.Shutdown(ctx) // closes ln, which removes a Unix socket
		<-done
	}
}

// answers reports whether something accepts connections at addr
// within timeout.
func answers(ctx context.Context, addr string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := dial(ctx, addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
