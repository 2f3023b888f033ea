package engine

import (
	"context"
	"errors"
	"log/slog"
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
// never wait for the disk: a transition is acted on in memory at once and
// reaches stable storage within one commit (a few milliseconds). Writes to
// the same key coalesce, so a burst of 1,000 transitions is a handful of
// fsyncs, not 1,000. Declared objects and the audit events of mutations
// do not go through here: the API commits those synchronously before it
// answers. Audit events of refused requests do (Engine.Emit).
//
// Memory stays bounded while the disk fails: pending holds one value per
// key, and the event queues at most maxEvents besides the batch being
// committed (see DefaultMaxQueuedEvents).
type persister struct {
	st        store.Store
	log       *slog.Logger
	onSeq     func(seq uint64) // called after events are durable
	maxEvents int
	dropped   *prometheus.CounterVec

	mu       sync.Mutex
	pending  map[key][]byte        // nil value = delete
	events   []func(uint64) []byte // runtime events, oldest first
	audit    []func(uint64) []byte // audit events, oldest first
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

type key struct{ bucket, key string }

func newPersister(st store.Store, log *slog.Logger, onSeq func(uint64), maxEvents int, dropped *prometheus.CounterVec) *persister {
	p := &persister{
		st:        st,
		log:       log,
		onSeq:     onSeq,
		maxEvents: maxEvents,
		dropped:   dropped,
		pending:   map[key][]byte{},
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	p.flushed = sync.NewCond(&p.mu)
	go p.loop()
	return p
}

func (p *persister) put(bucket, k string, v []byte) {
	p.mu.Lock()
	p.pending[key{bucket, k}] = v
	p.mu.Unlock()
	p.kick()
}

func (p *persister) del(bucket, k string) { p.put(bucket, k, nil) }

// event queues a runtime event, or an audit event (kept in the store's
// audit log, and the last to be dropped here).
func (p *persister) event(enc func(uint64) []byte, audit bool) {
	p.mu.Lock()
	if audit {
		p.audit = append(p.audit, enc)
	} else {
		p.events = append(p.events, enc)
	}
	p.trimLocked()
	p.mu.Unlock()
	p.kick()
}

// trimLocked drops the oldest events beyond maxEvents: runtime events
// first, audit events only when no runtime event is left.
func (p *persister) trimLocked() {
	for len(p.events)+len(p.audit) > p.maxEvents {
		kind := "runtime"
		if len(p.events) > 0 {
			p.events[0] = nil // release the event now, not at the next reallocation
			p.events = p.events[1:]
			p.burst.runtime++
		} else {
			kind = "audit"
			p.audit[0] = nil
			p.audit = p.audit[1:]
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
		if len(p.pending) == 0 && len(p.events) == 0 && len(p.audit) == 0 {
			closed := p.closed
			p.flushed.Broadcast()
			p.mu.Unlock()
			if closed {
				return
			}
			continue
		}
		var b store.Batch
		for k, v := range p.pending {
			if v == nil {
				b.Deletes = append(b.Deletes, store.KV{Bucket: k.bucket, Key: k.key})
			} else {
				b.Puts = append(b.Puts, store.KV{Bucket: k.bucket, Key: k.key, Value: v})
			}
		}
		b.Events, b.Audit = p.events, p.audit
		p.pending = map[key][]byte{}
		p.events, p.audit = nil, nil
		p.inFlight, p.inFlightEvents = true, len(b.Events)+len(b.Audit)
		p.mu.Unlock()

		seqs, err := p.commitWithRetry(b)

		p.mu.Lock()
		p.inFlight, p.inFlightEvents = false, 0
		if err != nil && !p.closed {
			// Put the batch back unless newer values superseded it, so a
			// transient disk error delays state but never drops it.
			for _, kv := range b.Puts {
				if _, newer := p.pending[key{kv.Bucket, kv.Key}]; !newer {
					p.pending[key{kv.Bucket, kv.Key}] = kv.Value
				}
			}
			for _, kv := range b.Deletes {
				if _, newer := p.pending[key{kv.Bucket, kv.Key}]; !newer {
					p.pending[key{kv.Bucket, kv.Key}] = nil
				}
			}
			p.events = append(b.Events, p.events...)
			p.audit = append(b.Audit, p.audit...)
			p.trimLocked()
		}
		if err == nil && p.burst.runtime+p.burst.audit > 0 {
			p.log.Error("events were dropped while the store failed; it accepts commits again",
				"dropped_runtime", p.burst.runtime, "dropped_audit", p.burst.audit)
			p.burst.runtime, p.burst.audit = 0, 0
		}
		p.mu.Unlock()
		if len(seqs) > 0 && p.onSeq != nil {
			p.onSeq(seqs[len(seqs)-1])
		}
		p.kick() // more may have arrived while committing
	}
}

// damagedRetry spaces the attempts on a damaged store, which fail at once.
const damagedRetry = time.Second

// failLogEvery spaces the log lines of a store that keeps failing: the
// first failure is logged at once, then one line a minute, then the
// recovery — not three lines a second for as long as a disk stays full.
const failLogEvery = time.Minute

func (p *persister) commitWithRetry(b store.Batch) ([]uint64, error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var seqs []uint64
		seqs, err = p.st.Commit(context.Background(), b)
		now := time.Now()
		if err == nil {
			if p.fail.count > 0 {
				p.log.Warn("runtime state written again", "failed_attempts", p.fail.count, "failing_for", now.Sub(p.fail.since).Round(time.Millisecond))
				p.fail.count = 0
			}
			return seqs, nil
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
	for !p.damaged && (len(p.pending) > 0 || len(p.events) > 0 || len(p.audit) > 0 || p.inFlight) {
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
