// Package supervise keeps afstudio's integrations in a worker process
// that can die without taking anything else with it. A supervisor
// ([Run]) starts the worker (the same afstudio binary, in its worker
// mode), relays its JSON-lines input and output, watches it, and when it
// dies — out of memory under its limit, stuck in one built-in, killed —
// finds out from the worker's flight recorder (package blackbox) which
// integration module was running and what it was doing, quarantines that
// module, answers the input line that was in flight with an error
// result, and starts a new worker, which restores every other
// integration's state from the durable store. The new worker gets the
// same control API socket, so an engine's connections wait in its
// backlog instead of being refused.
//
// Blame is exact when one module was running at the moment of death.
// When several were (events from several emitters at once), none is
// quarantined on the first death; a second death blames the one module
// both deaths had in common.
//
// The worker side is in [Worker]: the memory limit, the lifeline that
// ends the worker when its supervisor is gone (even by kill -9), and the
// watchdog for a call stuck in one built-in.
package supervise

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afstudio/afstudio/blackbox"
	"github.com/afstudio/afstudio/starhost"
)

// NoticeWorkerRestarted is the kind of the notice written when the worker
// died and is started again; its Message says why and what was
// quarantined.
const NoticeWorkerRestarted starhost.NoticeKind = "worker_restarted"

// Options configure Run.
type Options struct {
	// Path and Args start the worker: the afstudio binary and its
	// arguments. Run adds SpecFlag and the spec file's path.
	Path string
	Args []string // the worker's arguments, before MoreArgs and SpecFlag
	// MoreArgs, if not nil, returns arguments added to Args at each start
	// (a studio's folders and files as they are now).
	MoreArgs func() []string
	// SpecFlag is the worker's flag that takes the spec file (Spec).
	SpecFlag string
	// Dir is a private folder for the supervisor's files (the flight
	// recorder, the spec); Run creates it.
	Dir string
	// MemoryLimit is the worker's memory limit in bytes (the worker
	// applies it to itself, see Worker); 0: none.
	MemoryLimit int64
	// Listener, if not nil, is the control API's listening socket, handed
	// to every worker.
	Listener *os.File
	// UserListener, if not nil, returns at each start a copy of the
	// socket of the user's control API (a studio's --listen or Settings),
	// or nil for none: the worker serves it with the user's token, so that
	// an engine's events go straight to the worker. The copy is the
	// supervisor's: it closes it once the worker has its own.
	UserListener func() *os.File
	// Restart, when it receives, stops the worker as a clean stop does
	// (its last states written) and starts the next at once: a studio
	// that turns its API on or off hands the next worker the new socket.
	Restart <-chan struct{}
	// Stdin is relayed to the worker, one line at a time (at most
	// MaxLineBytes each; the worker reports a longer one); the worker's
	// stdout goes to Stdout, with the supervisor's own notices between
	// lines. Its stderr goes to Stderr. nil: no input, output discarded.
	Stdin        io.Reader
	Stdout       io.Writer // the worker's output and the supervisor's notices
	Stderr       io.Writer // the worker's standard error
	MaxLineBytes int       // the longest input line relayed whole; 0: 4 MiB
	// Token is passed to every worker (Spec.Token).
	Token string
	// Quiet is passed to every worker (Spec.Quiet).
	Quiet bool
	// Logger receives the supervisor's logs; nil discards them.
	Logger *slog.Logger
	// Backoff is the first wait before restarting a worker that died
	// soon after it started; it doubles up to MaxBackoff while the worker
	// keeps dying early. 0: 100 ms and 10 s.
	Backoff, MaxBackoff time.Duration
}

// A quarantined module, with the hash of its file when it was blamed: a
// new worker runs it again once the file has changed.
type quarantined struct {
	reason string
	sum    [32]byte
}

