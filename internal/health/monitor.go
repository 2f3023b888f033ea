package health

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// DefaultSite is the probing site of a standalone failoverd.
const DefaultSite = "local"

// Transition is a change of one site's rise/fall state for one check.
type Transition struct {
	Check, Site, From, To string
	// At is the time of the observation that triggered the change (the
	// probe's end), so detection-to-decision latency is measurable.
	At          time.Time
	Observation api.SiteObservation
	// Local is set when a local failure (this node could not probe, not
	// the endpoint) caused the change: one of LocalReasons.
	Local string
}

// MonitorOptions configure a Monitor.
type MonitorOptions struct {
	// Site is the probing site of this failoverd ("local" by default).
	Site string
	// OnTransition is called synchronously from the probe goroutine, in
	// order for each check. It must be quick (enqueue and return) and must
	// not call Upsert, Remove, Restore or Stop; Observation is fine.
	OnTransition func(Transition)
	// OnResult, optional, sees every result, under the same rules.
	OnResult func(Result)
	// Registerer, optional, exports the probe metrics.
	Registerer prometheus.Registerer
	// ProbeSourceAddr, when valid, is the local address every probe
	// connection leaves from (see ProbeOptions.SourceAddr).
	ProbeSourceAddr netip.Addr
	// Now, optional, timestamps observations (Result.At, LastChecked,
	// Since) for tests. Scheduling always uses the real clock.
	Now func() time.Time
}

// Monitor probes health checks from one site: each enabled check runs in
// its own goroutine on a fixed-rate, jittered schedule (see run), and its
// results drive that site's rise/fall state.
//
// A goroutine per check keeps a slow or hung probe from delaying any other
// check, and the Go runtime's timer heap makes each wake-up O(log n), so
// nothing is O(number of checks) per tick.
type Monitor struct {
	opts    MonitorOptions
	site    string
	metrics *metrics

	// cfgMu serializes configuration (Upsert, Remove, Restore, Start,
	// Stop). Lock order: cfgMu → entry.emitMu → entry.mu; mu is taken
	// alone.
	cfgMu    sync.Mutex
	ctx      context.Context // between Start and Stop
	cancel   context.CancelFunc
	restored map[string]api.SiteObservation // Restore before Upsert

	mu     sync.RWMutex
	checks map[string]*entry

	wg sync.WaitGroup
}

// entry is one check's configuration and state on this site.
type entry struct {
	// emitMu is held from applying a result until its callbacks returned,
	// so transitions of one check are delivered in the order they happened
	// even when Upsert (disable) races a probe.
	emitMu sync.Mutex

	mu    sync.Mutex
	check api.HealthCheck
	t     *Target // nil while disabled, invalid or not probed from this site
	probe ProbeFn
	tm    typeMetrics
	// gen changes whenever the running schedule is replaced; a result of
	// an older generation is dropped.
	gen  uint64
	obs  api.SiteObservation
	stop context.CancelFunc // cancels the running schedule; nil if none
}

// NewMonitor returns a Monitor that probes nothing until Upsert and Start.
func NewMonitor(opts MonitorOptions) *Monitor {
	site := opts.Site
	if site == "" {
		site = DefaultSite
	}
	return &Monitor{
		opts:     opts,
		site:     site,
		metrics:  newMetrics(opts.Registerer),
		restored: make(map[string]api.SiteObservation),
		checks:   make(map[string]*entry),
	}
}

func (m *Monitor) now() time.Time {
	if m.opts.Now != nil {
		return m.opts.Now()
	}
	return time.Now()
}

