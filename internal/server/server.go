// Package server is failoverd's HTTP face: the v1 API (auth, strict
// decoding, validation, ETag/If-Match, Idempotency-Key, audit), the
// /burst/{name} answers for load balancers, /metrics, /healthz and /readyz.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/drill"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/store"
	"github.com/hatopo/terraform-provider-failover/internal/ui"
)

// DefaultMaxBodyBytes bounds every request body.
const DefaultMaxBodyBytes = 1 << 20

// Options configures a Server.
type Options struct {
	Engine *engine.Engine
	Store  store.Store
	// Auth resolves tokens; nil disables auth (--insecure-no-auth only).
	Auth         *Auth
	Logger       *slog.Logger
	Gatherer     prometheus.Gatherer
	Registerer   prometheus.Registerer
	Version      string
	MaxBodyBytes int64
	// MaxOverride bounds how far in the future an override may expire.
	MaxOverride time.Duration
	// Drills runs game days; nil: the drill routes answer 503.
	Drills *drill.Runner
}

// Server serves the API.
type Server struct {
	engine      *engine.Engine
	store       store.Store
	auth        *Auth
	log         *slog.Logger
	version     string
	maxBody     int64
	maxOverride time.Duration
	mux         *http.ServeMux
	handler     http.Handler
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	audits      *auditAggregator
	drills      *drill.Runner
}

// New returns a Server; mount Handler on an http.Server.
func New(opts Options) *Server {
	s := &Server{
		engine:      opts.Engine,
		store:       opts.Store,
		auth:        opts.Auth,
		log:         opts.Logger,
		version:     opts.Version,
		maxBody:     opts.MaxBodyBytes,
		maxOverride: opts.MaxOverride,
		drills:      opts.Drills,
		mux:         http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxOverride <= 0 {
		s.maxOverride = 7 * 24 * time.Hour
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "failover_api_requests_total", Help: "API requests by route, method and status code.",
	}, []string{"route", "method", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "failover_api_request_duration_seconds", Help: "API request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5},
	}, []string{"route"})
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.requests, s.latency)
	}
	s.audits = newAuditAggregator(auditWindow, s.emitAudit)
	s.routes(opts.Gatherer)
	s.handler = s.instrument(s.mux)
	return s
}

// Handler is the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes(g prometheus.Gatherer) {
	m := s.mux
	for _, k := range api.Kinds {
		k := k
		base := "/v1/" + string(k)
		m.HandleFunc("GET "+base, s.require(ScopeRead, s.handleList(k)))
		m.HandleFunc("POST "+base, s.require(ScopeAdmin, s.handleCreate(k)))
		m.HandleFunc("GET "+base+"/{name}", s.require(ScopeRead, s.handleGet(k)))
		m.HandleFunc("PUT "+base+"/{name}", s.require(ScopeAdmin, s.handleUpdate(k)))
		m.HandleFunc("DELETE "+base+"/{name}", s.require(ScopeAdmin, s.handleDelete(k)))
	}
	m.HandleFunc("PATCH /v1/burst-toggles/{name}", s.require(ScopeOperate, s.handlePatchBurst))
	m.HandleFunc("GET /v1/health-checks/{name}/status", s.require(ScopeRead, s.handleHealthStatus))
	m.HandleFunc("GET /v1/traffic-policies/{name}/decision", s.require(ScopeRead, s.handleDecision))
	m.HandleFunc("GET /v1/webhooks/{name}/status", s.require(ScopeRead, s.handleWebhookStatus))
	m.HandleFunc("GET /v1/traffic-policies/{name}/status", s.require(ScopeRead, s.handlePolicyStatus))
	m.HandleFunc("PUT /v1/traffic-policies/{name}/override", s.require(ScopeOperate, s.handleSetOverride))
	m.HandleFunc("DELETE /v1/traffic-policies/{name}/override", s.require(ScopeOperate, s.handleClearOverride))
	m.HandleFunc("GET /v1/replica-sets/{name}/status", s.require(ScopeRead, s.handleReplicaStatus))
	m.HandleFunc("GET /v1/replica-sets/{name}/config", s.require(ScopeRead, s.handleReplicaConfig))
	m.HandleFunc("GET /v1/events", s.require(ScopeRead, s.handleEvents))
	m.HandleFunc("GET /v1/status", s.require(ScopeRead, s.handleStatus))
	m.HandleFunc("GET /v1/cluster", s.require(ScopeRead, s.handleCluster))
	m.HandleFunc("GET /v1/backup", s.require(ScopeAdmin, s.handleBackup))
	m.HandleFunc("POST /v1/traffic-policies/{name}/drills", s.require(ScopeOperate, s.handleStartDrill))
	m.HandleFunc("GET /v1/drills", s.require(ScopeRead, s.handleListDrills))
	m.HandleFunc("GET /v1/drills/{id}", s.require(ScopeRead, s.handleGetDrill))
	m.HandleFunc("POST /v1/drills/{id}/abort", s.require(ScopeOperate, s.handleAbortDrill))
	m.HandleFunc("GET /v1/whoami", s.require(ScopeRead, s.handleWhoami))
	// The console's assets are public (they hold no data); everything it
	// shows comes from the API above, with the operator's token.
	m.Handle("GET "+ui.Prefix, ui.Handler())
	m.Handle("GET /ui", http.RedirectHandler(ui.Prefix, http.StatusMovedPermanently))
	m.HandleFunc("GET /burst/{name}", s.handleBurst)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, "text/plain; charset=utf-8", []byte("ok"))
	})
	m.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		// Not ready: starting, or cut off from the store's majority — a
		// load balancer should send API clients elsewhere (DNS and /burst
		// still answer, from the last decisions).
		if ok, why := s.engine.Readiness(); !ok {
			writeRaw(w, http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte(why))
			return
		}
		writeRaw(w, http.StatusOK, "text/plain; charset=utf-8", []byte("ready"))
	})
	if g != nil {
		m.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	m.HandleFunc(catchAll, s.noRoute)
}

