package starhost

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/afstudio/afstudio/blackbox"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// A File is one source file a version was built from (the module, or a
// library it loaded), with the hash of the content that was executed,
// which differs from the file on disk once it is saved again.
type File struct {
	// Path is the module path: absolute, or "builtin:NAME.star" for an
	// embedded default.
	Path string `json:"path"`
	// SHA256 is the SHA-256 of the bytes executed, 64 lower-case hex
	// digits.
	SHA256 string `json:"sha256"`
}

// A builtModule is the result of executing one integration module and the
// libraries it loads, on the side, before anything is swapped in.
type builtModule struct {
	path  string
	decls []*declaration
	files []File   // the module first, then every library it loaded, transitively
	logs  []string // print output of the top levels
	took  time.Duration
}

// builder executes one module with a load cache that detects cycles. It is
// used by one goroutine; builds of different modules run in parallel on
// separate builders.
type builder struct {
	src      *sources
	sb       *sandbox
	cache    map[string]*loadEntry
	stack    []loadLink
	files    []File
	logs     []string
	steps    uint64 // steps used so far by this build
	deadline time.Time
	root     string // where the module's loads resolve first: its root, also for its libraries
}

// A loadEntry is a module in a build's load cache: its globals or its
// error once done; an entry not done is being executed (a cycle).
type loadEntry struct {
	globals starlark.StringDict
	err     error
	done    bool
}

// A loadLink is one active load statement: module from is executing the
// load of name at pos.
type loadLink struct {
	from string
	pos  syntax.Position
	name string
}

// buildModule reads, compiles and executes the module at path (a
// canonical module path) and validates its declarations. It has no side
// effects on the host other than on the sandbox's program cache: a file
// whose content was compiled before is executed from its cached program.
func buildModule(src *sources, sb *sandbox, path string) (*builtModule, error) {
	start := time.Now()
	b := &builder{src: src, sb: sb, cache: map[string]*loadEntry{}, deadline: start.Add(sb.limits.Timeout), root: src.rootOf(path)}
	lane := sb.recorder.Track(path)
	lane.Begin(blackbox.Load, "", "")
	defer lane.End()
	var decls []*declaration
	if _, err := b.exec(path, &decls); err != nil {
		return nil, err
	}
	if len(decls) == 0 {
		return nil, diagFile(path, "declares no integration; call integration(name = \"...\", handlers = {\"event\": fn}) at the top level")
	}
	return &builtModule{path: path, decls: decls, files: b.files, logs: b.logs, took: time.Since(start)}, nil
}

// exec executes one module; decls is non-nil only for the integration
// module itself, whose top level may call integration().
func (b *builder) exec(module string, decls *[]*declaration) (starlark.StringDict, error) {
	if e, ok := b.cache[module]; ok {
		return e.globals, e.err
	}
	e := &loadEntry{}
	b.cache[module] = e
	defer func() { e.done = true }()
	src, err := b.src.read(module)
	if err != nil {
		e.err = err
		return nil, err
	}
	sum := sha256.Sum256(src)
	b.files = append(b.files, File{Path: module, SHA256: hex.EncodeToString(sum[:])})

	thread := &starlark.Thread{Name: "load " + module, Load: b.load, Print: b.print}
	moduleLocal.set(thread, module)
	if decls != nil {
		declarationsLocal.set(thread, decls)
	}
	remaining := time.Until(b.deadline)
	if b.steps >= b.sb.limits.Steps || remaining <= 0 {
		e.err = diagFile(module, "the load tree exhausted its budget before this library ran")
		return nil, e.err
	}
	e.err = b.sb.guardWith(thread, "top level of", module, b.sb.limits.Steps-b.steps, remaining, func() error {
		// starlark.ExecFileOptions, with the compile step cached:
		// parse, resolve and compile (or reuse the program compiled
		// from this very content), execute into fresh globals, freeze.
		prog, err := b.sb.progs.program(module, sum, src, b.sb.predeclared.Has)
		if err != nil {
			return err
		}
		g, err := prog.Init(thread, b.sb.predeclared)
		g.Freeze()
		e.globals = g
		return err
	})
	b.steps += thread.ExecutionSteps()
	if e.err != nil {
		e.globals = nil
	}
	return e.globals, e.err
}

// print keeps a line printed by a top level (up to 100 lines, each
// truncated), for the notices sent when the module goes live.
func (b *builder) print(thread *starlark.Thread, msg string) {
	if len(b.logs) < 100 {
		b.logs = append(b.logs, truncate(msg, b.sb.limits.MaxLogBytes))
	}
}

// load implements Thread.Load: it resolves the name against the roots,
// reports cycles with the whole chain, and executes each library once.
func (b *builder) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	from, _ := moduleLocal.get(thread)
	pos := thread.CallFrame(0).Pos
	target, err := b.src.resolveLoad(b.root, pos, name)
	if err != nil {
		return nil, err
	}
	link := loadLink{from: from, pos: pos, name: name}
	if e, ok := b.cache[target]; ok && !e.done {
		return nil, b.cycleError(target, link)
	}
	b.stack = append(b.stack, link)
	defer func() { b.stack = b.stack[:len(b.stack)-1] }()
	// Steps used by the loading thread so far count against the library.
	b.steps += thread.ExecutionSteps()
	g, err := b.exec(target, nil)
	b.steps -= min(b.steps, thread.ExecutionSteps())
	return g, err
}

// cycleError describes the load cycle that closing completes: every link
// from target back to itself, positioned at the closing load.
func (b *builder) cycleError(target string, closing loadLink) error {
	chain := append([]loadLink(nil), b.stack...)
	chain = append(chain, closing)
	for i, l := range chain {
		if l.from == target {
			chain = chain[i:]
			break
		}
	}
	parts := make([]string, len(chain))
	for i, l := range chain {
		parts[i] = fmt.Sprintf("%s loads %q", l.pos, l.name)
	}
	return diagAt(closing.pos, "load cycle: %s; move the shared code into a library that neither loads", strings.Join(parts, " -> "))
}

// truncate cuts s to n bytes and marks the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "… (truncated)"
}
