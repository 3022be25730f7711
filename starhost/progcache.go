package starhost

import (
	"container/list"
	"crypto/sha256"
	"sync"

	"go.starlark.net/starlark"
)

// A reload re-executes the top level of every file it concerns, on a
// fresh thread into fresh globals, but it need not parse, resolve and
// compile a file whose content has not changed since the last build: the
// compiled *starlark.Program is a pure function of the file's path (which
// its positions name), its content, the dialect (fileOptions) and the set
// of predeclared names (which the resolver binds). A programCache keeps
// the programs of the files built last, keyed by path and the SHA-256 of
// the content, so that a reload of unchanged files only reads, hashes and
// executes them. Re-executing a cached program (Program.Init) has the
// semantics of executing the file afresh: new globals, new constants, new
// function values, and loads resolved and executed again through the
// thread's Load, each library looked up by its own content. A file whose
// content changed misses and is compiled afresh; a file that fails to
// compile is never cached, so its error is made anew every time.
//
// A Program is immutable once compiled (its only lazily computed part,
// the decoded line table, is guarded by a sync.Once), so many threads may
// Init it at the same time; go.starlark.net's ExecFileOptions itself is
// SourceProgramOptions followed by Init.
//
// A cache belongs to one sandbox, whose predeclared names every program
// in it was resolved against, and lives as long as its Manager.

// The bounds of a programCache. Each path keeps only its newest program
// (compiling a new version of a file evicts the old one), so the cache
// holds at most one program per file path compiled; past either bound,
// the least recently used programs are evicted. A compiled program takes
// about four times its source's size in memory (4.3 times for the
// generated benchmark modules), so a full cache holds about 35 MB.
const (
	progCacheMaxEntries = 2048
	progCacheMaxBytes   = 8 << 20 // of source
)

// programCache maps a module path and its content's SHA-256 to the
// program compiled from it. It is safe for concurrent use (buildAll builds
// modules in parallel). A nil *programCache caches nothing: every file is
// compiled on every build, as starlark.ExecFileOptions does.
type programCache struct {
	mu         sync.Mutex
	byPath     map[string]*list.Element // of *cachedProgram; one per path
	lru        *list.List               // most recently used first
	bytes      int                      // total source bytes of the entries
	maxEntries int
	maxBytes   int
	hits       uint64 // programs reused
	compiles   uint64 // programs compiled (successfully or not)
}

// A cachedProgram is one entry of a programCache.
type cachedProgram struct {
	path string
	sum  [sha256.Size]byte
	size int // source bytes
	prog *starlark.Program
}

// newProgramCache returns an empty cache with the default bounds.
func newProgramCache() *programCache {
	return &programCache{byPath: map[string]*list.Element{}, lru: list.New(), maxEntries: progCacheMaxEntries, maxBytes: progCacheMaxBytes}
}

// program returns the program for the source src of the module at path,
// whose SHA-256 is sum: the cached one when this very content was
// compiled before, else a new one compiled with fileOptions against the
// names isPredeclared reports, which replaces the path's older program.
// A compile error is returned as starlark.ExecFileOptions returns it
// (a syntax.Error or a resolve.ErrorList) and nothing is cached.
func (c *programCache) program(path string, sum [sha256.Size]byte, src []byte, isPredeclared func(string) bool) (*starlark.Program, error) {
	if c == nil {
		_, prog, err := starlark.SourceProgramOptions(fileOptions, path, src, isPredeclared)
		return prog, err
	}
	if prog := c.get(path, sum); prog != nil {
		return prog, nil
	}
	_, prog, err := starlark.SourceProgramOptions(fileOptions, path, src, isPredeclared)
	c.put(path, sum, len(src), prog)
	return prog, err
}

// get returns the cached program of path with content sum, or nil.
func (c *programCache) get(path string, sum [sha256.Size]byte) *starlark.Program {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byPath[path]
	if !ok {
		return nil
	}
	e := el.Value.(*cachedProgram)
	if e.sum != sum {
		return nil
	}
	c.hits++
	c.lru.MoveToFront(el)
	return e.prog
}

// put records a compile of path with content sum and size bytes; prog is
// nil when it failed. A program is stored as its path's, replacing the
// path's older one, and the least recently used entries past the bounds
// are evicted (never the new one). A failure stores nothing and leaves
// the path's older program, if any, in place.
func (c *programCache) put(path string, sum [sha256.Size]byte, size int, prog *starlark.Program) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.compiles++
	if prog == nil {
		return
	}
	e := &cachedProgram{path: path, sum: sum, size: size, prog: prog}
	if old, ok := c.byPath[e.path]; ok {
		c.remove(old)
	}
	c.byPath[e.path] = c.lru.PushFront(e)
	c.bytes += e.size
	for c.lru.Len() > 1 && (c.lru.Len() > c.maxEntries || c.bytes > c.maxBytes) {
		c.remove(c.lru.Back())
	}
}

// remove drops one entry; c.mu is held.
func (c *programCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cachedProgram)
	delete(c.byPath, e.path)
	c.bytes -= e.size
}

// programCacheStats is what a programCache holds and has done, for tests
// and benchmarks.
type programCacheStats struct {
	Entries, Bytes int
	Hits, Compiles uint64
	Paths          map[string]int // entries by path
}

// stats returns the cache's figures; the zero stats for a nil cache.
func (c *programCache) stats() programCacheStats {
	if c == nil {
		return programCacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := programCacheStats{Entries: c.lru.Len(), Bytes: c.bytes, Hits: c.hits, Compiles: c.compiles, Paths: map[string]int{}}
	for el := c.lru.Front(); el != nil; el = el.Next() {
		st.Paths[el.Value.(*cachedProgram).path]++
	}
	return st
}
