package health

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// maxBody bounds how much of a response body a probe reads: enough for any
// health page, small enough that thousands of probes per second never
// buffer megabytes. contains and regex look at the first maxBody bytes; an
// exact match fails on a longer body because it could not have compared
// the whole of it.
const maxBody = 64 << 10

// userAgent identifies probes in backend access logs; a headers["User-Agent"]
// entry overrides it.
const userAgent = "failoverd-health-check"

// bodyPool recycles body buffers: a body match reads up to maxBody+1 bytes
// (one more than the limit, to tell "exactly 64 KiB" from "larger").
var bodyPool = sync.Pool{New: func() any {
	b := make([]byte, maxBody+1)
	return &b
}}

// dialProbe opens a probe connection that closes with a reset (SO_LINGER
// 0), as HAProxy's and most load balancers' health checks do.
//
// A graceful close leaves a TIME_WAIT socket for 60 s on whichever side
// closes first: on ours for a tcp check (we connect and close) or a
// timed-out probe, on the endpoint's after an HTTP answer with
// "Connection: close". At thousands of probes per second that is hundreds
// of thousands of TIME_WAIT sockets; towards one destination they exhaust
// the ephemeral ports (EADDRNOTAVAIL) and a new SYN that lands on the
// endpoint's TIME_WAIT for the same 4-tuple can be answered with a stale
// ACK and retried after a second — a probe timeout that is nobody's
// failure. A reset leaves no TIME_WAIT here and, on Linux, ends the
// endpoint's too. TIME_WAIT protects a connection's last ACK and keeps
// stray segments out of a later connection on the same 4-tuple; a probe
// has read everything it wants when it closes, so it has nothing to
// protect. The cost is a reset in the endpoint's packet counters.
func (t *Target) dialProbe(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := t.dialer.DialContext(ctx, network, addr)
	if tc, ok := c.(*net.TCPConn); ok {
		// Best effort: if it fails the probe still works, with a FIN.
		_ = tc.SetLinger(0)
	}
	return c, err
}

// noRedirect makes a 3xx the answer: a health check judges the endpoint it
// was pointed at, not wherever that endpoint sends browsers (a redirect to
// a login page must not read as healthy by accident, nor follow a loop).
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// compileHTTP prepares the request template, the transport and the
// matchers of an http or https check.
func (t *Target) compileHTTP() error {
	c := t.Check
	u, err := url.ParseRequestURI(c.Path)
	if err != nil {
		return fmt.Errorf("path: %w", err)
	}
	if u.Scheme != "" || u.Host != "" || !strings.HasPrefix(c.Path, "/") {
		return fmt.Errorf("path: %q is not an absolute path", c.Path)
	}
	u.Scheme = c.Type
	u.Host = c.Address // set, not parsed: an IPv6 zone needs no escaping here

	if !validToken(c.Method) {
		return fmt.Errorf("method: %q is not an HTTP method", c.Method)
	}
	req := &http.Request{
		Method:     c.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, len(c.Headers)+1),
		Host:       c.HostHeader,
		// Close asks the server to close too: one request per connection.
		Close: true,
	}
	req.Header.Set("User-Agent", userAgent)
	for k, v := range c.Headers {
		if !validToken(k) || !validHeaderValue(v) {
			return fmt.Errorf("headers[%q]: invalid header", k)
		}
		if http.CanonicalHeaderKey(k) == "Host" {
			if req.Host == "" {
				req.Host = v
			}
			continue
		}
		req.Header.Set(k, v)
	}
	t.req = req

	if len(c.ExpectedStatus) == 0 {
		return errors.New("expected_status: no status code or range")
	}
	t.statuses = make([]statusRange, 0, len(c.ExpectedStatus))
	for i, s := range c.ExpectedStatus {
		r, err := parseStatus(s)
		if err != nil {
			return fmt.Errorf("expected_status[%d]: %w", i, err)
		}
		t.statuses = append(t.statuses, r)
	}
	t.statusText = strings.Join(c.ExpectedStatus, ",")

	if c.BodyMatch != nil {
		if t.match, err = newBodyMatcher(*c.BodyMatch); err != nil {
			return fmt.Errorf("body_match: %w", err)
		}
	}

	tr := &http.Transport{
		// Proxy stays nil: a probe must reach the endpoint directly, never
		// through whatever HTTP_PROXY the daemon inherited.
		DialContext: t.dialProbe,
		// A new connection per probe: a pooled connection would keep
		// answering after the backend stopped accepting, hiding the
		// failure a real client would see.
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	if c.Type == api.CheckHTTPS {
		if tr.TLSClientConfig, err = tlsConfig(c); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
	}
	t.client = &http.Client{Transport: tr, CheckRedirect: noRedirect}
	return nil
}

