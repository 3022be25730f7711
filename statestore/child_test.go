package statestore

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Some tests run this test binary again as a child process in a role (the
// holder of a lock, a writer killed with SIGKILL); childEnv selects it.
const childEnv = "STATESTORE_TEST_CHILD"

var childRoles = map[string]func() error{
	"hold":  holdLock,
	"crash": crashWriter,
}

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		run := childRoles[role]
		if run == nil {
			fmt.Fprintf(os.Stderr, "unknown child role %q\n", role)
			os.Exit(2)
		}
		if err := run(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child prepares this test binary as a child process in role, with the
// state file's path in its environment.
func child(t *testing.T, role, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, "STATESTORE_TEST_PATH="+path)
	cmd.Stderr = os.Stderr
	return cmd
}
