// Package blackbox is a flight recorder for a worker process: the worker
// writes what it is doing (which integration module runs, and what: a
// load, a migrate, the handler of an event) into a memory-mapped file, and
// when the worker dies — out of memory, killed, stuck — its supervisor
// reads the file to know whom to blame. A message sent at the moment of
// death may never be sent; memory shared with the file survives the
// process, because the kernel keeps the mapped pages.
//
// The worker opens the file with [Open] and records with [Recorder.Track]
// and [Lane.Begin]/[Lane.End] (a few nanoseconds, no system call); the
// supervisor creates the file with [Create] before it starts the worker,
// and reads it with [Read] once the worker has exited.
//
// # Layout
//
// A header page, then fixed-size lanes, one per module that ran code:
//
//	header: magic, pid, input lines handled, lanes in use, exit reason
//	lane:   calls in progress, when the last began, its phase and event, module path
//
// All integers are little-endian in native alignment; the counters are
// updated atomically so that a reader of a live worker sees whole values.
package blackbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Sizes of the file's parts.
const (
	headerSize = 4096
	laneSize   = 512
	// Lanes is how many modules a file tracks; modules past it share the
	// last lane, which then names the first of them and says "(and
	// others)".
	Lanes    = 1024
	fileSize = headerSize + Lanes*laneSize

	maxReason = 2048 // bytes of exit reason kept
	maxName   = 60   // bytes of an event's or integration's name kept per lane
	maxModule = laneSize - laneModule
)

// Offsets in the header.
const (
	hdrMagic   = 0  // 8 bytes
	hdrPid     = 8  // int64
	hdrStarted = 16 // int64, atomic: the input line being handled, or the last
	hdrHandled = 24 // int64, atomic: input lines handled
	hdrLanes   = 32 // int64, atomic: lanes handed out
	hdrReady   = 40 // int64, atomic: 1 once the worker serves
	hdrReason  = 48 // uint32 length, then the bytes
)

// Offsets in a lane.
const (
	laneActive      = 0   // int64, atomic: calls in progress
	laneSince       = 8   // int64, atomic: unix nanoseconds when the last call began
	lanePhase       = 16  // int64: a Phase
	laneEvent       = 24  // uint32 length, then maxName bytes
	laneIntegration = 88  // uint32 length, then maxName bytes
	laneModule      = 152 // uint32 length, then the bytes
)

var magic = [8]byte{'A', 'F', 'B', 'B', 'O', 'X', '0', '1'}

// Create creates (or truncates) the file at path, sized for a recorder,
// for a worker to [Open]. The supervisor calls it before each start of the
// worker, so that what [Read] returns is about that worker only.
func Create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("blackbox: create %s: %w", path, err)
	}
	defer f.Close()
	var hdr [16]byte
	copy(hdr[:], magic[:])
	binary.LittleEndian.PutUint64(hdr[hdrPid:], 0)
	if _, err := f.Write(hdr[:]); err != nil {
		return fmt.Errorf("blackbox: write %s: %w", path, err)
	}
	if err := f.Truncate(fileSize); err != nil {
		return fmt.Errorf("blackbox: size %s: %w", path, err)
	}
	return nil
}

// A Recorder is the worker's side of a file: it hands out lanes and keeps
// the counters. Its methods are safe for concurrent use.
type Recorder struct {
	mem   []byte
	mu    sync.Mutex
	lanes map[string]*Lane
}

// Open maps the file at path, made by [Create], for recording, and
// writes the calling process's pid in it.
func Open(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("blackbox: open %s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != fileSize {
		return nil, fmt.Errorf("blackbox: %s is not a recorder file (made by blackbox.Create)", path)
	}
	mem, err := mapFile(f, fileSize)
	if err != nil {
		return nil, fmt.Errorf("blackbox: map %s: %w", path, err)
	}
	if [8]byte(mem[:8]) != magic {
		_ = unmapFile(mem)
		return nil, fmt.Errorf("blackbox: %s is not a recorder file (made by blackbox.Create)", path)
	}
	r := &Recorder{mem: mem, lanes: map[string]*Lane{}}
	r.int64At(hdrPid).Store(int64(os.Getpid()))
	return r, nil
}

// Close ends recording. The file stays mapped until the process exits:
// a lane still held by a call that ends later (a handler on its way out
// as the worker stops) must find the memory there, and the mapping is
// one small file per process.
func (r *Recorder) Close() error { return nil }

