package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// etcdDefinite reports whether a failed request certainly changed nothing:
// etcd refused it (bad request, missing lease, no space, no permission).
// Anything else — a timeout, a lost connection, a leader that failed while
// the request was in flight — may have been applied, or may be applied
// later.
func etcdDefinite(err error) bool {
	var ee rpctypes.EtcdError
	code := codes.Unknown
	if errors.As(err, &ee) {
		code = ee.Code()
	} else if st, ok := status.FromError(err); ok {
		code = st.Code()
	}
	switch code {
	case codes.InvalidArgument, codes.NotFound, codes.ResourceExhausted, codes.PermissionDenied,
		codes.Unauthenticated, codes.FailedPrecondition, codes.OutOfRange, codes.AlreadyExists:
		return true
	}
	return false
}

// etcdState is what a commit attempt is built on: the counters and the
// current values of the conditions' keys, each with its mod revision,
// which the transaction then compares — so the conditions, checked here,
// still hold when it applies.
type etcdState struct {
	// landed is the commit key when an earlier attempt of this commit was
	// applied after all.
	landed   *mvccpb.KeyValue
	counters etcdCounters
	conds    map[string]etcdCondKey // by full key
}

type etcdCondKey struct {
	kv *mvccpb.KeyValue // nil: absent
}

func (c etcdCondKey) modRev() int64 {
	if c.kv == nil {
		return 0
	}
	return c.kv.ModRevision
}

// stateOps read a commit's state: its commit key, the counters and the
// conditions' keys, in that order.
func (s *Etcd) stateOps(commitKey string, condKeys []string) []clientv3.Op {
	ops := []clientv3.Op{clientv3.OpGet(commitKey), clientv3.OpGet(s.prefix + etcdCounterKey)}
	for _, k := range condKeys {
		ops = append(ops, clientv3.OpGet(k))
	}
	return ops
}

func (s *Etcd) parseState(resps []*etcdserverpb.ResponseOp, condKeys []string) (etcdState, error) {
	st := etcdState{conds: make(map[string]etcdCondKey, len(condKeys))}
	if kvs := resps[0].GetResponseRange().Kvs; len(kvs) > 0 {
		st.landed = kvs[0]
	}
	c, err := decodeCounters(resps[1].GetResponseRange().Kvs)
	if err != nil {
		return st, err
	}
	st.counters = c
	for i, k := range condKeys {
		var ck etcdCondKey
		if kvs := resps[2+i].GetResponseRange().Kvs; len(kvs) > 0 {
			ck.kv = kvs[0]
		}
		st.conds[k] = ck
	}
	return st, nil
}

// checkConditions evaluates b's conditions on st, treating an expired
// record as absent.
func (s *Etcd) checkConditions(conds []Condition, st etcdState, now uint64) error {
	for _, c := range conds {
		ck := st.conds[s.key(c.Bucket, c.Key)]
		var cur []byte
		present := false
		if ck.kv != nil {
			v, ok, err := s.decodeKV(ck.kv, now)
			if err != nil {
				return err
			}
			cur, present = v, ok
		}
		if err := c.holds(cur, present); err != nil {
			return err
		}
	}
	return nil
}

// ttlSlot is a time bucket of expiry times whose records share one lease:
// width seconds wide, ending at index×width (unix seconds).
type ttlSlot struct{ width, index int64 }

// ttlWidth is the width of the lease buckets for records with ttl: about
// an eighth of it, a power of two seconds from 1 s to 4096 s (a 24-hour
// idempotency record shares its lease with those of the same hour or so).
func ttlWidth(ttl time.Duration) int64 {
	w := int64(1)
	for w*2 <= int64(ttl/time.Second)/8 && w < 4096 {
		w *= 2
	}
	return w
}

// slotFor is the lease bucket of a record expiring at expires: the one
// whose end is the first at or after it.
func slotFor(expires time.Time, ttl time.Duration) ttlSlot {
	w := ttlWidth(ttl)
	sec := expires.Unix()
	if expires.Nanosecond() > 0 {
		sec++
	}
	return ttlSlot{width: w, index: (sec + w - 1) / w}
}

func (t ttlSlot) end() time.Time { return time.Unix(t.index*t.width, 0) }

