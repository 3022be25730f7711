//go:build !unix

package starhost_test

import "testing"

// A cpuClock would add up the process's CPU time; without getrusage it
// measures and reports nothing.
type cpuClock struct{}

// start does nothing here.
func (*cpuClock) start() {}

// stop does nothing here.
func (*cpuClock) stop() {}

// report does nothing here.
func (*cpuClock) report(*testing.B) {}
