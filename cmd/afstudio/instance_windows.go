//go:build windows

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// instanceAddr returns the single-instance named pipe,
// \\.\pipe\afstudio-SID, named for the user's security identifier.
func instanceAddr() (string, error) {
	sid, err := userSID()
	if err != nil {
		return "", err
	}
	return `\\.\pipe\afstudio-` + sid, nil
}

// listenInstance creates the named pipe at addr. Only the user may
// connect (the pipe's DACL allows the user's SID alone), and go-winio
// rejects remote clients. When Windows (or wine) refuses that security
// descriptor, the pipe gets the default one (the user, administrators
// and SYSTEM may connect) and a warning is logged; the API token still
// guards every request.
func listenInstance(addr string, log *slog.Logger) (net.Listener, error) {
	sid, err := userSID()
	if err != nil {
		return nil, err
	}
	ln, err := winio.ListenPipe(addr, &winio.PipeConfig{SecurityDescriptor: "D:P(A;;GA;;;" + sid + ")"})
	if err == nil {
		return ln, nil
	}
	ln, err2 := winio.ListenPipe(addr, nil)
	if err2 != nil {
		return nil, fmt.Errorf("create named pipe %s: %w (with user-only access: %v)", addr, err2, err)
	}
	log.Warn("single-instance pipe has the default access, not user-only", "addr", addr, "error", err)
	return ln, nil
}

// dialInstance connects to the named pipe at addr, waiting while it is
// busy until ctx ends.
func dialInstance(ctx context.Context, addr string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, addr)
}

// userSID returns the security identifier of the user running afstudio,
// e.g. S-1-5-21-...-1001.
func userSID() (string, error) {
	tok, err := windows.OpenCurrentProcessToken()
	if err != nil {
		return "", fmt.Errorf("open the process token to find the user: %w", err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("find the user of the process token: %w", err)
	}
	return u.User.Sid.String(), nil
}
