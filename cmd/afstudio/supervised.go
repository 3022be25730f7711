package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/afstudio/afstudio/cluster"
	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/supervise"
)

// internalFlag marks a flag's usage as internal: printFlags leaves it out.
const internalFlag = "(internal) "

// defaultMemoryLimit is the worker's memory limit unless --memory-limit.
const defaultMemoryLimit = 1 << 30

// workerFlags are the flags of run --headless about the worker process.
type workerFlags struct {
	inProcess   bool
	memoryLimit byteSize
	spec        string // set by the supervisor: this process is its worker
}

func (w *workerFlags) register(fs *flag.FlagSet) {
	w.registerLimit(fs)
	fs.StringVar(&w.spec, "worker", "", internalFlag+"run as the worker of a supervisor, with the spec in `FILE`")
}

// registerLimit registers --in-process and --memory-limit (the studio's
// worker flags).
func (w *workerFlags) registerLimit(fs *flag.FlagSet) {
	w.memoryLimit = defaultMemoryLimit
	fs.BoolVar(&w.inProcess, "in-process", false, "run the integrations in this process, without a supervised worker (no memory limit: a runaway integration can take the whole host down)")
	fs.Var(&w.memoryLimit, "memory-limit", "the integrations' worker process is restarted, and the integration that was running quarantined, when it uses more than `SIZE` (e.g. 512MiB, 2GiB; 0: no limit)")
}

// limitFromSetting takes the memory limit from the studio's Settings tab
// (setting, "" for none), unless it cannot be read (then it is logged and
// the limit stays).
func (w *workerFlags) limitFromSetting(setting string, log *slog.Logger) {
	if setting == "" {
		return
	}
	n, err := supervise.ParseMemoryLimit(setting)
	if err != nil {
		log.Warn("the memory limit set in the Settings tab is not used", "error", err)
		return
	}
	w.memoryLimit = byteSize(n)
}

// flagGiven reports whether the command line set the flag name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// supervised reports whether run --headless supervises a worker.
func (w *workerFlags) supervised() bool {
	return !w.inProcess && w.spec == "" && supervisedHere()
}

// supervisedHere reports whether integrations run in a supervised worker
// on this system by default: where the worker can be bound to its
// supervisor and handed the API's socket (not yet on Windows).
func supervisedHere() bool { return runtime.GOOS != "windows" }

// superviseWorker runs run --headless as a supervisor: the same command
// line runs in a worker process (--worker), restarted when it dies.
func superviseWorker(ctx context.Context, args []string, o *runOptions, std stdio) error {
	log := newLogger(std.stderr, slog.LevelInfo)
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("supervise: find the afstudio binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "afstudio-supervisor-")
	if err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	defer os.RemoveAll(dir)
	if rec, err := o.record.startRecording(false, log); err != nil { // the workers append to it
		return err
	} else if rec != nil {
		rec.w.Close()
	}
	var listener *os.File
	if o.listen != "" {
		ln, err := control.ListenTCP(o.listen, o.allowRemote)
		if err != nil {
			return err
		}
		if listener, err = ln.(*net.TCPListener).File(); err != nil {
			return fmt.Errorf("supervise: %w", err)
		}
		ln.Close() // the file is a copy of the socket: it stays open
		defer listener.Close()
	}
	return supervise.Run(ctx, supervise.Options{
		Path: exe, Args: append([]string{"run"}, clusterIdentity(args, o)...), SpecFlag: "--worker", Dir: dir,
		MemoryLimit: int64(o.worker.memoryLimit), Listener: listener,
		Stdin: std.stdin, Stdout: std.stdout, Stderr: std.stderr, Logger: log,
	})
}

// clusterIdentity adds to the arguments of a cluster host (run --nats)
// the identity its supervisor keeps for all its workers: --host-id, when
// none is given, picked once here rather than by each worker, and
// --host-instance. A worker started again after its predecessor died is
// then the same host, and it adopts the predecessor's leases at once
// instead of waiting for them to expire (see package cluster). They are
// flags, as --worker is, rather than environment variables: the worker's
// command line is what the supervisor builds for it, and a flag marked
// internal stays out of the usage.
func clusterIdentity(args []string, o *runOptions) []string {
	if o.nats.url == "" {
		return args
	}
	args = slices.Clip(args)
	if o.hostID == "" {
		args = append(args, "--host-id", cluster.DefaultID())
	}
	if o.instance == "" {
		args = append(args, "--host-instance", cluster.NewInstance())
	}
	return args
}

// startWorker makes this process the worker of the spec in o.worker.spec:
// the memory limit, the flight recorder and the quarantine go into the
// host's options, and the returned context ends when the supervisor is
// gone.
func startWorker(ctx context.Context, o *runOptions, log *slog.Logger) (context.Context, *supervise.Worker, error) {
	ctx, w, err := supervise.StartWorker(ctx, o.worker.spec, 10*starhost.DefaultLimits().Timeout, log)
	if err != nil {
		return nil, nil, err
	}
	o.host.recorder, o.host.quarantine = w.Recorder, w.Quarantine
	if w.Serial {
		o.host.parallel = 1
	}
	return ctx, w, nil
}

// byteSize is a flag holding a number of bytes: "1GiB", "512MiB",
// "64KiB", "1024" (also GB, MB, KB, G, M, K as powers of 1024).
type byteSize int64

func (b *byteSize) String() string {
	if *b == 0 {
		return "0"
	}
	return strings.ReplaceAll(supervise.FormatBytes(int64(*b)), " ", "")
}

func (b *byteSize) Set(s string) error {
	n, err := supervise.ParseMemoryLimit(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}
