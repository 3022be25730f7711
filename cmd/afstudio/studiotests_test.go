package main

import (
	"context"
	"slices"
	"testing"

	"github.com/afstudio/afstudio/starhost/watch"
)

// TestSavedFiles: the watcher's batches reach the window once it is set,
// changed modules and test files together; before, and from a nil one,
// nothing.
func TestSavedFiles(t *testing.T) {
	var nilSaved *savedFiles
	nilSaved.afterBatch(context.Background(), watch.Batch{Changed: []string{"/a.star"}}) // no panic

	var s savedFiles
	s.afterBatch(context.Background(), watch.Batch{Changed: []string{"/a.star"}}) // no window yet
	var got [][]string
	s.set(func(paths []string) { got = append(got, paths) })
	s.afterBatch(context.Background(), watch.Batch{Changed: []string{"/a.star"}, Removed: []string{"/b.star"}, Tests: []string{"/tests/a_test.star"}})
	s.afterBatch(context.Background(), watch.Batch{Removed: []string{"/b.star"}})
	if len(got) != 1 || !slices.Equal(got[0], []string{"/a.star", "/tests/a_test.star"}) {
		t.Fatalf("handed %v; want one batch of /a.star and /tests/a_test.star", got)
	}
}
