package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/keyed"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// Defaults of Options (see the accessor methods).
const (
	// DefaultReconcileInterval is how often a published record is read
	// back and repaired when changed outside failoverd.
	DefaultReconcileInterval = time.Minute
	// DefaultResync is how often the manager lists the outbox even when
	// nothing woke it: it notices a leadership change within this.
	DefaultResync = time.Second
	// DefaultAttemptTimeout bounds one publication, Route 53's wait for
	// INSYNC included.
	DefaultAttemptTimeout = 2 * time.Minute
	// Retries back off from minBackoff, doubling, to maxBackoff.
	minBackoff = 500 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// Options configures a Manager.
type Options struct {
	Store store.Store
	// Leading reports whether this node leads: only the leader publishes.
	Leading func() bool
	// Write queues a leader write into BucketOutbox (nil value: delete);
	// the engine drops it unless this node still leads, under its fence.
	Write func(key string, value []byte)
	// Emit records a runtime event (a failing or recovered destination,
	// a repaired record).
	Emit func(api.Event)
	// Publishers by destination (api.DestinationRFC2136, ...). An entry
	// for a destination without one fails with a message saying why.
	Publishers map[string]Publisher
	// ReconcileInterval; 0: DefaultReconcileInterval.
	ReconcileInterval time.Duration
	// Resync; 0: DefaultResync.
	Resync time.Duration
	// AttemptTimeout; 0: DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	Now            func() time.Time
}

func (o Options) reconcile() time.Duration {
	if o.ReconcileInterval > 0 {
		return o.ReconcileInterval
	}
	return DefaultReconcileInterval
}

func (o Options) resync() time.Duration {
	if o.Resync > 0 {
		return o.Resync
	}
	return DefaultResync
}

func (o Options) attemptTimeout() time.Duration {
	if o.AttemptTimeout > 0 {
		return o.AttemptTimeout
	}
	return DefaultAttemptTimeout
}

// Manager drains the outbox on the leader: one worker per entry.
type Manager struct {
	o       Options
	log     *slog.Logger
	now     func() time.Time
	kick    chan struct{}
	metrics *metrics

	mu      sync.Mutex
	workers map[string]*worker
}

// New returns a Manager; Run drives it.
func New(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{o: o, log: o.Logger, now: o.Now, kick: make(chan struct{}, 1), workers: map[string]*worker{}}
	m.metrics = newMetrics(m, o.Registerer)
	return m
}

// Kick makes the manager look at the outbox now (the engine calls it
// after each commit).
func (m *Manager) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx ends; it then stops every worker and
// waits for them (an attempt in flight is canceled).
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.o.resync())
	defer t.Stop()
	defer m.stopAll()
	for {
		m.sync(ctx)
		select {
		case <-ctx.Done():
			return
		case <-m.kick:
		case <-t.C:
		}
	}
}

// sync starts a worker for each outbox entry, hands each its newest
// entry, and stops the workers of entries that are gone — or all of them
// when this node does not lead.
func (m *Manager) sync(ctx context.Context) {
	if !m.o.Leading() {
		m.stopAll()
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	kvs, err := m.o.Store.List(lctx, BucketOutbox)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("publish: cannot read the outbox; retrying", "err", err)
		}
		return
	}
	statuses := map[string]status{}
	entries := map[string]Entry{}
	for _, kv := range kvs {
		switch {
		case strings.HasPrefix(kv.Key, statusPrefix):
			var s status
			if json.Unmarshal(kv.Value, &s) == nil {
				statuses[strings.TrimPrefix(kv.Key, statusPrefix)] = s
			}
		case strings.HasPrefix(kv.Key, entryPrefix):
			var e Entry
			if err := json.Unmarshal(kv.Value, &e); err != nil {
				m.log.Warn("publish: ignoring an unreadable outbox entry", "key", kv.Key, "err", err)
				continue
			}
			entries[strings.TrimPrefix(kv.Key, entryPrefix)] = e
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	keyed.Reconcile(m.workers, entries,
		func(id string, e Entry) *worker { return m.newWorker(id, e, statuses[id]) },
		(*worker).run, (*worker).offer, (*worker).close)
}

func (m *Manager) stopAll() { keyed.StopAll(&m.mu, &m.workers, (*worker).close) }

// worker publishes one outbox entry (a policy's record at one
// destination) and keeps it published.
type worker struct {
	m      *Manager
	id     string // "<policy>/<destination>"
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	next Entry  // the newest entry, under mu
	st   status // the worker's own; a copy under mu for metrics
}

func (m *Manager) newWorker(id string, e Entry, st status) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	st.Destination, st.Record = e.Destination, e.Record()
	return &worker{m: m, id: id, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{}), next: e, st: st}
}

