package supervise

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/afstudio/afstudio/blackbox"
)

// StuckExitCode is the exit code of a worker that stopped itself because
// one call stayed in a built-in far past its timeout.
const StuckExitCode = 3

// A Worker is the worker side of a supervisor's Spec: its flight
// recorder, the listening socket handed over, and the guards started by
// StartWorker.
type Worker struct {
	Spec
	// Recorder is the flight recorder to give the host
	// (starhost.Options.Recorder) and the headless front end.
	Recorder *blackbox.Recorder
	// Listener is the control API's socket, or nil.
	Listener net.Listener
	// UserListener is the socket of the user's control API a studio
	// hands over (served with the user's token), or nil.
	UserListener net.Listener

	cancel context.CancelFunc
}

// Ready tells the supervisor that the worker serves: a death from now on
// is restarted, not taken as a failure to start.
func (w *Worker) Ready() { w.Recorder.SetReady() }

// Close stops the guards and closes the flight recorder. The recorder's
// file stays for the supervisor to read.
func (w *Worker) Close() error {
	w.cancel()
	return w.Recorder.Close()
}

// StartWorker reads the spec at path and starts being a worker: it
// applies the memory limit, opens the flight recorder and the listener,
// cancels the returned context when the supervisor is gone (the lifeline
// reads end of file), and exits the process (StuckExitCode, the reason in
// the recorder) when a call stays stuckAfter in one built-in, which no
// step budget or timeout can interrupt. Call Close when done.
func StartWorker(ctx context.Context, path string, stuckAfter time.Duration, log *slog.Logger) (context.Context, *Worker, error) {
	spec, err := ReadSpec(path)
	if err != nil {
		return nil, nil, err
	}
	if spec.MemoryLimit > 0 {
		if err := LimitMemory(spec.MemoryLimit); err != nil {
			return nil, nil, fmt.Errorf("worker: memory limit %s: %w", FormatBytes(spec.MemoryLimit), err)
		}
	}
	w := &Worker{Spec: spec}
	if w.Recorder, err = blackbox.Open(spec.Blackbox); err != nil {
		return nil, nil, fmt.Errorf("worker: %w", err)
	}
	if w.Listener, err = inheritedListener(spec.ListenerFD); err != nil {
		return nil, nil, err
	}
	if w.UserListener, err = inheritedListener(spec.UserListenerFD); err != nil {
		return nil, nil, err
	}
	ctx, w.cancel = context.WithCancel(ctx)
	if spec.LifelineFD > 0 {
		life := os.NewFile(uintptr(spec.LifelineFD), "lifeline")
		go func() {
			var b [1]byte
			_, _ = life.Read(b[:]) // only end of file comes: the supervisor is gone
			log.Error("the supervisor is gone; stopping")
			w.cancel()
		}()
	}
	go w.watchStuck(ctx, stuckAfter, log)
	return ctx, w, nil
}

// watchStuck exits the process when a call has run stuckAfter.
func (w *Worker) watchStuck(ctx context.Context, stuckAfter time.Duration, log *slog.Logger) {
	tick := time.NewTicker(min(stuckAfter/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			stuck := w.Recorder.Stuck(now, stuckAfter)
			if len(stuck) == 0 {
				continue
			}
			c := stuck[0]
			reason := fmt.Sprintf("stayed in one built-in for %s (past %s)", now.Sub(c.Since).Round(time.Second), stuckAfter)
			w.Recorder.SetExitReason(reason)
			log.Error("a call cannot be interrupted; exiting for the supervisor to start a new worker", "module", c.Module, "while", c.What(), "for", now.Sub(c.Since))
			os.Exit(StuckExitCode)
		}
	}
}

// inheritedListener returns the listening socket a supervisor handed over
// as fd (nil for 0).
func inheritedListener(fd int) (net.Listener, error) {
	if fd <= 0 {
		return nil, nil
	}
	f := os.NewFile(uintptr(fd), "control-listener")
	defer f.Close() // FileListener holds its own copy
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("worker: the control API socket (fd %d): %w", fd, err)
	}
	return ln, nil
}
