package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/afstudio/afstudio/control"
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
	w    studio.Watcher       // nil when the studio does not watch
	api  *control.Service     // the user's control API; nil with --connect
	open *func([]string) error // the window's, set once it exists; /v1/open calls it
	// label names the host in the window when it is not in this process
	// and not the studio's own worker.
	label string
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
		if sh.api, err = control.NewService(m, apiOpts); err != nil {
			stop()
			return nil, err
		}
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
	rh, err := remotehost.New(ctx, o.connect, token, remotehost.Options{Logger: log, NoticeLimit: studioNoticeLimit})
	if err != nil {
		return err
	}
	sh.host, sh.label, sh.stop = rh, rh.URL(), rh.Close
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
	token, err := control.NewToken()
	if err != nil {
		return err
	}
	listener, url, err := privateListener()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the afstudio binary for the worker: %w", err)
	}
	dir, err := os.MkdirTemp("", "afstudio-supervisor-")
	if err != nil {
		return err
	}
	sctx, stopWorker := context.WithCancel(context.Background())
	supervised := make(chan error, 1)
	go func() {
		supervised <- supervise.Run(sctx, supervise.Options{
			Path: exe, Args: o.workerArgs(), SpecFlag: "--worker", Dir: dir,
			MoreArgs:    func() []string { return o.workerFolders(flagDirs, prefs) },
			MemoryLimit: int64(o.worker.memoryLimit), Listener: listener, Token: token, Quiet: true,
			Stderr: stderr, Logger: log,
		})
	}()
	cleanup := func() {
		stopWorker()
		<-supervised
		listener.Close()
		os.RemoveAll(dir)
	}
	rh, err := connectWorker(ctx, url, token, supervised, log)
	if err != nil {
		stopWorker()
		listener.Close()
		os.RemoveAll(dir)
		return err
	}
	stops := []func(){cleanup, rh.Close}
	if sh.api, err = control.NewProxyService(url, token, apiOpts); err != nil {
		rh.Close()
		cleanup()
		return err
	}
	sh.host = rh
	if !o.noWatch {
		w, stopWatching := watchHost(ctx, rh, o.host.dirs, 0, log)
		sh.w = w
		stops = append(stops, stopWatching)
	}
	sh.stop = func() { // the watcher first, the worker last (it writes the last states)
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	sh.memoryLimit = "no limit"
	if o.worker.memoryLimit > 0 {
		sh.memoryLimit = supervise.FormatBytes(int64(o.worker.memoryLimit))
	}
	log.Info("integrations run in a supervised worker process", "memory_limit", sh.memoryLimit)
	return nil
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

// connectWorker attaches to the first worker once it serves (it loads
// the integrations first), or returns why it could not start.
func connectWorker(ctx context.Context, url, token string, supervised <-chan error, log *slog.Logger) (*remotehost.Host, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rh, err := remotehost.New(ctx, url, token, remotehost.Options{Logger: log, NoticeLimit: studioNoticeLimit})
		if err == nil {
			return rh, nil
		}
		select {
		case serr := <-supervised:
			if serr == nil {
				serr = errors.New("it exited")
			}
			return nil, fmt.Errorf("the integrations' worker process did not start: %w", serr)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the integrations' worker process did not answer within 2 minutes: %w", err)
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
