package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// fixture is a stand-in for failoverd that implements just the parts of the
// API contract the client relies on: bearer auth, Idempotency-Key replay,
// ETag/If-Match, problem+json errors and the event stream. Tests script
// failures into it to exercise the retry policy.
type fixture struct {
	t     *testing.T
	srv   *httptest.Server
	token string

	mu        sync.Mutex
	objects   map[string]map[string]map[string]any // kind → name → object
	referrers map[string][]string                  // name → objects blocking its delete
	replays   map[string]recorded                  // Idempotency-Key → first outcome
	keys      map[string]int                       // Idempotency-Key → requests carrying it
	applied   int                                  // mutations that changed state
	requests  []string                             // "METHOD /path" of every request
	script    []step                               // injected answers, consumed in order
	events    []api.Event
	// sse, when set, serves GET /v1/events?follow=1; conn counts from 1.
	sse     func(w http.ResponseWriter, r *http.Request, conn int)
	sseConn int
	// hook, when set, runs before everything else and may answer itself.
	hook func(w http.ResponseWriter, r *http.Request) bool
}

// step is one scripted answer. With afterApply the request is applied and
// its outcome recorded, then the connection is dropped: the response is
// lost, as when a proxy dies mid-answer.
type step struct {
	status     int
	retryAfter string
	afterApply bool
}

type recorded struct {
	status int
	header http.Header
	body   []byte
}

const fixtureToken = "s3cr3t-token-do-not-log"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		t:         t,
		token:     fixtureToken,
		objects:   map[string]map[string]map[string]any{},
		referrers: map[string][]string{},
		replays:   map[string]recorded{},
		keys:      map[string]int{},
	}
	f.srv = httptest.NewServer(f) // binds 127.0.0.1:0
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a Client for the fixture with fast retries.
func (f *fixture) client(t *testing.T, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Endpoint: f.srv.URL, Token: f.token, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, Timeout: 5 * time.Second}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) push(s ...step) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, s...)
}

