//go:build unix

package starhost_test

import (
	"syscall"
	"testing"
	"time"
)

// A cpuClock adds up the CPU time (user and system, every thread) the
// process spends between its start and stop calls. The zero value is
// ready.
type cpuClock struct{ started, total time.Duration }

// start starts a measurement.
func (c *cpuClock) start() { c.started = processCPU() }

// stop ends the measurement start began and adds it to the total.
func (c *cpuClock) stop() { c.total += processCPU() - c.started }

// report adds the total per iteration to b's results as cpu-ms/op.
func (c *cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(c.total)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
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
