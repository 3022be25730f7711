package main

import (
	"fmt"
	"os"
	"testing"
)

// TestMain gives the tests, and the hosts they start, a state folder of
// their own ($XDG_DATA_HOME), so that no test reads or writes the user's
// stored states. (Under wine the studio's default folder is the prefix's
// AppData, whatever %LOCALAPPDATA% says: the window test passes --data.)
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "afstudio-test-data-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_DATA_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
