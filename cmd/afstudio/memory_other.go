//go:build !linux || !cgo

package main

// releaseCMemory is a no-op where glibc's malloc_trim is not known to
// exist.
func releaseCMemory() {}
