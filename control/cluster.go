package control

// The control API of a cluster host (afstudio run --headless --nats URL
// --listen ADDR). Such a host runs one manager per partition it applies,
// and its API serves each of them under its own prefix, so that a client
// of the one-host API (a studio's --connect, a script) reaches a
// partition by its base URL, http://HOST:PORT/p/N:
//
//	GET  /v1/health                         liveness (no token): {"ok", "version", "cluster": {"host", "owned"}}
//	GET  /v1/cluster                        ClusterView: this host, its partitions, the whole cluster's status
//	ANY  /p/{p}/v1/...                      the one-host API of partition p's manager (404 when p is not applied
//	                                        here, 503 while this host takes it: its state is loading)
//
// Within a partition, what reads is served as on one host; a reload (one
// integration or all) is done on every partition this host applies, so
// that its partitions never run different versions; what would bypass
// the stream answers 409 and says what to do instead: events come from
// the stream (exactly once, in order), integrations from the host's
// folders, states from the partition's events.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/afstudio/afstudio/cluster"
	"github.com/afstudio/afstudio/starhost"
)

// ClusterHost is a host that applies partitions of a shared stream, one
// manager each; *cluster.Host is one.
type ClusterHost interface {
	// ID is the host's id among the cluster's hosts.
	ID() string
	// Partitions is the number of partitions of the stream.
	Partitions() int
	// Owned are the partitions the host applies now, in order.
	Owned() []int
	// Manager is partition p's manager, nil when p is not applied here.
	Manager(p int) *starhost.Manager
	// Status reads the whole cluster's status from the server.
	Status(ctx context.Context) (cluster.Status, error)
}

// ClusterView is the body of GET /v1/cluster.
type ClusterView struct {
	// Host is this host's id.
	Host string `json:"host"`
	// Partitions is the number of partitions of the stream.
	Partitions int `json:"partitions"`
	// Owned are the partitions this host applies now; each is served at
	// /p/N.
	Owned []int `json:"owned"`
	// Status is the cluster's status, as afstudio cluster status shows
	// it; nil when the server could not be read (StatusError says why).
	Status *cluster.Status `json:"status,omitempty"`
	// StatusError is why Status is missing; "" when it is there.
	StatusError string `json:"status_error,omitempty"`
}

// PartitionPath is the prefix under which a cluster host serves partition
// p's API: a client's base URL is the host's with this path added.
func PartitionPath(p int) string { return "/p/" + strconv.Itoa(p) }

// NewClusterService returns a stopped Service serving the API of a
// cluster host (see NewClusterHandler).
func NewClusterService(c ClusterHost, opts ServiceOptions) (*Service, error) {
	opts.Open, opts.AnyFile = nil, false
	return newService(opts, func(o Options) (http.Handler, error) { return NewClusterHandler(c, o), nil })
}

