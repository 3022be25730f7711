package starhost

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"
)

// compileIn gets the program of path with source src from c, failing
// the test on a compile error.
func compileIn(t testing.TB, c *programCache, path, src string) *starlark.Program {
	t.Helper()
	prog, err := c.program(path, sha256.Sum256([]byte(src)), []byte(src), starlark.StringDict{}.Has)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func TestProgramCacheEvictsPastItsBounds(t *testing.T) {
	c := newProgramCache()
	c.maxEntries = 3
	for i := range 10 {
		compileIn(t, c, fmt.Sprintf("m%d.star", i), fmt.Sprintf("X = %d\n", i))
	}
	st := c.stats()
	if st.Entries != 3 || st.Paths["m9.star"] != 1 || st.Paths["m8.star"] != 1 || st.Paths["m7.star"] != 1 {
		t.Fatalf("with room for 3: %+v, want the 3 newest", st)
	}
	// A hit makes an entry the most recently used: m7 survives the next.
	compileIn(t, c, "m7.star", "X = 7\n")
	compileIn(t, c, "m10.star", "X = 10\n")
	if st := c.stats(); st.Paths["m7.star"] != 1 || st.Paths["m8.star"] != 0 {
		t.Fatalf("the least recently used (m8) should go first: %+v", st)
	}

	c = newProgramCache()
	c.maxBytes = 20
	for i := range 5 {
		compileIn(t, c, fmt.Sprintf("m%d.star", i), "X = 1000000\n") // 12 bytes
	}
	if st := c.stats(); st.Entries != 1 || st.Bytes != 12 {
		t.Fatalf("with room for 20 bytes of 12-byte files: %+v, want one entry", st)
	}
	big := "X = \"" + strings.Repeat("0", 100) + "\"\n"
	compileIn(t, c, "big.star", big)
	if st := c.stats(); st.Entries != 1 || st.Paths["big.star"] != 1 {
		t.Fatalf("a file larger than the bound is kept alone: %+v", st)
	}
}

func TestProgramCacheKeyIsPathAndContent(t *testing.T) {
	c := newProgramCache()
	a1 := compileIn(t, c, "a.star", "X = 1\n")
	if compileIn(t, c, "a.star", "X = 1\n") != a1 {
		t.Fatal("the same path and content compiled again")
	}
	if b := compileIn(t, c, "b.star", "X = 1\n"); b == a1 || b.Filename() != "b.star" {
		t.Fatalf("the same content at another path reused %s's program", a1.Filename())
	}
	if compileIn(t, c, "a.star", "X = 2\n") == a1 {
		t.Fatal("changed content reused the old program")
	}
	if st := c.stats(); st.Paths["a.star"] != 1 || st.Compiles != 3 || st.Hits != 1 {
		t.Fatalf("%+v: want one program for a.star, 3 compiles, 1 hit", st)
	}
	// A failed compile is returned, not stored: the good program stays.
	bad := "X = (\n"
	for range 2 {
		if _, err := c.program("a.star", sha256.Sum256([]byte(bad)), []byte(bad), starlark.StringDict{}.Has); err == nil {
			t.Fatal("a syntax error compiled")
		}
	}
	if st := c.stats(); st.Compiles != 5 || st.Paths["a.star"] != 1 {
		t.Fatalf("%+v: a failing file must be compiled each time and leave the older program", st)
	}
	var none *programCache
	if p := compileIn(t, none, "a.star", "X = 1\n"); p == nil || none.stats().Entries != 0 {
		t.Fatal("a nil cache compiles and stores nothing")
	}
}

// TestProgramCacheConcurrentInit compiles and executes programs from
// many goroutines at once, two versions of one file and files of their
// own, each execution into its own globals; run it with -race.
func TestProgramCacheConcurrentInit(t *testing.T) {
	c := newProgramCache()
	src := func(v int) string {
		return fmt.Sprintf("def f(x):\n    return [x, %d]\n\nV = %d\nL = f(V)\n", v, v)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				v := (g + i) % 2
				path := "shared.star"
				if i%3 == 0 {
					path = fmt.Sprintf("own%d.star", g)
				}
				prog, err := c.program(path, sha256.Sum256([]byte(src(v))), []byte(src(v)), starlark.StringDict{}.Has)
				if err != nil {
					t.Error(err)
					return
				}
				globals, err := prog.Init(&starlark.Thread{}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				globals.Freeze()
				if got := globals["L"].String(); got != fmt.Sprintf("[%d, %d]", v, v) {
					t.Errorf("%s version %d: L = %s", path, v, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if st := c.stats(); st.Paths["shared.star"] != 1 || st.Entries > 9 {
		t.Fatalf("%+v: one program per path", st)
	}
}
