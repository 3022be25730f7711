package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/afstudio/afstudio/cluster"
	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/integrations"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/watch"
	"github.com/afstudio/afstudio/supervise"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsFlags are the flags naming the NATS server and the stream the
// hosts share (run --headless --nats, nats init, cluster status, state
// export --nats).
type natsFlags struct {
	url    string
	creds  string
	stream string
}

func (n *natsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.url, "nats", "", "the NATS server `URL` (nats://[USER:PASSWORD@]HOST:4222, or a comma-separated list) whose JetStream stream the hosts share")
	fs.StringVar(&n.creds, "nats-creds", "", "with --nats, the NATS credentials `FILE` (.creds)")
	fs.StringVar(&n.stream, "stream", cluster.DefaultStream, "with --nats, the `NAME` of the stream (its buckets are NAME_OWNERS and NAME_STATE)")
}

// layout is the stream and buckets the flags name.
func (n *natsFlags) layout() cluster.Layout { return cluster.Layout{Stream: n.stream} }

// connect connects to the server; the connection reconnects forever (a
// host outlives a server restart). The caller closes it.
func (n *natsFlags) connect(log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	if n.url == "" {
		return nil, nil, usagef("--nats URL is required: the NATS server with JetStream, e.g. --nats nats://127.0.0.1:4222")
	}
	opts := []nats.Option{nats.Name("afstudio"), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	if n.creds != "" {
		opts = append(opts, nats.UserCredentials(n.creds))
	}
	if log != nil {
		opts = append(opts,
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("NATS disconnected; reconnecting", "err", err) }),
			nats.ReconnectHandler(func(c *nats.Conn) { log.Info("NATS reconnected", "server", c.ConnectedUrlRedacted()) }))
	}
	nc, err := nats.Connect(n.url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS at %s: %w; is the server running with JetStream (nats-server -js)?", n.url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("JetStream at %s: %w", n.url, err)
	}
	return nc, js, nil
}

// natsInitFlags are the flags of `afstudio nats init`.
type natsInitFlags struct {
	nats       natsFlags
	partitions int
	leaseTTL   time.Duration
	maxAge     time.Duration
}

func (f *natsInitFlags) register(fs *flag.FlagSet) {
	f.nats.register(fs)
	fs.IntVar(&f.partitions, "partitions", 12, "the number `P` of partitions the events are spread over (fixed once states are stored)")
	fs.DurationVar(&f.leaseTTL, "lease-ttl", cluster.DefaultLeaseTTL, "how long (a `DURATION`) a host's leases live without renewal: a dead host's partitions move within 4/3 of it")
	fs.DurationVar(&f.maxAge, "max-age", 7*24*time.Hour, "how long (a `DURATION`) events are kept in the stream")
}