func (r *Recorder) int64At(off int) *atomic.Int64 {
	return (*atomic.Int64)(unsafe.Pointer(&r.mem[off]))
}

// LineProgress records that input line n (numbered from 1) is about to be
// handled (handled false) or is handled: its results are written. A
// supervisor gives an error result for a line begun but not handled when
// the worker died, and sends the lines after it to the next worker.
func (r *Recorder) LineProgress(n int64, handled bool) {
	if handled {
		r.int64At(hdrHandled).Store(n)
	} else {
		r.int64At(hdrStarted).Store(n)
	}
}

// ReadProgress reads, from a file made by Create (f, opened by the
// supervisor), the input line its worker began last and the number of
// lines it has handled: cheap enough to call while the worker runs.
func ReadProgress(f io.ReaderAt) (started, handled int64, err error) {
	var b [16]byte
	if _, err := f.ReadAt(b[:], hdrStarted); err != nil {
		return 0, 0, fmt.Errorf("blackbox: read progress: %w", err)
	}
	return int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:])), nil
}

// SetReady records that the worker has loaded its integrations and
// serves: a worker that dies before it is ready, with no call to blame,
// failed to start (a bad flag, a state file in use) and is not restarted.
func (r *Recorder) SetReady() { r.int64At(hdrReady).Store(1) }

// SetExitReason records why the worker is about to exit on its own (say,
// a call stuck in a built-in), for the supervisor to report.
func (r *Recorder) SetExitReason(reason string) {
	putString(r.mem[hdrReason:], reason, maxReason)
}

// Track returns the lane of module: the place its calls are recorded.
// The same module always gets the same lane. A nil Recorder returns a nil
// Lane, which records nothing.
func (r *Recorder) Track(module string) *Lane {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if l, ok := r.lanes[module]; ok {
		return l
	}
	i := int(r.int64At(hdrLanes).Load())
	name := module
	if i >= Lanes {
		i = Lanes - 1
		const others = " (and others)"
		if name = getString(r.laneBytes(i)[laneModule:], maxModule-4); !strings.HasSuffix(name, others) {
			name += others
		}
	} else {
		r.int64At(hdrLanes).Store(int64(i + 1))
	}
	l := &Lane{mem: r.laneBytes(i)}
	putString(l.mem[laneModule:], name, maxModule-4)
	r.lanes[module] = l
	return l
}

func (r *Recorder) laneBytes(i int) []byte {
	off := headerSize + i*laneSize
	return r.mem[off : off+laneSize : off+laneSize]
}

// A Lane records the calls into one module. Calls may overlap (several
// integrations of one module, a build beside a serving version): the lane
// counts them and keeps what the last one is.
type Lane struct {
	mem []byte
}

// A Phase is what a call into a module does.
type Phase int64

// The phases of a call.
const (
	Load    Phase = 1 // executing the module's top level (and its libraries')
	Migrate Phase = 2 // its migrate function, on a stored or previous state
	Handle  Phase = 3 // a handler, on an event
)

// Begin records that a call into the lane's module begins: phase, and
// for Migrate and Handle the integration's name, for Handle the event's.
// Every Begin must be followed by an End. On a nil Lane (no recorder),
// Begin and End do nothing.
func (l *Lane) Begin(phase Phase, integration, event string) {
	if l != nil {
		l.BeginAt(phase, integration, event, time.Now())
	}
}

// BeginAt is Begin for a call that began at start (a time the caller
// read anyway: one clock read less per call).
func (l *Lane) BeginAt(phase Phase, integration, event string, start time.Time) {
	if l == nil {
		return
	}
	putString(l.mem[laneEvent:], event, maxName)
	putString(l.mem[laneIntegration:], integration, maxName)
	(*atomic.Int64)(unsafe.Pointer(&l.mem[lanePhase])).Store(int64(phase))
	(*atomic.Int64)(unsafe.Pointer(&l.mem[laneSince])).Store(start.UnixNano())
	(*atomic.Int64)(unsafe.Pointer(&l.mem[laneActive])).Add(1)
}

// End records that a call begun by Begin has ended.
func (l *Lane) End() {
	if l == nil {
		return
	}
	(*atomic.Int64)(unsafe.Pointer(&l.mem[laneActive])).Add(-1)
}

