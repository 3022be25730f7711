package control_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost"
)

// TestService: a Service serves, serves again elsewhere (the old address
// stops answering), stops, and keeps its token throughout.
func TestService(t *testing.T) {
	m, err := starhost.New(starhost.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := control.NewService(m, control.ServiceOptions{Options: control.Options{Token: testToken, Logger: slog.New(slog.NewTextHandler(&logs, nil))}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ctx := context.Background()
	answers := func(addr string) bool { return client.New("http://"+addr, testToken).Health(ctx) == nil }

	if s.Addr() != "" || s.Token() != testToken {
		t.Fatalf("new Service: Addr %q, Token %q; want stopped with the given token", s.Addr(), s.Token())
	}
	first, err := s.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr() != first || !answers(first) {
		t.Fatalf("serving on %s: Addr %q, health answers %v", first, s.Addr(), answers(first))
	}
	if !strings.Contains(logs.String(), `msg="control API serving" addr=http://`+first) {
		t.Errorf("log lacks the serving line:\n%s", &logs)
	}
	second, err := s.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if second == first || !answers(second) || answers(first) {
		t.Fatalf("served again on %s: the new address must answer and the old %s must not", second, first)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != "" || answers(second) {
		t.Fatalf("after Stop: Addr %q, still answering %v", s.Addr(), answers(second))
	}
	if err := s.Stop(); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
	if s.Token() != testToken {
		t.Errorf("the token changed: %q", s.Token())
	}
}

func TestServiceRemote(t *testing.T) {
	m, err := starhost.New(starhost.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		allowRemote bool
		wantErr     string
		wantLog     string
	}{
		{"refused", false, "pass --allow-remote", ""},
		{"allowed with a warning", true, "", "the control API is reachable from the network"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			s, err := control.NewService(m, control.ServiceOptions{AllowRemote: tc.allowRemote,
				Options: control.Options{Token: testToken, Logger: slog.New(slog.NewTextHandler(&logs, nil))}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			_, err = s.Serve("0.0.0.0:0")
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Serve(0.0.0.0:0) = %v, want error containing %q", err, tc.wantErr)
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, &logs)
			}
		})
	}
}

// TestServiceUserToken: without a token the Service uses the user's,
// created on first use.
func TestServiceUserToken(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", cfg)
	t.Setenv("APPDATA", filepath.Join(cfg, "AppData"))
	m, err := starhost.New(starhost.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := control.NewService(m, control.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := control.UserToken()
	if err != nil {
		t.Fatal(err)
	}
	if s.Token() != tok || len(tok) != 64 {
		t.Errorf("Token() = %q, want the user's token %q", s.Token(), tok)
	}
}

// A Service serves the control API of a host on an address, and can be
// stopped and served again (the studio's Settings tab does both).
func ExampleService() {
	m, err := starhost.New(starhost.Options{})
	if err != nil {
		log.Fatal(err)
	}
	api, err := control.NewService(m, control.ServiceOptions{Options: control.Options{Token: strings.Repeat("ab", 32)}})
	if err != nil {
		log.Fatal(err)
	}
	addr, err := api.Serve("127.0.0.1:0") // a free port
	if err != nil {
		log.Fatal(err)
	}
	err = client.New("http://"+addr, api.Token()).Health(context.Background())
	fmt.Println("health:", err)
	if err := api.Stop(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stopped: %q\n", api.Addr())
	// Output:
	// health: <nil>
	// stopped: ""
}
