package health

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// recorder collects a Monitor's callbacks.
type recorder struct {
	mu          sync.Mutex
	transitions []Transition
	results     []Result
}

func (r *recorder) options(site string) MonitorOptions {
	return MonitorOptions{
		Site: site,
		OnTransition: func(t Transition) {
			r.mu.Lock()
			r.transitions = append(r.transitions, t)
			r.mu.Unlock()
		},
		OnResult: func(res Result) {
			r.mu.Lock()
			r.results = append(r.results, res)
			r.mu.Unlock()
		},
	}
}

// lastTransition returns the latest transition of check to state, if any.
func (r *recorder) lastTransition(check, to string) (Transition, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.transitions) - 1; i >= 0; i-- {
		if tr := r.transitions[i]; tr.Check == check && tr.To == to {
			return tr, true
		}
	}
	return Transition{}, false
}

func (r *recorder) count(check string) (results int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range r.results {
		if res.Check == check {
			results++
		}
	}
	return results
}

// TestMonitorFailoverAndRecovery: a real backend stops and starts again;
// the check goes unhealthy within fall × interval + timeout (+ slack for a
// loaded CI machine) and healthy again after rise successes.
func TestMonitorFailoverAndRecovery(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	srv := httptest.NewServer(handler)
	addr := srv.Listener.Addr().String()

	const (
		interval = 100 * time.Millisecond
		timeout  = 50 * time.Millisecond
		rise     = 2
		fall     = 3
		slack    = 2 * time.Second
	)
	rec := &recorder{}
	m := NewMonitor(rec.options("dc1"))
	m.Upsert(newCheck("web", api.CheckHTTP, addr, fast(interval.Seconds(), timeout.Seconds(), rise, fall), func(c *api.HealthCheck) {
		c.BodyMatch = &api.BodyMatch{Mode: api.MatchExact, Value: "ok"}
	}))
	m.Start(context.Background())
	defer m.Stop()

	eventually(t, rise*interval+slack, "healthy", func() bool { _, ok := rec.lastTransition("web", api.StateHealthy); return ok })
	if tr, _ := rec.lastTransition("web", api.StateHealthy); tr.From != api.StateUnknown || tr.Site != "dc1" || tr.Observation.Successes != rise {
		t.Fatalf("first transition %+v", tr)
	}

	srv.Close()
	stopped := time.Now()
	bound := fall*interval + timeout
	eventually(t, bound+slack, "unhealthy after the backend stopped", func() bool {
		_, ok := rec.lastTransition("web", api.StateUnhealthy)
		return ok
	})
	down, _ := rec.lastTransition("web", api.StateUnhealthy)
	t.Logf("detected %v after stop (bound %v)", down.At.Sub(stopped), bound)
	if down.From != api.StateHealthy || down.Observation.Failures != fall || down.Observation.LastError == "" || !down.Observation.Since.Equal(down.At) {
		t.Fatalf("unhealthy transition %+v", down)
	}
	if obs, _ := m.Observation("web"); obs.State != api.StateUnhealthy {
		t.Fatalf("Observation = %+v", obs)
	}

	// Restart the backend on the same address.
	var ln net.Listener
	eventually(t, 5*time.Second, "listen again on "+addr, func() bool {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	restarted := &http.Server{Handler: handler}
	go restarted.Serve(ln)
	defer restarted.Close()
	started := time.Now()
	eventually(t, rise*interval+timeout+slack, "healthy after the backend restarted", func() bool {
		tr, ok := rec.lastTransition("web", api.StateHealthy)
		return ok && tr.At.After(started)
	})
	up, _ := rec.lastTransition("web", api.StateHealthy)
	t.Logf("recovered %v after restart", up.At.Sub(started))
	if up.From != api.StateUnhealthy || up.Observation.LastError != "" {
		t.Fatalf("recovery transition %+v", up)
	}
}

// TestMonitorRestoreAcrossRestart: a restarted failoverd resumes from the
// stored state, and the first failure after the restart flips nothing.
func TestMonitorRestoreAcrossRestart(t *testing.T) {
	addr := freePort(t) // nothing listens: every probe fails
	c := newCheck("web", api.CheckTCP, addr, fast(0.05, 0.04, 2, 3))
	since := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	stored := api.SiteObservation{State: api.StateHealthy, Since: since, LastChecked: since, Successes: 12}

	tests := []struct {
		name         string
		restoreFirst bool
	}{
		{"restore before upsert", true},
		{"restore after upsert", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			m := NewMonitor(rec.options(""))
			if tt.restoreFirst {
				m.Restore("web", stored)
				m.Upsert(c)
			} else {
				m.Upsert(c)
				m.Restore("web", stored)
			}
			obs, ok := m.Observation("web")
			if !ok || obs.State != api.StateHealthy || obs.Successes != 0 || !obs.Since.Equal(since) {
				t.Fatalf("after restore: %+v", obs)
			}
			m.Start(context.Background())
			defer m.Stop()
			eventually(t, 5*time.Second, "unhealthy after fall failures", func() bool {
				_, ok := rec.lastTransition("web", api.StateUnhealthy)
				return ok
			})
			rec.mu.Lock()
			transitions, first := slices.Clone(rec.transitions), rec.results[0]
			rec.mu.Unlock()
			if first.OK || first.Site != DefaultSite {
				t.Fatalf("first result %+v", first)
			}
			// The only transition is the one fall failures caused: the
			// restart itself flipped nothing.
			if len(transitions) != 1 {
				t.Fatalf("transitions %+v", transitions)
			}
			tr, _ := rec.lastTransition("web", api.StateUnhealthy)
			if tr.From != api.StateHealthy || tr.Observation.Failures != c.Fall {
				t.Fatalf("transition %+v", tr)
			}
		})
	}
}

// TestMonitorJitter: 1,000 checks with the same interval start spread over
// the interval, not in the same millisecond.
func TestMonitorJitter(t *testing.T) {
	const n = 1000
	var mu sync.Mutex
	first := make(map[string]Result, n)
	m := NewMonitor(MonitorOptions{OnResult: func(r Result) {
		mu.Lock()
		if _, ok := first[r.Check]; !ok {
			first[r.Check] = r
		}
		mu.Unlock()
	}})
	t0 := time.Now()
	for i := 0; i < n; i++ {
		m.Upsert(newCheck(fmt.Sprintf("check-%04d", i), typeOK, "", fast(1, 0.5, 1, 1)))
	}
	t1 := time.Now()
	m.Start(context.Background())
	defer m.Stop()
	defer func() { t.Logf("upserts %v, start to end %v", t1.Sub(t0), time.Since(t1)) }()
	eventually(t, 30*time.Second, "every check probed once", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(first) == n
	})

	scheduled := map[int64]int{} // ms within the second → checks due
	started := map[int64]int{}
	for _, r := range first {
		scheduled[r.Scheduled.UnixMilli()%1000]++
		started[r.Start.UnixMilli()]++
		if r.Start.Before(r.Scheduled) {
			t.Fatalf("%s started before it was due: %+v", r.Check, r)
		}
	}
	var worst Result
	for _, r := range first {
		if r.Start.Sub(r.Scheduled) > worst.Start.Sub(worst.Scheduled) {
			worst = r
		}
	}
	t.Logf("worst first-probe lag %v (%s)", worst.Start.Sub(worst.Scheduled), worst.Check)
	maxScheduled := 0
	for _, k := range scheduled {
		maxScheduled = max(maxScheduled, k)
	}
	t.Logf("due in %d distinct ms (max %d in one), started in %d distinct ms", len(scheduled), maxScheduled, len(started))
	// Uniform phases put 1,000 checks in ≈632 of 1,000 buckets, at most
	// ≈6 in one. A missing jitter puts them all in one.
	if maxScheduled > 8 || len(scheduled) < 550 {
		t.Errorf("phases not spread: %d distinct ms, max %d in one", len(scheduled), maxScheduled)
	}
	// When probes actually start depends on the machine's load (a shared
	// 2-core CI box can bunch them); the due times above are what the
	// scheduler controls, and the schedule-lag benchmark (make bench, P2)
	// measures the rest.
}

