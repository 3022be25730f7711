package fynecache

import (
	"testing"
	"time"
)

func TestApply(t *testing.T) {
	for _, c := range []struct{ env, want string }{
		{"", Default.String()},
		{"1m", "1m"},
		{"20s", "20s"},
		{"nonsense", "nonsense"}, // the user's, even if Fyne ignores it
	} {
		env := map[string]string{}
		if c.env != "" {
			env[Env] = c.env
		}
		Apply(func(k string) string { return env[k] }, func(k, v string) error { env[k] = v; return nil })
		if env[Env] != c.want {
			t.Errorf("Apply with %s=%q: %q, want %q", Env, c.env, env[Env], c.want)
		}
	}
}

func TestLifetime(t *testing.T) {
	for _, c := range []struct {
		env  string
		want time.Duration
	}{
		{"15s", 15 * time.Second},
		{"2m", 2 * time.Minute},
		{"nonsense", time.Minute}, // Fyne's default when it does not parse
	} {
		t.Setenv(Env, c.env)
		if got := Lifetime(); got != c.want {
			t.Errorf("Lifetime with %s=%q: %v, want %v", Env, c.env, got, c.want)
		}
	}
}

// TestDefaultAboveTenSeconds: see Default.
func TestDefaultAboveTenSeconds(t *testing.T) {
	if Default <= 10*time.Second {
		t.Errorf("Default %v: at 10 s or less Fyne walks the whole widget tree on every idle frame", Default)
	}
}
