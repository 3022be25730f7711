//go:build !linux

package starhost

import "time"

// threadCPU is not measured here: a shadow is paced by its queue only.
func threadCPU() (time.Duration, bool) { return 0, false }