// supervisor is the state of one Run.
type supervisor struct {
	o   Options
	log *slog.Logger
	out *lineWriter

	lines    chan []byte   // input lines, read once and for all
	inputEOF chan struct{} // closed when Stdin has ended

	nextLine   int      // the number of pending[0] in the whole input
	pending    [][]byte // lines sent to the worker and not known handled
	dropped    int      // lines the running worker handled and pending no longer holds
	quarantine map[string]quarantined
	suspects   map[string]bool // modules running at an unattributed death
}

// Run supervises the worker until its input ends and it exits, or ctx
// ends (the worker is then asked to stop: SIGTERM, or killed on
// Windows). It returns an error only when the worker cannot be started
// at all.
func Run(ctx context.Context, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = 4 << 20
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	s := &supervisor{
		o: o, log: o.Logger, out: &lineWriter{w: o.Stdout},
		lines: make(chan []byte, 64), inputEOF: make(chan struct{}),
		nextLine: 1, quarantine: map[string]quarantined{},
	}
	go s.readInput()
	backoff := time.Duration(0)
	restarted := ""
	for {
		started := time.Now()
		exit, err := s.runWorker(ctx, restarted)
		if err != nil {
			return err
		}
		if exit.requested && ctx.Err() == nil { // Options.Restart: the next at once
			s.afterRestart(exit)
			restarted, backoff = "", 0
			continue
		}
		if exit.clean || ctx.Err() != nil {
			return nil
		}
		if err := exit.failedToStart(o.MemoryLimit); err != nil {
			return err
		}
		restarted = s.afterDeath(exit)
		if time.Since(started) < 5*time.Second {
			backoff = min(max(2*backoff, o.Backoff), o.MaxBackoff)
		} else {
			backoff = 0
		}
		if backoff > 0 {
			s.log.Warn("the worker died soon after it started; waiting before starting it again", "wait", backoff)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
	}
}

// readInput reads Stdin into s.lines until its end.
func (s *supervisor) readInput() {
	defer close(s.inputEOF)
	if s.o.Stdin == nil {
		return
	}
	br := bufio.NewReaderSize(s.o.Stdin, 64<<10)
	for {
		line, err := readLine(br, s.o.MaxLineBytes)
		if len(line) > 0 {
			s.lines <- line
		}
		if err != nil {
			return
		}
	}
}

// readLine reads one line with its "\n" (one is added to a last line
// without it); a line longer than max is cut to max+1 bytes, which the
// worker reports as too long.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line) <= max {
			line = append(line, chunk[:min(len(chunk), max+1-len(line))]...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			if len(line) > 0 && line[len(line)-1] != '\n' {
				line = append(line, '\n')
			}
			return line, err
		}
		if line[len(line)-1] != '\n' {
			line = append(line, '\n')
		}
		return line, nil
	}
}

// An exit is how one worker ended.
type exit struct {
	clean     bool // exited 0: its input ended, or it was asked to stop
	requested bool // stopped for Options.Restart
	err       error
	stderr    string // the start and the end of what it wrote to stderr
	fatal     string // the Go runtime's "fatal error:" line, without the prefix
	oom       bool   // the Go runtime said it ran out of memory
	report    blackbox.Report
	ranFor    time.Duration
}

// failedToStart returns an error when the worker died before it served
// with no integration to blame: it could not start (its messages say
// why), and starting it again would fail the same way.
func (e exit) failedToStart(limit int64) error {
	why := deathCause(e, limit)
	if e.report.Ready || (why.blames && len(e.report.Active) > 0) {
		return nil
	}
	return fmt.Errorf("the worker could not start (it %s); its messages above say why", why.text)
}

