package engine

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// DefaultMaxQueuedEvents bounds the events waiting for the disk. State
// writes coalesce by key, so only events can pile up while commits fail
// (a full disk): at the bound the oldest runtime event is dropped for each
// new one, and audit events are dropped only when nothing else is left.
// 10,000 events are a few MB.
const DefaultMaxQueuedEvents = 10000

// persister writes runtime state (health observations, decisions, policy
// memory) and runtime events in the background. Probing and evaluation
// never wait for the store: a transition is acted on in memory at once and
// reaches the store within one commit (a few milliseconds). Writes to the
// same key coalesce, so a burst of 1,000 transitions is a handful of
// commits, not 1,000. Declared objects and the audit events of mutations
// do not go through here: the API commits those synchronously before it
// answers. Audit events of refused requests do (Engine.Emit).
//
// Writes go in two lanes. The node's own lane holds what any node writes
// for itself: its site's observations (ephemeral: they vanish with its
// lease) and audit events. The leader's lane holds what only the leader
// writes — check states, policy decisions and memory, runtime events —
// and is committed under the leadership's fence: a deposed leader's batch
// fails with store.ErrConflict and is dropped, never retried, so it cannot
// land after its successor's writes. A term (setTerm) starts each
// leadership; leader writes made under an older term, or with none, are
// dropped. Without a fence (a standalone node leads unconditionally) both
// lanes go in one commit.
//
// Memory stays bounded while the store fails: pending holds one value per
// key, and the event queues at most maxEvents besides the batch being
// committed (see DefaultMaxQueuedEvents).
type persister struct {
	st    store.Store
	log   *slog.Logger
	onSeq func(seq uint64) // called after events are durable
	// afterCommit, when set, is called after each commit that wrote
	// something (the publisher looks at the outbox then).
	afterCommit func()
	maxEvents   int
	dropped     *prometheus.CounterVec

	mu   sync.Mutex
	own  lane
	lead lane
	// term is the current leadership; nil while this node does not lead
	// (leader writes are then dropped).
	term     *term
	wake     chan struct{}
	done     chan struct{}
	closed   bool
	flushed  *sync.Cond
	inFlight bool
	// inFlightEvents counts the events of the batch being committed, which
	// are held in memory too.
	inFlightEvents int
	// damaged is set once the store reported itself damaged: nothing
	// queued will ever be written, so flush stops waiting.
	damaged bool
	// uncertain holds the batches of a commit whose outcome the store
	// could not tell (store.ErrOutcomeUnknown: etcd did not confirm, and
	// the write may still land). They are tried again first, alone and
	// under the same batch IDs, so one that did land is recognised and
	// never written twice; merged with newer writes under a new ID, its
	// events would be stored a second time.
	uncertain *heldBatches
	// burst counts the events dropped since the queue last drained, so
	// that a burst of drops is logged once when it starts and once, with
	// its totals, when the disk is back.
	burst struct{ runtime, audit int }
	// fail is the current streak of failed commits; only the loop
	// goroutine touches it.
	fail struct {
		count         int
		since, logged time.Time
	}
}

// heldBatches is one commit of the loop: this node's own batch and the
// leader's, each with its store.Batch.ID, and the term the leader batch
// belongs to.
type heldBatches struct {
	own, lead store.Batch
	t         *term
}

// term is one leadership of this node: fence is the condition its writes
// carry, nil when nothing can depose it (standalone).
type term struct{ fence *store.Condition }

// lane is one stream of pending writes.
type lane struct {
	pending map[key]record        // value nil = delete
	events  []func(uint64) []byte // runtime events, oldest first
	audit   []func(uint64) []byte // audit events, oldest first
}

type record struct {
	value     []byte
	ephemeral bool
}

func (l *lane) empty() bool { return len(l.pending) == 0 && len(l.events) == 0 && len(l.audit) == 0 }

// take moves everything pending into a batch.
func (l *lane) take() store.Batch {
	var b store.Batch
	for k, r := range l.pending {
		if r.value == nil {
			b.Deletes = append(b.Deletes, store.KV{Bucket: k.bucket, Key: k.key})
		} else {
			b.Puts = append(b.Puts, store.KV{Bucket: k.bucket, Key: k.key, Value: r.value, Ephemeral: r.ephemeral})
		}
	}
	b.Events, b.Audit = l.events, l.audit
	l.pending = map[key]record{}
	l.events, l.audit = nil, nil
	return b
}