func TestPhase(t *testing.T) {
	const interval = 10 * time.Second
	tests := []struct {
		site, name string
	}{
		{"local", "web"}, {"dc1", "web"}, {"local", "web-2"}, {"", ""},
	}
	seen := map[time.Duration]bool{}
	for _, tt := range tests {
		p := phaseOf(tt.site, tt.name, interval)
		if p < 0 || p >= interval || p != phaseOf(tt.site, tt.name, interval) {
			t.Fatalf("phaseOf(%q, %q) = %v", tt.site, tt.name, p)
		}
		if seen[p] {
			t.Fatalf("phase %v repeated", p)
		}
		seen[p] = true
	}

	base := time.Unix(1_800_000_000, 0)
	slots := []struct {
		now   time.Time
		phase time.Duration
		want  time.Duration
	}{
		{base, 0, 0},
		{base, 3 * time.Second, 3 * time.Second},
		{base.Add(4 * time.Second), 3 * time.Second, 9 * time.Second},
		{base.Add(3 * time.Second), 3 * time.Second, 0},
		{base.Add(time.Nanosecond), 0, interval - time.Nanosecond},
	}
	for _, s := range slots {
		if got := untilSlot(s.now, interval, s.phase); got != s.want {
			t.Errorf("untilSlot(%v, phase %v) = %v, want %v", s.now, s.phase, got, s.want)
		}
	}
}