// ttlLease returns the lease of slot, granting it on first use: it lives
// until the slot's end (and a second more), never renewed.
func (s *Etcd) ttlLease(ctx context.Context, slot ttlSlot) (clientv3.LeaseID, error) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if id, ok := s.leases[slot]; ok {
		return id, nil
	}
	now := s.now()
	for sl := range s.leases {
		if sl.end().Before(now) {
			delete(s.leases, sl)
		}
	}
	ttl := int64(math.Ceil(slot.end().Sub(now).Seconds())) + 1
	resp, err := s.cli.Grant(ctx, max(ttl, 1))
	if err != nil {
		return 0, err
	}
	s.leases[slot] = resp.ID
	return resp.ID, nil
}

func (s *Etcd) forgetLeases(slots []ttlSlot) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	for _, sl := range slots {
		delete(s.leases, sl)
	}
}

// Commit writes b in one etcd transaction (see Etcd). It retries by itself
// when the counter moved (another node appended events), when a
// condition's key changed but the condition still holds, and when etcd
// did not answer (a leader change); each retry re-runs the event encoders
// with the new sequence numbers. A failed condition returns ErrConflict.
// When etcd never confirmed an attempt that may have been applied, the
// error wraps ErrOutcomeUnknown.
func (s *Etcd) Commit(ctx context.Context, b Batch) (CommitResult, error) {
	if s.closed.Load() {
		return CommitResult{}, fmt.Errorf("store: commit: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return CommitResult{}, fmt.Errorf("store: commit: %w", err)
	}
	if err := checkBatch(b); err != nil {
		return CommitResult{}, err
	}
	puts, deletes := netEffect(b)
	var condKeys []string
	seen := map[string]bool{}
	for _, c := range b.Conditions {
		if k := s.key(c.Bucket, c.Key); !seen[k] {
			seen[k] = true
			condKeys = append(condKeys, k)
		}
	}
	ops := 3 + len(puts) + len(deletes) + len(b.Events) + 2*len(b.Audit)
	if max(ops, 2+len(condKeys)) > s.opts.maxTxnOps() {
		return CommitResult{}, fmt.Errorf("store: commit: the batch needs %d etcd operations (%d puts, %d deletes, %d events, %d audit events counted twice, %d conditions, 3 of the store's own), more than etcd's limit of %d per transaction (--max-txn-ops): write it in smaller batches",
			max(ops, 2+len(condKeys)), len(puts), len(deletes), len(b.Events), len(b.Audit), len(condKeys), s.opts.maxTxnOps())
	}
	id := b.ID
	if id == "" {
		id = NewBatchID()
	}
	return s.commit(ctx, b, puts, deletes, condKeys, id)
}

// commit runs a checked batch under commit id id.
func (s *Etcd) commit(ctx context.Context, b Batch, puts, deletes []KV, condKeys []string, id string) (CommitResult, error) {
	c := &etcdCommit{s: s, b: b, puts: puts, deletes: deletes, condKeys: condKeys, commitKey: s.prefix + etcdCommitDir + id}
	return c.run(ctx)
}

// etcdCommit is one Commit in progress.
type etcdCommit struct {
	s             *Etcd
	b             Batch
	puts, deletes []KV
	condKeys      []string
	commitKey     string
	ambiguous     bool // an attempt may have been applied
	leaseRetries  int
	slots         []ttlSlot // TTL leases the current attempt uses
	sess          *concurrency.Session
}

func (c *etcdCommit) run(ctx context.Context) (CommitResult, error) {
	s := c.s
	// The caller's context decides whether a commit starts, not whether
	// one that may be in flight is seen through: a client that hangs up
	// must not leave a write of unknown outcome behind. RequestTimeout
	// (and Close) bound it.
	rctx, cancel := s.reqCtx(context.WithoutCancel(ctx))
	defer cancel()
	var st etcdState
	haveState := false
	if len(c.b.Conditions) == 0 {
		// Nothing to evaluate: build on the cached counters; a stale cache
		// fails the compare and the answer carries the fresh state.
		s.counterMu.Lock()
		st = etcdState{counters: s.counters}
		s.counterMu.Unlock()
		haveState = true
	}
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil && !c.ambiguous {
			return CommitResult{}, fmt.Errorf("store: commit: not applied: %w", err)
		}
		if !haveState {
			resp, err := s.cli.Txn(rctx).Then(s.stateOps(c.commitKey, c.condKeys)...).Commit()
			if err != nil {
				if err := c.failed(rctx, err, &backoff); err != nil {
					return CommitResult{}, err
				}
				continue
			}
			if st, err = s.parseState(resp.Responses, c.condKeys); err != nil {
				return CommitResult{}, fmt.Errorf("store: commit: %w", err)
			}
			haveState = true
		}
		if st.landed != nil {
			return c.landed(st.landed)
		}
		now := s.now()
		if err := s.checkConditions(c.b.Conditions, st, stamp(now)); err != nil {
			// Definite even after an ambiguous attempt: that attempt
			// compared the same keys at older revisions, so it can no
			// longer apply.
			return CommitResult{}, fmt.Errorf("store: commit: %w", err)
		}
		txn, res, err := c.build(rctx, st, now)
		if err != nil {
			if err := c.failed(rctx, err, &backoff); err != nil {
				return CommitResult{}, err
			}
			haveState = false
			continue
		}
		resp, err := txn.Commit()
		if err != nil {
			if !etcdDefinite(err) {
				c.ambiguous = true
			}
			if err := c.failed(rctx, err, &backoff); err != nil {
				return CommitResult{}, err
			}
			haveState = false
			continue
		}
		if resp.Succeeded {
			res.Rev = uint64(resp.Header.Revision)
			c.done(st, res)
			return res, nil
		}
		// A compare failed: the answer holds the state it failed on.
		if st, err = s.parseState(resp.Responses, c.condKeys); err != nil {
			return CommitResult{}, fmt.Errorf("store: commit: %w", err)
		}
		s.counterMu.Lock()
		if st.counters.modRev > s.counters.modRev {
			s.counters = st.counters
		}
		s.counterMu.Unlock()
		if attempt > 3 {
			// Contended (other nodes appending as fast): spread the retries.
			time.Sleep(time.Duration(attempt) * time.Millisecond)
		}
	}
}

