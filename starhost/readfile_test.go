package starhost

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadFile checks readFile (the fast path on Linux) against what
// reading with package os gives: the content, at most limit+1 bytes, a
// folder reported as such, and the same error for a missing file.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	const limit = 64
	for _, size := range []int{0, 1, limit - 1, limit, limit + 1, 3 * limit} {
		p := filepath.Join(dir, "f.star")
		want := bytes.Repeat([]byte("x"), size)
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, isDir, err := readFile(p, limit)
		if err != nil || isDir {
			t.Fatalf("size %d: %v, isDir %v", size, err, isDir)
		}
		if n := min(size, limit+1); !bytes.Equal(got, want[:n]) {
			t.Fatalf("size %d: read %d bytes, want the first %d", size, len(got), n)
		}
	}
	if _, isDir, err := readFile(dir, limit); !isDir || err != nil {
		t.Fatalf("a folder: isDir %v, err %v", isDir, err)
	}
	missing := filepath.Join(dir, "missing.star")
	_, _, err := readFile(missing, limit)
	_, osErr := os.Open(missing)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || errText(err) != errText(osErr) {
		t.Fatalf("a missing file: %v, want %q like os.Open", err, errText(osErr))
	}
}

// TestReadLimitedSizeChanged reads content as a file that was size bytes
// long when it was opened (-1: unknown).
func TestReadLimitedSizeChanged(t *testing.T) {
	for _, tc := range []struct {
		content   string
		size, lim int64
		want      string
	}{
		{"hello", 5, 100, "hello"},                       // as opened
		{"hello world", 5, 100, "hello world"},           // grew: read to the end
		{"hello world", 5, 7, "hello wo"},                // grew past the limit: limit+1 bytes
		{"hel", 5, 100, "hel"},                           // shrank
		{strings.Repeat("y", 50), -1, 10, "yyyyyyyyyyy"}, // unknown size
	} {
		got, err := readLimited(strings.NewReader(tc.content), tc.size, tc.lim)
		if err != nil || string(got) != tc.want {
			t.Errorf("%q opened at %d bytes, limit %d: %q, %v; want %q", tc.content, tc.size, tc.lim, got, err, tc.want)
		}
	}
}
