// Package fynecache shortens how long Fyne keeps the texture of a text it
// no longer draws: from Fyne's default of a minute to Default, unless the
// FYNE_CACHE environment variable already says. The studio draws new
// text twice a second during a storm of events, and every such texture
// costs memory until it expires (see package studio, memory.go).
//
// Imported (blank) by the afstudio command, its init sets FYNE_CACHE
// before Fyne's internal/cache package reads it in its own init: Go
// initializes packages in import-path order among those ready, and this
// package, which imports only the standard library, is ready long before
// Fyne's (cmd/afstudio's TestFyneCacheIsSetBeforeFyneReadsIt checks the
// order in the built binary).
package fynecache

import (
	"os"
	"time"
)

const (
	// Env is the variable Fyne reads: a Go duration (time.ParseDuration).
	Env = "FYNE_CACHE"
	// Default is the lifetime set when Env is unset or empty. It must
	// stay above 10 s: with 10 s or less, Fyne's event loop walks the
	// whole widget tree on every frame of an idle window (glfw loop.go
	// marks caches alive when the last walk is older than now + 10 s -
	// the lifetime), which costs an idle studio 3% CPU instead of 1-1.5%.
	Default = 15 * time.Second
	// fyneDefault is Fyne's own, when Env does not parse.
	fyneDefault = time.Minute
)

func init() { Apply(os.Getenv, os.Setenv) }

// Apply sets Env to Default when it is unset or empty; a value the user
// gave is kept.
func Apply(getenv func(string) string, setenv func(string, string) error) {
	if getenv(Env) == "" {
		_ = setenv(Env, Default.String())
	}
}

// Lifetime returns how long Fyne keeps a texture it no longer draws, read
// from Env as Fyne reads it: a Go duration, or a minute when it does not
// parse.
func Lifetime() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(Env)); err == nil {
		return d
	}
	return fyneDefault
}
