//go:build !linux

package statestore

// lockHolder returns 0: outside Linux the holder of a file lock is not
// known, and the error does not name it.
func lockHolder(string) int { return 0 }
