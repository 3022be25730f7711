package main

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost/watch"
	"github.com/afstudio/afstudio/startest"
)

// The studio's tests on save: the watcher (in the studio's process, also
// when the integrations run in its worker) hands each batch of saved
// module and test files to the window (studio.Studio.FilesSaved), which
// runs the tests of their modules with runStudioTests.

// savedFiles hands the watcher's batches to the window once it exists.
// Its zero value, and a nil one, hand nothing.
type savedFiles struct {
	fn atomic.Pointer[func(paths []string)]
}

// set makes fn receive the saved files of every later batch.
func (s *savedFiles) set(fn func(paths []string)) { s.fn.Store(&fn) }

// afterBatch is watch.Options.AfterBatch: the batch's changed modules and
// test files, to the window.
func (s *savedFiles) afterBatch(_ context.Context, b watch.Batch) {
	if s == nil {
		return
	}
	if fn := s.fn.Load(); fn != nil && len(b.Changed)+len(b.Tests) > 0 {
		(*fn)(append(slices.Clone(b.Changed), b.Tests...))
	}
}

// runStudioTests is the studio's Options.RunTests: the module's test
// files, as afstudio test runs them (the defaults' libraries loadable).
func runStudioTests(ctx context.Context, module string) (startest.Report, error) {
	return startest.Run(ctx, startest.Options{Paths: []string{module}, Defaults: integrations.FS})
}
