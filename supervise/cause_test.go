package supervise

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/afstudio/afstudio/blackbox"
)

// TestDeathCause: how a worker's death is read: its own exit reason; the
// Go runtime's out-of-memory or fatal error, wherever it stands in a long
// standard error written in pieces; an exit status 2 after it served; a
// kill from outside, which blames nobody.
func TestDeathCause(t *testing.T) {
	exit2 := exitError(t, 2)
	exit1 := exitError(t, 1)
	dump := strings.Repeat("goroutine 7 [running]:\n\tmain.f()\n", 2000) // far past the kept head and tail
	for _, tc := range []struct {
		name   string
		stderr []string // written in these pieces
		err    error
		report blackbox.Report
		text   string
		blames bool
	}{
		{"exit reason", nil, exitError(t, StuckExitCode), blackbox.Report{ExitReason: "stayed in one built-in for 10s"}, "stayed in one built-in for 10s", true},
		{"out of memory, split across writes", []string{"fatal error: runtime: out of me", "mory\n", dump}, exit2, blackbox.Report{Ready: true}, "ran out of memory (limit 256 MiB)", true},
		{"out of memory after a long dump", []string{dump, "runtime: cannot allocate memory\n"}, exit2, blackbox.Report{Ready: true}, "ran out of memory (limit 256 MiB)", true},
		{"another fatal error", []string{dump[:33*3], "fatal error: concurrent map writes\n", dump}, exit2, blackbox.Report{Ready: true}, "failed: concurrent map writes", true},
		{"status 2, nothing said", []string{"garbage\n"}, exit2, blackbox.Report{Ready: true}, "crashed: exit status 2", true},
		{"status 1", []string{"afstudio: the state file is in use\n"}, exit1, blackbox.Report{Ready: true}, "stopped: exit status 1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &stderrKeeper{max: 4 << 10}
			for _, p := range tc.stderr {
				_, _ = k.Write([]byte(p))
			}
			e := exit{err: tc.err, stderr: k.String(), report: tc.report}
			e.fatal, e.oom = k.signs()
			c := deathCause(e, 256<<20)
			if c.text != tc.text || c.blames != tc.blames {
				t.Fatalf("cause %q (blames %v), want %q (blames %v)", c.text, c.blames, tc.text, tc.blames)
			}
		})
	}
}

// exitError returns the *exec.ExitError of a process that exits with code.
func exitError(t *testing.T, code int) error {
	t.Helper()
	err := exec.Command("sh", "-c", "exit "+string(rune('0'+code))).Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("exit %d: %v", code, err)
	}
	return err
}
