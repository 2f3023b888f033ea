package health

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Test-only check types. They exercise the scheduler and the state machine
// without I/O; the probers themselves are tested against real servers.
const (
	typeOK   = "test-ok"   // always succeeds
	typeFail = "test-fail" // always fails
	// typeSlow sleeps for the duration in its address ("250ms") or until
	// ctx is done, and counts how many of its probes overlap.
	typeSlow = "test-slow"
	// typeLocal fails for a local reason (no file descriptors), as a probe
	// does when failoverd itself has run out of them.
	typeLocal = "test-local"
)

var (
	slowInFlight    atomic.Int32
	slowMaxInFlight atomic.Int32
)

func init() {
	Probers[typeOK] = func(ctx context.Context, t *Target) Result {
		c := t.Check
		now := time.Now()
		return Result{Check: c.Name, OK: true, Start: now, At: now}
	}
	Probers[typeFail] = func(ctx context.Context, t *Target) Result {
		c := t.Check
		now := time.Now()
		return Result{Check: c.Name, Error: "stub failure", Start: now, At: now}
	}
	Probers[typeLocal] = func(ctx context.Context, t *Target) Result {
		c := t.Check
		now := time.Now()
		return Result{Check: c.Name, Error: localText("too many open files"), Local: LocalFileDescriptors, Start: now, At: now}
	}
	Probers[typeSlow] = func(ctx context.Context, t *Target) Result {
		c := t.Check
		n := slowInFlight.Add(1)
		defer slowInFlight.Add(-1)
		for {
			m := slowMaxInFlight.Load()
			if n <= m || slowMaxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		start := time.Now()
		d, _ := time.ParseDuration(c.Address)
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		return Result{Check: c.Name, OK: true, Start: start, At: time.Now(), Latency: time.Since(start)}
	}
}

// compiled is c compiled as a Monitor without probe options compiles it.
func compiled(t testing.TB, c api.HealthCheck) *Target {
	t.Helper()
	tg, err := Compile(c, ProbeOptions{})
	if err != nil {
		t.Fatalf("compile %s: %v", c.Name, err)
	}
	return tg
}

// newCheck returns a normalized check; mods adjust it before Normalize.
func newCheck(name, typ, addr string, mods ...func(*api.HealthCheck)) api.HealthCheck {
	c := api.HealthCheck{Name: name, Site: "dc1", Type: typ, Address: addr}
	for _, m := range mods {
		m(&c)
	}
	c.Normalize()
	return c
}

// fast sets a sub-second schedule (accepted by the Monitor, not by Validate).
func fast(interval, timeout float64, rise, fall int) func(*api.HealthCheck) {
	return func(c *api.HealthCheck) {
		c.IntervalSeconds, c.TimeoutSeconds, c.Rise, c.Fall = interval, timeout, rise, fall
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// freePort returns an address on 127.0.0.1 where nothing listens.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// metricValue reads one series from a registry: a counter's or gauge's
// value, a histogram's sample count.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metric
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func TestCompileRejects(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*api.HealthCheck)
		want string
	}{
		{"zero timeout", func(c *api.HealthCheck) { c.TimeoutSeconds = -1 }, "timeout_seconds"},
		{"huge interval", func(c *api.HealthCheck) { c.IntervalSeconds = 1e300 }, "interval_seconds"},
		{"no port", func(c *api.HealthCheck) { c.Address = "127.0.0.1" }, "address"},
		{"relative path", func(c *api.HealthCheck) { c.Path = "healthz" }, "path"},
		{"bad status", func(c *api.HealthCheck) { c.ExpectedStatus = []string{"2xx"} }, "expected_status[0]"},
		{"bad regex", func(c *api.HealthCheck) { c.BodyMatch = &api.BodyMatch{Mode: api.MatchRegex, Value: "("} }, "body_match"},
		{"bad ca", func(c *api.HealthCheck) {
			c.Type = api.CheckHTTPS
			c.TLS = &api.TLSConfig{CACertPEM: "junk"}
		}, "tls: ca_cert_pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCheck("web", api.CheckHTTP, "127.0.0.1:80", tt.mod)
			_, err := Compile(c, ProbeOptions{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("compile error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tg := &Target{timeout: 1500 * time.Millisecond}
	expired, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-expired.Done()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"deadline", expired, errors.New("read: i/o timeout"), "timeout after 1.5s"},
		{"plain", context.Background(), errors.New("connection reset by peer"), "connection reset by peer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tg.describe(tt.ctx, tt.err); got != tt.want {
				t.Errorf("describe = %q, want %q", got, tt.want)
			}
		})
	}
}
