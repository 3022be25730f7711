package main

import (
	"fmt"
	"os"
	"testing"
)

// asTheProgram is the environment variable that makes the test binary
// run as afstudio (see TestMain).
const asTheProgram = "AFSTUDIO_TEST_BINARY_IS_THE_PROGRAM"

// TestMain gives the tests, and the hosts they start, a state folder of
// their own ($XDG_DATA_HOME), so that no test reads or writes the user's
// stored states. (Under wine the studio's default folder is the prefix's
// AppData, whatever %LOCALAPPDATA% says: the window test passes --data.)
//
// The test binary is also afstudio itself when asTheProgram is set in its
// environment: `run --headless` called in-process (runCLI) supervises a
// worker, the running executable started with the worker's arguments.
func TestMain(m *testing.M) {
	if os.Getenv(asTheProgram) == "1" {
		main()
	}
	os.Setenv(asTheProgram, "1") // for the workers the tests' supervisors start
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