// Upsert adds a check or reconfigures it live. The check is normalized
// here too (idempotent). The Monitor accepts what Validate would refuse
// for timing (sub-second intervals, for tests); a check that cannot be
// compiled or has no prober is not probed and its observation says why.
//
// Reconfiguring keeps the state. When only rise, fall, quorum, probe_sites
// or labels change, the schedule and counters continue untouched; when the
// target or timing changes, the schedule restarts (on the same phase) and
// the counters reset, so the next rise/fall is decided by the new target.
// Disabling stops probing and makes the state unknown (a transition); so
// does a probe_sites that leaves this Monitor's site out.
func (m *Monitor) Upsert(c api.HealthCheck) {
	c.Normalize()
	var t *Target
	var err error
	var probe ProbeFn
	if c.Type != api.CheckCalculated {
		t, err = Compile(c, ProbeOptions{SourceAddr: m.opts.ProbeSourceAddr})
		probe = Probers[c.Type]
		if err == nil && probe == nil {
			err = fmt.Errorf("no prober for type %q", c.Type)
		}
	}
	// A calculated check is computed from its children, never probed.
	here := m.ProbesHere(c) && c.Type != api.CheckCalculated
	enabled := api.Bool(c.Enabled, true) && err == nil && here

	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	m.mu.Lock()
	e := m.checks[c.Name]
	if e == nil {
		e = &entry{obs: api.SiteObservation{State: api.StateUnknown, Since: m.now()}}
		if o, ok := m.restored[c.Name]; ok {
			e.obs = restored(o)
			delete(m.restored, c.Name)
		}
		m.checks[c.Name] = e
	}
	m.mu.Unlock()

	e.emitMu.Lock()
	defer e.emitMu.Unlock()
	e.mu.Lock()
	if enabled && e.t != nil && e.stop != nil && sameProbe(e.check, c) {
		e.check = c // new rise/fall apply from the next result
		e.mu.Unlock()
		return
	}
	e.check = c
	e.gen++
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
	e.t, e.probe = nil, nil
	e.obs.Successes, e.obs.Failures = 0, 0
	var tr *Transition
	if enabled {
		e.t, e.probe, e.tm = t, probe, m.metrics.forType(c.Type)
		if m.ctx != nil {
			m.launch(e)
		}
	} else {
		switch {
		case err != nil:
			e.obs.LastError = "invalid check: " + err.Error()
		case c.Type == api.CheckCalculated:
			e.obs.LastError = "calculated from its child checks, not probed"
		case !here:
			e.obs.LastError = fmt.Sprintf("not probed from site %s: probe_sites is %v", m.site, c.ProbeSites)
		}
		if e.obs.State != api.StateUnknown {
			at := m.now()
			tr = &Transition{Check: c.Name, Site: m.site, From: e.obs.State, To: api.StateUnknown, At: at}
			e.obs.State, e.obs.Since = api.StateUnknown, at
			tr.Observation = e.obs
		}
	}
	state := e.obs.State
	e.mu.Unlock()

	m.metrics.up.WithLabelValues(c.Name, m.site).Set(upValue(state))
	if tr != nil && m.opts.OnTransition != nil {
		m.opts.OnTransition(*tr)
	}
}

// ProbesHere reports whether this Monitor's site probes c: the sites in
// its probe_sites do, every site when it lists none. Another site's
// observation does not vote (Aggregate), so probing it would only load the
// endpoint.
func (m *Monitor) ProbesHere(c api.HealthCheck) bool {
	return len(c.ProbeSites) == 0 || slices.Contains(c.ProbeSites, m.site)
}

