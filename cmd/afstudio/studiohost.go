package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/control/client"
	"github.com/afstudio/afstudio/control/remotehost"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/studio"
	"github.com/afstudio/afstudio/supervise"
)

// A studioHost is the host the studio window shows, however it runs: in
// a supervised worker process (the default), in the studio's own process
// (--in-process), or elsewhere (--connect).
type studioHost struct {
	host studio.Host
	w    studio.Watcher    // nil when the studio does not watch
	api  studio.ControlAPI // the user's control API; nil with --connect
	// handoff serves the single-instance hand-off (POST /v1/open) of a
	// second afstudio FILE.star.
	handoff http.Handler
	open    *func([]string) error // the window's, set once it exists; /v1/open calls it
	// label names the host in the window when it is not in this process
	// and not the studio's own worker.
	label string
	// cluster is the cluster of a cluster host attached to (--connect);
	// nil for any other host.
	cluster studio.Cluster
	// memoryLimit is the worker's memory limit, for the Settings tab; ""
	// when the integrations do not run in this studio's worker.
	memoryLimit string
	// started is called once the window follows the host.
	started func()
	stop    func()
}

// openHost starts or reaches the studio's host (see studioHost).
func (o *studioOptions) openHost(ctx context.Context, prefs fyne.Preferences, std stdio, log *slog.Logger) (*studioHost, error) {
	sh := &studioHost{open: new(func([]string) error), started: func() {}}
	openFiles := func(files []string) error {
		if *sh.open == nil {
			return errors.New("the window is not open yet")
		}
		return (*sh.open)(files)
	}
	apiOpts := control.ServiceOptions{AllowRemote: o.allowRemote, Options: control.Options{Version: version, Logger: log, Open: openFiles}}
	switch {
	case o.connect != "":
		return sh, o.connectHost(ctx, sh, log)
	case o.worker.inProcess || !supervisedHere():
		m, w, stop, err := o.startHost(ctx, prefs, std.stderr, log)
		if err != nil {
			return nil, err
		}
		sh.host, sh.w, sh.stop = m, w, stop
		sh.started = func() { o.host.publishStart(m) }
		api, err := control.NewService(m, apiOpts)
		if err != nil {
			stop()
			return nil, err
		}
		sh.api, sh.handoff = api, api.Handler()
		sh.stop = func() { _ = api.Stop(); stop() }
		return sh, nil
	}
	return sh, o.startWorkerHost(ctx, sh, prefs, std.stderr, apiOpts, log)
}

// connectHost attaches the window to a host elsewhere (--connect), with
// the token of --token-file, $AFSTUDIO_TOKEN or this user's.
func (o *studioOptions) connectHost(ctx context.Context, sh *studioHost, log *slog.Logger) error {
	token, err := o.connectToken()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second) // a host starting, or restarting its worker
	base, p := splitPartition(o.connect)
	cv, err := findCluster(ctx, base, token, time.Until(deadline))
	if err != nil {
		return err
	}
	patience := max(time.Until(deadline), time.Second) // what findCluster left
	if cv == nil {
		rh, err := attach(ctx, o.connect, token, nil, patience, log)
		if err != nil {
			return err
		}
		sh.host, sh.label, sh.stop = rh, rh.URL(), rh.Close
		return nil
	}
	if p < 0 {
		p = cv.Owned[0]
	}
	rh, err := attach(ctx, base+control.PartitionPath(p), token, nil, patience, log)
	if err != nil {
		return err
	}
	ca := &clusterAttach{base: base, c: client.New(base, token), rh: rh}
	ca.shown.Store(int64(p))
	sh.host, sh.cluster, sh.label, sh.stop = rh, ca, fmt.Sprintf("%s (cluster host %s)", base, cv.Host), rh.Close
	return nil
}

// connectToken returns the token for --connect.
func (o *studioOptions) connectToken() (string, error) {
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if t := os.Getenv(envToken); t != "" {
		return t, nil
	}
	return control.UserToken() // a host of this user on this machine
}

// envToken holds the token for --connect when --token-file is not given.
const envToken = "AFSTUDIO_TOKEN"

