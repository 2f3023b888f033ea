package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// rawResult is what a raw HTTP/1.1 exchange got.
type rawResult struct {
	status int
	header http.Header
	body   []byte
	// connClose: the response said "Connection: close".
	connClose bool
	// closed: the server closed the connection after the response,
	// closedAfter after the request was sent.
	closed      bool
	closedAfter time.Duration
}

// rawExchange sends req (raw HTTP/1.1, possibly announcing a body it does
// not send) on a new connection and reads the answer, then waits up to
// wait for the server to close the connection.
func rawExchange(t *testing.T, addr, req string, wait time.Duration) rawResult {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	c.SetReadDeadline(sent.Add(wait))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to %q within %s: %v", strings.SplitN(req, "\r\n", 2)[0], wait, err)
	}
	var r rawResult
	r.status, r.header, r.connClose = resp.StatusCode, resp.Header, resp.Close
	r.body, _ = io.ReadAll(resp.Body)
	if _, err := br.ReadByte(); errors.Is(err, io.EOF) {
		r.closed, r.closedAfter = true, time.Since(sent)
	}
	return r
}

// TestUnreadBodyEndsTheConnection is issue 9's withheld body: a request
// that announces a body and never sends it was read (net/http drains an
// unread body) before its 401 went out, and held forever. Now whatever
// the server answers without reading the body — 401, 403, 405, 415, a
// GET that carried one — says "Connection: close" and the connection ends
// at once, without waiting for the body or for ReadTimeout.
func TestUnreadBodyEndsTheConnection(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	h.create(t, api.KindBurstToggle, toggleFixture("spare"))
	addr := h.srv.Listener.Addr().String()
	withheld := func(method, path, token, contentType string) string {
		req := method + " " + path + " HTTP/1.1\r\nHost: failoverd\r\nContent-Length: 4096\r\n"
		if token != "" {
			req += "Authorization: Bearer " + token + "\r\n"
		}
		if contentType != "" {
			req += "Content-Type: " + contentType + "\r\n"
		}
		return req + "\r\n{"
	}
	tests := []struct {
		name, req string
		status    int
	}{
		{"no token", withheld("POST", "/v1/health-checks", "", "application/json"), http.StatusUnauthorized},
		{"forged token", withheld("PATCH", "/v1/burst-toggles/dr", "forged", "application/json"), http.StatusUnauthorized},
		{"read token mutates", withheld("PATCH", "/v1/burst-toggles/dr", readToken, "application/json"), http.StatusForbidden},
		{"wrong method", withheld("DELETE", "/v1/health-checks", "", "application/json"), http.StatusMethodNotAllowed},
		{"unknown path", withheld("POST", "/v2/anything", "", "application/json"), http.StatusNotFound},
		{"text body", withheld("PATCH", "/v1/burst-toggles/dr", operateToken, "text/plain"), http.StatusUnsupportedMediaType},
		{"no media type", withheld("PATCH", "/v1/burst-toggles/dr", operateToken, ""), http.StatusUnsupportedMediaType},
		{"GET with a body", withheld("GET", "/healthz", "", ""), http.StatusOK},
		{"burst with a body", withheld("GET", "/burst/dr", "", ""), http.StatusServiceUnavailable},
		{"chunked body", "POST /v1/health-checks HTTP/1.1\r\nHost: failoverd\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// ReadTimeout is 30 s: closing within 3 s means the server did
			// not wait for the body.
			r := rawExchange(t, addr, tc.req, 3*time.Second)
			if r.status != tc.status {
				t.Errorf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if !r.connClose {
				t.Errorf("the response does not say \"Connection: close\"")
			}
			if !r.closed {
				t.Errorf("the connection is still open 3 s after the answer: the server waits for the withheld body")
			}
		})
	}

	// A request whose body is read keeps its connection.
	t.Run("complete body keeps the connection", func(t *testing.T) {
		t.Parallel()
		body := `{"engaged":true}`
		req := fmt.Sprintf("PATCH /v1/burst-toggles/spare HTTP/1.1\r\nHost: failoverd\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			operateToken, len(body), body)
		r := rawExchange(t, addr, req, 500*time.Millisecond)
		if r.status != http.StatusOK || r.connClose || r.closed {
			t.Errorf("status %d, Connection: close %v, closed %v; want 200 on a kept connection: %s", r.status, r.connClose, r.closed, r.body)
		}
	})
}

// TestHeaderLimit: headers up to MaxHeaderBytes are served; larger ones
// are refused with 431 before any handler runs (net/http's default let
// one request hold ~1 MiB).
func TestHeaderLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		size   int
		status int
	}{
		{1 << 10, http.StatusOK},
		{MaxHeaderBytes / 2, http.StatusOK},
		{MaxHeaderBytes + 8<<10, http.StatusRequestHeaderFieldsTooLarge},
		{1 << 20, http.StatusRequestHeaderFieldsTooLarge},
	} {
		r := h.do(t, http.MethodGet, "/healthz", noToken, nil, "X-Padding", strings.Repeat("p", tc.size))
		if r.Status != tc.status {
			t.Errorf("GET /healthz with %d bytes of headers: status %d, want %d", tc.size, r.Status, tc.status)
		}
	}
}