func (f *fixture) stats() (applied int, keys map[string]int, requests []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied, maps(f.keys), slices.Clone(f.requests)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func writeProblem(w http.ResponseWriter, status int, detail string, errs ...api.FieldError) {
	w.Header().Set("Content-Type", api.ProblemContentType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Problem{Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.hook != nil && f.hook(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		writeProblem(w, http.StatusUnauthorized, "missing or unknown bearer token")
		return
	}
	if r.URL.Path == "/v1/events" && r.URL.Query().Get("follow") == "1" {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		f.sseConn++
		conn, sse := f.sseConn, f.sse
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		sse(w, r, conn)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	key := r.Header.Get("Idempotency-Key")
	if r.Method != http.MethodGet {
		if key == "" {
			writeProblem(w, http.StatusBadRequest, "Idempotency-Key is required on every mutating request")
			return
		}
		f.keys[key]++ // counted on every attempt, so tests see reuse
	}
	var s step
	if len(f.script) > 0 {
		s, f.script = f.script[0], f.script[1:]
	}
	if s.status != 0 {
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		writeProblem(w, s.status, "scripted failure")
		return
	}
	if r.Method == http.MethodGet {
		f.route(w, r)
		return
	}
	if rec, ok := f.replays[key]; ok {
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(rec.status)
		w.Write(rec.body)
		return
	}
	rec := httptest.NewRecorder()
	f.route(rec, r)
	f.replays[key] = recorded{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if s.afterApply {
		panic(http.ErrAbortHandler) // applied, answer lost
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// route serves the API with f.mu held.
func (f *fixture) route(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	switch {
	case r.URL.Path == "/v1/status":
		writeJSON(w, 200, api.Status{Site: "dc1", Version: "test"})
	case r.URL.Path == "/v1/events":
		since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		out := api.List[api.Event]{Items: []api.Event{}}
		for _, e := range f.events {
			if e.Seq > since && (limit == 0 || len(out.Items) < limit) {
				out.Items = append(out.Items, e)
			}
		}
		writeJSON(w, 200, out)
	case !slices.Contains(api.Kinds, api.Kind(parts[0])):
		writeProblem(w, 404, "no such collection")
	case len(parts) == 1:
		f.collection(w, r, parts[0])
	case len(parts) == 2:
		f.object(w, r, parts[0], parts[1])
	case len(parts) == 3:
		f.subresource(w, r, parts[0], parts[1], parts[2])
	default:
		writeProblem(w, 404, "no such path")
	}
}

func (f *fixture) collection(w http.ResponseWriter, r *http.Request, kind string) {
	objs := f.objects[kind]
	switch r.Method {
	case http.MethodGet:
		out := api.List[map[string]any]{Items: []map[string]any{}}
		for _, name := range api.SortedKeys(objs) {
			out.Items = append(out.Items, objs[name])
		}
		writeJSON(w, 200, out)
	case http.MethodPost:
		var obj map[string]any
		if err := json.NewDecoder(r.Body).Decode(&obj); err != nil {
			writeProblem(w, 400, "body is not JSON: "+err.Error())
			return
		}
		var errs api.Problems
		name, _ := obj["name"].(string)
		api.CheckName(&errs, "name", name)
		if addr, _ := obj["address"].(string); kind == string(api.KindHealthCheck) && addr == "" {
			errs.Add("address", "is required: set host:port, e.g. \"192.0.2.10:443\"")
		}
		if len(errs) > 0 {
			writeProblem(w, 400, "the health check is not valid", errs...)
			return
		}
		if _, ok := objs[name]; ok {
			writeProblem(w, 409, fmt.Sprintf("%s %q already exists", kind, name))
			return
		}
		if objs == nil {
			objs = map[string]map[string]any{}
			f.objects[kind] = objs
		}
		obj["version"] = 1
		objs[name] = obj
		f.applied++
		w.Header().Set("ETag", `"1"`)
		writeJSON(w, 201, obj)
	default:
		writeProblem(w, 405, "")
	}
}

func (f *fixture) object(w http.ResponseWriter, r *http.Request, kind, name string) {
	obj, ok := f.objects[kind][name]
	if !ok {
		writeProblem(w, 404, fmt.Sprintf("%s %q does not exist", kind, name))
		return
	}
	version := uint64(toFloat(obj["version"]))
	if m := r.Header.Get("If-Match"); m != "" && m != formatETag(version) {
		writeProblem(w, 412, fmt.Sprintf("If-Match %s does not match the current version %d", m, version))
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut, http.MethodPatch:
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeProblem(w, 400, "body is not JSON: "+err.Error())
			return
		}
		if r.Method == http.MethodPut {
			obj = in
		} else {
			for k, v := range in {
				obj[k] = v
			}
		}
		obj["name"], obj["version"] = name, version+1
		version++
		f.objects[kind][name] = obj
		f.applied++
	case http.MethodDelete:
		if refs := f.referrers[name]; len(refs) > 0 {
			w.Header().Set("Content-Type", api.ProblemContentType)
			w.WriteHeader(409)
			json.NewEncoder(w).Encode(api.Problem{Title: "Conflict", Status: 409, Detail: fmt.Sprintf("%q is still referenced", name), Referrers: refs})
			return
		}
		delete(f.objects[kind], name)
		f.applied++
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("ETag", formatETag(version))
	writeJSON(w, 200, obj)
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case uint64:
		return float64(n)
	}
	return 0
}

// subresource answers canned runtime views that echo what was asked.
func (f *fixture) subresource(w http.ResponseWriter, r *http.Request, kind, name, sub string) {
	switch kind + " " + r.Method + " " + sub {
	case "health-checks GET status":
		writeJSON(w, 200, api.HealthStatus{Check: name, State: api.StateHealthy})
	case "traffic-policies GET decision":
		writeJSON(w, 200, api.Decision{Policy: name, Reason: "primary healthy", Serving: []api.ServingTarget{{Target: "dc1", Weight: 1}}})
	case "traffic-policies PUT override":
		var o api.Override
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			writeProblem(w, 400, err.Error())
			return
		}
		f.applied++
		writeJSON(w, 200, api.Decision{Policy: name, Reason: "override", Serving: []api.ServingTarget{{Target: o.Target, Weight: 1}}, Override: &o})
	case "traffic-policies DELETE override":
		f.applied++
		writeJSON(w, 200, api.Decision{Policy: name, Reason: "primary healthy", Serving: []api.ServingTarget{{Target: "dc1", Weight: 1}}})
	case "replica-sets GET status":
		writeJSON(w, 200, api.ReplicaSetStatus{ReplicaSet: name, MembersUp: 3, HasMajority: true})
	case "replica-sets GET config":
		writeJSON(w, 200, map[string]any{"_id": name, "members": []any{}})
	default:
		writeProblem(w, 404, "no such subresource")
	}
}
