package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Defaults for BoltOptions fields left at zero.
const (
	DefaultMaxEvents      = 100000
	DefaultIdempotencyTTL = 24 * time.Hour
	DefaultOpenTimeout    = time.Second
)

// defaultPruneBudget bounds how many expired records or events one Commit
// deletes beyond the ones it appends, so a backlog (a lowered MaxEvents, a
// daemon that was down for a day) is worked off over several commits
// instead of stalling one API write behind a huge transaction.
const defaultPruneBudget = 256

// bucketIdempotencyIndex orders idempotency records by creation time (see
// idempotency.go). The leading underscore keeps it out of the api.Kind
// namespace, whose names start with a letter.
const bucketIdempotencyIndex = "_idempotency_by_time"

// BoltOptions tunes OpenBolt. Zero values select the defaults.
type BoltOptions struct {
	// MaxEvents bounds the event log: older events are pruned in the same
	// transaction that appends (default 100000).
	MaxEvents int
	// IdempotencyTTL: records in BucketIdempotency older than this are
	// invisible and get pruned (default 24h).
	IdempotencyTTL time.Duration
	// Timeout is how long OpenBolt waits for the file lock before giving
	// up with "data dir X is in use by another failoverd" (default 1s).
	Timeout time.Duration
}

// Bolt is the embedded Store: one bbolt file, every Commit fsync'd before
// it returns. It is safe for concurrent use; writes are serialised by
// bbolt's single writer, reads run in parallel with them.
type Bolt struct {
	db        *bolt.DB
	maxEvents uint64
	idemTTL   time.Duration

	// now and pruneBudget are fields rather than constants so tests can
	// drive expiry with a fake clock and exercise incremental pruning with a
	// small budget. Set them only before the store is shared.
	now         func() time.Time
	pruneBudget int

	closeOnce sync.Once
	closeErr  error
}

var _ Store = (*Bolt)(nil)

// OpenBolt opens (creating if needed) the bolt store at path. The parent
// directory is created 0700 and the file 0600 because idempotency records
// hold full API responses.
func OpenBolt(path string, opts BoltOptions) (*Bolt, error) {
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = DefaultMaxEvents
	}
	if opts.IdempotencyTTL <= 0 {
		opts.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultOpenTimeout
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir %s: %w", dir, err)
	}
	// NoSync stays false: "acknowledged means on disk" (DESIGN §4.4) is
	// the whole point of this store. bbolt then fdatasyncs the data pages
	// and the meta page on every commit.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: false})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("store: data dir %s is in use by another failoverd (no lock on %s within %s): %w", dir, path, opts.Timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		names := []string{BucketIdempotency, bucketIdempotencyIndex, BucketState, BucketEvents}
		for _, k := range api.Kinds {
			names = append(names, string(k))
		}
		for _, name := range names {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %q: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return &Bolt{
		db:          db,
		maxEvents:   uint64(opts.MaxEvents),
		idemTTL:     opts.IdempotencyTTL,
		now:         time.Now,
		pruneBudget: defaultPruneBudget,
	}, nil
}

// Get returns a copy of the value at bucket/key, or ErrNotFound.
func (s *Bolt) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: get %s/%q: %w", bucket, key, err)
	}
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v, ok, err := s.read(tx, bucket, key, s.idemCutoff())
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		// Copy: bolt's memory is only valid inside the transaction and
		// is unmapped when the file grows.
		out = append([]byte{}, v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: get %s/%q: %w", bucket, key, err)
	}
	return out, nil
}

// List returns copies of every key/value of bucket in key order. A bucket
// that was never written lists as empty.
func (s *Bolt) List(ctx context.Context, bucket string) ([]KV, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: list %s: %w", bucket, err)
	}
	var out []KV
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		cutoff := s.idemCutoff()
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil && b.Bucket(k) != nil {
				continue // nested bucket, not a value
			}
			if bucket == BucketIdempotency {
				created, payload, err := decodeIdempotency(v)
				if err != nil {
					return fmt.Errorf("key %q: %w", k, err)
				}
				if created < cutoff {
					continue
				}
				v = payload
			}
			out = append(out, KV{Bucket: bucket, Key: string(k), Value: append([]byte{}, v...)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", bucket, err)
	}
	return out, nil
}