// putBack returns a batch that failed to the lane, unless newer values
// superseded it, so a transient store error delays state but never drops it.
func (l *lane) putBack(b store.Batch) {
	for _, kv := range b.Puts {
		if _, newer := l.pending[key{kv.Bucket, kv.Key}]; !newer {
			l.pending[key{kv.Bucket, kv.Key}] = record{kv.Value, kv.Ephemeral}
		}
	}
	for _, kv := range b.Deletes {
		if _, newer := l.pending[key{kv.Bucket, kv.Key}]; !newer {
			l.pending[key{kv.Bucket, kv.Key}] = record{}
		}
	}
	l.events = append(b.Events, l.events...)
	l.audit = append(b.Audit, l.audit...)
}

type key struct{ bucket, key string }

func newPersister(st store.Store, log *slog.Logger, onSeq func(uint64), maxEvents int, dropped *prometheus.CounterVec) *persister {
	p := &persister{
		st:        st,
		log:       log,
		onSeq:     onSeq,
		maxEvents: maxEvents,
		dropped:   dropped,
		own:       lane{pending: map[key]record{}},
		lead:      lane{pending: map[key]record{}},
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	p.flushed = sync.NewCond(&p.mu)
	go p.loop()
	return p
}

// putOwn queues a write of this node's own record; ephemeral ones live as
// long as this node's session.
func (p *persister) putOwn(bucket, k string, v []byte, ephemeral bool) {
	p.mu.Lock()
	p.own.pending[key{bucket, k}] = record{v, ephemeral}
	p.mu.Unlock()
	p.kick()
}

func (p *persister) delOwn(bucket, k string) { p.putOwn(bucket, k, nil, false) }

// put queues a leader write; it is dropped unless this node leads.
func (p *persister) put(bucket, k string, v []byte) {
	p.mu.Lock()
	if p.term != nil {
		p.lead.pending[key{bucket, k}] = record{value: v}
	}
	p.mu.Unlock()
	p.kick()
}

func (p *persister) del(bucket, k string) { p.put(bucket, k, nil) }

// write is one leader write of putAll; value nil deletes.
type write struct {
	bucket, key string
	value       []byte
}

// putAll queues leader writes that must land in the same commit (a
// decision, the outbox entries that publish it and its event): they are
// added to the lane under one lock, so no commit takes some without the
// others — a decision stored without its event would be missing from the
// event log for good if the node lost contact before the next commit.
func (p *persister) putAll(ws []write, events ...func(uint64) []byte) {
	p.mu.Lock()
	if p.term != nil {
		for _, w := range ws {
			p.lead.pending[key{w.bucket, w.key}] = record{value: w.value}
		}
		p.lead.events = append(p.lead.events, events...)
		p.trimLocked()
	}
	p.mu.Unlock()
	p.kick()
}

// event queues a runtime event (a leader write, dropped unless this node
// leads), or an audit event (this node's own: kept in the store's audit
// log, and the last to be dropped here).
func (p *persister) event(enc func(uint64) []byte, audit bool) {
	p.mu.Lock()
	switch {
	case audit:
		p.own.audit = append(p.own.audit, enc)
	case p.term != nil:
		p.lead.events = append(p.lead.events, enc)
	}
	p.trimLocked()
	p.mu.Unlock()
	p.kick()
}

// setTerm starts a leadership (t non-nil) or ends one (nil). Leader writes
// still pending from an earlier term are dropped: they were decided by a
// leader that may no longer be one.
func (p *persister) setTerm(t *term) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.term == t {
		return
	}
	if n := len(p.lead.pending) + len(p.lead.events); n > 0 && p.term != nil {
		p.log.Warn("leadership ended: dropping the leader writes not yet stored", "writes", n)
	}
	p.lead = lane{pending: map[key]record{}}
	p.term = t
}

