//go:build !unix

package starhost_test

import "testing"

// A cpuClock would measure the process's CPU time; without getrusage it
// reports nothing.
type cpuClock struct{}

// startCPU starts a cpuClock.
func startCPU() cpuClock { return cpuClock{} }

// report does nothing here.
func (cpuClock) report(*testing.B) {}