// NewClusterHandler returns the API's handler for a cluster host: its
// status at /v1/cluster and each partition's one-host API under
// PartitionPath. opts.Open is ignored (files come from the host's
// folders).
func NewClusterHandler(c ClusterHost, opts Options) http.Handler {
	opts.Open = nil
	ch := &clusterHandler{c: c, opts: opts, mux: http.NewServeMux(), handlers: map[int]partitionHandler{}}
	ch.mux.HandleFunc("GET /v1/health", ch.health)
	guard := func(fn http.HandlerFunc) http.HandlerFunc { return withToken(opts.Token, fn) }
	ch.mux.HandleFunc("GET /v1/cluster", guard(ch.view))
	for _, rf := range clusterRefusals {
		for _, pattern := range rf.patterns {
			method, path, _ := strings.Cut(pattern, " ")
			ch.mux.HandleFunc(method+" /p/{p}"+path, guard(refuse(rf.why)))
		}
	}
	ch.mux.HandleFunc("POST /p/{p}/v1/integrations/{name}/reload", guard(ch.fanOut(func(ctx context.Context, m *starhost.Manager, r *http.Request) error {
		return m.ReloadIntegration(ctx, r.PathValue("name"))
	})))
	ch.mux.HandleFunc("POST /p/{p}/v1/reload", guard(ch.fanOut(func(ctx context.Context, m *starhost.Manager, _ *http.Request) error {
		var errs []error
		for name, err := range m.ReloadAllIntegrations(ctx) {
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
		return errors.Join(errs...)
	})))
	ch.mux.HandleFunc("GET /p/{p}/v1/health", ch.health) // the host answers, whatever the partition's state
	ch.mux.HandleFunc("GET /p/{p}/v1/notices", ch.notices)
	ch.mux.HandleFunc("/p/{p}/", ch.partition) // the partition's handler checks the token
	ch.mux.HandleFunc("/", ch.notFound)
	return ch
}

// clusterRefusals are the endpoints of the one-host API a partition
// refuses (409), with why and what to do instead.
var clusterRefusals = []struct {
	patterns []string
	why      string
}{
	{[]string{"POST /v1/events/{event}", "POST /v1/events"},
		"a cluster host applies the events of its stream, once and in order: publish the event to afstudio.events.EVENT.KEY (KEY: the mission id) on the NATS server; see the README's Running several hosts"},
	{[]string{"POST /v1/integrations", "DELETE /v1/integrations/{name}", "POST /v1/modules/remove", "POST /v1/roots", "POST /v1/open",
		"POST /v1/files/reload", "POST /v1/integrations/{name}/enable", "POST /v1/integrations/{name}/disable",
		"PUT /v1/integrations/{name}/shadow", "POST /v1/integrations/{name}/shadow/promote", "DELETE /v1/integrations/{name}/shadow"},
		"every host of a cluster runs the integrations of its folders (--dir), the same on every partition: change the files there (each host reloads them on save), or reload"},
	{[]string{"PUT /v1/integrations/{name}/state", "DELETE /v1/integrations/{name}/state", "POST /v1/integrations/{name}/state/reset", "PUT /v1/state"},
		"a partition's state is what its events made it, written with the stream position they reached: it is not changed from outside; read every partition's with afstudio state export --nats URL"},
}

// refuse answers 409 with why.
func refuse(why string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusConflict, fmt.Sprintf("%s %s: %s", r.Method, r.URL.Path, why), nil)
	}
}

// clusterHandler serves a cluster host's API.
type clusterHandler struct {
	c    ClusterHost
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	handlers map[int]partitionHandler // by partition: the handler of its current manager
}

// partitionHandler is the one-host API of one partition's manager.
type partitionHandler struct {
	m *starhost.Manager
	h http.Handler
}

// ServeHTTP implements http.Handler; a panic in a handler becomes a 500,
// as on one host.
func (ch *clusterHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			if ch.opts.Logger != nil {
				ch.opts.Logger.Error("control API handler panicked", "path", r.URL.Path, "panic", p)
			}
			writeError(w, http.StatusInternalServerError, "internal error", nil)
		}
	}()
	ch.mux.ServeHTTP(w, r)
}

// health serves GET /v1/health.
func (ch *clusterHandler) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "version": ch.opts.Version,
		"cluster": map[string]any{"host": ch.c.ID(), "owned": ownedOf(ch.c)}})
}

// ownedOf is c.Owned(), never nil.
func ownedOf(c ClusterHost) []int {
	if o := c.Owned(); o != nil {
		return o
	}
	return []int{}
}

// view serves GET /v1/cluster.
func (ch *clusterHandler) view(w http.ResponseWriter, r *http.Request) {
	v := ClusterView{Host: ch.c.ID(), Partitions: ch.c.Partitions(), Owned: ownedOf(ch.c)}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if st, err := ch.c.Status(ctx); err != nil {
		v.StatusError = fmt.Sprintf("read the cluster's status: %v", err)
	} else {
		v.Status = &st
	}
	writeJSON(w, http.StatusOK, v)
}

