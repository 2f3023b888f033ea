package server

// Test harness for the HTTP API: a real bolt store in a temporary data dir,
// a started engine (site "local") and the server behind httptest on
// 127.0.0.1, with three tokens. Tests speak plain net/http so that the wire
// contract itself — status codes, headers, problem+json — is what they
// assert, not a client library's reading of it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/drill"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// Tokens of the harness, one per scope. The token names are what audit
// events carry as actor.
const (
	adminToken   = "admin-7f3c9b2e-token"
	operateToken = "operate-1a2b3c4d-token"
	readToken    = "read-5e6f7a8b-token"

	adminName   = "ci-admin"
	operateName = "oncall"
	readName    = "dashboard"

	noToken = ""
)

// harness is one failoverd API in-process.
type harness struct {
	dir     string
	srv     *httptest.Server
	handler atomic.Pointer[http.Handler]

	st     *store.Bolt // the store file, when this harness owns it
	eng    *engine.Engine
	api    *Server
	drills *drill.Runner
	// peer, when set, is the harness whose store this one shares, as a
	// second node of a cluster shares one store; wrap, when set, is put
	// around the store this harness's engine and API use.
	peer *harness
	wrap func(store.Store) store.Store
	base store.Store // the store before wrap
	// logs is everything the API and engine logged (JSON lines).
	logs lockedBuffer
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logLines returns the logged records whose message is msg.
func (h *harness) logLines(tb testing.TB, msg string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, line := range strings.Split(h.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// newHarness starts failoverd's API on 127.0.0.1 with a fresh data dir,
// served with failoverd's HTTP limits (NewHTTPServer); everything stops
// when the test ends.
func newHarness(tb testing.TB) *harness { return newHarnessWith(tb, nil) }

// newHarnessWith is newHarness with configure applied to the http.Server
// (e.g. shorter timeouts) before it starts.
func newHarnessWith(tb testing.TB, configure func(*http.Server)) *harness {
	tb.Helper()
	return startHarness(tb, &harness{dir: tb.TempDir()}, configure)
}

// newPeerHarness starts a second failoverd API on peer's store, as a
// second node of a cluster would share it, with wrap (if not nil) around
// the store it uses.
func newPeerHarness(tb testing.TB, peer *harness, wrap func(store.Store) store.Store) *harness {
	tb.Helper()
	return startHarness(tb, &harness{dir: tb.TempDir(), peer: peer, wrap: wrap}, nil)
}

func startHarness(tb testing.TB, h *harness, configure func(*http.Server)) *harness {
	tb.Helper()
	h.srv = httptest.NewUnstartedServer(nil)
	h.srv.Config = NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*h.handler.Load()).ServeHTTP(w, r)
	}), nil)
	if configure != nil {
		configure(h.srv.Config)
	}
	h.open(tb)
	h.srv.Start()
	tb.Cleanup(func() {
		h.srv.CloseClientConnections()
		h.srv.Close()
		h.close()
	})
	return h
}

// open opens the store in h.dir, starts an engine on it and mounts a new
// Server behind the (unchanged) URL.
func (h *harness) open(tb testing.TB) {
	tb.Helper()
	var st store.Store
	if h.peer != nil {
		st = h.peer.base
	} else {
		bolt, err := store.OpenBolt(filepath.Join(h.dir, "failoverd.db"), store.BoltOptions{})
		if err != nil {
			tb.Fatalf("open store: %v", err)
		}
		h.st, st = bolt, bolt
	}
	h.base = st
	if h.wrap != nil {
		st = h.wrap(st)
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewJSONHandler(&h.logs, nil))
	eng, err := engine.New(engine.Options{Store: st, Site: "local", BaseURL: "http://" + h.srv.Listener.Addr().String(),
		Logger: log, Registerer: reg})
	if err != nil {
		h.closeStore()
		tb.Fatalf("engine: %v", err)
	}
	eng.Start(context.Background())
	auth := NewAuth()
	auth.Add(adminName, ScopeAdmin, adminToken)
	auth.Add(operateName, ScopeOperate, operateToken)
	auth.Add(readName, ScopeRead, readToken)
	// No DNS server here: the harness's drills are refused or listed, not
	// run (cmd/failoverd's e2e tests run them against a real failoverd).
	drills := drill.New(drill.Options{Engine: eng, Store: st, Logger: log})
	s := New(Options{Engine: eng, Store: st, Auth: auth, Logger: log, Gatherer: reg, Registerer: reg, Version: "test", Drills: drills})
	handler := s.Handler()
	h.eng, h.api, h.drills = eng, s, drills
	h.handler.Store(&handler)
}

