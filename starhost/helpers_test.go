package starhost_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/afstudio/afstudio/starhost"
)

// outcomeErrs maps each integration ReloadFiles touched (or module, for
// one that declared nothing) to its error.
func outcomeErrs(outs []starhost.Outcome) map[string]error {
	m := map[string]error{}
	for _, o := range outs {
		key := o.Integration
		if key == "" {
			key = o.Module
		}
		m[key] = o.Err
	}
	return m
}

// An invariant is a property that a concurrent test checks many times
// while it runs; violations counts the checks that failed.
type invariant struct {
	name       string
	violations atomic.Int64
}

// violated records one failed check of inv when bad is true.
func (inv *invariant) violated(bad bool) {
	if bad {
		inv.violations.Add(1)
	}
}

// checkInvariants reports each invariant as a subtest.
func checkInvariants(t *testing.T, invs ...*invariant) {
	t.Helper()
	for _, inv := range invs {
		t.Run(inv.name, func(t *testing.T) {
			if n := inv.violations.Load(); n > 0 {
				t.Errorf("violated %d times", n)
			}
		})
	}
}

// concurrently calls each fn over and over, each on its own goroutine,
// until the returned stop is called; stop waits for them. It returns once
// every fn has run at least once.
func concurrently(fns ...func()) (stop func()) {
	var done atomic.Bool
	var started, wg sync.WaitGroup
	for _, fn := range fns {
		started.Add(1)
		wg.Go(func() {
			fn()
			started.Done()
			for !done.Load() {
				fn()
			}
		})
	}
	started.Wait()
	return func() {
		done.Store(true)
		wg.Wait()
	}
}

// recordNotices keeps every notice m publishes until the returned
// function is called; that returns them, and fails the test if any was
// dropped.
func recordNotices(t *testing.T, m *starhost.Manager) func() []starhost.Notice {
	sub := m.Subscribe(1 << 18)
	var ns []starhost.Notice
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := range sub.C {
			ns = append(ns, n)
		}
	}()
	return func() []starhost.Notice {
		t.Helper()
		sub.Close()
		<-done
		if d := sub.Dropped(); d != 0 {
			t.Fatalf("%d notices dropped", d)
		}
		return ns
	}
}
