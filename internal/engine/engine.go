// Package engine is failoverd's runtime core: it owns the declared objects
// in memory, feeds health transitions to the policy evaluator the moment
// they happen, keeps timers for delays, schedules and override expiry,
// persists runtime state so a restart resumes exactly where it stopped,
// and publishes an immutable Snapshot that DNS and /burst answer from.
//
// The store is shared: every node of a cluster applies the store's change
// feed (feed.go), whoever wrote the change, so all nodes hold the same
// objects, overrides, observations, check states and decisions. Only the
// leader (cluster.Node) aggregates votes, evaluates policies and writes
// check states, decisions and runtime events, under its fence
// (leader.go); followers take those from the feed and publish the same
// Snapshot. A standalone node is a cluster of one and always leads.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/cluster"
	"github.com/hatopo/terraform-provider-failover/internal/health"
	"github.com/hatopo/terraform-provider-failover/internal/policy"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// Options configures an Engine.
type Options struct {
	Store store.Store
	// Cluster is this node's place in the control plane; nil: a cluster of
	// one (cluster.Standalone) of Site.
	Cluster cluster.Node
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
	// ProbeSourceAddr, when valid, is the source address of every health
	// probe (--probe-source-addr).
	ProbeSourceAddr netip.Addr
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
	notify  *notifier // event sequence numbers
	revs    *notifier // store revisions applied from the feed
	metrics *metrics
	node    cluster.Node

	// writeMu serialises mutations of declared objects so validation,
	// referential checks and the commit see one consistent world.
	writeMu sync.Mutex

	mu          sync.RWMutex
	raw         map[api.Kind]map[string][]byte
	checks      objects[api.HealthCheck]
	policies    objects[api.TrafficPolicy]
	replicaSets objects[api.ReplicaSet]
	toggles     objects[api.BurstToggle]
	webhooks    objects[api.Webhook]
	objects     map[api.Kind]collection // the five maps above, by kind
	checkUsers  checkUsers              // policies by the checks they use (index.go)
	calcParents checkUsers              // calculated checks by their child checks
	calcDepth   int                     // nesting of calculated re-evaluations (a guard)
	misaligned  map[string]string       // policy → the expected primary site it does not serve (alignment.go)
	noProber    map[string]string       // check → "no prober for site X" while none of its probe_sites has a live prober (probers.go)
	overrides   map[string]api.Override
	obs         map[string]map[string]api.SiteObservation
	checkStates map[string]checkState
	runtime     map[string]*policyRuntime
	toggleOn    map[string]bool
	toggleNext  map[string]time.Time
	rsStatus    map[string]api.ReplicaSetStatus
	// outboxSent is what this leader last wrote to each outbox key, so an
	// evaluation that changes nothing published writes nothing.
	outboxSent map[string][]byte
	// onCommit is called after each commit of leader writes (OnCommit).
	onCommit atomic.Pointer[func()]

	// leading: this node decides (see leader.go); term is its current
	// leadership. Under mu.
	leading bool
	term    *term
	// epoch is the cluster session whose ephemeral keys hold this node's
	// observations (the loop goroutine's).
	epoch uint64
	// leaderRecords are the leader's check/ and policy/ records as the
	// store holds them at the feed's position, kept while this node leads
	// too (it does not apply them then), so that stepping down returns to
	// them. Under mu.
	leaderRecords map[string][]byte

	snap        atomic.Pointer[Snapshot]
	touched     touched // what the next publishLocked updates (snapshot.go)
	transitions chan health.Transition
	kick        chan struct{}
	recheck     chan struct{} // the leadership is to be looked at again
	cancel      context.CancelFunc
	done        chan struct{}
	feedCancel  context.CancelFunc
	feedDone    chan struct{}
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
		opts:          opts,
		st:            opts.Store,
		log:           opts.Logger,
		now:           opts.Now,
		notify:        newNotifier(),
		revs:          newNotifier(),
		raw:           map[api.Kind]map[string][]byte{},
		checks:        objects[api.HealthCheck]{},
		policies:      objects[api.TrafficPolicy]{},
		replicaSets:   objects[api.ReplicaSet]{},
		toggles:       objects[api.BurstToggle]{},
		webhooks:      objects[api.Webhook]{},
		overrides:     map[string]api.Override{},
		obs:           map[string]map[string]api.SiteObservation{},
		checkStates:   map[string]checkState{},
		misaligned:    map[string]string{},
		noProber:      map[string]string{},
		runtime:       map[string]*policyRuntime{},
		toggleOn:      map[string]bool{},
		toggleNext:    map[string]time.Time{},
		rsStatus:      map[string]api.ReplicaSetStatus{},
		leaderRecords: map[string][]byte{},
		outboxSent:    map[string][]byte{},
		transitions:   make(chan health.Transition, 4096),
		kick:          make(chan struct{}, 1),
		recheck:       make(chan struct{}, 1),
		done:          make(chan struct{}),
		feedDone:      make(chan struct{}),
		started:       opts.Now(),
	}
	e.objects = map[api.Kind]collection{
		api.KindHealthCheck:   e.checks,
		api.KindTrafficPolicy: e.policies,
		api.KindReplicaSet:    e.replicaSets,
		api.KindBurstToggle:   e.toggles,
		api.KindWebhook:       e.webhooks,
	}
	e.metrics = newMetrics(opts.Registerer)
	e.persist = newPersister(e.st, e.log, e.notify.advance, opts.MaxQueuedEvents, e.metrics.eventsDropped)
	e.persist.afterCommit = func() {
		if f := e.onCommit.Load(); f != nil {
			(*f)()
		}
	}
	e.monitor = health.NewMonitor(health.MonitorOptions{
		Site:            opts.Site,
		OnTransition:    func(t health.Transition) { e.transitions <- t },
		Registerer:      opts.Registerer,
		ProbeSourceAddr: opts.ProbeSourceAddr,
	})
	e.node = opts.Cluster
	if e.node == nil {
		e.node = cluster.NewStandalone(api.ClusterMember{Site: opts.Site, Node: hostname(), URL: opts.BaseURL, Started: e.started})
	}
	cluster.RegisterMetrics(opts.Registerer, e.node)
	// Leading before the load means the load reads everything a previous
	// leader wrote (it lost its key before this node won), so this node may
	// decide from what it loads. Otherwise the loop takes over later, once
	// the feed has caught up (leader.go).
	fence, leadingBefore := e.node.Leading()
	rev, err := e.load(context.Background())
	if err != nil {
		e.persist.close()
		return nil, err
	}
	e.epoch = e.node.Epoch()
	if f, ok := e.node.Leading(); leadingBefore && ok && f == fence {
		e.mu.Lock()
		e.lead(fence, "restored after restart")
		e.mu.Unlock()
	}
	if last, err := e.st.LastSeq(context.Background()); err == nil {
		e.notify.advance(last)
	}
	feedCtx, cancel := context.WithCancel(context.Background())
	e.feedCancel = cancel
	go e.follow(feedCtx, rev)
	return e, nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

