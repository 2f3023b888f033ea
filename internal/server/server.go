// Package server is failoverd's HTTP face: the v1 API (auth, strict
// decoding, validation, ETag/If-Match, Idempotency-Key, audit), the
// /burst/{name} answers for load balancers, /metrics, /healthz and /readyz.
package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/store"
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
	m.HandleFunc("PUT /v1/traffic-policies/{name}/override", s.require(ScopeOperate, s.handleSetOverride))
	m.HandleFunc("DELETE /v1/traffic-policies/{name}/override", s.require(ScopeOperate, s.handleClearOverride))
	m.HandleFunc("GET /v1/replica-sets/{name}/status", s.require(ScopeRead, s.handleReplicaStatus))
	m.HandleFunc("GET /v1/replica-sets/{name}/config", s.require(ScopeRead, s.handleReplicaConfig))
	m.HandleFunc("GET /v1/events", s.require(ScopeRead, s.handleEvents))
	m.HandleFunc("GET /v1/status", s.require(ScopeRead, s.handleStatus))
	m.HandleFunc("GET /v1/backup", s.require(ScopeAdmin, s.handleBackup))
	m.HandleFunc("GET /burst/{name}", s.handleBurst)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, "text/plain; charset=utf-8", []byte("ok"))
	})
	m.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.engine.Ready() {
			writeRaw(w, http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte("starting"))
			return
		}
		writeRaw(w, http.StatusOK, "text/plain; charset=utf-8", []byte("ready"))
	})
	if g != nil {
		m.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, &problem{Status: http.StatusNotFound, Title: "Not Found",
			Detail: "no such route: see the API reference (paths start with /v1/)"})
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush lets server-sent events through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts and times requests by route pattern (not raw path, so
// object names never explode label cardinality).
func (s *Server) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
		s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// storeError maps a failed commit to a problem.
func storeError(err error) *problem {
	if errors.Is(err, store.ErrConflict) {
		return &problem{Status: http.StatusConflict, Title: "Concurrent Modification",
			Detail: "the object changed while this request was applied; read it again and retry"}
	}
	if errors.Is(err, store.ErrDamaged) {
		// Not transient: retrying cannot help, the operator must act.
		return &problem{Status: http.StatusServiceUnavailable, Title: "Store Damaged",
			Detail: "nothing was applied: " + err.Error()}
	}
	return &problem{Status: http.StatusServiceUnavailable, Title: "Store Unavailable",
		Detail: "the write was not applied: " + err.Error() + "; retrying with the same Idempotency-Key is safe"}
}