// TestMonitorSkipsWhileProbeRuns: a probe slower than the interval is
// never doubled up (the ticks it overlaps are skipped and counted), and it
// does not delay another check.
func TestMonitorSkipsWhileProbeRuns(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	opts := rec.options("")
	opts.Registerer = reg
	m := NewMonitor(opts)
	slowMaxInFlight.Store(0)
	m.Upsert(newCheck("slow", typeSlow, "250ms", fast(0.1, 1, 1, 1)))
	m.Upsert(newCheck("quick", typeOK, "", fast(0.02, 0.01, 1, 1)))
	m.Start(context.Background())
	defer m.Stop()

	eventually(t, 10*time.Second, "three slow probes", func() bool { return rec.count("slow") >= 3 })
	if got := slowMaxInFlight.Load(); got != 1 {
		t.Fatalf("%d probes of one check ran at once", got)
	}
	skipped, _ := metricValue(t, reg, "failover_probes_skipped_total", nil)
	if skipped < 2 {
		t.Fatalf("skipped = %v, want the ticks overlapped by 250 ms probes every 100 ms", skipped)
	}
	// While 3 slow probes ran (≥ 750 ms), the 20 ms check kept its pace.
	if q := rec.count("quick"); q < 10 {
		t.Fatalf("quick check probed %d times while the slow one ran", q)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var prev time.Time
	for _, r := range rec.results {
		if r.Check != "slow" {
			continue
		}
		if !prev.IsZero() && r.Scheduled.Sub(prev) < 250*time.Millisecond {
			t.Fatalf("slow probe due %v after the previous one: overlapping slots not skipped", r.Scheduled.Sub(prev))
		}
		if d := r.Scheduled.Sub(prev); !prev.IsZero() && d%(100*time.Millisecond) != 0 {
			t.Fatalf("slow probe left its grid: %v after the previous one", d)
		}
		prev = r.Scheduled
	}
}

// TestMonitorReconfigure covers live Upsert: judgment-only changes keep
// the schedule and counters, target changes keep the state, disabling
// makes it unknown, Remove forgets it.
func TestMonitorReconfigure(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	opts := rec.options("dc1")
	opts.Registerer = reg
	m := NewMonitor(opts)
	m.Start(context.Background())
	defer m.Stop()
	up := func() float64 {
		v, _ := metricValue(t, reg, "failover_check_up", map[string]string{"check": "web", "site": "dc1"})
		return v
	}
	entry := func() *entry {
		m.mu.RLock()
		defer m.mu.RUnlock()
		return m.checks["web"]
	}
	gen := func() uint64 {
		e := entry()
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.gen
	}

	c := newCheck("web", typeOK, "", fast(0.02, 0.01, 2, 2))
	m.Upsert(c)
	if up() != -1 {
		t.Fatalf("failover_check_up = %v before any probe, want -1", up())
	}
	eventually(t, 5*time.Second, "healthy", func() bool { o, _ := m.Observation("web"); return o.State == api.StateHealthy })
	if up() != 1 {
		t.Fatalf("failover_check_up = %v, want 1", up())
	}
	if v, _ := metricValue(t, reg, "failover_probes_total", map[string]string{"type": typeOK, "result": "success"}); v < 2 {
		t.Fatalf("failover_probes_total success = %v", v)
	}
	for _, h := range []string{"failover_probe_duration_seconds", "failover_probe_schedule_lag_seconds"} {
		if v, ok := metricValue(t, reg, h, nil); !ok || v < 2 {
			t.Fatalf("%s count = %v", h, v)
		}
	}

	// Judgment-only change: same schedule, counters keep counting.
	g := gen()
	c.Rise, c.Fall, c.Quorum = 5, 4, api.QuorumAny
	m.Upsert(c)
	if gen() != g {
		t.Fatal("changing rise/fall/quorum restarted the schedule")
	}
	eventually(t, 5*time.Second, "counters continue", func() bool { o, _ := m.Observation("web"); return o.Successes >= 5 })

	// Target change: state kept, counters reset, new target decides.
	c.Type = typeFail
	m.Upsert(c)
	if gen() == g {
		t.Fatal("changing the target did not restart the schedule")
	}
	// The new target's first probes may already have run, but no success
	// of the old one survives, and the state is kept until fall failures.
	if o, _ := m.Observation("web"); o.Successes != 0 || (o.State == api.StateHealthy) != (o.Failures < c.Fall) {
		t.Fatalf("after target change: %+v", o)
	}
	eventually(t, 5*time.Second, "unhealthy after fall failures of the new target", func() bool {
		o, _ := m.Observation("web")
		return o.State == api.StateUnhealthy
	})
	if tr, _ := rec.lastTransition("web", api.StateUnhealthy); tr.Observation.Failures != 4 || tr.Observation.LastError != "stub failure" {
		t.Fatalf("transition %+v", tr)
	}
	if up() != 0 {
		t.Fatalf("failover_check_up = %v, want 0", up())
	}

	// Disable: unknown at once, a transition, no more probing.
	c.Enabled = new(bool)
	m.Upsert(c)
	if tr, ok := rec.lastTransition("web", api.StateUnknown); !ok || tr.From != api.StateUnhealthy {
		t.Fatalf("no transition to unknown on disable: %+v", tr)
	}
	if e := entry(); e.stop != nil || e.t != nil {
		t.Fatal("disabled check still scheduled")
	}
	if o, _ := m.Observation("web"); o.State != api.StateUnknown || up() != -1 {
		t.Fatalf("disabled: %+v, up %v", o, up())
	}

	// Re-enable, then remove.
	c.Enabled = nil
	c.Normalize()
	m.Upsert(c)
	eventually(t, 5*time.Second, "probing again", func() bool { o, _ := m.Observation("web"); return o.Failures > 0 })
	m.Remove("web")
	if _, ok := m.Observation("web"); ok {
		t.Fatal("removed check still observed")
	}
	if _, ok := metricValue(t, reg, "failover_check_up", map[string]string{"check": "web"}); ok {
		t.Fatal("removed check still exported")
	}
}

func TestMonitorInvalidCheck(t *testing.T) {
	m := NewMonitor(MonitorOptions{})
	m.Upsert(newCheck("odd", "icmp", "192.0.2.1:0"))
	m.Upsert(newCheck("bad", api.CheckHTTP, "192.0.2.1:80", func(c *api.HealthCheck) { c.ExpectedStatus = []string{"2xx"} }))
	m.Start(context.Background())
	defer m.Stop()
	tests := []struct{ check, want string }{
		{"odd", `invalid check: no prober for type "icmp"`},
		{"bad", `invalid check: expected_status[0]: "2xx" is not a status code or range: write a code like "200" or a range like "200-399"`},
	}
	for _, tt := range tests {
		o, ok := m.Observation(tt.check)
		if !ok || o.State != api.StateUnknown || o.LastError != tt.want {
			t.Errorf("%s: %+v, want LastError %q", tt.check, o, tt.want)
		}
	}
}

// TestMonitorStopDropsInFlight: stopping while a probe runs neither
// records a failure nor leaves a goroutine behind.
func TestMonitorStopDropsInFlight(t *testing.T) {
	rec := &recorder{}
	m := NewMonitor(rec.options(""))
	m.Upsert(newCheck("slow", typeSlow, "10s", fast(0.01, 20, 1, 1)))
	m.Start(context.Background())
	eventually(t, 5*time.Second, "probe in flight", func() bool { return slowInFlight.Load() > 0 })
	m.Stop() // returns only when the goroutine did
	if n := rec.count("slow"); n != 0 {
		t.Fatalf("%d results recorded for a canceled probe", n)
	}
	if slowInFlight.Load() != 0 {
		t.Fatal("probe still running after Stop")
	}
}

// BenchmarkScheduler1000 runs 1,000 checks every 333 ms (≈3,000 probes/s)
// with a no-op probe and reports the schedule lag: the scheduler's own
// share of DESIGN §9 P2. One op is one probe.
func BenchmarkScheduler1000(b *testing.B) {
	var (
		mu   sync.Mutex
		lags []time.Duration
		done = make(chan struct{})
		seen atomic.Int64
	)
	m := NewMonitor(MonitorOptions{OnResult: func(r Result) {
		mu.Lock()
		lags = append(lags, r.Start.Sub(r.Scheduled))
		mu.Unlock()
		if seen.Add(1) == int64(b.N) {
			close(done)
		}
	}})
	for i := 0; i < 1000; i++ {
		m.Upsert(newCheck(fmt.Sprintf("check-%04d", i), typeOK, "", fast(0.333, 0.1, 2, 3)))
	}
	b.ResetTimer()
	m.Start(context.Background())
	<-done
	b.StopTimer()
	m.Stop()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)*99/100])/float64(time.Millisecond), "p99-lag-ms")
	b.ReportMetric(float64(lags[len(lags)/2])/float64(time.Millisecond), "p50-lag-ms")
}