// runWorker starts one worker and relays to it until it exits.
func (s *supervisor) runWorker(ctx context.Context, restarted string) (exit, error) {
	bb := filepath.Join(s.o.Dir, "blackbox")
	if err := blackbox.Create(bb); err != nil {
		return exit{}, err
	}
	spec := Spec{Blackbox: bb, MemoryLimit: s.o.MemoryLimit, FirstLine: s.nextLine, Restarted: restarted, Quarantine: s.quarantineNow(),
		Token: s.o.Token, Quiet: s.o.Quiet, Serial: s.suspects != nil}
	life, lifeKeep, err := os.Pipe()
	if err != nil {
		return exit{}, fmt.Errorf("supervise: %w", err)
	}
	defer lifeKeep.Close()
	defer life.Close() // the worker's end, closed once it has started (or failed to)
	cmd, handed, err := s.command(&spec, life)
	if err != nil {
		return exit{}, err
	}
	defer handed()
	tail := &stderrKeeper{max: 4 << 10}
	cmd.Stderr = io.MultiWriter(s.o.Stderr, tail)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return exit{}, fmt.Errorf("supervise: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return exit{}, fmt.Errorf("supervise: %w", err)
	}
	begun := time.Now()
	if err := cmd.Start(); err != nil {
		return exit{}, fmt.Errorf("supervise: start the worker %s: %w", s.o.Path, err)
	}
	release, err := afterStart(cmd.Process)
	if err != nil {
		s.log.Warn("the worker is not bound to the supervisor's life", "error", err)
	}
	defer release()
	life.Close() // the worker's end: the worker has its own now
	handed()
	s.log.Info("worker started", "pid", cmd.Process.Pid, "quarantined", len(spec.Quarantine))

	relayed := s.relay(stdout)
	exited := make(chan struct{})
	fed := make(chan struct{})
	go func() { defer close(fed); s.feed(stdin, exited, bb) }()
	stop := context.AfterFunc(ctx, func() { stopProcess(cmd.Process) })
	defer stop()
	var requested atomic.Bool
	go func() {
		select {
		case <-s.o.Restart: // nil: never
			requested.Store(true)
			stopProcess(cmd.Process)
		case <-exited:
		}
	}()
	<-relayed // the worker closed its output: it has exited (or is exiting)
	werr := cmd.Wait()
	close(exited)
	<-fed
	e := exit{err: werr, stderr: tail.String(), ranFor: time.Since(begun), requested: requested.Load()}
	e.fatal, e.oom = tail.signs()
	e.report, _ = blackbox.Read(bb)
	e.clean = werr == nil
	return e, nil
}

// command returns the worker's command for spec, with the lifeline and
// the listener handed over (handed closes the supervisor's copies once
// the worker has started) and the spec written to its file.
func (s *supervisor) command(spec *Spec, life *os.File) (cmd *exec.Cmd, handed func(), err error) {
	specPath := filepath.Join(s.o.Dir, "worker.json")
	args := append([]string{}, s.o.Args...)
	if s.o.MoreArgs != nil {
		args = append(args, s.o.MoreArgs()...)
	}
	cmd = exec.Command(s.o.Path, append(args, s.o.SpecFlag, specPath)...)
	cmd.SysProcAttr = sysProcAttr()
	var userListener *os.File
	if s.o.UserListener != nil {
		userListener = s.o.UserListener()
	}
	var nums []int
	spec.LifelineFD, nums, handed, err = handOver(cmd, life, s.o.Listener, userListener)
	if userListener != nil {
		done := handed
		handed = func() {
			done()
			userListener.Close()
		}
	}
	if err != nil {
		handed()
		return nil, nil, fmt.Errorf("supervise: %w", err)
	}
	spec.ListenerFD, spec.UserListenerFD = nums[0], nums[1]
	if err := spec.write(specPath); err != nil {
		handed()
		return nil, nil, fmt.Errorf("supervise: %w", err)
	}
	return cmd, handed, nil
}

// relay copies the worker's output to Stdout, line by line, until its
// end; the channel closes then.
func (s *supervisor) relay(stdout io.Reader) <-chan struct{} {
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		br := bufio.NewReaderSize(stdout, 64<<10)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				s.out.write(line)
			}
			if err != nil {
				return
			}
		}
	}()
	return relayed
}