// Commit writes b in one bbolt transaction — conditions, puts, deletes,
// events, pruning — and returns only after bbolt has fsync'd it.
func (s *Bolt) Commit(ctx context.Context, b Batch) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: commit: %w", err)
	}
	for _, kv := range b.Puts {
		if err := checkWritable(kv.Bucket); err != nil {
			return nil, err
		}
	}
	for _, kv := range b.Deletes {
		if err := checkWritable(kv.Bucket); err != nil {
			return nil, err
		}
	}
	var seqs []uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		// Update may have queued behind other writers. If the caller's
		// context ended meanwhile it will report a failure, so the batch
		// must not land behind its back. Past this point the write goes
		// through and is reported as done, even if ctx ends during fsync.
		if err := ctx.Err(); err != nil {
			return err
		}
		now := s.now()
		cutoff := s.cutoffAt(now)
		for _, c := range b.Conditions {
			if err := s.check(tx, c, cutoff); err != nil {
				return err
			}
		}
		for _, kv := range b.Puts {
			if err := s.put(tx, kv, now); err != nil {
				return err
			}
		}
		for _, kv := range b.Deletes {
			if err := s.delete(tx, kv); err != nil {
				return err
			}
		}
		ev := tx.Bucket([]byte(BucketEvents))
		if len(b.Events) > 0 {
			seqs = make([]uint64, 0, len(b.Events))
		}
		for _, encode := range b.Events {
			seq, err := ev.NextSequence()
			if err != nil {
				return fmt.Errorf("event sequence: %w", err)
			}
			v := encode(seq)
			if v == nil {
				v = []byte{}
			}
			if err := ev.Put(seqKey(seq), v); err != nil {
				return fmt.Errorf("append event %d: %w", seq, err)
			}
			seqs = append(seqs, seq)
		}
		if err := s.pruneEvents(ev, len(b.Events)); err != nil {
			return err
		}
		return s.pruneIdempotency(tx, cutoff)
	})
	if err != nil {
		return nil, fmt.Errorf("store: commit: %w", err)
	}
	return seqs, nil
}

// Events returns copies of up to limit events with seq > after, in order.
// Events pruned by MaxEvents are simply absent, so a reader that fell behind
// sees a gap between after and the first seq it gets back.
func (s *Bolt) Events(ctx context.Context, after uint64, limit int) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	if limit <= 0 {
		// Rejected rather than read as "none" or "all": either silent
		// reading hides a caller bug, and "all" could be 100000 events.
		return nil, fmt.Errorf("store: events: limit must be positive, got %d", limit)
	}
	out := make([][]byte, 0, min(limit, 64))
	if after == math.MaxUint64 {
		return out, nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(BucketEvents)).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) != 8 {
				continue // not written by Commit; never expected
			}
			out = append(out, append([]byte{}, v...))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return out, nil
}

// LastSeq is the highest event sequence number ever assigned. It survives
// pruning because it is the bucket's sequence counter, not its last key.
func (s *Bolt) LastSeq(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: last seq: %w", err)
	}
	var seq uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		seq = tx.Bucket([]byte(BucketEvents)).Sequence()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: last seq: %w", err)
	}
	return seq, nil
}

// Close waits for running transactions, then releases the file and its
// lock. Calling it again returns the first call's result.
func (s *Bolt) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("store: close: %w", err)
		}
	})
	return s.closeErr
}

// checkWritable rejects direct writes to buckets whose layout the store
// owns: the event log is append-only through Batch.Events, and the expiry
// index must match BucketIdempotency.
func checkWritable(bucket string) error {
	if bucket == BucketEvents || bucket == bucketIdempotencyIndex {
		return fmt.Errorf("store: commit: bucket %q is managed by the store and cannot be written directly (append events with Batch.Events)", bucket)
	}
	return nil
}

// idemCutoff is the creation stamp below which idempotency records have
// expired, as of now.
func (s *Bolt) idemCutoff() uint64 { return s.cutoffAt(s.now()) }

func (s *Bolt) cutoffAt(now time.Time) uint64 { return stamp(now.Add(-s.idemTTL)) }

// read returns the logical value at bucket/key inside tx: unwrapped for
// idempotency records, which count as absent once expired so that
// visibility never depends on how far pruning has got. v aliases tx memory.
func (s *Bolt) read(tx *bolt.Tx, bucket, key string, cutoff uint64) (v []byte, ok bool, err error) {
	b := tx.Bucket([]byte(bucket))
	if b == nil {
		return nil, false, nil
	}
	v, ok = lookup(b, []byte(key))
	if !ok || bucket != BucketIdempotency {
		return v, ok, nil
	}
	created, payload, err := decodeIdempotency(v)
	if err != nil {
		return nil, false, fmt.Errorf("%s/%q: %w", bucket, key, err)
	}
	if created < cutoff {
		return nil, false, nil
	}
	return payload, true, nil
}

// lookup finds key in b. bucket.Get cannot be used directly because it
// answers nil both for a missing key and for a zero-length value, and an
// empty value is a legitimate thing to store.
func lookup(b *bolt.Bucket, key []byte) ([]byte, bool) {
	k, v := b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, false
	}
	if v == nil && b.Bucket(k) != nil {
		return nil, false // a nested bucket, not a value
	}
	return v, true
}

func (s *Bolt) check(tx *bolt.Tx, c Condition, cutoff uint64) error {
	cur, ok, err := s.read(tx, c.Bucket, c.Key, cutoff)
	if err != nil {
		return err
	}
	switch {
	case c.Absent && ok:
		return fmt.Errorf("%s/%q exists, want absent: %w", c.Bucket, c.Key, ErrConflict)
	case !c.Absent && !ok:
		return fmt.Errorf("%s/%q is absent: %w", c.Bucket, c.Key, ErrConflict)
	case !c.Absent && !bytes.Equal(cur, c.Value):
		return fmt.Errorf("%s/%q holds a different value: %w", c.Bucket, c.Key, ErrConflict)
	}
	return nil
}

