// Package client is the Go client of failoverd's v1 API. The Terraform
// provider and failoverd's operator subcommands both use it, so retries,
// idempotency, error messages and redaction are decided once, here.
//
// Every request goes through one retry policy (retry.go). Every mutating
// request carries an Idempotency-Key that is generated once per logical call
// and sent unchanged on every attempt, so a retry after a lost response is
// replayed by failoverd instead of being applied twice (the LevelUp lesson:
// a retry must never double-charge).
//
// A client may know several failoverd nodes of one cluster (Endpoints).
// A call tries them in order, starting with the last one that answered,
// and moves on when one is unreachable or answers 503 (a node cut off
// from the etcd majority); the Idempotency-Key is the same on every node,
// and failoverd shares its idempotency records cluster-wide, so a retry
// that lands on another node replays the first outcome.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-retryablehttp"
)

// Environment variables and defaults shared by the provider and the CLI, so
// both read the same names.
const (
	EnvEndpoint     = "FAILOVER_ENDPOINT"
	EnvToken        = "FAILOVER_TOKEN"
	DefaultEndpoint = "http://127.0.0.1:8080"

	DefaultTimeout = 30 * time.Second
	// DefaultDialTimeout bounds connecting when the attempt timeout is
	// longer: a node whose site is down often drops packets rather than
	// refusing, and the next node should not wait 30 s for it. A SYN lost
	// once is resent after 1 s and again after 3 s, so 5 s still connects
	// over a lossy path.
	DefaultDialTimeout  = 5 * time.Second
	DefaultMaxRetries   = 4
	DefaultRetryWaitMin = 500 * time.Millisecond
	DefaultRetryWaitMax = 10 * time.Second
	DefaultUserAgent    = "failover-go-client"
)

// Limits that protect the caller from a misbehaving server or proxy.
const (
	// maxResponseBytes bounds a buffered response body (a list of thousands
	// of objects is a few MiB).
	maxResponseBytes = 32 << 20
	// defaultStreamIdle is how long an event stream may stay silent before
	// it counts as dropped: failoverd sends a keepalive every 15 s, so three
	// missed keepalives mean a dead connection (e.g. a NAT dropped it).
	defaultStreamIdle = 45 * time.Second
)

// Config configures a Client. Only Endpoint is needed for an unauthenticated
// local failoverd; everything else has a default.
type Config struct {
	// Endpoint is failoverd's base URL, e.g. "http://127.0.0.1:8080".
	// Empty (with no Endpoints) means DefaultEndpoint.
	Endpoint string
	// Endpoints are the base URLs of several failoverd nodes of one
	// cluster, tried in this order (see the package comment). Set Endpoint
	// or Endpoints, not both; SplitEndpoints reads FAILOVER_ENDPOINT's
	// comma-separated form into this.
	Endpoints []string
	// Token is sent as "Authorization: Bearer <token>". It is never logged.
	Token string
	// CACertPEM, when set, is the only CA trusted for an https endpoint.
	CACertPEM string
	// InsecureSkipVerify disables certificate verification (tests only).
	InsecureSkipVerify bool
	// Timeout bounds one attempt (not the whole call with its retries);
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt; 0 means
	// DefaultMaxRetries, a negative value disables retries. With several
	// endpoints a retry is another round over all of them: moving on to
	// the next node is immediate and not counted, so even without retries
	// every node is asked once.
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between
	// attempts (a Retry-After from the server takes precedence); 0 means
	// DefaultRetryWaitMin / DefaultRetryWaitMax.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// UserAgent identifies the caller, e.g. "terraform-provider-failover/1.2.3".
	UserAgent string
	// Logger, when set, receives one entry per attempt and per retry
	// decision. The provider plugs tflog.Debug in here. Headers are
	// redacted before they reach it.
	Logger func(ctx context.Context, msg string, fields map[string]any)
}

// String keeps the token out of anything that prints a Config with %v.
func (c Config) String() string {
	token := ""
	if c.Token != "" {
		token = redacted
	}
	return fmt.Sprintf("client.Config{Endpoint:%q Endpoints:%q Token:%q Timeout:%s MaxRetries:%d}", c.Endpoint, c.Endpoints, token, c.Timeout, c.MaxRetries)
}

// GoString is String for %#v.
func (c Config) GoString() string { return c.String() }