// TestMethodNotAllowed: a known path with a wrong method answers 405 with
// Allow (it was a 404: the catch-all "/" matched every method); an unknown
// path is a 404. Both are problem+json, and need no token.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"DELETE", "/v1/health-checks", 405, "GET, HEAD, POST"},
		{"PATCH", "/v1/traffic-policies", 405, "GET, HEAD, POST"},
		{"POST", "/v1/health-checks/web", 405, "GET, HEAD, PUT, DELETE"},
		{"PATCH", "/v1/health-checks/web", 405, "GET, HEAD, PUT, DELETE"},
		{"POST", "/v1/burst-toggles/dr", 405, "GET, HEAD, PUT, PATCH, DELETE"},
		{"GET", "/v1/traffic-policies/web/override", 405, "PUT, DELETE"},
		{"POST", "/v1/traffic-policies/web/decision", 405, "GET, HEAD"},
		{"DELETE", "/v1/events", 405, "GET, HEAD"},
		{"OPTIONS", "/v1/status", 405, "GET, HEAD"},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"PUT", "/burst/dr", 405, "GET, HEAD"},
		{"BREW", "/metrics", 405, "GET, HEAD"},
		{"GET", "/v2/health-checks", 404, ""},
		{"GET", "/v1/health-checks/web/nope", 404, ""},
		{"POST", "/", 404, ""},
	}
	for _, tc := range tests {
		r := h.do(t, tc.method, tc.path, noToken, nil)
		p := r.problem(t, tc.status)
		if got := r.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if tc.status == 405 && (!strings.Contains(p.Detail, tc.method) || !strings.Contains(p.Detail, tc.allow)) {
			t.Errorf("%s %s: detail %q does not name the method and the allowed ones", tc.method, tc.path, p.Detail)
		}
	}
}

// TestUnsupportedMediaType: a mutating request's body must be labelled
// JSON (application/json or application/*+json, UTF-8); anything else is
// refused with 415 and Accept, before the body is read. A request without
// a body needs no label.
func TestUnsupportedMediaType(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		contentType string
		status      int
	}{
		{"application/json", http.StatusCreated},
		{"application/json; charset=utf-8", http.StatusCreated},
		{"Application/JSON;charset=UTF-8", http.StatusCreated},
		{"application/merge-patch+json", http.StatusCreated},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"text/plain; charset=utf-8", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{"application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"application/jsonx", http.StatusUnsupportedMediaType},
		{"text/json+xml", http.StatusUnsupportedMediaType},
		{"application/json; charset", http.StatusUnsupportedMediaType},
		{"", http.StatusUnsupportedMediaType}, // an empty label is no label
	}
	for i, tc := range tests {
		name := fmt.Sprintf("t%d", i)
		r := h.do(t, http.MethodPost, "/v1/burst-toggles", adminToken, toggleFixture(name), "Content-Type", tc.contentType)
		if r.Status != tc.status {
			t.Errorf("Content-Type %q: status %d, want %d: %s", tc.contentType, r.Status, tc.status, r.Body)
			continue
		}
		if tc.status == http.StatusUnsupportedMediaType {
			p := r.problem(t, tc.status)
			if r.Header.Get("Accept") != "application/json" || !strings.Contains(p.Detail, "application/json") {
				t.Errorf("Content-Type %q: Accept %q, detail %q; want Accept and a detail naming application/json", tc.contentType, r.Header.Get("Accept"), p.Detail)
			}
			h.do(t, http.MethodGet, "/v1/burst-toggles/"+name, readToken, nil).problem(t, http.StatusNotFound)
		}
	}
	// No body, no label needed.
	h.do(t, http.MethodDelete, "/v1/burst-toggles/t0", adminToken, nil).want(t, http.StatusNoContent)
}

