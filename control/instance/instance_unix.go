//go:build !windows

package instance

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/afstudio/afstudio/control"
)

// endpoint returns the single-instance Unix socket: afstudio.sock in
// $XDG_RUNTIME_DIR, or studio.sock beside the API token.
func endpoint() (string, error) {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, "afstudio.sock"), nil
	}
	path, err := control.TokenPath()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), "studio.sock"), nil
}

// listen listens on the socket at addr, readable only by the
// user. The caller has checked that nobody answers there, so a socket
// file left by a studio that crashed is removed first.
func listen(addr string, _ *slog.Logger) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(addr), 0o700); err != nil {
		return nil, fmt.Errorf("create the folder of %s: %w", addr, err)
	}
	_ = os.Remove(addr)
	ln, err := net.Listen("unix", addr)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(addr, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("make %s private: %w", addr, err)
	}
	return ln, nil
}

// dial connects to the socket at addr.
func dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", addr)
}