// Client talks to failoverd: one node, or any live node of a cluster. It is
// safe for concurrent use.
type Client struct {
	bases []*url.URL
	names []string // bases as strings, for messages
	// preferred indexes the endpoint a call tries first: the last one
	// that answered (sticky), so a dead node costs one failed attempt,
	// not one per call.
	preferred atomic.Int32
	retries   int

	token     string
	userAgent string
	timeout   time.Duration
	waitMin   time.Duration
	waitMax   time.Duration
	logger    func(ctx context.Context, msg string, fields map[string]any)

	// unary buffers whole responses under a per-attempt timeout; stream has
	// no overall timeout because an event stream stays open for hours (an
	// idle watchdog replaces it). Both share one transport and one policy.
	unary  *http.Client
	stream *http.Client

	streamIdle time.Duration
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	bases, err := cfg.endpoints()
	if err != nil {
		return nil, err
	}
	tlsConf, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{
		bases:      bases,
		token:      cfg.Token,
		userAgent:  cfg.UserAgent,
		timeout:    cfg.Timeout,
		waitMin:    cfg.RetryWaitMin,
		waitMax:    cfg.RetryWaitMax,
		logger:     cfg.Logger,
		streamIdle: defaultStreamIdle,
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.waitMin <= 0 {
		c.waitMin = DefaultRetryWaitMin
	}
	if c.waitMax <= 0 {
		c.waitMax = DefaultRetryWaitMax
	}
	if c.waitMax < c.waitMin {
		c.waitMax = c.waitMin
	}
	c.retries = cfg.MaxRetries
	switch {
	case c.retries == 0:
		c.retries = DefaultMaxRetries
	case c.retries < 0:
		c.retries = 0
	}
	for _, b := range bases {
		c.names = append(c.names, b.String())
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConf
	// Connecting to a dead node must fail fast enough to leave time for
	// the next one within the same call.
	dial := min(c.timeout, DefaultDialTimeout)
	transport.DialContext = (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = min(c.timeout, transport.TLSHandshakeTimeout)
	// Bounds the wait for an event stream's headers too, which the stream
	// client's missing overall timeout would otherwise leave unbounded.
	transport.ResponseHeaderTimeout = c.timeout
	logged := &loggingTransport{next: transport, c: c}

	c.unary = &http.Client{Transport: logged, Timeout: c.timeout}
	c.stream = &http.Client{Transport: logged}
	return c, nil
}

// endpoints resolves Endpoint / Endpoints / the default to the nodes to try.
func (cfg Config) endpoints() ([]*url.URL, error) {
	list := cfg.Endpoints
	switch {
	case cfg.Endpoint != "" && len(cfg.Endpoints) > 0:
		return nil, fmt.Errorf("both an endpoint (%q) and an endpoint list (%d entries) are set: set one of them (FAILOVER_ENDPOINT and --endpoint take a comma-separated list)", redactUserinfo(cfg.Endpoint), len(cfg.Endpoints))
	case cfg.Endpoint != "":
		u, err := parseEndpoint(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		return []*url.URL{u}, nil
	case len(list) == 0:
		list = []string{DefaultEndpoint}
	}
	norm, err := ParseEndpoints(list)
	if err != nil {
		return nil, err
	}
	out := make([]*url.URL, len(norm))
	for i, s := range norm {
		if out[i], err = parseEndpoint(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Endpoint is the base URL (without a trailing slash) that the next call
// tries first: the node that answered last.
func (c *Client) Endpoint() string { return c.names[c.preferred.Load()] }

// demote moves the first try past endpoint i, unless another call already
// moved it: used when i ended a stream that was working.
func (c *Client) demote(i int) {
	c.preferred.CompareAndSwap(int32(i), int32((i+1)%len(c.bases)))
}

// Endpoints are all the validated base URLs, in the configured order.
func (c *Client) Endpoints() []string { return slices.Clone(c.names) }

func tlsConfig(cfg Config) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // opt-in, documented as tests only
	if strings.TrimSpace(cfg.CACertPEM) != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(cfg.CACertPEM)) {
			return nil, errors.New("ca_cert_pem contains no PEM certificate: paste the CA certificate that signed failoverd's TLS certificate, starting with -----BEGIN CERTIFICATE-----")
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// request is one logical API call.
type request struct {
	method string
	path   string // below the endpoint, e.g. "/v1/health-checks/web"
	query  url.Values
	body   any // marshalled once; nil for none
	// ifMatch, when non-zero, is sent as If-Match so a concurrent change
	// answers 412 instead of being overwritten.
	ifMatch uint64
	// stream leaves the body of a 2xx response open for the caller.
	stream      bool
	lastEventID uint64
	// accept overrides the Accept header (default: JSON, or an event
	// stream for stream requests).
	accept string
}

// callState travels in the request context so the transport can number
// the attempts of one logical call.
type callState struct {
	attempts atomic.Int32
}

type callStateKey struct{}

func stateOf(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

func isMutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// reply is the final 2xx answer of a call.
type reply struct {
	*http.Response
	payload  []byte // a unary answer's body (a stream's stays open)
	endpoint int    // the node that gave it, an index into c.names
}

// send performs one logical call, on whichever endpoints it takes (see
// rotation), and returns the final 2xx answer. A unary response's body is
// read inside the retry loop (see below); a stream's body is left open.
// Anything else is an *Error.
func (c *Client) send(ctx context.Context, r request) (*reply, error) {
	var raw any // stays an untyped nil without a body; retryablehttp treats a typed nil as a body
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("failoverd %s %s: encoding the request body: %w", r.method, r.path, err)
		}
		// A []byte body is re-read from the start on every attempt.
		raw = b
	}

	key := ""
	if isMutating(r.method) {
		// Once per logical call, never per attempt nor per node: this is
		// what lets failoverd recognise a retry, wherever it lands, and
		// replay the original outcome.
		key = uuid.NewString()
	}
	rot := c.newRotation(r, key)
	st := &callState{}
	ctx = context.WithValue(ctx, callStateKey{}, st)
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, rot.url(), raw)
	if err != nil {
		return nil, fmt.Errorf("failoverd %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	switch {
	case r.accept != "":
		req.Header.Set("Accept", r.accept)
	case r.stream:
		req.Header.Set("Accept", "text/event-stream")
	default:
		req.Header.Set("Accept", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if r.ifMatch != 0 {
		req.Header.Set("If-Match", formatETag(r.ifMatch))
	}
	if r.lastEventID != 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(r.lastEventID, 10))
	}

	var payload []byte
	handled := false
	if !r.stream {
		// Reading the body inside the retry loop matters: if the connection
		// breaks after failoverd applied a write but before the whole answer
		// arrived, the read error is retried with the same Idempotency-Key
		// and failoverd replays the outcome, instead of the caller seeing an
		// error for a write that happened.
		req.SetResponseHandler(func(resp *http.Response) error {
			b, err := readLimited(resp.Body)
			resp.Body.Close()
			resp.Body = http.NoBody
			if err != nil {
				return err
			}
			payload, handled = b, true
			return nil
		})
	}

	hc := c.unary
	if r.stream {
		hc = c.stream
	}
	resp, err := rot.retryClient(hc).Do(req)
	rot.settle()
	attempts := int(st.attempts.Load())
	if err != nil {
		return nil, c.transportError(ctx, r, rot, attempts, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &reply{Response: resp, payload: payload, endpoint: rot.current()}, nil
	}
	// An error status: the handler ran for a final answer; after exhausted
	// retries (e.g. a last 503) the body is still unread.
	if !handled {
		payload, _ = readLimited(resp.Body)
		resp.Body.Close()
	}
	e := decodeError(r.method, r.path, resp.StatusCode, resp.Header, payload)
	e.Endpoint = c.names[rot.current()]
	e.Tried = rot.outcomes()
	e.Attempts = attempts
	return nil, e
}

// call is send for unary calls, decoding a JSON answer into out (when
// non-nil) and returning the response headers.
func (c *Client) call(ctx context.Context, r request, out any) (http.Header, error) {
	rep, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if out != nil && len(bytes.TrimSpace(rep.payload)) > 0 {
		if err := json.Unmarshal(rep.payload, out); err != nil {
			return nil, fmt.Errorf("failoverd %s %s: cannot decode the answer from %s (is the endpoint a failoverd of a compatible version?): %w", r.method, r.path, c.names[rep.endpoint], err)
		}
	}
	return rep.Header, nil
}

// url is path below endpoint i.
func (c *Client) url(i int, path string, q url.Values) *url.URL {
	u := *c.bases[i]
	u.Path = u.Path + path
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return &u
}

var errBodyTooLarge = fmt.Errorf("response body larger than %d bytes", maxResponseBytes)

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxResponseBytes {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// formatETag renders a version the way failoverd sends it: a quoted decimal.
func formatETag(v uint64) string {
	return `"` + strconv.FormatUint(v, 10) + `"`
}

// parseETag reads a version from an ETag header. failoverd sends strong
// ETags; a weak prefix is tolerated because some proxies add one.
func parseETag(s string) (uint64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return 0, false
	}
	digits := s[1 : len(s)-1]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || v == 0 {
		return 0, false
	}
	return v, true
}

// log sends one entry to the configured Logger, if any.
func (c *Client) log(ctx context.Context, msg string, fields map[string]any) {
	if c.logger != nil {
		c.logger(ctx, msg, fields)
	}
}

const redacted = "[redacted]"

// sensitiveHeaders never reach a log entry with their value.
var sensitiveHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
}

// redactHeaders copies h for logging with credentials replaced.
func redactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		if sensitiveHeaders[http.CanonicalHeaderKey(k)] {
			v = redacted
		}
		out[k] = v
	}
	return out
}

// loggingTransport logs every attempt (not just every call), so a retried
// request is visible in TF_LOG=DEBUG output with its attempt number.
type loggingTransport struct {
	next http.RoundTripper
	c    *Client
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempt := int32(1)
	if st := stateOf(req.Context()); st != nil {
		attempt = st.attempts.Add(1)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if t.c.logger == nil {
		return resp, err
	}
	fields := map[string]any{
		"method":      req.Method,
		"url":         req.URL.Redacted(),
		"attempt":     attempt,
		"headers":     redactHeaders(req.Header),
		"duration_ms": time.Since(start).Milliseconds(),
	}
	if key := req.Header.Get("Idempotency-Key"); key != "" {
		fields["idempotency_key"] = key
	}
	if err != nil {
		fields["error"] = err.Error()
		t.c.log(req.Context(), "failoverd request failed", fields)
		return resp, err
	}
	fields["status"] = resp.StatusCode
	if resp.Header.Get("Idempotent-Replayed") == "true" {
		fields["idempotent_replayed"] = true
	}
	t.c.log(req.Context(), "failoverd request", fields)
	return resp, err
}