// offer hands the worker the newest entry; a newer entry replaces one not
// yet published (coalescing: only the newest state of a record matters).
func (w *worker) offer(e Entry) {
	w.mu.Lock()
	changed := e.Digest() != w.next.Digest() || e.Generation != w.next.Generation
	w.next = e
	w.mu.Unlock()
	if changed {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (w *worker) close() {
	w.cancel()
	<-w.done
}

func (w *worker) current() (Entry, status) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next, w.st
}

func (w *worker) setStatus(st status) {
	w.mu.Lock()
	w.st = st
	w.mu.Unlock()
	b, _ := json.Marshal(st)
	w.m.o.Write(statusPrefix+w.id, b)
}

func (w *worker) run() {
	defer close(w.done)
	reconcile := time.NewTimer(w.m.o.reconcile())
	defer reconcile.Stop()
	backoff := minBackoff
	for {
		e, st := w.current()
		var retry *time.Timer
		if e.Digest() != st.Digest {
			if w.attempt(e) {
				backoff = minBackoff
				continue // a newer entry may have come meanwhile
			}
			retry = time.NewTimer(backoff)
			backoff = min(2*backoff, maxBackoff)
		}
		var retryC <-chan time.Time
		if retry != nil {
			retryC = retry.C
		}
		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		case <-retryC:
		case <-reconcile.C:
			if e.Digest() == st.Digest {
				w.reconcile(e)
			}
			reconcile.Reset(w.m.o.reconcile())
		}
		if retry != nil {
			retry.Stop()
		}
	}
}

func (w *worker) publisher(e Entry) (Publisher, error) {
	p, ok := w.m.o.Publishers[e.Destination]
	if !ok {
		return nil, fmt.Errorf("%s publishing is not set up in this failoverd (see failoverd serve -h)", e.Destination)
	}
	return p, nil
}

// attempt publishes e once and records the outcome; it reports success.
func (w *worker) attempt(e Entry) bool {
	_, st := w.current()
	now := w.m.now()
	p, err := w.publisher(e)
	if err == nil {
		ctx, cancel := context.WithTimeout(w.ctx, w.m.o.attemptTimeout())
		err = p.Publish(ctx, e)
		cancel()
	}
	if w.ctx.Err() != nil {
		return false // stopped: not a failure of the destination
	}
	end := w.m.now()
	st.Destination, st.Record, st.Generation = e.Destination, e.Record(), e.Generation
	st.LastAttempt = &end
	ref := api.ObjectPath(api.KindTrafficPolicy, e.Policy)
	if err != nil {
		st.Attempts++
		st.LastError = err.Error()
		w.m.metrics.attempts.WithLabelValues(e.Destination, "failure").Inc()
		if st.Attempts == 1 {
			w.m.log.Warn("publish failed; retrying with backoff", "policy", e.Policy, "destination", e.Destination, "record", e.Record(), "err", err)
			w.m.o.Emit(api.Event{Time: end, Type: api.EventPublish, Object: ref,
				Message: fmt.Sprintf("publishing policy %s to %s %s failed; retrying: %v", e.Policy, e.Destination, e.Record(), err),
				Data:    mustJSON(st.PublishStatus)})
		}
		w.setStatus(st)
		return false
	}
	failed := st.Attempts
	st.Attempts, st.LastError = 0, ""
	st.PublishedGeneration, st.Digest, st.LastSuccess = e.Generation, e.Digest(), &end
	w.m.metrics.attempts.WithLabelValues(e.Destination, "success").Inc()
	w.m.metrics.latency.WithLabelValues(e.Destination).Observe(end.Sub(e.DecidedAt).Seconds())
	w.m.log.Info("published", "policy", e.Policy, "destination", e.Destination, "record", e.Record(), "generation", e.Generation,
		"decision_to_published", end.Sub(e.DecidedAt), "took", end.Sub(now))
	if failed > 0 {
		w.m.o.Emit(api.Event{Time: end, Type: api.EventPublish, Object: ref,
			Message: fmt.Sprintf("publishing policy %s to %s %s works again after %d failed attempts", e.Policy, e.Destination, e.Record(), failed),
			Data:    mustJSON(st.PublishStatus)})
	}
	w.setStatus(st)
	return true
}

