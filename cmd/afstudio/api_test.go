package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// apiEnv is the environment of a process whose config folder (and so its
// API token) lives in a fresh temporary folder.
func apiEnv(t *testing.T) (env []string, configDir string) {
	t.Helper()
	home := t.TempDir()
	configDir = filepath.Join(home, ".config")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "HOME" || k == "XDG_CONFIG_HOME" || k == "XDG_RUNTIME_DIR" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+configDir), configDir
}

// apiToken returns the token `afstudio token` prints in env.
func apiToken(t *testing.T, bin string, env []string) string {
	t.Helper()
	cmd := exec.Command(bin, "token")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("afstudio token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestAPIProcess runs the real binary (built once for its subtests).
func TestAPIProcess(t *testing.T) {
	bin := buildBinary(t)
	t.Run("serve", func(t *testing.T) { testAPIServe(t, bin) })
	t.Run("token command", func(t *testing.T) { testTokenCommand(t, bin) })
	t.Run("refuses remote", func(t *testing.T) { testRefusesRemote(t, bin) })
}

// testAPIServe: with --listen the host serves the control API on the
// port it picked, with a token created in the config folder, that
// `afstudio token` prints too.
func testAPIServe(t *testing.T, bin string) {
	env, configDir := apiEnv(t)
	root := t.TempDir()
	path := filepath.Join(root, "greeter.star")
	hosttest.WriteFile(t, path, greeterV1)
	p := startHost(t, bin, env, "--no-defaults", "--dir", root, "--listen", "127.0.0.1:0")
	addr := p.waitAddr(t)

	tokenFile := filepath.Join(configDir, "afstudio", "token")
	st, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatalf("the host did not create its token in $XDG_CONFIG_HOME: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", st.Mode().Perm())
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tok) {
		t.Fatalf("token %q", tok)
	}

	ctx := context.Background()
	if resp, err := http.Get(addr + "/v1/health"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("health without a token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	var ce *client.Error
	if _, err := client.New(addr, "wrong").Snapshot(ctx); !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}
	c := client.New(addr, tok)
	view, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if infos := view.Integrations; len(infos) != 1 || infos[0].Name != "greeter" || infos[0].Module != path {
		t.Fatalf("list: %+v", view)
	}
	rs, err := c.Emit(ctx, "ping", map[string]any{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Value != "v1" || !rs[0].OK {
		t.Fatalf("emit: %+v", rs)
	}
	// The host reports API results on its stdout like any other.
	l := p.waitFor(t, "result line on stdout", func(l map[string]any) bool { return l["kind"] == "result" && l["integration"] == "greeter" })
	if l["event"] != "ping" {
		t.Fatalf("stdout result line: %v", l)
	}

	// Reload through the API. (The file watcher may reload it too: the
	// generation is at least 2 and the new version answers.)
	hosttest.WriteFile(t, path, strings.Replace(greeterV1, "v1", "v2", 1))
	in, err := c.ReloadIntegration(ctx, "greeter")
	if err != nil {
		t.Fatal(err)
	}
	if in.Generation < 2 || in.Failed {
		t.Fatalf("reload: %+v", in)
	}
	rs, err = c.Emit(ctx, "ping", nil)
	if err != nil || len(rs) != 1 || rs[0].Value != "v2" {
		t.Fatalf("emit after reload: %+v %v", rs, err)
	}
	hosttest.WriteFile(t, path, "def h(event, ctx)\n")
	if _, err := c.ReloadIntegration(ctx, "greeter"); !errors.As(err, &ce) || ce.Status != http.StatusUnprocessableEntity ||
		ce.Body.Diagnostic == nil || ce.Body.Diagnostic.File != path || ce.Body.Diagnostic.Line != 2 {
		t.Fatalf("reload of a broken file: %v", err)
	}
	rs, err = c.Emit(ctx, "ping", nil)
	if err != nil || len(rs) != 1 || rs[0].Value != "v2" {
		t.Fatalf("the old version must serve after a failed reload: %+v %v", rs, err)
	}
	out, err := c.EmitBatch(ctx, []control.BatchEvent{{Event: "ping"}, {Event: "bad name"}, {Event: "ping"}})
	if err != nil || len(out) != 3 || out[1].Error == "" || len(out[0].Results) != 1 || len(out[2].Results) != 1 {
		t.Fatalf("batch: %+v %v", out, err)
	}

	// `afstudio token` prints the same token.
	if printed := apiToken(t, bin, env); printed != tok {
		t.Fatalf("afstudio token printed %q, the host uses %q", printed, tok)
	}

	// SIGTERM stops it cleanly.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitExit(t, "SIGTERM")
	if err := c.Health(ctx); err == nil {
		t.Fatal("the API still answers after the host stopped")
	}
}

// testTokenCommand: `afstudio token` on a fresh config folder creates the
// token and prints the same one every time.
func testTokenCommand(t *testing.T, bin string) {
	env, configDir := apiEnv(t)
	toks := []string{apiToken(t, bin, env), apiToken(t, bin, env)}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(toks[0]) || toks[0] != toks[1] {
		t.Fatalf("tokens %q", toks)
	}
	b, err := os.ReadFile(filepath.Join(configDir, "afstudio", "token"))
	if err != nil || strings.TrimSpace(string(b)) != toks[0] {
		t.Fatalf("token file: %q %v", b, err)
	}
}

// testRefusesRemote: a non-loopback --listen needs --allow-remote;
// without it the host exits with a message that says so.
func testRefusesRemote(t *testing.T, bin string) {
	env, _ := apiEnv(t)
	p := startHost(t, bin, env, "--no-defaults", "--listen", "0.0.0.0:0")
	err := p.wait(t, "a non-loopback --listen without --allow-remote")
	out := p.log()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	if !strings.Contains(out, "--allow-remote") || !strings.Contains(out, "0.0.0.0:0") {
		t.Fatalf("the message should name the address and --allow-remote:\n%s", out)
	}
	if strings.Contains(out, "control API serving") {
		t.Fatalf("it served anyway:\n%s", out)
	}
}
