// Package engine is failoverd's runtime core: it owns the declared objects
// in memory, feeds health transitions to the policy evaluator the moment
// they happen, keeps timers for delays, schedules and override expiry,
// persists runtime state so a restart resumes exactly where it stopped,
// and publishes an immutable Snapshot that DNS and /burst answer from.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/health"
	"github.com/hatopo/terraform-provider-failover/internal/policy"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// Options configures an Engine.
type Options struct {
	Store store.Store
	// Site is the probing site of this failoverd ("local" standalone).
	Site string
	// Zone is the DNS zone policies answer in, e.g. "failover.internal.".
	Zone string
	// BaseURL is the advertised HTTP base for burst URLs.
	BaseURL    string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// MaxQueuedEvents bounds the events waiting for the store while its
	// commits fail (default DefaultMaxQueuedEvents).
	MaxQueuedEvents int
}

// Keys of runtime state in store.BucketState.
const (
	keyHealthPrefix   = "health/"   // health/<check>/<site> → api.SiteObservation
	keyCheckPrefix    = "check/"    // check/<check> → checkState
	keyPolicyPrefix   = "policy/"   // policy/<name> → policyRuntime
	keyOverridePrefix = "override/" // override/<policy> → api.Override
)

// OverrideKey is the state key of a policy's operator override; the API
// writes it in the same batch as the override's audit event.
func OverrideKey(policy string) string { return keyOverridePrefix + policy }

// checkState is the overall (all-site) state of one check.
type checkState struct {
	State      string    `json:"state"`
	Since      time.Time `json:"since"`
	ObservedAt time.Time `json:"observed_at"`
}

// policyRuntime is what the evaluator remembers about one policy.
type policyRuntime struct {
	Decision api.Decision `json:"decision"`
	State    policy.State `json:"state"`
	nextWake time.Time
}

// Engine is the runtime core. All methods are safe for concurrent use.
type Engine struct {
	opts    Options
	st      store.Store
	log     *slog.Logger
	now     func() time.Time
	monitor *health.Monitor
	persist *persister
	notify  *notifier
	metrics *metrics

	// writeMu serialises mutations of declared objects so validation,
	// referential checks and the commit see one consistent world.
	writeMu sync.Mutex

	mu          sync.RWMutex
	raw         map[api.Kind]map[string][]byte
	checks      map[string]api.HealthCheck
	policies    map[string]api.TrafficPolicy
	replicaSets map[string]api.ReplicaSet
	toggles     map[string]api.BurstToggle
	overrides   map[string]api.Override
	obs         map[string]map[string]api.SiteObservation
	checkStates map[string]checkState
	runtime     map[string]*policyRuntime
	toggleOn    map[string]bool
	toggleNext  map[string]time.Time
	rsStatus    map[string]api.ReplicaSetStatus

	snap        atomic.Pointer[Snapshot]
	transitions chan health.Transition
	kick        chan struct{}
	cancel      context.CancelFunc
	done        chan struct{}
	started     time.Time
	ready       atomic.Bool
}

