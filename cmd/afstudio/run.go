package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/afstudio/afstudio/starhost"
)

// inputLine is one event on the headless host's standard input.
type inputLine struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// lineWriter writes JSON lines from several goroutines, one whole line at
// a time.
type lineWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (w *lineWriter) write(v any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.enc.Encode(v)
}

// cmdRun runs the host without a window: JSON-lines events on stdin, one
// JSON line per handler call and per lifecycle notice on stdout, logs on
// stderr. End of input or a signal shuts it down.
func cmdRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr, "run --headless [--dir DIR]... [--no-defaults] [--no-watch] [--listen ADDR [--allow-remote]]")
	var hf hostFlags
	hf.register(fs)
	headless := fs.Bool("headless", false, "run without a window, speaking JSON lines on stdin and stdout")
	noWatch := fs.Bool("no-watch", false, "do not watch the --dir folders for changes")
	quiet := fs.Duration("quiet", 25*time.Millisecond, "how long a burst of file events must be silent before it is reloaded")
	listen := fs.String("listen", "", "also serve the control API on this address, e.g. 127.0.0.1:7777")
	allowRemote := fs.Bool("allow-remote", false, "allow --listen on an address other than loopback")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*headless {
		return fmt.Errorf("%w: the studio window is not part of this build yet; run with --headless", errUsage)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	m, err := hf.newManager(log)
	if err != nil {
		return err
	}
	out := &lineWriter{enc: json.NewEncoder(stdout)}
	sub := m.Subscribe(4096)
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := range sub.C {
			if n.Kind == starhost.NoticeEvent {
				continue
			}
			out.write(n)
		}
	})
	defer func() {
		sub.Close()
		wg.Wait()
	}()
	loadReporting(ctx, m, stderr)
	if !*noWatch && len(hf.dirs) > 0 {
		wctx, stopWatch := context.WithCancel(ctx)
		var ww sync.WaitGroup
		ww.Go(func() { watchRoots(wctx, m, *quiet, log) })
		defer func() {
			stopWatch()
			ww.Wait()
		}()
	}
	if *listen != "" {
		api, err := newAPIServer(m, nil, *allowRemote, log)
		if err != nil {
			return err
		}
		if _, err := api.Serve(*listen); err != nil {
			return err
		}
		defer api.Stop()
	}
	log.Info("headless host ready", "integrations", len(m.Names()), "input", `one JSON object per line: {"event": "mission_started", "data": {...}}`)

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		if err := sc.Err(); err != nil {
			out.write(map[string]string{"kind": "input_error", "error": "stdin: " + err.Error()})
		}
	}()
	for n := 1; ; n++ {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			log.Info("shutting down", "reason", ctx.Err())
			return nil
		case line, ok = <-lines:
			if !ok && *listen != "" {
				// Serving the API: stdin may well be /dev/null (a service).
				log.Info("end of input; still serving the control API until SIGINT or SIGTERM")
				lines = nil
				continue
			}
			if !ok {
				log.Info("end of input, shutting down")
				return nil
			}
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		var in inputLine
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			out.write(map[string]any{"kind": "input_error", "line": n, "error": fmt.Sprintf("stdin line %d: %v; expected {\"event\": NAME, \"data\": {...}}", n, err)})
			continue
		}
		data, err := starhost.DecodeEventData(in.Data)
		var results []starhost.Result
		if err == nil {
			results, err = m.Emit(ctx, in.Event, data)
		}
		if err != nil {
			out.write(map[string]any{"kind": "input_error", "line": n, "error": fmt.Sprintf("stdin line %d: %v", n, err)})
			continue
		}
		for i := range results {
			r := &results[i]
			out.write(starhost.Notice{Kind: starhost.NoticeResult, Time: time.Now(), Integration: r.Integration, Event: r.Event, Generation: r.Generation, Result: r})
		}
	}
}