// startWorkerHost runs the integrations in a supervised worker process
// and attaches the window to it over a private API (a loopback port and
// a token of this session). The studio watches the folders and tells the
// worker what changed, so that watching, pausing and the folders added
// in the window outlive a worker that dies; each new worker loads the
// folders and files the window has now. The user's control API is a
// proxy to the worker's.
func (o *studioOptions) startWorkerHost(ctx context.Context, sh *studioHost, prefs fyne.Preferences, stderr io.Writer, apiOpts control.ServiceOptions, log *slog.Logger) (err error) {
	flagDirs := o.host.dirs
	if o.host.dirs, err = studioDirs(o.host.dirs, prefs); err != nil {
		return err
	}
	userAPI, err := newWorkerAPI(o.allowRemote, log)
	if err != nil {
		return err
	}
	if on, addr := apiAtStart(o.listen, prefs); on { // before the first worker: no restart for it
		if _, err := userAPI.open(addr); err != nil {
			log.Warn("control API not started", "error", err)
		}
	}
	sw, err := o.startStudioWorker(func() []string { return o.workerFolders(flagDirs, prefs) }, userAPI, stderr, log)
	if err != nil {
		userAPI.close()
		return err
	}
	stops := []func(){sw.stop, userAPI.close}
	stopAll := func() { // the watcher first, the worker last (it writes the last states)
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	rh, err := attach(ctx, sw.url, sw.token, sw, 2*time.Minute, log)
	if err != nil {
		stopAll()
		return err
	}
	stops = append(stops, rh.Close)
	handoff, err := control.NewProxyService(sw.url, sw.token, apiOpts) // /v1/open here, the rest to the worker
	if err != nil {
		stopAll()
		return err
	}
	sh.host, sh.api, sh.handoff, sh.stop = rh, userAPI, handoff.Handler(), stopAll
	if !o.noWatch {
		w, stopWatching := watchHost(ctx, rh, o.host.dirs, 0, log, o.saved.afterBatch)
		sh.w = w
		stops = append(stops, stopWatching)
	}
	sh.memoryLimit = "no limit"
	if o.worker.memoryLimit > 0 {
		sh.memoryLimit = supervise.FormatBytes(int64(o.worker.memoryLimit))
	}
	log.Info("integrations run in a supervised worker process", "memory_limit", sh.memoryLimit)
	return nil
}

// A studioWorker is the studio's supervised worker: the URL and token of
// its private API, and stop, which stops the worker cleanly and cleans
// up. done is closed when the supervisor has returned, err then.
type studioWorker struct {
	url, token string
	done       <-chan struct{}
	err        error
	stop       func()
}

// startStudioWorker starts the supervisor of the studio's worker, which
// loads folders() as they are at each start and serves userAPI's socket.
func (o *studioOptions) startStudioWorker(folders func() []string, userAPI *workerAPI, stderr io.Writer, log *slog.Logger) (*studioWorker, error) {
	token, err := control.NewToken()
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the afstudio binary for the worker: %w", err)
	}
	dir, err := os.MkdirTemp("", "afstudio-supervisor-")
	if err != nil {
		return nil, err
	}
	listener, url, err := privateListener()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := &studioWorker{url: url, token: token, done: done}
	go func() {
		defer close(done)
		w.err = supervise.Run(ctx, supervise.Options{
			Path: exe, Args: o.workerArgs(), SpecFlag: "--worker", Dir: dir, MoreArgs: folders,
			MemoryLimit: int64(o.worker.memoryLimit), Listener: listener, Token: token, Quiet: true,
			UserListener: userAPI.listener, Restart: userAPI.restart,
			Stderr: stderr, Logger: log,
		})
	}()
	w.stop = func() {
		cancel()
		<-done
		listener.Close()
		os.RemoveAll(dir)
	}
	return w, nil
}

// privateListener opens the worker's private API socket on a free
// loopback port: a file to hand over, and its URL.
func privateListener() (*os.File, string, error) {
	ln, err := control.ListenTCP("127.0.0.1:0", false)
	if err != nil {
		return nil, "", err
	}
	defer ln.Close() // the file is a copy of the socket: it stays open
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, "", fmt.Errorf("the worker's API socket: %w", err)
	}
	return f, "http://" + ln.Addr().String(), nil
}

// attach attaches to the host at url once it answers, trying again for
// up to patience (a worker loads the integrations before it serves);
// worker, when not nil, is the studio's own, which may say why it could
// not start.
func attach(ctx context.Context, url, token string, worker *studioWorker, patience time.Duration, log *slog.Logger) (*remotehost.Host, error) {
	var exited <-chan struct{} // nil: none to wait for
	if worker != nil {
		exited = worker.done
	}
	deadline := time.Now().Add(patience)
	for {
		rh, err := remotehost.New(ctx, url, token, remotehost.Options{Logger: log, NoticeLimit: studioNoticeLimit})
		if err == nil {
			return rh, nil
		}
		if !errors.Is(err, remotehost.ErrUnreachable) {
			return nil, err // a refused token, an old host: trying again changes nothing
		}
		select {
		case <-exited:
			serr := worker.err
			if serr == nil {
				serr = errors.New("it exited")
			}
			return nil, fmt.Errorf("the integrations' worker process did not start: %w", serr)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			if worker == nil {
				return nil, err
			}
			return nil, fmt.Errorf("the integrations' worker process did not answer within %s: %w", patience, err)
		}
	}
}