// New loads every object and all runtime state from the store and
// restores the last known health, so the first decisions after a restart
// are the ones before it. Probing starts with Start.
func New(opts Options) (*Engine, error) {
	if opts.Store == nil {
		return nil, errors.New("engine: no store")
	}
	if opts.Site == "" {
		opts.Site = "local"
	}
	if opts.Zone == "" {
		opts.Zone = "failover.internal."
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxQueuedEvents <= 0 {
		opts.MaxQueuedEvents = DefaultMaxQueuedEvents
	}
	e := &Engine{
		opts:        opts,
		st:          opts.Store,
		log:         opts.Logger,
		now:         opts.Now,
		notify:      newNotifier(),
		raw:         map[api.Kind]map[string][]byte{},
		checks:      map[string]api.HealthCheck{},
		policies:    map[string]api.TrafficPolicy{},
		replicaSets: map[string]api.ReplicaSet{},
		toggles:     map[string]api.BurstToggle{},
		overrides:   map[string]api.Override{},
		obs:         map[string]map[string]api.SiteObservation{},
		checkStates: map[string]checkState{},
		runtime:     map[string]*policyRuntime{},
		toggleOn:    map[string]bool{},
		toggleNext:  map[string]time.Time{},
		rsStatus:    map[string]api.ReplicaSetStatus{},
		transitions: make(chan health.Transition, 4096),
		kick:        make(chan struct{}, 1),
		done:        make(chan struct{}),
		started:     opts.Now(),
	}
	e.metrics = newMetrics(opts.Registerer)
	e.persist = newPersister(e.st, e.log, e.notify.advance, opts.MaxQueuedEvents, e.metrics.eventsDropped)
	e.monitor = health.NewMonitor(health.MonitorOptions{
		Site:         opts.Site,
		OnTransition: func(t health.Transition) { e.transitions <- t },
		Registerer:   opts.Registerer,
	})
	if err := e.load(context.Background()); err != nil {
		e.persist.close()
		return nil, err
	}
	if last, err := e.st.LastSeq(context.Background()); err == nil {
		e.notify.advance(last)
	}
	return e, nil
}

func (e *Engine) load(ctx context.Context) error {
	for _, k := range api.Kinds {
		kvs, err := e.st.List(ctx, string(k))
		if err != nil {
			return fmt.Errorf("load %s: %w", k, err)
		}
		e.raw[k] = map[string][]byte{}
		for _, kv := range kvs {
			o, err := api.DecodeObject(k, kv.Value)
			if err != nil {
				return fmt.Errorf("load %s/%s: %w", k, kv.Key, err)
			}
			e.raw[k][kv.Key] = kv.Value
			e.setObjectLocked(o)
		}
	}
	kvs, err := e.st.List(ctx, store.BucketState)
	if err != nil {
		return fmt.Errorf("load runtime state: %w", err)
	}
	for _, kv := range kvs {
		var err error
		switch {
		case strings.HasPrefix(kv.Key, keyHealthPrefix):
			check, site, _ := strings.Cut(strings.TrimPrefix(kv.Key, keyHealthPrefix), "/")
			var o api.SiteObservation
			if err = json.Unmarshal(kv.Value, &o); err == nil {
				e.obsFor(check)[site] = o
			}
		case strings.HasPrefix(kv.Key, keyCheckPrefix):
			var cs checkState
			if err = json.Unmarshal(kv.Value, &cs); err == nil {
				e.checkStates[strings.TrimPrefix(kv.Key, keyCheckPrefix)] = cs
			}
		case strings.HasPrefix(kv.Key, keyPolicyPrefix):
			var rt policyRuntime
			if err = json.Unmarshal(kv.Value, &rt); err == nil {
				e.runtime[strings.TrimPrefix(kv.Key, keyPolicyPrefix)] = &rt
			}
		case strings.HasPrefix(kv.Key, keyOverridePrefix):
			var ov api.Override
			if err = json.Unmarshal(kv.Value, &ov); err == nil {
				e.overrides[strings.TrimPrefix(kv.Key, keyOverridePrefix)] = ov
			}
		}
		if err != nil {
			// Runtime state is rebuilt by probing; a bad record must not
			// keep the control plane down.
			e.log.Warn("ignoring unreadable runtime state", "key", kv.Key, "err", err)
		}
	}
	for name, c := range e.checks {
		if o, ok := e.obs[name][e.opts.Site]; ok {
			e.monitor.Restore(name, o)
		}
		e.monitor.Upsert(c)
	}
	now := e.now()
	for name := range e.toggles {
		e.refreshToggleLocked(name, now)
	}
	for name := range e.policies {
		e.evaluateLocked(name, now, now, "restored after restart")
	}
	// The gauges are otherwise set only when a state changes: export the
	// restored states now, or a restart blanks them until the next change.
	for name := range e.checks {
		if cs, ok := e.checkStates[name]; ok {
			e.metrics.checkState(name, cs.State)
		}
	}
	for name, rt := range e.runtime {
		if _, ok := e.policies[name]; ok {
			e.metrics.decision(name, false, 0, len(rt.Decision.Serving))
		}
	}
	for name := range e.replicaSets {
		e.refreshReplicaStatusLocked(name, now)
	}
	e.publishLocked()
	return nil
}

func (e *Engine) obsFor(check string) map[string]api.SiteObservation {
	m := e.obs[check]
	if m == nil {
		m = map[string]api.SiteObservation{}
		e.obs[check] = m
	}
	return m
}

// Start begins probing and evaluating. It returns at once.
func (e *Engine) Start(ctx context.Context) {
	ctx, e.cancel = context.WithCancel(ctx)
	e.monitor.Start(ctx)
	go e.loop(ctx)
	e.ready.Store(true)
}

// Ready reports whether the engine has loaded its state and is probing.
func (e *Engine) Ready() bool { return e.ready.Load() }

// Close stops probing and evaluation and flushes runtime state. It does
// not close the store.
func (e *Engine) Close() {
	e.ready.Store(false)
	if e.cancel != nil {
		e.cancel()
		e.monitor.Stop()
		<-e.done
	}
	e.persist.close()
}

// Flush waits until all runtime state queued so far is durable.
func (e *Engine) Flush() { e.persist.flush() }

// Site is the probing site of this node.
func (e *Engine) Site() string { return e.opts.Site }

// Started is when this engine was created.
func (e *Engine) Started() time.Time { return e.started }

func (e *Engine) loop(ctx context.Context) {
	defer close(e.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		e.mu.RLock()
		next := e.nextWakeLocked()
		e.mu.RUnlock()
		d := time.Hour
		if !next.IsZero() {
			d = max(next.Sub(e.now()), 0)
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return
		case t := <-e.transitions:
			e.handleTransition(t)
		case <-e.kick:
		case <-timer.C:
			e.handleTimers()
		}
	}
}

func (e *Engine) wakeLoop() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

func (e *Engine) nextWakeLocked() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, rt := range e.runtime {
		consider(rt.nextWake)
	}
	for _, t := range e.toggleNext {
		consider(t)
	}
	for _, ov := range e.overrides {
		consider(ov.ExpiresAt)
	}
	return next
}