// loadBuckets are the buckets the engine holds in memory.
func loadBuckets() []string {
	b := []string{store.BucketState}
	for _, k := range api.Kinds {
		b = append(b, string(k))
	}
	return b
}

// load reads every object and all runtime state at one revision, restores
// this site's last observations into the monitor and publishes the stored
// decisions. It returns the revision, from which the feed continues.
func (e *Engine) load(ctx context.Context) (uint64, error) {
	rev, kvs, err := e.st.Load(ctx, loadBuckets()...)
	if err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range api.Kinds {
		e.raw[k] = map[string][]byte{}
		for _, kv := range kvs[string(k)] {
			o, err := api.DecodeObject(k, kv.Value)
			if err != nil {
				return 0, fmt.Errorf("load %s/%s: %w", k, kv.Key, err)
			}
			e.raw[k][kv.Key] = kv.Value
			e.setObjectLocked(o)
		}
	}
	for _, kv := range kvs[store.BucketState] {
		if err := e.loadStateLocked(kv.Key, kv.Value); err != nil {
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
	return rev, nil
}

// loadStateLocked takes one runtime-state record as stored.
func (e *Engine) loadStateLocked(k string, v []byte) error {
	switch {
	case strings.HasPrefix(k, keyHealthPrefix):
		check, site, _ := strings.Cut(strings.TrimPrefix(k, keyHealthPrefix), "/")
		var o api.SiteObservation
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		e.obsFor(check)[site] = o
	case strings.HasPrefix(k, keyCheckPrefix):
		e.leaderRecords[k] = v
		var cs checkState
		if err := json.Unmarshal(v, &cs); err != nil {
			return err
		}
		e.checkStates[strings.TrimPrefix(k, keyCheckPrefix)] = cs
	case strings.HasPrefix(k, keyPolicyPrefix):
		e.leaderRecords[k] = v
		var rt policyRuntime
		if err := json.Unmarshal(v, &rt); err != nil {
			return err
		}
		e.runtime[strings.TrimPrefix(k, keyPolicyPrefix)] = &rt
	case strings.HasPrefix(k, keyOverridePrefix):
		var ov api.Override
		if err := json.Unmarshal(v, &ov); err != nil {
			return err
		}
		e.overrides[strings.TrimPrefix(k, keyOverridePrefix)] = ov
	}
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
	// This site's observations go to the store now, on this process's
	// session: the restored ones were written by a previous process, whose
	// ephemeral keys vanish with its lease.
	e.writeOwnObservations()
	go e.loop(ctx)
	e.ready.Store(true)
}

// Ready reports whether the engine has loaded its state and is probing.
func (e *Engine) Ready() bool { return e.ready.Load() }

// Close stops probing, evaluation and the feed, and flushes runtime
// state. It does not close the store or the cluster node.
func (e *Engine) Close() {
	e.ready.Store(false)
	if e.cancel != nil {
		e.cancel()
		e.monitor.Stop()
		<-e.done
	}
	e.feedCancel()
	<-e.feedDone
	e.persist.close()
}

// Flush waits until all runtime state queued so far is durable.
func (e *Engine) Flush() { e.persist.flush() }

// Site is the probing site of this node.
func (e *Engine) Site() string { return e.opts.Site }

// Started is when this engine was created.
func (e *Engine) Started() time.Time { return e.started }

// Cluster is this node's place in the control plane.
func (e *Engine) Cluster() cluster.Node { return e.node }

func (e *Engine) loop(ctx context.Context) {
	defer close(e.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// Leadership may have come between New and Start.
	e.followCluster(ctx)
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
			e.confirmLeading()
			e.handleTransition(t)
		case <-e.kick:
		case <-e.node.Changes():
			e.followCluster(ctx)
		case <-e.recheck:
			e.followCluster(ctx)
		case <-timer.C:
			e.confirmLeading()
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

// nextWakeLocked is the next timer: toggle schedules on every node;
// override expiry and evaluator delays only where they are acted on, on
// the leader (a follower takes the resulting decision from the feed).
func (e *Engine) nextWakeLocked() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, t := range e.toggleNext {
		consider(t)
	}
	if !e.leading {
		return next
	}
	for _, rt := range e.runtime {
		consider(rt.nextWake)
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
	if e.leading {
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
	}
	for name, next := range e.toggleNext {
		if !next.IsZero() && !now.Before(next) {
			if e.refreshToggleLocked(name, now) {
				changed = true
			}
		}
	}
	if e.leading {
		for name, rt := range e.runtime {
			if !rt.nextWake.IsZero() && !now.Before(rt.nextWake) {
				if e.evaluateLocked(name, now, now, "") {
					changed = true
				}
			}
		}
	}
	if changed {
		e.publishLocked()
	}
}

// handleTransition records a rise/fall transition of this site and writes
// it to the store, where the leader reads it. On the leader, when the
// check's overall state changes, every policy and replica set that depends
// on it is re-evaluated — right away, in this goroutine.
func (e *Engine) handleTransition(t health.Transition) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.checks[t.Check]; !ok {
		return // deleted while the probe ran
	}
	e.obsFor(t.Check)[t.Site] = t.Observation
	e.persist.putOwn(store.BucketState, healthKey(t.Check, t.Site), mustJSON(t.Observation), true)
	e.log.Info("site observation changed", "check", t.Check, "site", t.Site, "from", t.From, "to", t.To, "error", t.Observation.LastError)
	if e.reaggregateLocked(t.Check, t.At, t.Local != "", t.Observation.LastError) {
		e.publishLocked()
	}
}

// reaggregateLocked recomputes a check's overall state from the votes, on
// the leader, and acts on a change: at (the triggering observation's
// time) becomes the state's Since. local says the vote that changed was a
// local failure of its site (see failsStatic). It reports whether the
// state changed.
func (e *Engine) reaggregateLocked(check string, at time.Time, local bool, lastErr string) bool {
	c, ok := e.checks[check]
	if !ok || !e.leading || !api.Bool(c.Enabled, true) {
		return false
	}
	now := e.now()
	prev := e.checkStates[check]
	var state string
	if c.Type == api.CheckCalculated {
		state, lastErr = e.calculateLocked(c)
	} else {
		state = e.aggregateLocked(c, now)
	}
	if state == prev.State || (prev.State == "" && state == api.StateUnknown) {
		return false
	}
	if failsStatic(prev.State, state, local) {
		e.log.Warn("check held unhealthy: no site can probe it", "check", check, "error", lastErr)
		return false
	}
	e.setCheckStateLocked(check, checkState{State: state, Since: at, ObservedAt: at}, prev.State, lastErr)
	e.reactToCheckLocked(check, at, now)
	return true
}

func (e *Engine) setCheckStateLocked(name string, cs checkState, from, lastErr string) {
	e.checkStates[name] = cs
	e.persist.put(store.BucketState, keyCheckPrefix+name, mustJSON(cs))
	e.metrics.checkState(name, cs.State)
	e.emitLocked(healthEvent(name, cs, from, lastErr, e.now()))
}

// healthEvent is the event of a check's state change from the state from.
func healthEvent(name string, cs checkState, from, lastErr string, now time.Time) api.Event {
	if from == "" {
		from = api.StateUnknown
	}
	msg := fmt.Sprintf("check %s is %s (was %s)", name, cs.State, from)
	// Unhealthy says what failed; unknown says why no site can tell (e.g.
	// "local: too many open files"); healthy has nothing to explain.
	if lastErr != "" && cs.State != api.StateHealthy {
		msg += ": " + lastErr
	}
	return api.Event{Time: now, Type: api.EventHealth, Object: objectRef(api.KindHealthCheck, name),
		Message: msg, ObservedAt: ptrTime(cs.ObservedAt),
		Data: mustJSON(map[string]string{"from": from, "to": cs.State})}
}

// calculateLocked is a calculated check's state from its children's
// overall states, and a summary of them for the event ("child checks:
// web-az1 healthy, web-az2 unhealthy").
func (e *Engine) calculateLocked(c api.HealthCheck) (string, string) {
	child := func(n string) string {
		if cs, ok := e.checkStates[n]; ok {
			return cs.State
		}
		return api.StateUnknown
	}
	parts := make([]string, len(c.ChildChecks))
	for i, n := range c.ChildChecks {
		parts[i] = n + " " + child(n)
	}
	rule := c.HealthyWhen
	if rule == api.HealthyWhenAtLeast {
		rule = fmt.Sprintf("at_least %d", c.AtLeast)
	}
	if c.Invert {
		rule += ", inverted"
	}
	return health.Calculate(c, child), fmt.Sprintf("calculated (%s) from child checks: %s", rule, strings.Join(parts, ", "))
}

// maxCalcDepth bounds nested calculated checks. Cycles are refused when
// written; this only keeps a damaged store from recursing without end.
const maxCalcDepth = 32

// reactToCheckLocked re-evaluates what depends on check: its policies, its
// replica sets and, on the leader, the calculated checks built on it.
func (e *Engine) reactToCheckLocked(check string, observedAt, now time.Time) {
	if parents := e.calcParents.of(check); len(parents) > 0 && e.leading {
		if e.calcDepth >= maxCalcDepth {
			e.log.Error("calculated checks nested too deep: not re-evaluated", "check", check, "depth", e.calcDepth)
		} else {
			e.calcDepth++
			for _, p := range parents {
				e.reaggregateLocked(p, observedAt, false, "")
			}
			e.calcDepth--
		}
	}
	for _, name := range e.checkUsers.of(check) {
		e.evaluateLocked(name, observedAt, now, "")
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

// aggregateLocked is the check's overall state across probing sites.
// This node's own observation is never stale — if we run, we probe — so a
// restart that restores an old observation keeps its state instead of
// dropping to unknown. Another site's observation votes while that site's
// failoverd is alive (its cluster lease holds), however long ago it
// changed; without membership information (standalone) its age decides
// (health.Aggregate's staleness rule).
func (e *Engine) aggregateLocked(c api.HealthCheck, now time.Time) string {
	sites := map[string]api.SiteObservation{}
	for s, o := range e.obs[c.Name] {
		if s != e.opts.Site {
			fresh, known := e.node.SiteFresh(s)
			if known && !fresh {
				continue
			}
			if !known {
				sites[s] = o
				continue
			}
		}
		o.LastChecked = now
		sites[s] = o
	}
	return health.Aggregate(c, sites, now)
}

func healthKey(check, site string) string { return keyHealthPrefix + check + "/" + site }

func objectRef(k api.Kind, name string) string { return string(k) + "/" + name }