// tlsConfig builds the client TLS configuration of an https check.
// Certificates are verified by default (system roots, or ca_cert_pem when
// given). The server name defaults to the host of host_header, because a
// check that targets an IP with a virtual-host header means that virtual
// host's certificate. No session cache: every probe does a full handshake,
// so an expired or replaced certificate is noticed on the next probe.
func tlsConfig(c api.HealthCheck) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.HostHeader != "" {
		cfg.ServerName = hostOnly(c.HostHeader)
	}
	if c.TLS == nil {
		return cfg, nil
	}
	if c.TLS.ServerName != "" {
		cfg.ServerName = c.TLS.ServerName
	}
	cfg.InsecureSkipVerify = c.TLS.InsecureSkipVerify
	if c.TLS.CACertPEM != "" {
		certs, err := parseCertsPEM(c.TLS.CACertPEM)
		if err != nil {
			return nil, fmt.Errorf("ca_cert_pem: %w", err)
		}
		pool := x509.NewCertPool()
		for _, cert := range certs {
			pool.AddCert(cert)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// hostOnly strips an optional port and IPv6 brackets from a Host header.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// parseCertsPEM returns every certificate of a PEM bundle. Anything else in
// the bundle is an error, a private key above all: it does not belong in a
// CA field (nor in Terraform state).
func parseCertsPEM(s string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("contains a %q PEM block: paste only CA certificates (-----BEGIN CERTIFICATE-----)", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("holds no PEM certificate: paste the CA certificate(s), starting with -----BEGIN CERTIFICATE-----")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("has trailing data after the last certificate: paste only PEM certificates")
	}
	return certs, nil
}

// statusRange is an inclusive range of HTTP status codes.
type statusRange struct{ lo, hi int }

// parseStatus reads "200" or "200-399". Its errors say what to write.
func parseStatus(s string) (statusRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	l, errL := strconv.Atoi(lo)
	h, errH := strconv.Atoi(hi)
	if errL != nil || errH != nil || !allDigits(lo) || !allDigits(hi) {
		return statusRange{}, fmt.Errorf("%q is not a status code or range: write a code like \"200\" or a range like \"200-399\"", s)
	}
	if l < 100 || l > 599 || h < 100 || h > 599 {
		return statusRange{}, fmt.Errorf("%q is outside 100-599: HTTP status codes are three digits from 100 to 599", s)
	}
	if l > h {
		return statusRange{}, fmt.Errorf("%q is empty: write the range low-high, e.g. \"%d-%d\"", s, h, l)
	}
	return statusRange{l, h}, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (t *Target) statusOK(code int) bool {
	for _, r := range t.statuses {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// bodyMatcher asserts on a response body.
//
// exact compares the whole body with value after trimming trailing
// whitespace (spaces, tabs, CR, LF) from both: "burst\n" from `echo` or a
// file matches "burst", while "no-burst" does not — the reason exact exists,
// since "no-burst" contains "burst". contains and regex (RE2 syntax) look
// at the first 64 KiB.
type bodyMatcher struct {
	mode  string
	value []byte
	re    *regexp.Regexp
	// reason is the failure message, built once.
	reason string
}

const trailingSpace = " \t\r\n"

func newBodyMatcher(bm api.BodyMatch) (*bodyMatcher, error) {
	m := &bodyMatcher{mode: bm.Mode, value: []byte(bm.Value)}
	m.reason = fmt.Sprintf("body does not match %s %q", bm.Mode, bm.Value)
	switch bm.Mode {
	case api.MatchExact:
		m.value = bytes.TrimRight(m.value, trailingSpace)
		if len(m.value) > maxBody {
			return nil, fmt.Errorf("exact value is longer than the %d bytes a probe reads", maxBody)
		}
	case api.MatchContains:
		if len(m.value) == 0 {
			return nil, errors.New("contains needs a non-empty value")
		}
	case api.MatchRegex:
		re, err := regexp.Compile(bm.Value)
		if err != nil {
			return nil, err
		}
		m.re = re
	default:
		return nil, fmt.Errorf("unknown mode %q", bm.Mode)
	}
	return m, nil
}

// check reads at most maxBody+1 bytes of body and returns "" when it
// matches, the failure reason otherwise. A read error is returned as err.
func (m *bodyMatcher) check(body io.Reader) (reason string, err error) {
	bp := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(bp)
	n, err := io.ReadFull(body, *bp)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", err
	}
	b := (*bp)[:n]
	truncated := n > maxBody
	if truncated {
		b = b[:maxBody]
	}
	var ok bool
	switch m.mode {
	case api.MatchExact:
		if truncated {
			return fmt.Sprintf("body larger than %d KiB: %s", maxBody>>10, m.reason), nil
		}
		ok = bytes.Equal(bytes.TrimRight(b, trailingSpace), m.value)
	case api.MatchContains:
		ok = bytes.Contains(b, m.value)
	case api.MatchRegex:
		ok = m.re.Match(b)
	}
	if ok {
		return "", nil
	}
	return m.reason + ": got " + snippet(b), nil
}

// snippet quotes the start of a body for an error message: enough to tell
// "no-burst" from "burst" or spot an error page, never a whole page.
func snippet(b []byte) string {
	const max = 64
	if len(b) <= max {
		return strconv.Quote(string(b))
	}
	return strconv.Quote(string(b[:max])) + "…"
}

// probeHTTP probes an http or https check: one request on a new
// connection, judged by status code and optional body match.
func probeHTTP(ctx context.Context, t *Target) Result {
	res := Result{Check: t.Check.Name, Start: time.Now()}
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	resp, err := t.client.Do(t.req.WithContext(ctx))
	if err != nil {
		return t.fail(ctx, res, "", err)
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	if !t.statusOK(resp.StatusCode) {
		return res.finish(false, fmt.Sprintf("status %d not in %s", resp.StatusCode, t.statusText))
	}
	if t.match != nil {
		reason, err := t.match.check(resp.Body)
		if err != nil {
			return t.fail(ctx, res, "reading body: ", err)
		}
		if reason != "" {
			return res.finish(false, reason)
		}
	}
	return res.finish(true, "")
}
