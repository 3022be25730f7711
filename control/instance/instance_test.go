package instance

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// isolateInstance points the API token and the single-instance socket at
// fresh temporary folders. On Windows the pipe is the user's own, so the
// test is skipped when a studio serves it.
func isolateInstance(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("APPDATA", filepath.Join(home, "AppData"))
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if runtime.GOOS == "windows" {
		addr, err := endpoint()
		if err != nil {
			t.Fatal(err)
		}
		if answers(context.Background(), addr, time.Second) {
			t.Skipf("a studio of this user serves %s", addr)
		}
	}
}

func TestHandOff(t *testing.T) {
	isolateInstance(t)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	m := hosttest.New(t, hosttest.Logger(log))
	var mu sync.Mutex
	var opened []string
	api, err := control.NewService(m, control.ServiceOptions{Options: control.Options{Logger: log, Open: func(files []string) error {
		mu.Lock()
		defer mu.Unlock()
		opened = append(opened, files...)
		return nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := Serve(api.Handler(), log)
	defer stop()

	dir := t.TempDir()
	t.Chdir(dir)
	handed, err := HandOff(context.Background(), []string{"a.star", filepath.Join("sub", "b.star")})
	if err != nil || !handed {
		t.Fatalf("HandOff = %v, %v; want the running studio to take the files", handed, err)
	}
	want := []string{filepath.Join(dir, "a.star"), filepath.Join(dir, "sub", "b.star")}
	mu.Lock()
	got := slices.Clone(opened)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("the studio opened %q, want %q", got, want)
	}

	addr, err := endpoint()
	if err != nil {
		t.Fatal(err)
	}
	dialer := func(ctx context.Context) (net.Conn, error) { return dial(ctx, addr) }
	err = client.NewDialer(dialer, "wrong").Open(context.Background(), want)
	if e := (*client.Error)(nil); !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
		t.Fatalf("open with a wrong token over the instance endpoint: %v, want 401", err)
	}
}

func TestHandOffNoStudio(t *testing.T) {
	isolateInstance(t)
	handed, err := HandOff(context.Background(), []string{"a.star"})
	if err != nil || handed {
		t.Fatalf("HandOff with no studio = %v, %v; want false, nil", handed, err)
	}
}
