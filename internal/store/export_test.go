package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Test hooks for the external test package (store_test).

// EtcdClient is the store's etcd client, for tests that compact or inspect.
func EtcdClient(s *Etcd) *clientv3.Client { return s.cli }

// SetEtcdPruneEvery shortens the audit pruner's period.
func SetEtcdPruneEvery(s *Etcd, d time.Duration) { s.pruneEvery.Store(int64(d)) }

// EtcdLeaseSlotLeft is how long until a record with ttl written now falls
// into the next lease bucket (which takes a new lease grant).
func EtcdLeaseSlotLeft(now time.Time, ttl time.Duration) time.Duration {
	return slotFor(now.Add(ttl), ttl).end().Sub(now.Add(ttl))
}

// EtcdCommitKeyTTL is the life of a commit's id key.
const EtcdCommitKeyTTL = etcdCommitKeyTTL

// EtcdCommitWithID commits b under a chosen commit id, as a retry of an
// attempt whose answer was lost does.
func EtcdCommitWithID(ctx context.Context, s *Etcd, b Batch, id string) (CommitResult, error) {
	puts, deletes := netEffect(b)
	var condKeys []string
	for _, c := range b.Conditions {
		condKeys = append(condKeys, s.key(c.Bucket, c.Key))
	}
	return s.commit(ctx, b, puts, deletes, condKeys, id)
}