func (e *Engine) handleTimers() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	changed := false
	for name, ov := range e.overrides {
		if !now.Before(ov.ExpiresAt) {
			delete(e.overrides, name)
			e.persist.del(store.BucketState, OverrideKey(name))
			e.emitLocked(api.Event{Time: now, Type: api.EventDecision, Object: objectRef(api.KindTrafficPolicy, name),
				Message: fmt.Sprintf("override to %q expired", ov.Target)})
			e.evaluateLocked(name, now, now, "override expired")
			changed = true
		}
	}
	for name, next := range e.toggleNext {
		if !next.IsZero() && !now.Before(next) {
			if e.refreshToggleLocked(name, now) {
				changed = true
			}
		}
	}
	for name, rt := range e.runtime {
		if !rt.nextWake.IsZero() && !now.Before(rt.nextWake) {
			if e.evaluateLocked(name, now, now, "") {
				changed = true
			}
		}
	}
	if changed {
		e.publishLocked()
	}
}

// handleTransition records one site's rise/fall transition and, when the
// check's overall state changes, re-evaluates every policy and replica set
// that depends on it — right away, in this goroutine.
func (e *Engine) handleTransition(t health.Transition) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.checks[t.Check]
	if !ok {
		return // deleted while the probe ran
	}
	e.obsFor(t.Check)[t.Site] = t.Observation
	e.persist.put(store.BucketState, healthKey(t.Check, t.Site), mustJSON(t.Observation))
	e.log.Info("site observation changed", "check", t.Check, "site", t.Site, "from", t.From, "to", t.To, "error", t.Observation.LastError)

	now := e.now()
	prev := e.checkStates[t.Check]
	state := e.aggregateLocked(c, now)
	if state == prev.State || (prev.State == "" && state == api.StateUnknown) {
		return
	}
	if failsStatic(prev.State, state, t) {
		e.log.Warn("check held unhealthy: no site can probe it", "check", t.Check, "site", t.Site, "error", t.Observation.LastError)
		return
	}
	e.setCheckStateLocked(t.Check, checkState{State: state, Since: t.At, ObservedAt: t.At}, prev.State, t.Observation.LastError)
	e.reactToCheckLocked(t.Check, t.At, now)
	e.publishLocked()
}

func (e *Engine) setCheckStateLocked(name string, cs checkState, from, lastErr string) {
	e.checkStates[name] = cs
	e.persist.put(store.BucketState, keyCheckPrefix+name, mustJSON(cs))
	e.metrics.checkState(name, cs.State)
	if from == "" {
		from = api.StateUnknown
	}
	msg := fmt.Sprintf("check %s is %s (was %s)", name, cs.State, from)
	// Unhealthy says what failed; unknown says why no site can tell (e.g.
	// "local: too many open files"); healthy has nothing to explain.
	if lastErr != "" && cs.State != api.StateHealthy {
		msg += ": " + lastErr
	}
	e.emitLocked(api.Event{Time: e.now(), Type: api.EventHealth, Object: objectRef(api.KindHealthCheck, name),
		Message: msg, ObservedAt: ptrTime(cs.ObservedAt),
		Data: mustJSON(map[string]string{"from": from, "to": cs.State})})
}

// reactToCheckLocked re-evaluates what depends on check.
func (e *Engine) reactToCheckLocked(check string, observedAt, now time.Time) {
	for _, name := range api.SortedKeys(e.policies) {
		if policyUsesCheck(e.policies[name], check) {
			e.evaluateLocked(name, observedAt, now, "")
		}
	}
	for _, name := range api.SortedKeys(e.replicaSets) {
		for _, m := range e.replicaSets[name].Members {
			if m.HealthCheck == check {
				e.refreshReplicaStatusLocked(name, now)
				break
			}
		}
	}
}

func policyUsesCheck(p api.TrafficPolicy, check string) bool {
	for _, t := range p.Targets {
		for _, c := range t.HealthChecks {
			if c == check {
				return true
			}
		}
	}
	return false
}

// aggregateLocked is the check's overall state across probing sites. This
// node's own observation is never stale — if we run, we probe — so a
// restart that restores an old observation keeps its state instead of
// dropping to unknown.
func (e *Engine) aggregateLocked(c api.HealthCheck, now time.Time) string {
	sites := map[string]api.SiteObservation{}
	for s, o := range e.obs[c.Name] {
		if s == e.opts.Site {
			o.LastChecked = now
		}
		sites[s] = o
	}
	return health.Aggregate(c, sites, now)
}

func healthKey(check, site string) string { return keyHealthPrefix + check + "/" + site }

func objectRef(k api.Kind, name string) string { return string(k) + "/" + name }
