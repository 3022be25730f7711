//go:build windows

package instance

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"unsafe"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// endpoint returns the single-instance named pipe,
// \\.\pipe\afstudio-SID, named for the user's security identifier.
func endpoint() (string, error) {
	sid, err := userSID()
	if err != nil {
		return "", err
	}
	return `\\.\pipe\afstudio-` + sid, nil
}

// listen creates the named pipe at addr. Only the user may
// connect (the pipe's DACL allows the user's SID alone), and go-winio
// rejects remote clients. When Windows (or wine) refuses that security
// descriptor, the pipe gets the default one (the user, administrators
// and SYSTEM may connect) and a warning is logged; the API token still
// guards every request.
func listen(addr string, log *slog.Logger) (net.Listener, error) {
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

// dial connects to the named pipe at addr, waiting while it is
// busy until ctx ends, and checks that the process serving it runs as
// this user: pipe names are shared by every user of the machine, and the
// hand-off sends the user's API token.
func dial(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := winio.DialPipeContext(ctx, addr)
	if err != nil {
		return nil, err
	}
	if err := checkPipeServer(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return conn, nil
}

// getNamedPipeServerProcessID is kernel32's GetNamedPipeServerProcessId,
// which golang.org/x/sys/windows does not wrap.
var getNamedPipeServerProcessID = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetNamedPipeServerProcessId")

// checkPipeServer returns an error unless the process at the other end
// of the pipe runs as the current user.
func checkPipeServer(conn net.Conn) error {
	f, ok := conn.(interface{ Fd() uintptr })
	if !ok {
		return fmt.Errorf("cannot tell who serves the pipe (%T has no handle)", conn)
	}
	var pid uint32
	if r, _, err := getNamedPipeServerProcessID.Call(f.Fd(), uintptr(unsafe.Pointer(&pid))); r == 0 {
		return fmt.Errorf("find the process serving the pipe: %w", err)
	}
	proc, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return fmt.Errorf("open process %d serving the pipe: %w", pid, err)
	}
	defer windows.CloseHandle(proc)
	var tok windows.Token
	if err := windows.OpenProcessToken(proc, windows.TOKEN_QUERY, &tok); err != nil {
		return fmt.Errorf("read the user of process %d serving the pipe: %w", pid, err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return fmt.Errorf("read the user of process %d serving the pipe: %w", pid, err)
	}
	own, err := userSID()
	if err != nil {
		return err
	}
	if server := u.User.Sid.String(); server != own {
		return fmt.Errorf("the pipe is served by process %d of another user (%s), not a studio of yours; not handing it the token", pid, server)
	}
	return nil
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
