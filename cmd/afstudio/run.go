package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/headless"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/supervise"
)

// runOptions are the flags of `afstudio run`.
type runOptions struct {
	host        hostFlags
	headless    bool
	noWatch     bool
	quiet       time.Duration
	listen      string
	allowRemote bool
	disable     dirList // names to switch off at start
	worker      workerFlags
	record      recordFlags
	nats        natsFlags // --nats: events from the shared stream (runCluster)
	hostID      string
	instance    string // --host-instance: set by the supervisor (clusterIdentity)
	natsResults bool
}

func (o *runOptions) register(fs *flag.FlagSet) {
	o.host.registerWithState(fs)
	fs.BoolVar(&o.headless, "headless", false, "run without a window, speaking JSON lines on stdin and stdout (required)")
	fs.BoolVar(&o.noWatch, "no-watch", false, "do not watch the --dir folders for changes")
	fs.DurationVar(&o.quiet, "quiet", 25*time.Millisecond, "how long (a `DURATION`) a burst of file events must be silent before it is reloaded")
	registerListen(fs, &o.listen, &o.allowRemote, "also serve the control API on `ADDR`, e.g. 127.0.0.1:7777 (with --nats: the cluster at /v1/cluster, each partition at /p/N)")
	fs.Var(&o.host.files, "file", "also load the integration file `FILE` (repeatable), wherever it is")
	fs.Var(&o.disable, "disable", "switch off the integration `NAME` (repeatable): it stays loaded but gets no events; remembered with the state")
	o.worker.register(fs)
	o.record.register(fs)
	o.nats.register(fs)
	fs.BoolVar(&o.natsResults, "nats-results", false, "with --nats, publish every handler call's result to afstudio.results.EVENT (notices always go to afstudio.notices.KIND)")
	fs.StringVar(&o.hostID, "host-id", "", "with --nats, this host's `ID` among the others (default HOSTNAME-RANDOM; never give two hosts the same)")
	fs.StringVar(&o.instance, "host-instance", "", internalFlag+"with --nats, this run's `INSTANCE`: the supervisor passes the same to all its workers")
}

// registerListen registers --listen and --allow-remote.
func registerListen(fs *flag.FlagSet, listen *string, allowRemote *bool, usage string) {
	fs.StringVar(listen, "listen", "", usage)
	fs.BoolVar(allowRemote, "allow-remote", false, "allow --listen on an address other than loopback")
}

// cmdRun runs the host without a window (package headless): JSON-lines
// events on stdin, one JSON notice per line on stdout, logs on stderr. End
// of input (unless the control API is served), SIGINT or SIGTERM stop it.
func cmdRun(ctx context.Context, args []string, std stdio) (err error) {
	var o runOptions
	fs := newFlagSet("run", std.stderr)
	o.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if !o.headless || fs.NArg() > 0 {
		return usagef("run takes no arguments and needs --headless (the host without a window, JSON lines on stdin and stdout); " +
			"to open the studio window, run afstudio without a command: afstudio [--dir DIR]... [FILE.star...]")
	}
	if o.worker.supervised() {
		return superviseWorker(ctx, args, &o, std)
	}
	log := newLogger(std.stderr, slog.LevelInfo)
	var worker *supervise.Worker // nil unless this process is a supervisor's worker
	if o.worker.spec != "" {
		if ctx, worker, err = startWorker(ctx, &o, log); err != nil {
			return err
		}
		defer worker.Close()
	}
	if o.nats.url != "" {
		return runCluster(ctx, &o, worker, log)
	}
	return runHost(ctx, &o, worker, std, log)
}