// failed handles a request that returned err: it returns the error to give
// up with, or nil after waiting to retry.
func (c *etcdCommit) failed(ctx context.Context, err error, backoff *time.Duration) error {
	s := c.s
	if errors.Is(err, rpctypes.ErrLeaseNotFound) && c.leaseRetries < 3 {
		// A lease this attempt used has ended (the session was cut off
		// for longer than its TTL, or a TTL lease was lost): take new
		// ones and try again.
		c.leaseRetries++
		s.forgetLeases(c.slots)
		if c.sess != nil {
			s.dropSession(c.sess)
		}
		return nil
	}
	if s.closed.Load() {
		return c.giveUp(ErrClosed)
	}
	if etcdDefinite(err) && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return c.giveUp(err)
	}
	if ctx.Err() != nil {
		return c.giveUp(err)
	}
	s.log.Warn("etcd commit retried", "err", err, "may_have_applied", c.ambiguous)
	select {
	case <-time.After(*backoff):
	case <-ctx.Done():
		return c.giveUp(err)
	}
	*backoff = min(*backoff*2, 500*time.Millisecond)
	return nil
}

func (c *etcdCommit) giveUp(err error) error {
	if c.ambiguous {
		return fmt.Errorf("store: commit: %w: etcd did not confirm the write (%v) and it may still be applied; this node may have lost contact with the etcd majority: read the data again, or retry the request with the same Idempotency-Key",
			ErrOutcomeUnknown, err)
	}
	if errors.Is(err, ErrClosed) || errors.Is(err, context.Canceled) || etcdDefinite(err) {
		return fmt.Errorf("store: commit: not applied: %w", err)
	}
	return fmt.Errorf("store: commit: not applied: etcd did not answer (%w): this node may have lost contact with the etcd majority; retry on another node", err)
}

// landed is the result of an earlier attempt that was applied after all.
func (c *etcdCommit) landed(kv *mvccpb.KeyValue) (CommitResult, error) {
	first, n, err := decodePair(kv.Value)
	if err != nil {
		return CommitResult{}, fmt.Errorf("store: commit: %s: %w", kv.Key, err)
	}
	res := CommitResult{Rev: uint64(kv.ModRevision)}
	for i := uint64(0); i < n; i++ {
		res.Seqs = append(res.Seqs, first+i)
	}
	c.s.log.Info("etcd commit found applied after a lost answer", "rev", res.Rev)
	return res, nil
}

