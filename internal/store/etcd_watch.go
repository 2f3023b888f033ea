package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Watch streams the revisions after afterRev that changed a caller's key
// or appended events, from a watch on the whole prefix. The etcd client
// resumes by itself when its connection to a member breaks; when the
// member it watches through loses its leader, the watch is started again
// from the next revision (through whichever member answers). A revision
// etcd has compacted ends the stream with ErrCompacted.
func (s *Etcd) Watch(ctx context.Context, afterRev uint64) <-chan WatchEvent {
	out := make(chan WatchEvent, 16)
	// Not counted in wg: a watch ends by itself when the store closes
	// (s.ctx), and Close must not wait for a reader that never reads.
	go func() {
		defer close(out)
		err := s.watch(ctx, afterRev, out)
		if err == nil {
			return
		}
		select {
		case out <- WatchEvent{Err: err}:
		case <-ctx.Done():
		}
	}()
	return out
}

// watch delivers to out until ctx ends (nil) or the stream must end (the
// error to report).
func (s *Etcd) watch(ctx context.Context, afterRev uint64, out chan<- WatchEvent) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	next := int64(afterRev) + 1
	backoff := 50 * time.Millisecond
	for {
		if s.closed.Load() {
			return ErrClosed
		}
		if ctx.Err() != nil {
			return nil
		}
		// WithRequireLeader: a member cut off from the majority ends the
		// watch instead of staying silent, and it is started again.
		attempt, cancelAttempt := context.WithCancel(clientv3.WithRequireLeader(wctx))
		wch := s.cli.Watch(attempt, s.prefix, clientv3.WithPrefix(), clientv3.WithRev(next), clientv3.WithProgressNotify())
		go s.requestProgress(attempt)
		var err error
		for resp := range wch {
			if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
				cancelAttempt()
				return ErrCompacted
			}
			if err = resp.Err(); err != nil {
				break
			}
			if resp.IsProgressNotify() {
				// Everything up to the header's revision has been sent.
				if rev := resp.Header.Revision; rev >= next {
					next = rev + 1
					select {
					case out <- WatchEvent{Rev: uint64(rev)}:
					case <-wctx.Done():
						cancelAttempt()
						if s.closed.Load() {
							return ErrClosed
						}
						return nil
					}
				}
				continue
			}
			evs, err := s.revisions(resp.Events)
			if err != nil {
				cancelAttempt()
				return err
			}
			for _, ev := range evs {
				select {
				case out <- ev:
				case <-wctx.Done():
					cancelAttempt()
					if s.closed.Load() {
						return ErrClosed
					}
					return nil
				}
			}
			for _, e := range resp.Events {
				next = max(next, e.Kv.ModRevision+1)
			}
			backoff = 50 * time.Millisecond
		}
		cancelAttempt()
		if s.closed.Load() {
			return ErrClosed
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("etcd watch restarted", "from_rev", next, "err", err)
		select {
		case <-time.After(backoff):
		case <-wctx.Done():
		}
		backoff = min(backoff*2, time.Second)
	}
}

// progressEvery is how often a watch asks etcd how far it has come. The
// revisions a watcher does not see (the store's own keys, such as an
// election candidate's; other prefixes of a shared etcd) are reported as
// progress, so a reader waiting to apply the revision Load returned is
// never left waiting for a change that will not come.
const progressEvery = 500 * time.Millisecond

// requestProgress asks for a progress notification on the watch stream of
// ctx (the watch's own context, which names the stream) until ctx ends.
// etcd answers once the stream's watchers are synced.
func (s *Etcd) requestProgress(ctx context.Context) {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.cli.RequestProgress(ctx) // a broken stream is the watch loop's to handle
		}
	}
}

// revisions turns one watch response into watch events, one per revision
// that changed something a watcher sees.
func (s *Etcd) revisions(events []*clientv3.Event) ([]WatchEvent, error) {
	var out []WatchEvent
	for _, e := range events {
		rest, ok := strings.CutPrefix(string(e.Kv.Key), s.prefix)
		if !ok {
			continue
		}
		bucket, key, ok := strings.Cut(rest, "/")
		if !ok || bucket == "" || strings.HasPrefix(bucket, "_") {
			continue // the store's own keys (or not ours)
		}
		ch := Change{Bucket: bucket, Key: key}
		if e.Type == clientv3.EventTypeDelete {
			if bucket == BucketEvents {
				continue // pruning of the event log
			}
			ch.Deleted = true
		} else {
			_, v, err := decodeEtcdValue(e.Kv.Value)
			if err != nil {
				return nil, fmt.Errorf("store: watch: %s: %w", e.Kv.Key, err)
			}
			ch.Value = append([]byte{}, v...)
		}
		rev := uint64(e.Kv.ModRevision)
		if n := len(out); n == 0 || out[n-1].Rev != rev {
			out = append(out, WatchEvent{Rev: rev})
		}
		out[len(out)-1].Changes = append(out[len(out)-1].Changes, ch)
	}
	return out, nil
}

// pruneLoop prunes the audit log: after commits that may have pushed it
// over AuditKeep (at most once per pruneEvery), and every pruneEvery for
// entries that aged past AuditRetention meanwhile. Every node prunes; the
// rule picks the same oldest entries everywhere, so two nodes pruning at
// once only delete the same keys twice.
func (s *Etcd) pruneLoop() {
	defer s.wg.Done()
	var last time.Time
	for {
		every := time.Duration(s.pruneEvery.Load())
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(every):
		case <-s.pruneKick:
			if time.Since(last) < every {
				continue
			}
		}
		last = time.Now()
		if err := s.pruneAudit(s.ctx); err != nil && s.ctx.Err() == nil {
			s.log.Warn("etcd audit log pruning failed; retrying later", "err", err)
		}
	}
}

// pruneAudit deletes, oldest first, the audit events that are both older
// than AuditRetention and outside the AuditKeep newest, in rounds of
// etcdPruneBudget. It stops at the first entry that must stay.
func (s *Etcd) pruneAudit(ctx context.Context) error {
	dir := s.prefix + etcdAuditDir
	for {
		rctx, cancel := s.reqCtx(ctx)
		resp, err := s.cli.Txn(rctx).Then(
			clientv3.OpGet(s.prefix+etcdCounterKey),
			clientv3.OpGet(dir, clientv3.WithRange(clientv3.GetPrefixRangeEnd(dir)), clientv3.WithLimit(etcdPruneBudget)),
		).Commit()
		cancel()
		if err != nil {
			return err
		}
		c, err := decodeCounters(resp.Responses[0].GetResponseRange().Kvs)
		if err != nil {
			return err
		}
		keep := s.opts.auditKeep()
		if c.ordinal <= keep {
			return nil
		}
		ageCutoff := stamp(s.now().Add(-s.opts.auditRetention()))
		kvs := resp.Responses[1].GetResponseRange().Kvs
		victims := 0
		for _, kv := range kvs {
			ordinal, created, _, err := decodeAudit(kv.Value)
			if err != nil || ordinal > c.ordinal-keep || created >= ageCutoff {
				break
			}
			victims++
		}
		if victims == 0 {
			return nil
		}
		// One range delete up to the last victim: entries appended
		// meanwhile have higher sequence numbers.
		end := string(kvs[victims-1].Key) + "\x00"
		rctx, cancel = s.reqCtx(ctx)
		_, err = s.cli.Delete(rctx, dir, clientv3.WithRange(end))
		cancel()
		if err != nil {
			return err
		}
		if victims < len(kvs) || len(kvs) < etcdPruneBudget {
			return nil
		}
	}
}
