package control

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenPath returns where the API token is kept: afstudio/token in the
// user's config folder ($XDG_CONFIG_HOME or ~/.config on Linux).
func TokenPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config folder for the API token: %w", err)
	}
	return filepath.Join(dir, "afstudio", "token"), nil
}

// UserToken returns the user's API token (TokenPath), creating it on first
// use.
func UserToken() (string, error) {
	path, err := TokenPath()
	if err != nil {
		return "", err
	}
	return LoadOrCreateToken(path)
}

// LoadOrCreateToken returns the token stored at path (white space
// trimmed), creating a new random one (256 bits, 64 hex digits) with mode
// 0600, in a folder made with mode 0700, when there is none. Processes
// that race to create it all get the same token. A stored token shorter
// than 32 characters is an error that says to delete the file.
func LoadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if len(tok) < 32 {
			return "", fmt.Errorf("API token in %s is too short; delete the file to get a new one", path)
		}
		return tok, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read API token: %w", err)
	}
	tok, err := NewToken()
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	// Write the whole token to a private temporary file, then link it into
	// place: the link either creates the complete file or fails because
	// another process got there first, so no reader sees a half-written
	// token.
	tmp, err := os.CreateTemp(dir, ".token-*")
	if err != nil {
		return "", fmt.Errorf("write API token: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write API token: %w", err)
	}
	_, err = tmp.WriteString(tok + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write API token: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateToken(path) // another process won the race
		}
		return "", fmt.Errorf("write API token: %w", err)
	}
	return tok, nil
}

// NewToken returns a new random token: 64 hex digits. A studio gives one
// to its worker's private API.
func NewToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("new API token: %w", err)
	}
	return hex.EncodeToString(raw), nil
}
