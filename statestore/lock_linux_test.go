package statestore

import (
	"bufio"
	"strings"
	"testing"
)

func TestFindLockHolder(t *testing.T) {
	const locks = `1: POSIX  ADVISORY  WRITE 11 fd:01:4242 0 EOF
2: FLOCK  ADVISORY  WRITE 22 fd:01:99 0 EOF
3: FLOCK  ADVISORY  WRITE 33 00:2a:4242 0 EOF
3: -> FLOCK  ADVISORY  WRITE 44 00:2a:4242 0 EOF
4: OFDLCK ADVISORY  READ  -1 00:06:4242 0 EOF
`
	tests := []struct {
		ino  uint64
		want int
	}{{4242, 33}, {99, 22}, {7, 0}}
	for _, tt := range tests {
		if got := findLockHolder(bufio.NewScanner(strings.NewReader(locks)), tt.ino); got != tt.want {
			t.Errorf("inode %d: holder %d, want %d", tt.ino, got, tt.want)
		}
	}
}