// BenchmarkMonitorHTTP is DESIGN §9 P2 in-process: n http checks every
// second (≈n probes/s, each on a new connection) against minimal local
// backends sharing the same CPUs, reporting the achieved probe rate, the
// schedule lag p99 and the failed probes. One op is one probe.
//
// The checks are spread over 64 backends as they would be in production:
// thousands of new connections per second to a single ip:port leave that
// destination's ephemeral ports in TIME_WAIT (60 s on Linux), and the
// kernel's port search then eats the CPUs — a loopback artifact, not the
// prober's cost.
func BenchmarkMonitorHTTP(b *testing.B) {
	addrs := make([]string, 64)
	for i := range addrs {
		addrs[i] = rawHTTPServer(b)
	}
	for _, n := range []int{1000, 3000} {
		b.Run(fmt.Sprintf("checks=%d", n), func(b *testing.B) {
			var (
				mu     sync.Mutex
				lags   []time.Duration
				failed atomic.Int64
				done   = make(chan struct{})
				seen   atomic.Int64
			)
			m := NewMonitor(MonitorOptions{OnResult: func(r Result) {
				if seen.Add(1) > int64(b.N) {
					return
				}
				mu.Lock()
				lags = append(lags, r.Start.Sub(r.Scheduled))
				mu.Unlock()
				if !r.OK {
					failed.Add(1)
				}
				if seen.Load() == int64(b.N) {
					close(done)
				}
			}})
			for i := 0; i < n; i++ {
				m.Upsert(newCheck(fmt.Sprintf("web-%04d", i), api.CheckHTTP, addrs[i%len(addrs)], fast(1, 0.5, 2, 3), func(c *api.HealthCheck) {
					c.BodyMatch = &api.BodyMatch{Mode: api.MatchExact, Value: "ok"}
				}))
			}
			b.ResetTimer()
			start := time.Now()
			m.Start(context.Background())
			<-done
			elapsed := time.Since(start)
			b.StopTimer()
			m.Stop()
			mu.Lock()
			defer mu.Unlock()
			slices.Sort(lags)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "probes/s")
			b.ReportMetric(float64(lags[len(lags)*99/100])/float64(time.Millisecond), "p99-lag-ms")
			b.ReportMetric(float64(failed.Load()), "failed")
		})
	}
}