// sameProbe reports whether two versions of a check probe the same target
// the same way on the same schedule, i.e. differ only in how results are
// judged across probes (rise, fall), aggregated (quorum, probe_sites) or
// labelled (site, version).
func sameProbe(a, b api.HealthCheck) bool {
	strip := func(c api.HealthCheck) api.HealthCheck {
		c.Site, c.Rise, c.Fall, c.ProbeSites, c.Quorum, c.Enabled, c.Version = "", 0, 0, nil, "", nil, 0
		return c
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

// Remove stops probing a check and forgets it.
func (m *Monitor) Remove(name string) {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	m.mu.Lock()
	e := m.checks[name]
	delete(m.checks, name)
	delete(m.restored, name)
	m.mu.Unlock()
	if e == nil {
		return
	}
	e.emitMu.Lock()
	defer e.emitMu.Unlock()
	e.mu.Lock()
	e.gen++
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
	e.mu.Unlock()
	m.metrics.up.DeleteLabelValues(name, m.site)
}

// Restore seeds this site's last known observation of a check, read back
// from the store after a restart: the state (and its Since, last error…)
// is kept, the consecutive counters start at 0, so a restart never flips
// a state by itself. Call it before Start; it may come before or after the
// check's Upsert. A disabled check stays unknown.
func (m *Monitor) Restore(check string, obs api.SiteObservation) {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	m.mu.RLock()
	e := m.checks[check]
	m.mu.RUnlock()
	if e == nil {
		m.restored[check] = obs
		return
	}
	e.emitMu.Lock()
	defer e.emitMu.Unlock()
	e.mu.Lock()
	if e.t == nil {
		e.mu.Unlock()
		return
	}
	e.obs = restored(obs)
	state := e.obs.State
	e.mu.Unlock()
	m.metrics.up.WithLabelValues(check, m.site).Set(upValue(state))
}

// Observation returns this site's current view of a check.
func (m *Monitor) Observation(check string) (api.SiteObservation, bool) {
	m.mu.RLock()
	e := m.checks[check]
	m.mu.RUnlock()
	if e == nil {
		return api.SiteObservation{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.obs, true
}

// Snapshot returns this site's view of every check, e.g. to persist on
// shutdown for Restore.
func (m *Monitor) Snapshot() map[string]api.SiteObservation {
	m.mu.RLock()
	entries := make(map[string]*entry, len(m.checks))
	for name, e := range m.checks {
		entries[name] = e
	}
	m.mu.RUnlock()
	out := make(map[string]api.SiteObservation, len(entries))
	for name, e := range entries {
		e.mu.Lock()
		out[name] = e.obs
		e.mu.Unlock()
	}
	return out
}

// Site is the probing site of this Monitor.
func (m *Monitor) Site() string { return m.site }

// Start starts probing every enabled check, and every check upserted
// later, until ctx is done or Stop is called. Calling Start while started
// does nothing.
func (m *Monitor) Start(ctx context.Context) {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	if m.ctx != nil {
		return
	}
	m.ctx, m.cancel = context.WithCancel(ctx)
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, e := range m.checks {
		e.mu.Lock()
		if e.t != nil && e.stop == nil {
			m.launch(e)
		}
		e.mu.Unlock()
	}
}

// Stop stops probing and waits until every probe goroutine has returned;
// a probe in flight is canceled and its result dropped (the failure would
// be ours, not the endpoint's). Start may be called again afterwards.
func (m *Monitor) Stop() {
	m.cfgMu.Lock()
	if m.cancel != nil {
		m.cancel()
	}
	m.ctx, m.cancel = nil, nil
	m.mu.RLock()
	for _, e := range m.checks {
		e.mu.Lock()
		e.stop = nil
		e.mu.Unlock()
	}
	m.mu.RUnlock()
	m.cfgMu.Unlock()
	m.wg.Wait()
}

// launch starts e's schedule. Callers hold cfgMu and e.mu, and m.ctx is set.
func (m *Monitor) launch(e *entry) {
	ctx, cancel := context.WithCancel(m.ctx)
	e.stop = cancel
	m.wg.Add(1)
	go m.run(ctx, e, e.t, e.probe, e.tm, e.gen)
}

// run probes one check until ctx is done.
//
// Fixed rate: probes are due at phase + k × interval on the Unix-time
// grid, so a check never drifts by its own probe or wake-up latency, and
// a restart or reconfiguration lands on the same grid. The phase is a
// hash of site and check name in [0, interval): 1,000 checks with the
// same interval spread over the whole interval instead of firing in the
// same millisecond, the spread survives restarts, and two sites probing
// one endpoint do not hit it in lockstep.
//
// Skip, don't pile up: a probe runs inline, so a check never has two
// probes in flight. Slots that pass while a probe runs (or while the
// process was too busy to start it) are skipped and counted in
// failover_probes_skipped_total; the next probe waits for the next slot
// on the grid.
func (m *Monitor) run(ctx context.Context, e *entry, t *Target, probe ProbeFn, tm typeMetrics, gen uint64) {
	defer m.wg.Done()
	now := time.Now()
	due := now.Add(untilSlot(now, t.interval, phaseOf(m.site, t.Check.Name, t.interval)))
	timer := time.NewTimer(time.Until(due))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		tctx, cancel := context.WithTimeout(ctx, t.timeout)
		res := probe(tctx, t)
		cancel()
		if ctx.Err() != nil {
			return
		}
		res.Check, res.Site, res.Scheduled, res.Start = t.Check.Name, m.site, due, start
		if res.At.IsZero() {
			res.At = time.Now()
		}
		if m.opts.Now != nil {
			res.At = m.opts.Now()
		}

		m.metrics.lag.Observe(start.Sub(due).Seconds())
		switch {
		case res.OK:
			tm.success.Inc()
			tm.duration.Observe(res.Latency.Seconds())
		case res.Local != "":
			tm.local.Inc()
			m.metrics.localFailure(res.Local)
		default:
			tm.failure.Inc()
			tm.duration.Observe(res.Latency.Seconds())
		}
		m.record(e, gen, res)

		due = due.Add(t.interval)
		if late := time.Since(due); late > 0 {
			n := late/t.interval + 1
			due = due.Add(n * t.interval)
			m.metrics.skipped.Add(float64(n))
		}
		timer.Reset(time.Until(due))
	}
}

// record applies a result to e's observation and reports it.
func (m *Monitor) record(e *entry, gen uint64, res Result) {
	e.emitMu.Lock()
	defer e.emitMu.Unlock()
	e.mu.Lock()
	if e.gen != gen {
		e.mu.Unlock()
		return
	}
	res = invertResult(e.check, res)
	from, changed := observe(&e.obs, e.check.Rise, e.check.Fall, res)
	obs := e.obs
	e.mu.Unlock()

	if m.opts.OnResult != nil {
		m.opts.OnResult(res)
	}
	if !changed {
		return
	}
	m.metrics.up.WithLabelValues(res.Check, m.site).Set(upValue(obs.State))
	if m.opts.OnTransition != nil {
		m.opts.OnTransition(Transition{
			Check: res.Check, Site: m.site, From: from, To: obs.State,
			At: res.At, Observation: obs, Local: res.Local,
		})
	}
}

// phaseOf is a check's offset in [0, interval) on the schedule grid:
// FNV-1a of site and name, then a 64-bit finalizer so names that differ
// in one character land far apart.
func phaseOf(site, name string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(site))
	h.Write([]byte{0})
	h.Write([]byte(name))
	x := h.Sum64()
	// splitmix64 finalizer.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return time.Duration(x % uint64(interval))
}

// untilSlot is the time from now to the next slot phase + k × interval
// (Unix time), 0 if now is on a slot.
func untilSlot(now time.Time, interval, phase time.Duration) time.Duration {
	r := (now.UnixNano() - int64(phase)) % int64(interval)
	if r < 0 {
		r += int64(interval)
	}
	if r == 0 {
		return 0
	}
	return interval - time.Duration(r)
}

// invertResult applies c.Invert to a probe result: a success counts as a
// failure and a failure as a success. A local failure is not an
// observation of the endpoint, so it is never inverted.
func invertResult(c api.HealthCheck, res Result) Result {
	if !c.Invert || res.Local != "" {
		return res
	}
	res.OK = !res.OK
	if res.OK {
		res.Error = ""
	} else {
		res.Error = "inverted check: the probe succeeded"
	}
	return res
}