// feed writes to the worker the lines it must handle again (those after
// the one in flight when the previous worker died), then new input
// lines, until the worker exits; at the end of the input it closes the
// worker's stdin. Every line sent stays in s.pending until the flight
// recorder says it is handled.
func (s *supervisor) feed(stdin io.WriteCloser, exited <-chan struct{}, bb string) {
	f, err := os.Open(bb)
	if err != nil {
		s.log.Error("cannot read the flight recorder", "error", err)
		return
	}
	defer f.Close()
	sent := 0 // lines of s.pending written to this worker
	for sent < len(s.pending) {
		if _, err := stdin.Write(s.pending[sent]); err != nil {
			return // the worker is gone: the rest stay pending
		}
		sent++
	}
	for {
		if len(s.pending) >= 256 && !s.trim(f, exited) {
			return
		}
		select {
		case <-exited:
			return
		case <-s.inputEOF:
			// Drain what was read before the end.
			select {
			case line := <-s.lines:
				s.pending = append(s.pending, line)
				if _, err := stdin.Write(line); err != nil {
					return
				}
				continue
			default:
			}
			_ = stdin.Close()
			return
		case line := <-s.lines:
			s.pending = append(s.pending, line)
			if _, err := stdin.Write(line); err != nil {
				return
			}
		}
	}
}

// trim drops the handled lines from s.pending, waiting (a millisecond at
// a time) while 1024 lines or more wait to be handled. It returns false
// when the worker exited meanwhile.
func (s *supervisor) trim(f *os.File, exited <-chan struct{}) bool {
	for {
		_, handled, err := blackbox.ReadProgress(f)
		if err == nil {
			s.dropHandled(handled)
		}
		if len(s.pending) < 1024 {
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(time.Millisecond):
		}
	}
}

// dropHandled drops from s.pending the lines the worker reports handled:
// it numbers its lines from 1, and they are s.pending's lines, sent in
// order, after the s.dropped lines dropped before.
func (s *supervisor) dropHandled(handled int64) {
	n := int(handled) - s.dropped
	if n > 0 {
		n = min(n, len(s.pending))
		s.pending = s.pending[n:]
		s.nextLine += n
		s.dropped += n
	}
}

// quarantineNow returns the quarantine for the next worker: the blamed
// modules whose file has not changed since.
func (s *supervisor) quarantineNow() map[string]string {
	out := map[string]string{}
	for mod, q := range s.quarantine {
		if sum, ok := fileSum(mod); ok && sum != q.sum {
			s.log.Info("a quarantined module changed; the next worker loads it again", "module", mod)
			delete(s.quarantine, mod)
			continue
		}
		out[mod] = q.reason
	}
	return out
}

// fileSum returns the SHA-256 of the module file at path; false for an
// embedded default ("builtin:...") or a file that cannot be read.
func fileSum(path string) ([32]byte, bool) {
	if strings.HasPrefix(path, "builtin:") {
		return [32]byte{}, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return [32]byte{}, false
	}
	return sha256.Sum256(b), true
}

// afterRestart takes stock of a worker stopped for Options.Restart: the
// lines it handled are dropped; the one it may have been handling, if
// any, goes to the next worker (a clean stop finishes the line in hand
// before it exits).
func (s *supervisor) afterRestart(e exit) {
	s.dropHandled(e.report.LinesHandled)
	s.dropped = 0
	s.log.Info("worker restarted as asked", "ran_for", e.ranFor.Round(time.Millisecond))
}