// trimLocked drops the oldest events beyond maxEvents: runtime events
// first, audit events only when no runtime event is left.
func (p *persister) trimLocked() {
	for len(p.lead.events)+len(p.own.audit) > p.maxEvents {
		kind := "runtime"
		if len(p.lead.events) > 0 {
			p.lead.events[0] = nil // release the event now, not at the next reallocation
			p.lead.events = p.lead.events[1:]
			p.burst.runtime++
		} else {
			kind = "audit"
			p.own.audit[0] = nil
			p.own.audit = p.own.audit[1:]
			p.burst.audit++
		}
		p.dropped.WithLabelValues(kind).Inc()
		if p.burst.runtime+p.burst.audit == 1 {
			p.log.Error("events are being dropped: the store has not accepted a commit and the queue is full",
				"queued", p.maxEvents, "first_dropped", kind)
		}
	}
}

func (p *persister) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *persister) loop() {
	defer close(p.done)
	for {
		<-p.wake
		p.mu.Lock()
		if p.uncertain == nil && p.own.empty() && p.lead.empty() {
			closed := p.closed
			p.flushed.Broadcast()
			p.mu.Unlock()
			if closed {
				return
			}
			continue
		}
		var h heldBatches
		if p.uncertain != nil {
			h, p.uncertain = *p.uncertain, nil
		} else {
			h = heldBatches{own: p.own.take(), lead: p.lead.take(), t: p.term}
			h.own.ID, h.lead.ID = store.NewBatchID(), store.NewBatchID()
		}
		own, lead, t := h.own, h.lead, h.t
		p.inFlight, p.inFlightEvents = true, len(own.Events)+len(own.Audit)+len(lead.Events)
		p.mu.Unlock()

		var seqs []uint64
		var ownErr, leadErr error
		if t == nil || t.fence == nil {
			// Nothing to fence: one commit.
			both := merge(own, lead)
			both.ID = own.ID
			ownErr = p.commit(both, nil, &seqs)
			leadErr = ownErr
		} else {
			ownErr = p.commit(own, nil, &seqs)
			leadErr = p.commit(lead, t, &seqs)
		}

		p.mu.Lock()
		p.inFlight, p.inFlightEvents = false, 0
		// A batch that may have landed is tried again as it is; the
		// others go back to their lanes (or are done).
		if errors.Is(ownErr, store.ErrOutcomeUnknown) || errors.Is(leadErr, store.ErrOutcomeUnknown) {
			held := &heldBatches{t: t}
			if errors.Is(ownErr, store.ErrOutcomeUnknown) {
				held.own, ownErr = own, nil
			}
			if errors.Is(leadErr, store.ErrOutcomeUnknown) {
				held.lead, leadErr = lead, nil
			}
			if !p.closed {
				p.uncertain = held
			}
		}
		if ownErr != nil && !p.closed {
			p.own.putBack(own)
		}
		switch {
		case leadErr == nil:
		case errors.Is(leadErr, store.ErrConflict):
			// The fence failed: another node leads. Nothing of this term
			// may be written any more.
			p.log.Warn("leadership lost: the store refused a fenced write; dropping this term's leader writes",
				"dropped_writes", len(lead.Puts)+len(lead.Deletes)+len(p.lead.pending), "dropped_events", len(lead.Events)+len(p.lead.events))
			if p.term == t {
				p.term = nil
			}
			p.lead = lane{pending: map[key]record{}}
		case !p.closed && p.term == t:
			p.lead.putBack(lead)
		}
		p.trimLocked()
		if ownErr == nil && leadErr == nil && p.uncertain == nil && p.burst.runtime+p.burst.audit > 0 {
			p.log.Error("events were dropped while the store failed; it accepts commits again",
				"dropped_runtime", p.burst.runtime, "dropped_audit", p.burst.audit)
			p.burst.runtime, p.burst.audit = 0, 0
		}
		p.mu.Unlock()
		if len(seqs) > 0 && p.onSeq != nil {
			p.onSeq(seqs[len(seqs)-1])
		}
		if leadErr == nil && p.uncertain == nil && len(lead.Puts)+len(lead.Deletes) > 0 && p.afterCommit != nil {
			p.afterCommit()
		}
		p.kick() // more may have arrived while committing
	}
}

// merge is one batch of a's and b's writes and events (new slices: a
// failed batch goes back to each lane as it was).
func merge(a, b store.Batch) store.Batch {
	return store.Batch{
		Puts:    slices.Concat(a.Puts, b.Puts),
		Deletes: slices.Concat(a.Deletes, b.Deletes),
		Events:  slices.Concat(a.Events, b.Events),
		Audit:   slices.Concat(a.Audit, b.Audit),
	}
}