// rawHTTPServer is the cheapest possible HTTP/1.1 backend, so that a
// benchmark on a shared machine measures the prober rather than net/http's
// server: it reads the request head, answers "200 ok" and closes.
func rawHTTPServer(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 1024)
				var head []byte
				for !bytes.Contains(head, []byte("\r\n\r\n")) {
					n, err := conn.Read(buf)
					if err != nil {
						return
					}
					head = append(head, buf[:n]...)
				}
				conn.Write([]byte(resp))
			}()
		}
	}()
	return ln.Addr().String()
}

// TestMonitorLocalFailures: a check whose probes fail for a local reason
// (failoverd out of file descriptors) is never unhealthy, whatever its
// fall: the site goes unknown with the reason, the transition says it was
// local, and the failures are counted as local, never against the endpoint.
func TestMonitorLocalFailures(t *testing.T) {
	for _, from := range []string{api.StateHealthy, api.StateUnhealthy, api.StateUnknown} {
		t.Run("from "+from, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			rec := &recorder{}
			opts := rec.options("")
			opts.Registerer = reg
			m := NewMonitor(opts)
			m.Restore("web", api.SiteObservation{State: from, Successes: 5, Failures: 5})
			m.Upsert(newCheck("web", typeLocal, "192.0.2.1:80", fast(0.01, 0.01, 1, 1)))
			m.Start(context.Background())
			eventually(t, 5*time.Second, "10 local failures", func() bool { return rec.count("web") >= 10 })
			m.Stop()

			o, _ := m.Observation("web")
			if o.State != api.StateUnknown || o.LastError != "local: too many open files (not a backend failure)" || o.Failures != 0 {
				t.Fatalf("observation %+v, want unknown with the local reason and no failure counted", o)
			}
			rec.mu.Lock()
			transitions := slices.Clone(rec.transitions)
			rec.mu.Unlock()
			wantN := 1
			if from == api.StateUnknown {
				wantN = 0
			}
			if len(transitions) != wantN {
				t.Fatalf("transitions %+v, want %d", transitions, wantN)
			}
			for _, tr := range transitions {
				if tr.To != api.StateUnknown || tr.Local != LocalFileDescriptors {
					t.Fatalf("transition %+v, want to unknown marked local", tr)
				}
			}
			n := float64(rec.count("web"))
			local, _ := metricValue(t, reg, "failover_probes_total", map[string]string{"type": typeLocal, "result": "local_failure"})
			failed, _ := metricValue(t, reg, "failover_probes_total", map[string]string{"type": typeLocal, "result": "failure"})
			byReason, _ := metricValue(t, reg, "failover_probe_local_failures_total", map[string]string{"reason": LocalFileDescriptors})
			if local != n || failed != 0 || byReason != n {
				t.Fatalf("metrics: local_failure %v, failure %v, file_descriptors %v; want %v, 0, %v", local, failed, byReason, n, n)
			}
			// The label set is closed and complete from the start.
			for _, r := range LocalReasons {
				if _, ok := metricValue(t, reg, "failover_probe_local_failures_total", map[string]string{"reason": r}); !ok {
					t.Errorf("no series for reason %q", r)
				}
			}
		})
	}
}