// afterDeath explains a worker's death, blames and quarantines, answers
// the line in flight, and returns the reason for the next worker.
func (s *supervisor) afterDeath(e exit) string {
	why := deathCause(e, s.o.MemoryLimit)
	active := e.report.Active
	culprit := s.blame(active, why.blames)
	// The input line in flight: begun, not handled.
	s.dropHandled(e.report.LinesHandled)
	var lost []byte
	if e.report.LineStarted > e.report.LinesHandled && int(e.report.LineStarted)-s.dropped == 1 && len(s.pending) > 0 {
		lost = s.pending[0]
		s.pending = s.pending[1:]
		s.nextLine++
		s.dropped++
	}
	s.dropped = 0 // the next worker numbers its lines from 1 again
	msg := "the worker " + why.text
	who := ""
	if culprit != "" {
		call := blackbox.Call{Module: culprit}
		for _, c := range active {
			if c.Module == culprit {
				call = c
			}
		}
		who = call.Module
		if call.Integration != "" {
			who = "integration " + call.Integration + " (" + call.Module + ")"
		}
		reason := fmt.Sprintf("%s while %s; fix the file and save it to load it again", why.short, call.What())
		sum, _ := fileSum(culprit)
		s.quarantine[culprit] = quarantined{reason: reason, sum: sum}
		msg = fmt.Sprintf("the worker %s while %s was %s; %s is quarantined (not loaded until its file is saved again) and the other integrations were started again with their saved state",
			why.text, who, call.What(), culprit)
	} else if len(active) > 1 && why.blames {
		msg += fmt.Sprintf(" while %d modules ran (%s); none is quarantined until a second stop names one of them", len(active), modules(active))
	}
	s.log.Error("worker stopped; starting it again", "reason", msg, "ran_for", e.ranFor.Round(time.Millisecond))
	now := time.Now()
	if lost != nil {
		s.out.notice(lostResult(lost, culprit, who, why.short, now))
	}
	s.out.notice(starhost.Notice{Kind: NoticeWorkerRestarted, Time: now, Module: culprit, Level: "error", Message: msg})
	return msg
}

// blame returns the module to quarantine for a death with the calls
// active in progress (sorted by when they began), or "": the only module
// running; at a second death in a row with several running, the module
// also running at the first, the longest-running call's among several.
// A first death with several running blames none: the next worker runs
// one call at a time (Spec.Serial), so that the next death names one.
func (s *supervisor) blame(active []blackbox.Call, blames bool) string {
	if !blames || len(active) == 0 {
		return ""
	}
	var common []blackbox.Call // the active calls of modules suspected already
	for _, c := range active {
		if s.suspects[c.Module] {
			common = append(common, c)
		}
	}
	switch {
	case len(active) == 1:
		s.suspects = nil
		return active[0].Module
	case len(common) > 0:
		s.suspects = nil
		return common[0].Module
	}
	s.suspects = map[string]bool{}
	for _, c := range active {
		s.suspects[c.Module] = true
	}
	return ""
}

// modules lists the modules of calls.
func modules(calls []blackbox.Call) string {
	var names []string
	for _, c := range calls {
		names = append(names, c.Module)
	}
	return strings.Join(names, ", ")
}

// lostResult is the error result of an input line whose handling the
// worker's death cut short.
func lostResult(line []byte, culprit, who, short string, now time.Time) starhost.Notice {
	var in struct {
		Event string `json:"event"`
		ID    string `json:"id"`
	}
	_ = json.Unmarshal(bytes.TrimSpace(line), &in)
	if who == "" {
		who = "the worker"
	}
	advice := "do not send it again unless your integrations are idempotent"
	if in.ID != "" {
		// A flush waits for an event with an id to end: none of this
		// one's changes, nor its id, were saved.
		advice = "none of its changes were saved: send it again with the same id"
	}
	d := &starhost.Diagnostic{File: culprit, Msg: fmt.Sprintf("host restarted: %s %s while handling this event; the handlers after it in priority order did not run; %s", who, short, advice), Kind: starhost.ErrorLimit}
	return starhost.Notice{Kind: starhost.NoticeResult, Time: now, Event: in.Event, Module: culprit, ID: in.ID,
		Result: &starhost.Result{Event: in.Event, OK: false, Error: d}}
}

// A cause is what a worker's death is put down to.
type cause struct {
	text   string // "ran out of memory (limit 1 GiB)"
	short  string // the same, for a quarantine reason
	blames bool   // the running module is to blame (not a kill from outside)
}