// putString writes s's length (uint32) and at most max bytes of it at b.
func putString(b []byte, s string, max int) {
	if len(s) > max {
		s = s[:max]
	}
	n := copy(b[4:4+max], s)
	binary.LittleEndian.PutUint32(b, uint32(n))
}

// getString reads what putString wrote, tolerating garbage.
func getString(b []byte, max int) string {
	n := int(binary.LittleEndian.Uint32(b))
	if n > max || n > len(b)-4 {
		n = min(max, len(b)-4)
	}
	return string(b[4 : 4+n])
}

// A Call is a call that was in progress when the worker stopped.
type Call struct {
	Module      string    // the module path
	Phase       Phase     // what the latest call into the module did
	Integration string    // the integration it ran, for Migrate and Handle
	Event       string    // the event it handled, for Handle
	Since       time.Time // when the latest call into the module began
}

// What says what the call did: "loading", "migrating its state" or
// "handling EVENT".
func (c Call) What() string {
	switch c.Phase {
	case Load:
		return "loading"
	case Migrate:
		return "migrating its state"
	case Handle:
		return "handling " + c.Event
	}
	return "running"
}

// readCall reads lane l's call.
func readCall(l []byte, since int64) Call {
	return Call{
		Module:      getString(l[laneModule:], maxModule-4),
		Phase:       Phase(int64(binary.LittleEndian.Uint64(l[lanePhase:]))),
		Event:       getString(l[laneEvent:], maxName),
		Integration: getString(l[laneIntegration:], maxName),
		Since:       time.Unix(0, since),
	}
}

// A Report is what a file says about its worker.
type Report struct {
	Pid          int    // the worker's process id
	LineStarted  int64  // the input line begun last (see Recorder.LineProgress)
	LinesHandled int64  // input lines whose results were written
	Ready        bool   // the worker had loaded its integrations and served (Recorder.SetReady)
	ExitReason   string // set by the worker when it exits on its own
	Active       []Call // calls in progress, the longest running first
}

// ErrNotRecorder is returned by Read for a file not made by Create.
var ErrNotRecorder = errors.New("not a blackbox recorder file")

// Read reads the file at path: what its worker was doing when it
// stopped (or what it is doing now, if it still runs).
func Read(path string) (Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Report{}, fmt.Errorf("blackbox: read %s: %w", path, err)
	}
	if len(b) != fileSize || [8]byte(b[:8]) != magic {
		return Report{}, fmt.Errorf("blackbox: read %s: %w", path, ErrNotRecorder)
	}
	rep := Report{
		Pid:          int(int64(binary.LittleEndian.Uint64(b[hdrPid:]))),
		LineStarted:  int64(binary.LittleEndian.Uint64(b[hdrStarted:])),
		LinesHandled: int64(binary.LittleEndian.Uint64(b[hdrHandled:])),
		Ready:        binary.LittleEndian.Uint64(b[hdrReady:]) == 1,
		ExitReason:   getString(b[hdrReason:], maxReason),
	}
	used := min(int(int64(binary.LittleEndian.Uint64(b[hdrLanes:]))), Lanes)
	for i := range max(used, 0) {
		l := b[headerSize+i*laneSize : headerSize+(i+1)*laneSize]
		if int64(binary.LittleEndian.Uint64(l[laneActive:])) <= 0 {
			continue
		}
		rep.Active = append(rep.Active, readCall(l, int64(binary.LittleEndian.Uint64(l[laneSince:]))))
	}
	sortBySince(rep.Active)
	return rep, nil
}

// Stuck returns the calls in progress in r that began before now-after:
// the worker's own watchdog uses it to find a call that no step budget
// or timeout can stop (one long built-in).
func (r *Recorder) Stuck(now time.Time, after time.Duration) []Call {
	var out []Call
	used := min(int(r.int64At(hdrLanes).Load()), Lanes)
	for i := range used {
		l := r.laneBytes(i)
		if (*atomic.Int64)(unsafe.Pointer(&l[laneActive])).Load() <= 0 {
			continue
		}
		since := (*atomic.Int64)(unsafe.Pointer(&l[laneSince])).Load()
		if now.Sub(time.Unix(0, since)) >= after {
			out = append(out, readCall(l, since))
		}
	}
	sortBySince(out)
	return out
}

// sortBySince orders calls by when they began, the earliest first.
func sortBySince(cs []Call) {
	slices.SortStableFunc(cs, func(a, b Call) int { return a.Since.Compare(b.Since) })
}
