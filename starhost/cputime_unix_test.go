//go:build unix

package starhost_test

import (
	"syscall"
	"testing"
	"time"
)

// A cpuClock measures the CPU time (user and system, every thread) the
// process spends from startCPU on.
type cpuClock struct{ start time.Duration }

// startCPU starts a cpuClock.
func startCPU() cpuClock { return cpuClock{processCPU()} }

// report adds the CPU time per iteration to b's results as cpu-ms/op.
func (c cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-c.start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}

// processCPU returns the CPU time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