// deathCause reads how a worker ended.
func deathCause(e exit, limit int64) cause {
	if e.report.ExitReason != "" {
		return cause{text: e.report.ExitReason, short: e.report.ExitReason, blames: true}
	}
	if e.oom {
		t := "ran out of memory"
		if limit > 0 {
			t = fmt.Sprintf("ran out of memory (limit %s)", FormatBytes(limit))
		}
		return cause{text: t, short: t, blames: true}
	}
	if e.fatal != "" {
		return cause{text: "failed: " + e.fatal, short: "crashed the worker (" + e.fatal + ")", blames: true}
	}
	var ee *exec.ExitError
	if errors.As(e.err, &ee) && ee.ExitCode() == 2 && e.report.Ready {
		// The Go runtime's exit status for a fatal error, after the
		// worker served: a crash, whatever it printed.
		return cause{text: "crashed: " + ee.String(), short: "crashed the worker (" + ee.String() + ")", blames: true}
	}
	if errors.As(e.err, &ee) {
		return cause{text: "stopped: " + ee.String(), short: "stopped the worker (" + ee.String() + ")"}
	}
	return cause{text: fmt.Sprintf("stopped: %v", e.err), short: "stopped the worker"}
}

// ParseMemoryLimit reads a memory limit: "1GiB", "512MiB", "64KiB",
// "1073741824" (GB, MB, KB, G, M and K are powers of 1024 too); "0" is no
// limit. A limit below 64 MiB is refused: the host itself needs about
// 30 MiB.
func ParseMemoryLimit(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"GB", 30}, {"MB", 20}, {"KB", 10}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0}}
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(num), strings.ToUpper(u.suffix)) {
			num, shift = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not a size: write a whole number of bytes with a unit, e.g. 512MiB or 2GiB (0: no limit)", s)
	}
	if n != 0 && n<<shift < 64<<20 {
		return 0, fmt.Errorf("%q is too small: the host itself needs about 30 MiB; give at least 64MiB", s)
	}
	return n << shift, nil
}

// FormatBytes formats n bytes as "1 GiB", "512 MiB" or "1536 KiB".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// A lineWriter writes whole lines from several goroutines.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) write(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(line)
}

// notice writes n as one JSON line.
func (l *lineWriter) notice(n starhost.Notice) {
	b, err := json.Marshal(n)
	if err != nil {
		return
	}
	l.write(append(b, '\n'))
}

// A stderrKeeper keeps the first and the last max bytes written to it,
// and notes, line by line as they pass, the first "fatal error:" line
// and whether the Go runtime said it ran out of memory: however long the
// goroutine dump that follows, the cause is not lost.
type stderrKeeper struct {
	mu         sync.Mutex
	max        int
	head, tail []byte
	partial    []byte // the line being written
	fatal      string // the first "fatal error: ..." line
	oom        bool   // "out of memory" or "cannot allocate memory" seen
}

// Write keeps p and notes the lines it ends.
func (t *stderrKeeper) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - len(t.head); room > 0 {
		t.head = append(t.head, p[:min(room, len(p))]...)
	}
	t.tail = append(t.tail, p...)
	if len(t.tail) > t.max {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-t.max:]...)
	}
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.note(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(t.partial) > 4096 { // a line that long is no runtime message
		t.partial = t.partial[:0]
	}
	return len(p), nil
}

// note looks at one line of the worker's standard error.
func (t *stderrKeeper) note(line string) {
	if t.fatal == "" && strings.HasPrefix(line, "fatal error: ") {
		t.fatal = strings.TrimPrefix(line, "fatal error: ")
	}
	if strings.Contains(line, "out of memory") || strings.Contains(line, "cannot allocate memory") {
		t.oom = true
	}
}

// String returns the head, then the tail.
func (t *stderrKeeper) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.head) + "\n...\n" + string(t.tail)
}

// signs returns what note found.
func (t *stderrKeeper) signs() (fatal string, oom bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.partial) > 0 {
		t.note(string(t.partial))
	}
	return t.fatal, t.oom
}