// workerArgs are the arguments of the studio's worker: the host flags of
// the studio (but the folders: workerFolders), without a window, watched
// by the studio.
func (o *studioOptions) workerArgs() []string {
	args := []string{"run", "--headless", "--no-watch"}
	if o.host.noDefaults {
		args = append(args, "--no-defaults")
	}
	if st := o.host.state; st != nil {
		if st.data != "" {
			args = append(args, "--data", st.data)
		}
		args = append(args, "--durable", st.durable, "--flush", st.flush.String())
	}
	return args
}

// workerFolders are the folders and files a worker loads when it starts:
// those of the command line and those the window added (remembered), as
// they are now.
func (o *studioOptions) workerFolders(flagDirs []string, prefs fyne.Preferences) []string {
	var args []string
	dirs, err := studioDirs(flagDirs, prefs)
	if err != nil {
		dirs = o.host.dirs
	}
	for _, d := range dirs {
		args = append(args, "--dir", d)
	}
	for _, f := range studio.RememberedFiles(prefs) {
		if _, err := os.Stat(f); err == nil {
			args = append(args, "--file", f)
		}
	}
	return args
}

// The host the studio watches for: a worker reached over the API.
var _ interface {
	studio.Host
	Notify(starhost.Notice)
} = (*remotehost.Host)(nil)

// studioNoticeLimit is how many events, results and logs a second the
// window asks its host to send: about what it can draw (it shows the rest
// as "N events not shown"), so that a storm of events costs the host no
// JSON for notices nobody will see.
const studioNoticeLimit = 1000

// A workerAPI is the user's control API of a studio whose integrations
// run in a worker (studio.ControlAPI, for --listen and the Settings
// tab): the studio opens the socket and hands it to each worker, which
// serves it with the user's token, so that an engine's events go straight
// to the worker. Turning it on or off, or moving it, starts the worker
// again (a clean stop: the last states are written) with the new socket.
type workerAPI struct {
	allowRemote bool
	token       string
	log         *slog.Logger
	restart     chan struct{} // supervise.Options.Restart

	mu        sync.Mutex
	ln        *net.TCPListener // the socket; a copy goes to each worker; nil: off
	requested string           // the address asked for
	addr      string           // the address it listens on
}

func newWorkerAPI(allowRemote bool, log *slog.Logger) (*workerAPI, error) {
	token, err := control.UserToken()
	if err != nil {
		return nil, err
	}
	return &workerAPI{allowRemote: allowRemote, token: token, log: log, restart: make(chan struct{}, 1)}, nil
}

// open listens on addr (closing the socket before), without starting the
// worker again; it returns the address it listens on.
func (a *workerAPI) open(addr string) (string, error) {
	ln, err := control.ListenTCP(addr, a.allowRemote)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln != nil {
		a.ln.Close()
	}
	a.ln, a.requested, a.addr = ln.(*net.TCPListener), addr, ln.Addr().String()
	if !control.IsLoopback(addr) {
		a.log.Warn("the control API is reachable from the network; anyone with the token can run events and change integrations", "addr", a.addr)
	}
	return a.addr, nil
}

// Serve listens on addr and starts the worker again to serve it; serving
// on the address it already serves does nothing.
func (a *workerAPI) Serve(addr string) (string, error) {
	a.mu.Lock()
	same := a.ln != nil && a.requested == addr
	current := a.addr
	a.mu.Unlock()
	if same {
		return current, nil
	}
	// The old socket must be closed before the new one can take its
	// address: close it first, then open.
	a.close()
	served, err := a.open(addr)
	for wait := 0; err != nil && errors.Is(err, syscall.EADDRINUSE) && wait < 40; wait++ {
		time.Sleep(50 * time.Millisecond) // a worker that served it a moment ago may still be stopping
		served, err = a.open(addr)
	}
	a.startAgain()
	if err == nil {
		a.log.Info("control API serving", "addr", "http://"+served)
	}
	return served, err
}

// Stop closes the socket and starts the worker again without it.
func (a *workerAPI) Stop() error {
	a.close()
	a.startAgain()
	return nil
}

// close closes the socket.
func (a *workerAPI) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln != nil {
		a.ln.Close()
	}
	a.ln, a.requested, a.addr = nil, "", ""
}

// Addr returns the address served on, or "".
func (a *workerAPI) Addr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addr
}

// Token returns the user's token, which the worker checks.
func (a *workerAPI) Token() string { return a.token }

// listener is supervise.Options.UserListener: a copy of the socket for
// the next worker, or nil when the API is off.
func (a *workerAPI) listener() *os.File {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln == nil {
		return nil
	}
	f, err := a.ln.File()
	if err != nil {
		a.log.Error("the control API's socket cannot be handed to the worker; it is off until it is turned on again", "error", err)
		return nil
	}
	return f
}

// startAgain asks the supervisor to start the worker again (once, if
// asked several times before it does).
func (a *workerAPI) startAgain() {
	select {
	case a.restart <- struct{}{}:
	default:
	}
}