type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
	body        *trackedBody
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.wroteHeader, r.code = true, code
		if r.body.unread() {
			// See dropUnreadBody: this connection ends with this response.
			r.Header().Set("Connection", "close")
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets server-sent events through the recorder.
func (r *statusRecorder) Flush() {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// metricMethods are the methods failover_api_requests_total names; any
// other is counted as "other", so a client inventing methods cannot grow
// the metric (label values are a closed set: these, the route patterns,
// "unmatched", and the status codes the handlers write).
var metricMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func metricMethod(m string) string {
	if metricMethods[m] {
		return m
	}
	return "other"
}

// metricRoute is the route label: the matched pattern (not the raw path,
// so object names never explode cardinality) or "unmatched".
func metricRoute(pattern string) string {
	if pattern == "" || pattern == catchAll {
		return "unmatched"
	}
	return pattern
}

// instrument counts and times requests by route pattern and method, and
// ends connections whose request body was left unread (dropUnreadBody).
func (s *Server) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK, body: trackBody(r)}
		h.ServeHTTP(rec, r)
		if rec.body.unread() {
			if !rec.wroteHeader {
				rec.Header().Set("Connection", "close")
			}
			dropUnreadBody(w, rec.body)
		}
		route := metricRoute(r.Pattern)
		s.requests.WithLabelValues(route, metricMethod(r.Method), strconv.Itoa(rec.code)).Inc()
		s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// catchAll is the pattern of noRoute.
const catchAll = "/"

// routeMethods are the methods the API's patterns use (GET patterns also
// match HEAD).
var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// noRoute answers what no other pattern matched. ServeMux answers 405 with
// Allow by itself only when no pattern matches a request at all — and the
// catch-all "/" matches every method and path, so a wrong method on a known
// path used to be a 404. The catch-all stays, so that both answers are
// problem+json; it works out Allow the way ServeMux does, by asking the mux
// which methods have a pattern for the path. Only misses pay for this.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range routeMethods {
		if m == r.Method {
			continue
		}
		if _, p := s.mux.Handler(&http.Request{Method: m, Host: r.Host, URL: r.URL}); p != catchAll && p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeProblem(w, &problem{Status: http.StatusNotFound, Title: "Not Found",
			Detail: "no such route: see the API reference (paths start with /v1/)"})
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, &problem{Status: http.StatusMethodNotAllowed, Title: "Method Not Allowed",
		Detail: fmt.Sprintf("%s is not a method of %s: use %s", r.Method, r.URL.Path, strings.Join(allow, ", "))})
}

// storeError maps a failed commit to a problem.
func storeError(err error) *problem {
	if errors.Is(err, store.ErrConflict) {
		return &problem{Status: http.StatusConflict, Title: "Concurrent Modification",
			Detail: "the object changed while this request was applied; read it again and retry"}
	}
	if errors.Is(err, engine.ErrNoContact) {
		return &problem{Status: http.StatusServiceUnavailable, Title: "Store Unavailable",
			Detail: "nothing was applied: " + err.Error()}
	}
	if errors.Is(err, store.ErrOutcomeUnknown) {
		// Not "not applied": the write may land. The Idempotency-Key is
		// what makes the retry safe, on this node or another.
		return &problem{Status: http.StatusServiceUnavailable, Title: "Outcome Unknown",
			Detail: "the store did not confirm the write, which may or may not have been applied: " + err.Error() + "; retry with the same Idempotency-Key (on another node if this one stays unavailable), or read the object to see"}
	}
	if errors.Is(err, store.ErrDamaged) {
		// Not transient: retrying cannot help, the operator must act.
		return &problem{Status: http.StatusServiceUnavailable, Title: "Store Damaged",
			Detail: "nothing was applied: " + err.Error()}
	}
	return &problem{Status: http.StatusServiceUnavailable, Title: "Store Unavailable",
		Detail: "the write was not applied: " + err.Error() + "; retrying with the same Idempotency-Key is safe"}
}
