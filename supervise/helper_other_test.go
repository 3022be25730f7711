//go:build !windows

package supervise

import (
	"os"
	"testing"
)

// platformHelper has no helpers of its own here.
func platformHelper(string) (int, bool) { return 0, false }

// wineListenerFile: no Wine here; err is the test's failure.
func wineListenerFile(t *testing.T, err error) (string, *os.File) {
	t.Fatalf("the listener's file: %v", err)
	return "", nil
}

// wineGap: no Wine here.
func wineGap(*testing.T, string, any) {}
