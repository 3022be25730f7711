package starhost

import "time"

// Hooks into the program cache for the tests of package starhost_test
// (progcache_test.go). They exist only in the test binary.

// ProgramCacheStats is programCacheStats, exported for tests.
type ProgramCacheStats = programCacheStats

// DisableProgramCache makes m compile every file on every build, as the
// host did before it cached programs, so that a test can compare the two.
// Call it before anything is loaded.
func DisableProgramCache(m *Manager) { m.sb.progs = nil }

// ProgramCacheOf returns the figures of m's program cache (zero when it
// is disabled).
func ProgramCacheOf(m *Manager) ProgramCacheStats { return m.sb.progs.stats() }

// SortedBuiltin is the host's fast sorted, for BenchmarkInterpreterFloor.
var SortedBuiltin = sortedBuiltin

// SetEventIDClock makes m's window of handled event ids read the time
// from now. Call it before the first EmitID.
func SetEventIDClock(m *Manager, now func() time.Time) { m.ids.now = now }

// EventIDsKept returns how many handled event ids m's window holds.
func EventIDsKept(m *Manager) int { return m.ids.size() }
