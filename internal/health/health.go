// Package health probes endpoints (http, https, tcp) and turns the results
// into per-site rise/fall states (DESIGN §4.3).
//
// The layout follows prometheus/blackbox_exporter: one file per protocol
// (http.go, tcp.go) behind one ProbeFn type and the Probers registry. The
// Monitor (monitor.go) runs every check on a jittered fixed-rate schedule,
// folds results into an api.SiteObservation (state.go) and reports state
// transitions synchronously so the policy evaluator reacts without polling.
// Validate (validate.go) is the one source of truth for what a health check
// may contain; Aggregate (aggregate.go) combines the sites' views.
package health

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Result is the outcome of one probe.
type Result struct {
	Check string
	// Site is the probing site (the failoverd that observed the result).
	// Probers leave it empty; the Monitor fills it in.
	Site string
	OK   bool
	// Error is a human-readable reason on failure, e.g.
	// "status 503 not in 200-399", "timeout after 2s",
	// "dial tcp 127.0.0.1:9: connect: connection refused"; for a local
	// failure "local: too many open files (not a backend failure)".
	Error string
	// Local is set when the probe failed because of this node, not the
	// endpoint: one of LocalReasons (local.go). Such a result is not an
	// observation of the endpoint: it never counts as a failure.
	Local string
	// Status is the HTTP status code; 0 for tcp and for requests that got
	// no response.
	Status  int
	Latency time.Duration
	// Scheduled is when the probe was due, Start when it actually started
	// (Start − Scheduled is the schedule lag) and At when the result was
	// observed (probe end). Probers set Start and At; the Monitor sets
	// Scheduled.
	Scheduled time.Time
	Start     time.Time
	At        time.Time
}

// ProbeFn probes one check once, as compiled by Compile (t.Check is the
// declared check). ctx carries the timeout: a ProbeFn must return soon
// after ctx is done. When ctx has no deadline, the built-in probers apply
// the check's timeout_seconds themselves.
type ProbeFn func(ctx context.Context, t *Target) Result

// Probers maps a check type to its probe. The Monitor looks a type up when
// a check is upserted, so tests may register their own types (in init or
// TestMain, before any Monitor runs) to exercise scheduling without I/O.
var Probers = map[string]ProbeFn{
	api.CheckHTTP:  probeHTTP,
	api.CheckHTTPS: probeHTTP,
	api.CheckTCP:   probeTCP,
}

// maxSeconds bounds a duration given in seconds so the conversion to
// time.Duration never overflows. Validate is stricter (a day).
const maxSeconds = 1e6

// Target is a check compiled once per Upsert: everything a probe needs that
// can be computed ahead of time (URL, request template, status ranges,
// regexp, TLS config, transport, the dialer with its source address), so a
// probe only does I/O. The Monitor hands it to the ProbeFn as an argument.
type Target struct {
	// Check is the declared check, normalized.
	Check    api.HealthCheck
	timeout  time.Duration
	interval time.Duration
	// dialer opens every probe connection of this check (see dialProbe).
	dialer *net.Dialer

	// http and https only.
	client     *http.Client
	req        *http.Request // template; each probe uses req.WithContext
	statuses   []statusRange
	statusText string // "200-399" or "200,204": for error messages
	match      *bodyMatcher
}

// ProbeOptions are what every probe of one Monitor shares.
type ProbeOptions struct {
	// SourceAddr, when valid, is the local address probe connections leave
	// from (--probe-source-addr: a multi-homed host, or one loopback
	// address per site in tests). Default: chosen by the routing table.
	SourceAddr netip.Addr
}

// dialer returns the dialer of probe connections. KeepAlive -1: a probe
// connection carries one request, so TCP keep-alive would only cost a
// setsockopt per probe.
func (o ProbeOptions) dialer() *net.Dialer {
	d := &net.Dialer{KeepAlive: -1}
	if o.SourceAddr.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: o.SourceAddr.AsSlice()}
	}
	return d
}

// Compile checks c just enough to probe it and precomputes what probes
// reuse. Validate gives users the detailed, field-by-field answer; Compile
// only guarantees that everything Validate accepts can be probed.
func Compile(c api.HealthCheck, o ProbeOptions) (*Target, error) {
	t := &Target{Check: c, dialer: o.dialer()}
	var err error
	if t.timeout, err = seconds(c.TimeoutSeconds); err != nil {
		return nil, fmt.Errorf("timeout_seconds: %w", err)
	}
	if t.interval, err = seconds(c.IntervalSeconds); err != nil {
		return nil, fmt.Errorf("interval_seconds: %w", err)
	}
	switch c.Type {
	case api.CheckHTTP, api.CheckHTTPS:
		if err := checkAddress(c.Address); err != nil {
			return nil, fmt.Errorf("address: %w", err)
		}
		if err := t.compileHTTP(); err != nil {
			return nil, err
		}
	case api.CheckTCP:
		if err := checkAddress(c.Address); err != nil {
			return nil, fmt.Errorf("address: %w", err)
		}
	}
	return t, nil
}

// seconds converts a positive, finite number of seconds to a Duration.
func seconds(v float64) (time.Duration, error) {
	if !(v > 0) || v > maxSeconds || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%g is not a positive number of seconds", v)
	}
	d := time.Duration(v * float64(time.Second))
	if d <= 0 {
		return 0, fmt.Errorf("%g seconds is shorter than a nanosecond", v)
	}
	return d, nil
}

// checkAddress accepts host:port with a non-empty host and a numeric port.
func checkAddress(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("missing host")
	}
	if _, err := parsePort(port); err != nil {
		return err
	}
	return nil
}

// deadline bounds ctx by the check's timeout unless the caller already
// set a deadline (the Monitor always does).
func (t *Target) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, t.timeout)
}

// fail finishes a probe that failed with err. A local cause (local.go) is
// marked as such and never reads as the endpoint's failure; anything else
// is described by describe, after prefix.
func (t *Target) fail(ctx context.Context, r Result, prefix string, err error) Result {
	if reason, text, ok := localCause(ctx, err); ok {
		r = r.finish(false, text)
		r.Local = reason
		return r
	}
	return r.finish(false, prefix+t.describe(ctx, err))
}

// describe turns a probe error into the reason shown to operators: a
// timeout says which timeout, a URL error loses its redundant
// `Get "http://…":` prefix so the root cause reads first.
func (t *Target) describe(ctx context.Context, err error) string {
	if timedOut(ctx, err) {
		return "timeout after " + t.timeout.String()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// finish stamps the end of a probe.
func (r Result) finish(ok bool, reason string) Result {
	r.At = time.Now()
	r.Latency = r.At.Sub(r.Start)
	r.OK = ok
	r.Error = reason
	return r
}