// commit writes b, under t's fence when t has one, and adds the assigned
// event sequence numbers to seqs.
func (p *persister) commit(b store.Batch, t *term, seqs *[]uint64) error {
	if len(b.Puts) == 0 && len(b.Deletes) == 0 && len(b.Events) == 0 && len(b.Audit) == 0 {
		return nil
	}
	if t != nil && t.fence != nil {
		b.Conditions = append(b.Conditions, *t.fence)
	}
	s, err := p.commitWithRetry(b, t)
	*seqs = append(*seqs, s...)
	return err
}

// errTermEnded: a leader batch whose term ended while it was being retried
// is given up (stepDownLocked drops the rest of the term's writes too).
var errTermEnded = errors.New("engine: this node's term ended before its leader writes were stored")

// damagedRetry spaces the attempts on a damaged store, which fail at once.
const damagedRetry = time.Second

// failLogEvery spaces the log lines of a store that keeps failing: the
// first failure is logged at once, then one line a minute, then the
// recovery — not three lines a second for as long as a disk stays full.
const failLogEvery = time.Minute

// commitWithRetry commits b, retrying a failing store a few times. A
// leader batch (t set) is not tried, nor retried, once its term has ended:
// it would land (its fence still holds) as soon as a cut-off node's store
// answers again, though the node stopped deciding and dropped the term's
// other writes — and when the node leads again, its new term stores what
// it holds, so the decision (and its event) would be written twice. The
// batch may have been taken long before: this node's own writes go first,
// and a store that does not answer holds them up to five request timeouts.
func (p *persister) commitWithRetry(b store.Batch, t *term) ([]uint64, error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if t != nil {
			p.mu.Lock()
			ended := p.term != t
			p.mu.Unlock()
			if ended {
				return nil, errTermEnded
			}
		}
		var res store.CommitResult
		res, err = p.st.Commit(context.Background(), b)
		seqs := res.Seqs
		now := time.Now()
		if err == nil {
			if p.fail.count > 0 {
				p.log.Warn("runtime state written again", "failed_attempts", p.fail.count, "failing_for", now.Sub(p.fail.since).Round(time.Millisecond))
				p.fail.count = 0
			}
			return seqs, nil
		}
		if errors.Is(err, store.ErrConflict) {
			return nil, err // a failed fence: the store works, retrying cannot help
		}
		if p.fail.count == 0 {
			p.fail.since = now
		}
		p.fail.count++
		if p.fail.count == 1 || now.Sub(p.fail.logged) >= failLogEvery {
			p.log.Error("runtime state write failed; retrying", "failed_attempts", p.fail.count, "failing_for", now.Sub(p.fail.since).Round(time.Millisecond), "err", err)
			p.fail.logged = now
		}
		if errors.Is(err, store.ErrDamaged) {
			// A damaged store never takes a write again (only a restore
			// helps): stop retrying fast, and stop waiting for it.
			p.mu.Lock()
			p.damaged = true
			p.flushed.Broadcast()
			p.mu.Unlock()
			time.Sleep(damagedRetry)
			return nil, err
		}
		time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
	}
	return nil, err
}

// flush blocks until everything queued so far is on disk, or the store is
// damaged.
func (p *persister) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.damaged && (!p.own.empty() || !p.lead.empty() || p.inFlight || p.uncertain != nil) {
		p.kick()
		p.flushed.Wait()
	}
}

// close flushes and stops the background writer.
//
// A disk that keeps failing must not hold shutdown hostage: after
// closeTimeout the remaining runtime state is given up (a restart re-probes
// it; declared objects and audit events were committed synchronously).
func (p *persister) close() {
	flushed := make(chan struct{})
	go func() { p.flush(); close(flushed) }()
	select {
	case <-flushed:
	case <-time.After(closeTimeout):
		p.log.Error("runtime state not written before shutdown; it will be rebuilt by probing", "waited", closeTimeout)
	}
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.kick()
	select {
	case <-p.done:
	case <-time.After(closeTimeout):
	}
}

// closeTimeout bounds how long shutdown waits for runtime state.
const closeTimeout = 10 * time.Second