// done records the counters a successful commit left and, when the audit
// log may have entries to prune, wakes the pruner.
func (c *etcdCommit) done(st etcdState, res CommitResult) {
	s := c.s
	if n := uint64(len(c.b.Events) + len(c.b.Audit)); n > 0 {
		s.counterMu.Lock()
		s.counters = etcdCounters{seq: st.counters.seq + n, ordinal: st.counters.ordinal + uint64(len(c.b.Audit)), modRev: int64(res.Rev)}
		ord := s.counters.ordinal
		s.counterMu.Unlock()
		if len(c.b.Audit) > 0 && ord > s.opts.auditKeep() {
			select {
			case s.pruneKick <- struct{}{}:
			default:
			}
		}
	}
}

// build makes the transaction of one attempt on st, and the result it
// gives when it succeeds (without the revision).
func (c *etcdCommit) build(ctx context.Context, st etcdState, now time.Time) (clientv3.Txn, CommitResult, error) {
	s := c.s
	nowStamp := stamp(now)
	nEvents := uint64(len(c.b.Events) + len(c.b.Audit))
	first := st.counters.seq + 1
	var res CommitResult
	for i := uint64(0); i < nEvents; i++ {
		res.Seqs = append(res.Seqs, first+i)
	}

	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(c.commitKey), "=", 0)}
	if nEvents > 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(s.prefix+etcdCounterKey), "=", st.counters.modRev))
	}
	for _, k := range c.condKeys {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", st.conds[k].modRev()))
	}

	c.slots, c.sess = c.slots[:0], nil
	lease := func(expires time.Time, ttl time.Duration) (clientv3.OpOption, error) {
		slot := slotFor(expires, ttl)
		id, err := s.ttlLease(ctx, slot)
		if err != nil {
			return nil, err
		}
		c.slots = append(c.slots, slot)
		return clientv3.WithLease(id), nil
	}
	commitLease, err := lease(now.Add(etcdCommitKeyTTL), etcdCommitKeyTTL)
	if err != nil {
		return nil, res, err
	}
	then := []clientv3.Op{clientv3.OpPut(c.commitKey, encodePair(first, nEvents), commitLease)}
	for _, kv := range c.puts {
		var opts []clientv3.OpOption
		var expires uint64
		switch {
		case kv.TTL > 0:
			expires = expiryStamp(now, kv.TTL)
			o, err := lease(now.Add(kv.TTL), kv.TTL)
			if err != nil {
				return nil, res, err
			}
			opts = append(opts, o)
		case kv.Ephemeral:
			if c.sess == nil {
				if c.sess, err = s.Session(ctx); err != nil {
					return nil, res, err
				}
			}
			opts = append(opts, clientv3.WithLease(c.sess.Lease()))
		}
		then = append(then, clientv3.OpPut(s.key(kv.Bucket, kv.Key), string(encodeEtcdValue(kv.Value, expires)), opts...))
	}
	for _, kv := range c.deletes {
		then = append(then, clientv3.OpDelete(s.key(kv.Bucket, kv.Key)))
	}
	seq := st.counters.seq
	for _, encode := range c.b.Events {
		seq++
		then = append(then, clientv3.OpPut(s.eventKey(seq), string(encodeEtcdValue(encode(seq), 0))))
	}
	ordinal := st.counters.ordinal
	for _, encode := range c.b.Audit {
		seq++
		ordinal++
		v := encode(seq)
		then = append(then,
			clientv3.OpPut(s.eventKey(seq), string(encodeEtcdValue(v, 0))),
			clientv3.OpPut(s.auditKey(seq), string(encodeAudit(ordinal, nowStamp, v))))
	}
	if nEvents > 0 {
		then = append(then, clientv3.OpPut(s.prefix+etcdCounterKey, encodePair(seq, ordinal)))
		// Keep the newest MaxEvents: one range delete of everything
		// older. It never reaches this batch's own events (which may
		// briefly exceed the bound when the batch alone is larger).
		if keep := s.opts.maxEvents(); seq > keep {
			if cutoff := min(seq-keep, st.counters.seq); cutoff > 0 {
				then = append(then, clientv3.OpDelete(s.prefix+etcdEventsDir, clientv3.WithRange(s.eventKey(cutoff+1))))
			}
		}
	}
	txn := s.cli.Txn(ctx).If(cmps...).Then(then...).Else(s.stateOps(c.commitKey, c.condKeys)...)
	return txn, res, nil
}