// cmdNats runs `afstudio nats init`: it creates the stream and buckets
// the hosts share, or brings them up to date.
func cmdNats(ctx context.Context, args []string, std stdio) error {
	var f natsInitFlags
	fs := newFlagSet("nats", std.stderr)
	f.register(fs)
	words, err := parseWords(fs, args)
	if err != nil {
		return err
	}
	if len(words) != 1 || words[0] != "init" {
		return badUsage(fs)
	}
	nc, js, err := f.nats.connect(nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	o := cluster.InitOptions{Layout: f.nats.layout(), Partitions: f.partitions, LeaseTTL: f.leaseTTL, MaxAge: f.maxAge}
	if err := cluster.Init(ctx, js, o); err != nil {
		return err
	}
	l := f.nats.layout()
	fmt.Fprintf(std.stdout, "stream %s (%d partitions), buckets %s and %s ready; publish events to %s\n",
		l.StreamName(), f.partitions, l.OwnersBucket(), l.StateBucket(), cluster.EventSubject("EVENT", "KEY"))
	return nil
}

// clusterFlags are the flags of `afstudio cluster status`.
type clusterFlags struct {
	nats   natsFlags
	asJSON bool
}

func (f *clusterFlags) register(fs *flag.FlagSet) {
	f.nats.register(fs)
	fs.BoolVar(&f.asJSON, "json", false, "print the status as one JSON object")
}

// cmdCluster runs `afstudio cluster status`: the hosts alive and each
// partition's owner, position and lag.
func cmdCluster(ctx context.Context, args []string, std stdio) error {
	var f clusterFlags
	fs := newFlagSet("cluster", std.stderr)
	f.register(fs)
	words, err := parseWords(fs, args)
	if err != nil {
		return err
	}
	if len(words) != 1 || words[0] != "status" {
		return badUsage(fs)
	}
	nc, js, err := f.nats.connect(nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	st, err := cluster.ReadStatus(ctx, js, f.nats.layout())
	if err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(std.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return st.WriteText(std.stdout)
}

// exportClusterStates prints every partition's states (state export
// --nats): {"partitions": {"0": {"NAME": STATE, ...}, ...}}.
func exportClusterStates(ctx context.Context, n *natsFlags, std stdio) error {
	nc, js, err := n.connect(nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	parts, err := cluster.ExportStates(ctx, js, n.layout())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(std.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"partitions": parts})
}

// runCluster is run --headless --nats: the host takes its share of the
// partitions of the shared stream and applies their events, one manager
// per partition, until ctx ends; the integration folders are watched and
// every partition's manager reloads a changed file.
func runCluster(ctx context.Context, o *runOptions, worker *supervise.Worker, log *slog.Logger) error {
	switch {
	case o.record.path != "":
		return usagef("--record records the events of one host; with --nats they are kept in the stream already")
	case len(o.disable) > 0:
		return usagef("--disable is not supported with --nats: remove the integration's file from the folder instead")
	}
	nc, js, err := o.nats.connect(log)
	if err != nil {
		return err
	}
	defer nc.Close()
	h, err := cluster.New(ctx, cluster.Options{Layout: o.nats.layout(), JetStream: js, Logger: log, ID: o.hostID, Instance: o.instance, PublishResults: o.natsResults,
		NewManager: func(ctx context.Context) (*starhost.Manager, error) {
			m, err := starhost.New(starhost.Options{Roots: o.host.dirs, Defaults: integrations.FS, SkipDefaultIntegrations: o.host.noDefaults,
				Modules: o.host.files, Recorder: o.host.recorder, Quarantine: o.host.quarantine, Parallel: o.host.parallel, Logger: log})
			if err != nil {
				return nil, err
			}
			if err := m.LoadDefaultIntegrations(ctx); err != nil {
				log.Warn("some integrations did not load; the others serve", "err", err)
			}
			return m, nil
		}})
	if err != nil {
		return err
	}
	if !o.noWatch && len(o.host.dirs) > 0 {
		w := watch.New(watch.Options{Roots: o.host.dirs, Quiet: o.quiet, Logger: log},
			func(ctx context.Context, b watch.Batch) {
				if paths := append(b.Changed, b.Removed...); len(paths) > 0 {
					h.ReloadFiles(ctx, paths)
				}
			},
			func(p *watch.Problem) { log.Warn("file watching", "err", p) })
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := w.Run(wctx); err != nil {
				log.Error("file watching is off", "error", err)
			}
		}()
		defer func() { cancel(); <-done }()
	}
	stopAPI, err := o.serveAPI(func(so control.ServiceOptions) (*control.Service, error) { return control.NewClusterService(h, so) }, worker, log)
	if err != nil {
		return err
	}
	defer stopAPI()
	if worker != nil {
		worker.Ready()
	}
	log.Info("cluster host ready", "id", h.ID(), "instance", h.Instance(), "stream", o.nats.layout().StreamName(), "partitions", h.Partitions())
	return h.Run(ctx)
}

// parseWords parses a command whose flags may come before, between or
// after its words (nats init, cluster status), and returns the words.
func parseWords(fs *flag.FlagSet, args []string) ([]string, error) {
	var words []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return words, nil
		}
		words, args = append(words, fs.Arg(0)), fs.Args()[1:]
	}
}