// runHost is run --headless on one host: the integrations of the folders
// in one manager, events from stdin and the control API.
func runHost(ctx context.Context, o *runOptions, worker *supervise.Worker, std stdio, log *slog.Logger) (err error) {
	rec, err := o.record.attach(&o.host, worker != nil, log) // a worker continues its supervisor's recording
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rec.close()) }() // last: after every event was handled
	m, stopHost, err := o.host.newManager(log)
	if err != nil {
		return err
	}
	rec.follow(m)
	defer func() { err = errors.Join(err, stopHost()) }() // after the front end and the API stopped: the last states
	var h *headless.Host
	if worker == nil || !worker.Quiet { // a quiet worker is followed over the API only
		h = headless.New(m, std.stdout, headlessOptions(worker, log)) // before loading: the load notices are written too
		defer func() { err = errors.Join(err, h.Close()) }()
	}
	o.host.publishStart(m)
	loadReporting(ctx, m, std.stderr)
	switchOff(m, o.disable, log)
	if !o.noWatch && len(o.host.dirs) > 0 {
		_, stopWatching := watchHost(ctx, m, m.Roots(), o.quiet, log, nil)
		defer stopWatching()
	}
	stopAPI, err := o.serveAPI(func(so control.ServiceOptions) (*control.Service, error) { return control.NewService(m, so) }, worker, log)
	if err != nil {
		return err
	}
	defer stopAPI()
	if worker != nil {
		worker.Ready()
	}
	log.Info("headless host ready", "integrations", len(m.Names()), "input", `one JSON object per line: {"event": "mission_started", "data": {...}}`)
	if h == nil {
		<-ctx.Done()
		return nil
	}
	return serveHeadless(ctx, h, std, o.listen != "", log)
}

// switchOff switches off the integrations --disable names; one that is
// not loaded (a typo, or a module that failed) is logged, and the rest
// serves.
func switchOff(m *starhost.Manager, names []string, log *slog.Logger) {
	for _, name := range names {
		if err := m.DisableIntegration(name); err != nil {
			log.Warn("--disable: not switched off", "integration", name, "err", err)
		}
	}
}

// headlessOptions are the headless front end's options; a worker's count
// input lines in its supervisor's numbering and record their progress.
func headlessOptions(worker *supervise.Worker, log *slog.Logger) headless.Options {
	o := headless.Options{Logger: log}
	if worker != nil {
		o.FirstLine, o.Progress = worker.FirstLine, worker.Recorder.LineProgress
	}
	return o
}

// serveAPI serves the control API newAPI makes when --listen asks for
// it, or on the sockets a supervisor handed over: its own (with its
// token; a studio's private API) and the user's (a studio's --listen or
// Settings, with the user's token); stop stops them. A restarted worker's
// notice streams open with why its predecessor stopped.
func (o *runOptions) serveAPI(newAPI func(control.ServiceOptions) (*control.Service, error), worker *supervise.Worker, log *slog.Logger) (stop func(), err error) {
	opts := control.ServiceOptions{AllowRemote: o.allowRemote, Options: control.Options{Version: version, Logger: log}}
	type served struct {
		ln    net.Listener
		token string
	}
	var apis []served
	if worker != nil {
		if worker.Restarted != "" {
			opts.Greeting = []starhost.Notice{{Kind: supervise.NoticeWorkerRestarted, Time: time.Now(), Level: "error", Message: worker.Restarted}}
		}
		if worker.Listener != nil {
			apis = append(apis, served{worker.Listener, worker.Token})
		}
		if worker.UserListener != nil {
			apis = append(apis, served{worker.UserListener, ""}) // "": the user's token
		}
	}
	if len(apis) == 0 && o.listen != "" {
		apis = append(apis, served{nil, ""})
	}
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	for _, a := range apis {
		so := opts
		so.Token = a.token
		so.AnyFile = a.token != "" // the studio's private API: files dropped anywhere, as in its window
		api, err := newAPI(so)
		if err != nil {
			stop()
			return nil, err
		}
		if a.ln != nil { // handed over by the supervisor
			api.ServeListener(a.ln)
		} else if _, err := api.Serve(o.listen); err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, func() { _ = api.Stop() })
	}
	return stop, nil
}

// serveHeadless serves events from stdin until its end (then, when the
// control API is served, until ctx ends) or until ctx ends.
func serveHeadless(ctx context.Context, h *headless.Host, std stdio, apiServed bool, log *slog.Logger) error {
	err := h.Serve(ctx, std.stdin)
	switch {
	case err == nil && apiServed:
		// Serving the API: stdin may well be /dev/null (a service).
		log.Info("end of input; still serving the control API until SIGINT or SIGTERM")
		<-ctx.Done()
		log.Info("shutting down", "reason", ctx.Err())
	case err == nil:
		log.Info("end of input, shutting down")
	case ctx.Err() != nil:
		log.Info("shutting down", "reason", ctx.Err())
	default:
		return err
	}
	return nil
}