// reconcile reads the published record back and writes it again when it
// was changed outside failoverd.
func (w *worker) reconcile(e Entry) {
	p, err := w.publisher(e)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.m.o.attemptTimeout())
	defer cancel()
	got, err := p.Read(ctx, e)
	if err != nil {
		if w.ctx.Err() == nil {
			w.m.log.Warn("publish: cannot read the record back to reconcile it", "policy", e.Policy, "destination", e.Destination, "record", e.Record(), "err", err)
		}
		return
	}
	if got.Equal(e.Records) {
		return
	}
	if err := p.Publish(ctx, e); err != nil {
		w.m.log.Warn("publish: record changed outside failoverd, and repairing it failed", "policy", e.Policy, "destination", e.Destination, "record", e.Record(), "err", err)
		return
	}
	_, st := w.current()
	now := w.m.now()
	st.LastRepair = &now
	w.m.metrics.repairs.WithLabelValues(e.Destination).Inc()
	w.m.log.Warn("publish: repaired a record changed outside failoverd", "policy", e.Policy, "destination", e.Destination, "record", e.Record())
	w.m.o.Emit(api.Event{Time: now, Type: api.EventPublish, Object: api.ObjectPath(api.KindTrafficPolicy, e.Policy),
		Message: fmt.Sprintf("%s %s of policy %s was changed outside failoverd (it held %s); wrote back %s", e.Destination, e.Record(), e.Policy, got, e.Records),
		Data:    mustJSON(st.PublishStatus)})
	w.setStatus(st)
}

// String is a record set as messages show it.
func (r RecordSet) String() string {
	switch {
	case r.Empty():
		return "no record"
	case r.CNAME != "":
		return fmt.Sprintf("CNAME %s (ttl %d)", r.CNAME, r.TTL)
	}
	return fmt.Sprintf("%s (ttl %d)", strings.Join(append(append([]string(nil), r.A...), r.AAAA...), " "), r.TTL)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// ReadStatus is where the publication of policy (every policy when "")
// stands at each destination, read from the store (any node can answer
// it), ordered by policy and destination.
func ReadStatus(ctx context.Context, st store.Store, policy string, now time.Time) ([]api.PublishStatus, error) {
	kvs, err := st.List(ctx, BucketOutbox)
	if err != nil {
		return nil, err
	}
	stored := map[string]status{}
	for _, kv := range kvs {
		if p, ok := PolicyOfKey(kv.Key); ok && (policy == "" || p == policy) && strings.HasPrefix(kv.Key, statusPrefix) {
			var s status
			if json.Unmarshal(kv.Value, &s) == nil {
				stored[strings.TrimPrefix(kv.Key, statusPrefix)] = s
			}
		}
	}
	out := []api.PublishStatus{}
	for _, kv := range kvs {
		if p, ok := PolicyOfKey(kv.Key); !ok || (policy != "" && p != policy) || !strings.HasPrefix(kv.Key, entryPrefix) {
			continue
		}
		var e Entry
		if json.Unmarshal(kv.Value, &e) != nil {
			continue
		}
		out = append(out, statusOf(e, stored[strings.TrimPrefix(kv.Key, entryPrefix)], now))
	}
	return out, nil
}

// statusOf is the wire status of entry e, given its stored status.
func statusOf(e Entry, s status, now time.Time) api.PublishStatus {
	ps := s.PublishStatus
	ps.Policy, ps.Destination, ps.Record, ps.Generation = e.Policy, e.Destination, e.Record(), e.Generation
	ps.InSync = s.Digest == e.Digest()
	ps.LagSeconds = 0
	if !ps.InSync {
		ps.LagSeconds = max(now.Sub(e.DecidedAt).Seconds(), 0)
	}
	return ps
}