func (s *Bolt) put(tx *bolt.Tx, kv KV, now time.Time) error {
	b, err := tx.CreateBucketIfNotExists([]byte(kv.Bucket))
	if err != nil {
		return fmt.Errorf("put %s/%q: bucket: %w", kv.Bucket, kv.Key, err)
	}
	v := kv.Value
	if kv.Bucket == BucketIdempotency {
		if err := s.unindex(tx, b, kv.Key); err != nil {
			return err
		}
		created := stamp(now)
		v = encodeIdempotency(created, kv.Value)
		if err := tx.Bucket([]byte(bucketIdempotencyIndex)).Put(indexKey(created, kv.Key), []byte{}); err != nil {
			return fmt.Errorf("put %s/%q: index: %w", kv.Bucket, kv.Key, err)
		}
	}
	if v == nil {
		v = []byte{}
	}
	if err := b.Put([]byte(kv.Key), v); err != nil {
		return fmt.Errorf("put %s/%q: %w", kv.Bucket, kv.Key, err)
	}
	return nil
}

func (s *Bolt) delete(tx *bolt.Tx, kv KV) error {
	b := tx.Bucket([]byte(kv.Bucket))
	if b == nil {
		return nil
	}
	if kv.Bucket == BucketIdempotency {
		if err := s.unindex(tx, b, kv.Key); err != nil {
			return err
		}
	}
	if err := b.Delete([]byte(kv.Key)); err != nil {
		return fmt.Errorf("delete %s/%q: %w", kv.Bucket, kv.Key, err)
	}
	return nil
}

// unindex removes the expiry-index entry of the record currently at key, so
// an overwritten or deleted record leaves no entry behind. A record that
// does not decode has no entry we could find; pruning drops any leftover.
func (s *Bolt) unindex(tx *bolt.Tx, idem *bolt.Bucket, key string) error {
	old, ok := lookup(idem, []byte(key))
	if !ok {
		return nil
	}
	created, _, err := decodeIdempotency(old)
	if err != nil {
		return nil
	}
	if err := tx.Bucket([]byte(bucketIdempotencyIndex)).Delete(indexKey(created, key)); err != nil {
		return fmt.Errorf("unindex %s/%q: %w", BucketIdempotency, key, err)
	}
	return nil
}

// pruneEvents keeps the newest maxEvents events. Sequence numbers are dense
// and only the front is ever deleted, so everything at or below
// last-maxEvents goes, found from the front of a cursor: the cost is the
// number of events deleted, normally one per event appended.
func (s *Bolt) pruneEvents(ev *bolt.Bucket, appended int) error {
	last := ev.Sequence()
	if last <= s.maxEvents {
		return nil
	}
	cutoff := last - s.maxEvents
	budget := appended + s.pruneBudget
	var victims [][]byte
	c := ev.Cursor()
	for k, _ := c.First(); k != nil && len(victims) < budget; k, _ = c.Next() {
		if len(k) != 8 {
			continue
		}
		if binary.BigEndian.Uint64(k) > cutoff {
			break
		}
		victims = append(victims, bytes.Clone(k))
	}
	// Deleting through the cursor while iterating skips keys in bbolt, so
	// collect first and delete by key.
	for _, k := range victims {
		if err := ev.Delete(k); err != nil {
			return fmt.Errorf("prune event %d: %w", binary.BigEndian.Uint64(k), err)
		}
	}
	return nil
}

// pruneIdempotency deletes up to pruneBudget records created before cutoff,
// oldest first, by walking the expiry index. When nothing has expired it is
// one cursor seek, so it can run on every commit.
func (s *Bolt) pruneIdempotency(tx *bolt.Tx, cutoff uint64) error {
	idx := tx.Bucket([]byte(bucketIdempotencyIndex))
	idem := tx.Bucket([]byte(BucketIdempotency))
	var victims [][]byte
	c := idx.Cursor()
	for k, _ := c.First(); k != nil && len(victims) < s.pruneBudget; k, _ = c.Next() {
		if created, _, ok := splitIndexKey(k); ok && created >= cutoff {
			break
		}
		victims = append(victims, bytes.Clone(k)) // expired, or malformed
	}
	for _, k := range victims {
		if created, key, ok := splitIndexKey(k); ok {
			// Only delete the record this entry describes: if the key was
			// rewritten its entry moved, but guard against a stale one.
			if v, found := lookup(idem, []byte(key)); found {
				if got, _, err := decodeIdempotency(v); err == nil && got == created {
					if err := idem.Delete([]byte(key)); err != nil {
						return fmt.Errorf("prune %s/%q: %w", BucketIdempotency, key, err)
					}
				}
			}
		}
		if err := idx.Delete(k); err != nil {
			return fmt.Errorf("prune %s index: %w", BucketIdempotency, err)
		}
	}
	return nil
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}