func (h *harness) close() {
	h.drills.Close(context.Background())
	h.api.Close()
	h.eng.Close()
	h.closeStore()
}

// closeStore closes the store if this harness owns it.
func (h *harness) closeStore() {
	if h.st != nil {
		h.st.Close()
	}
}

// restart stops the engine, closes the store and opens both again on the
// same data dir, as a failoverd restart would. The URL stays the same.
func (h *harness) restart(tb testing.TB) {
	tb.Helper()
	h.srv.CloseClientConnections()
	h.close()
	h.open(tb)
}

// response is one HTTP answer, read in full.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends one request. body is nil (no body), a string or []byte (sent
// as is) or anything else (sent as JSON). headers are name, value pairs.
func (h *harness) do(tb testing.TB, method, path, token string, body any, headers ...string) response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		rd = bytes.NewReader(mustJSON(tb, b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, h.srv.URL+path, rd)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// want fails the test unless the status is code.
func (r response) want(tb testing.TB, code int) response {
	tb.Helper()
	if r.Status != code {
		tb.Fatalf("status %d, want %d; body: %s", r.Status, code, r.Body)
	}
	return r
}

// decode unmarshals the body into v.
func (r response) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %T from %q: %v", v, r.Body, err)
	}
}

// problem checks that the answer is an RFC 9457 problem with the response's
// status and returns it.
func (r response) problem(tb testing.TB, code int) api.Problem {
	tb.Helper()
	r.want(tb, code)
	if ct := r.Header.Get("Content-Type"); ct != api.ProblemContentType {
		tb.Fatalf("Content-Type %q, want %q; body: %s", ct, api.ProblemContentType, r.Body)
	}
	var p api.Problem
	r.decode(tb, &p)
	if p.Status != code || p.Title == "" {
		tb.Fatalf("problem %+v: want status %d and a title", p, code)
	}
	return p
}

// fields lists the field paths of a problem's errors.
func fields(p api.Problem) []string {
	out := make([]string, 0, len(p.Errors))
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// errorOn returns the first error on field.
func errorOn(p api.Problem, field string) (api.FieldError, bool) {
	for _, e := range p.Errors {
		if e.Field == field {
			return e, true
		}
	}
	return api.FieldError{}, false
}

// wantFields fails unless the problem lists an error on every one of
// want, each with a detail, and only blocking errors.
func wantFields(tb testing.TB, p api.Problem, want ...string) {
	tb.Helper()
	for _, f := range want {
		if _, ok := errorOn(p, f); !ok {
			tb.Errorf("no error on field %q; errors: %s", f, describe(p))
		}
	}
	for _, e := range p.Errors {
		if e.Detail == "" || e.Severity != api.SeverityError {
			tb.Errorf("error %+v: want a detail and severity %q", e, api.SeverityError)
		}
	}
}

// wantDetail fails unless the error on field mentions every one of subs.
func wantDetail(tb testing.TB, p api.Problem, field string, subs ...string) {
	tb.Helper()
	e, ok := errorOn(p, field)
	if !ok {
		tb.Errorf("no error on field %q; errors: %s", field, describe(p))
		return
	}
	for _, s := range subs {
		if !strings.Contains(e.Detail, s) {
			tb.Errorf("error on %q: %q does not mention %q", field, e.Detail, s)
		}
	}
}

func describe(p api.Problem) string {
	b, _ := json.MarshalIndent(p.Errors, "", "  ")
	return string(b)
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("marshal %T: %v", v, err)
	}
	return b
}

