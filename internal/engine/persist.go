package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// persister writes runtime state (health observations, decisions, policy
// memory) and runtime events in the background. Probing and evaluation
// never wait for the disk: a transition is acted on in memory at once and
// reaches stable storage within one commit (a few milliseconds). Writes to
// the same key coalesce, so a burst of 1,000 transitions is a handful of
// fsyncs, not 1,000. Declared objects and audit events do not go through
// here: the API commits those synchronously before it answers.
type persister struct {
	st    store.Store
	log   *slog.Logger
	onSeq func(seq uint64) // called after events are durable

	mu       sync.Mutex
	pending  map[key][]byte // nil value = delete
	events   []func(uint64) []byte
	wake     chan struct{}
	done     chan struct{}
	closed   bool
	flushed  *sync.Cond
	inFlight bool
}

type key struct{ bucket, key string }

func newPersister(st store.Store, log *slog.Logger, onSeq func(uint64)) *persister {
	p := &persister{
		st:      st,
		log:     log,
		onSeq:   onSeq,
		pending: map[key][]byte{},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
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

func (p *persister) event(enc func(uint64) []byte) {
	p.mu.Lock()
	p.events = append(p.events, enc)
	p.mu.Unlock()
	p.kick()
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
		if len(p.pending) == 0 && len(p.events) == 0 {
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
		b.Events = p.events
		p.pending = map[key][]byte{}
		p.events = nil
		p.inFlight = true
		p.mu.Unlock()

		seqs, err := p.commitWithRetry(b)

		p.mu.Lock()
		p.inFlight = false
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
		}
		p.mu.Unlock()
		if len(seqs) > 0 && p.onSeq != nil {
			p.onSeq(seqs[len(seqs)-1])
		}
		p.kick() // more may have arrived while committing
	}
}

func (p *persister) commitWithRetry(b store.Batch) ([]uint64, error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var seqs []uint64
		seqs, err = p.st.Commit(context.Background(), b)
		if err == nil {
			return seqs, nil
		}
		p.log.Error("runtime state write failed; retrying", "attempt", attempt+1, "err", err)
		time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
	}
	return nil, err
}

// flush blocks until everything queued so far is on disk.
func (p *persister) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.pending) > 0 || len(p.events) > 0 || p.inFlight {
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