// partitionOf returns the partition a /p/{p}/ request names and its
// handler, answering 404 itself when the host does not apply it.
func (ch *clusterHandler) partitionOf(w http.ResponseWriter, r *http.Request) (int, *starhost.Manager, http.Handler, bool) {
	p, err := strconv.Atoi(r.PathValue("p"))
	if err != nil || p < 0 || p >= ch.c.Partitions() || strconv.Itoa(p) != r.PathValue("p") {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no partition %q: the stream has partitions 0 to %d", r.PathValue("p"), ch.c.Partitions()-1), nil)
		return 0, nil, nil, false
	}
	m := ch.c.Manager(p)
	if m == nil && slices.Contains(ch.c.Owned(), p) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("partition %d is being taken by this host (%s): its state is loading; try again in a moment", p, ch.c.ID()), nil)
		return 0, nil, nil, false
	}
	if m == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("partition %d is not applied by this host (%s applies %s): GET /v1/cluster says which host does", p, ch.c.ID(), partitionList(ownedOf(ch.c))), nil)
		return 0, nil, nil, false
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ph := ch.handlers[p]
	if ph.m != m { // the partition was taken again since: a new manager
		ph = partitionHandler{m: m, h: http.StripPrefix(PartitionPath(p), NewHandler(m, ch.opts))}
		ch.handlers[p] = ph
	}
	return p, m, ph.h, true
}

// partition serves /p/{p}/...: the one-host API of partition p.
func (ch *clusterHandler) partition(w http.ResponseWriter, r *http.Request) {
	if _, _, h, ok := ch.partitionOf(w, r); ok {
		h.ServeHTTP(w, r)
	}
}

// notices serves GET /p/{p}/v1/notices: partition p's notice stream,
// which ends when the host gives the partition up (its manager is closed
// and sends nothing more), so that a client following it learns that it
// moved.
func (ch *clusterHandler) notices(w http.ResponseWriter, r *http.Request) {
	p, m, h, ok := ch.partitionOf(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if ch.c.Manager(p) != m {
					cancel()
					return
				}
			}
		}
	}()
	h.ServeHTTP(w, r.WithContext(ctx))
}

// fanOut returns a handler that does do on the manager of every other
// partition the host applies, then serves the request on partition p's:
// a reload reaches all of the host's partitions, and answers as p's did.
// It is done whole even when the client goes away (a reload cut short on
// some partitions would leave them on another version); the failures on
// the other partitions, which the answer does not carry, are logged.
func (ch *clusterHandler) fanOut(do func(ctx context.Context, m *starhost.Manager, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, _, h, ok := ch.partitionOf(w, r)
		if !ok {
			return
		}
		ctx := context.WithoutCancel(r.Context())
		for _, q := range ch.c.Owned() {
			if m := ch.c.Manager(q); q != p && m != nil {
				if err := do(ctx, m, r); err != nil && ch.opts.Logger != nil {
					ch.opts.Logger.Warn("reload asked over the API failed on another partition; its previous version serves there", "partition", q, "asked_of", p, "err", err)
				}
			}
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	}
}

// notFound answers a path outside /v1/health, /v1/cluster and /p/N/.
func (ch *clusterHandler) notFound(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/cluster" || r.URL.Path == "/v1/health" {
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s does not accept %s; use GET", r.URL.Path, r.Method), nil)
		return
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s on a cluster host: each partition it applies (%s) has the one-host API under /p/N (e.g. %s/v1/integrations); GET /v1/cluster lists them",
		r.Method, r.URL.Path, partitionList(ownedOf(ch.c)), PartitionPath(firstOr(ch.c.Owned(), 0))), nil)
}

// partitionList writes partitions as "0, 3, 7", or "none yet".
func partitionList(ps []int) string {
	if len(ps) == 0 {
		return "none yet"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// firstOr returns the smallest of ps, or def when there is none.
func firstOr(ps []int, def int) int {
	if len(ps) == 0 {
		return def
	}
	return slices.Min(ps)
}