// obj is a JSON object as a client sends it: fixtures are plain maps so a
// test can add unknown fields, wrong types or drop required ones.
type obj = map[string]any

// clone deep-copies a fixture through JSON.
func clone(tb testing.TB, o obj) obj {
	tb.Helper()
	var out obj
	if err := json.Unmarshal(mustJSON(tb, o), &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// edit returns a deep copy of o changed by fn.
func edit(tb testing.TB, o obj, fn func(obj)) obj {
	tb.Helper()
	c := clone(tb, o)
	if fn != nil {
		fn(c)
	}
	return c
}

// sub returns the nested object at path (map keys).
func sub(o obj, path ...string) obj {
	for _, k := range path {
		o = o[k].(obj)
	}
	return o
}

// Fixtures: documentation names and addresses only.

func checkFixture(name, address string) obj {
	return obj{"name": name, "site": "dc1", "type": "http", "address": address, "path": "/healthz"}
}

// policyFixture is an active-passive policy: "primary" in dc1 watched by
// primaryCheck, "secondary" in dc2 watched by secondaryCheck.
func policyFixture(name, primaryCheck, secondaryCheck string) obj {
	return obj{
		"name": name, "mode": "active-passive", "when_all_down": "fail_open",
		"targets": obj{
			"primary":   obj{"site": "dc1", "addresses": []any{"192.0.2.10"}, "health_checks": []any{primaryCheck}, "priority": 1},
			"secondary": obj{"site": "dc2", "addresses": []any{"192.0.2.20"}, "health_checks": []any{secondaryCheck}, "priority": 2},
		},
	}
}

// replicaSetFixture is a primary-secondary-arbiter set over three sites:
// it survives the loss of any one site.
func replicaSetFixture(name string) obj {
	return obj{
		"name": name,
		"members": obj{
			"db-1": obj{"host": "db-1.example.org:27017", "site": "dc1", "priority": 2},
			"db-2": obj{"host": "db-2.example.org:27017", "site": "dc2", "priority": 1},
			"arb":  obj{"host": "arb.example.net:27017", "site": "dc3", "arbiter": true},
		},
	}
}

func webhookFixture(name string) obj {
	return obj{"name": name, "url": "https://hooks.example.net/failover", "events": []any{"decision"}, "secret": "ops"}
}

func toggleFixture(name string) obj {
	return obj{"name": name, "site": "dc2"}
}

// fastCheck probes address every second and changes state on the first
// result either way: the fastest the API allows.
func fastCheck(name, address string) obj {
	o := checkFixture(name, address)
	o["interval_seconds"], o["timeout_seconds"], o["rise"], o["fall"] = 1, 0.5, 1, 1
	return o
}

// baseFixture is the valid starting point of a kind's cases.
func baseFixture(k api.Kind, name string) obj {
	switch k {
	case api.KindHealthCheck:
		return checkFixture(name, "127.0.0.1:443")
	case api.KindTrafficPolicy:
		return policyFixture(name, "web-dc1", "web-dc2")
	case api.KindReplicaSet:
		return replicaSetFixture(name)
	case api.KindBurstToggle:
		return toggleFixture(name)
	case api.KindWebhook:
		return webhookFixture(name)
	}
	panic("unknown kind " + string(k))
}

// state is what a GET shows of an object: ETag and body.
type state struct {
	status int
	etag   string
	body   string
}

func (h *harness) state(t *testing.T, k api.Kind, name string) state {
	t.Helper()
	r := h.do(t, http.MethodGet, objPath(k, name), readToken, nil)
	return state{status: r.Status, etag: r.Header.Get("ETag"), body: string(r.Body)}
}

// wantUnchanged fails unless the object reads exactly as before.
func (h *harness) wantUnchanged(t *testing.T, k api.Kind, name string, before state) {
	t.Helper()
	if after := h.state(t, k, name); after != before {
		t.Errorf("%s/%s changed by a rejected request:\nbefore %+v\nafter  %+v", k, name, before, after)
	}
}

// objPath is the API path of kind/name.
func objPath(k api.Kind, name string) string { return api.ObjectPath(k, name) }

// create POSTs o as admin and fails unless it is created.
func (h *harness) create(tb testing.TB, k api.Kind, o obj) response {
	tb.Helper()
	return h.do(tb, http.MethodPost, "/v1/"+string(k), adminToken, o).want(tb, http.StatusCreated)
}

// get reads one object as the read token and fails unless it exists.
func (h *harness) get(tb testing.TB, k api.Kind, name string) response {
	tb.Helper()
	return h.do(tb, http.MethodGet, objPath(k, name), readToken, nil).want(tb, http.StatusOK)
}

// decision reads a policy's decision.
func (h *harness) decision(tb testing.TB, policy string) api.Decision {
	tb.Helper()
	var d api.Decision
	h.do(tb, http.MethodGet, "/v1/traffic-policies/"+policy+"/decision", readToken, nil).want(tb, http.StatusOK).decode(tb, &d)
	return d
}

// serving names the targets of a decision, in order.
func serving(d api.Decision) []string {
	out := make([]string, 0, len(d.Serving))
	for _, s := range d.Serving {
		out = append(out, s.Target)
	}
	return out
}

// events reads the whole event log through the API, page by page.
func (h *harness) events(tb testing.TB) []api.Event {
	tb.Helper()
	var all []api.Event
	since := uint64(0)
	for {
		var page api.List[api.Event]
		h.do(tb, http.MethodGet, fmt.Sprintf("/v1/events?since=%d&limit=1000", since), readToken, nil).
			want(tb, http.StatusOK).decode(tb, &page)
		all = append(all, page.Items...)
		if len(page.Items) < 1000 {
			return all
		}
		since = page.Items[len(page.Items)-1].Seq
	}
}

// lastSeq is the sequence number of the newest event.
func (h *harness) lastSeq(tb testing.TB) uint64 {
	tb.Helper()
	evs := h.events(tb)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

// auditEvents returns the audit events matching object and action (""
// matches any).
func (h *harness) auditEvents(tb testing.TB, object, action string) []api.Event {
	tb.Helper()
	var out []api.Event
	for _, ev := range h.events(tb) {
		if ev.Type == api.EventAudit && ev.Object == object && (action == "" || ev.Action == action) {
			out = append(out, ev)
		}
	}
	return out
}

// eventually polls cond until it holds or the deadline passes. It is the
// only way tests wait for the runtime: never sleep and hope.
func eventually(tb testing.TB, timeout time.Duration, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	wait := 5 * time.Millisecond
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not true after %s: %s", timeout, why)
		}
		time.Sleep(wait)
		wait = min(wait*2, 200*time.Millisecond)
	}
}

// backend is a site endpoint on 127.0.0.1 answering 200 "ok".
func backend(tb testing.TB) *httptest.Server {
	tb.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	tb.Cleanup(s.Close)
	return s
}

// hostPort is the host:port of a test server.
func hostPort(s *httptest.Server) string { return s.Listener.Addr().String() }

// sseEvent is one server-sent event.
type sseEvent struct {
	ID, Type string
	Data     []byte
}

// readSSE reads server-sent events from r until fn returns true or the
// stream ends.
func readSSE(r *bufio.Reader, fn func(sseEvent) bool) error {
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.Type != "" || ev.Data != nil {
				if fn(ev) {
					return nil
				}
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			// comment (keepalive)
		case strings.HasPrefix(line, "id: "):
			ev.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			ev.Type = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data = append(ev.Data, strings.TrimPrefix(line, "data: ")...)
		}
	}
}

// sortedCopy returns s sorted.
func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}