// metricSeries counts the failover_api_requests_total series /metrics
// exposes.
func metricSeries(t *testing.T, h *harness) (n int, text string) {
	t.Helper()
	r := h.do(t, http.MethodGet, "/metrics", noToken, nil).want(t, http.StatusOK)
	for _, line := range strings.Split(string(r.Body), "\n") {
		if strings.HasPrefix(line, "failover_api_requests_total{") {
			n++
		}
	}
	return n, string(r.Body)
}

// TestMetricLabelsClosedSet is issue 9's cardinality attack: every new
// HTTP method a client invented became a new label value. Methods are
// now a closed set (else "other") and routes are patterns (else
// "unmatched"), so 1,000 random methods and paths add no series.
func TestMetricLabelsClosedSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rng := rand.New(rand.NewPCG(9, 9))
	randomMethod := func() string {
		const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		b := make([]byte, 4+rng.IntN(8))
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return string(b)
	}
	paths := []string{"/v1/health-checks", "/v1/health-checks/web", "/healthz", "/nope", "/v1/burst-toggles/dr/x"}
	// Warm up: one request of every shape creates its series (reading
	// /metrics is one too).
	metricSeries(t, h)
	for _, p := range paths {
		h.do(t, randomMethod(), p, noToken, nil)
		h.do(t, randomMethod(), p+"/"+randomMethod(), noToken, nil)
	}
	before, _ := metricSeries(t, h)
	for i := 0; i < 1000; i++ {
		p := paths[i%len(paths)]
		if i%2 == 1 {
			p += "/" + strings.ToLower(randomMethod())
		}
		h.do(t, randomMethod(), p, noToken, nil)
	}
	after, text := metricSeries(t, h)
	if after != before {
		t.Errorf("1,000 random methods and paths grew failover_api_requests_total from %d to %d series", before, after)
	}
	if !strings.Contains(text, `method="other"`) || !strings.Contains(text, `route="unmatched"`) {
		t.Errorf("/metrics has no method=\"other\" or route=\"unmatched\" series:\n%s", text)
	}
}

// TestEventStreamOutlivesTimeouts: GET /v1/events?follow=1 keeps
// streaming past the server's ReadTimeout and WriteTimeout (here shortened
// to 300 ms): a stream sets its own deadlines.
func TestEventStreamOutlivesTimeouts(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(s *http.Server) {
		s.ReadTimeout, s.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.srv.URL+"/v1/events?follow=1", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	time.Sleep(1 * time.Second) // beyond both timeouts
	h.create(t, api.KindBurstToggle, toggleFixture("late"))
	err = readSSE(bufio.NewReader(resp.Body), func(ev sseEvent) bool {
		return ev.Type == api.EventAudit && strings.Contains(string(ev.Data), "burst-toggles/late")
	})
	if err != nil {
		t.Fatalf("the stream ended before the event made after the timeouts: %v", err)
	}
}

// FuzzContentType: no Content-Type crashes the check; what it accepts is a
// JSON media type in UTF-8.
func FuzzContentType(f *testing.F) {
	for _, s := range []string{"application/json", "application/json; charset=utf-8", "application/a+json", "text/plain", "", ";", "application/json; charset=\"utf-8\"", "application/+json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		r.Header.Set("Content-Type", ct)
		p := checkContentType(r)
		if p == nil {
			mt, params, err := mime.ParseMediaType(ct)
			if err != nil || !strings.HasPrefix(mt, "application/") || !strings.HasSuffix(mt, "json") {
				t.Fatalf("accepted %q (%q, %v)", ct, mt, err)
			}
			if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
				t.Fatalf("accepted %q with charset %q", ct, cs)
			}
			return
		}
		if p.Status != http.StatusUnsupportedMediaType || len(p.Detail) > 2*maxProblemText {
			t.Fatalf("refusal of %q: %+v", ct, p)
		}
	})
}
