package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Defaults for BoltOptions fields left at zero.
const (
	DefaultMaxEvents   = 100000
	DefaultOpenTimeout = time.Second
	// DefaultCheckAtOpenBytes: files up to this size also get bbolt's own
	// full check (tx.Check) at open. Every open already proves the page
	// graph sound and reads every record, about 2 ms of CPU per MiB
	// (BenchmarkVerify: 0.27 s for a 138 MiB store with a full event log);
	// tx.Check adds about 1 ms/MiB and mainly finds leaked pages, so it
	// runs at open only for stores up to 64 MiB, and always in
	// "failoverd store check".
	DefaultCheckAtOpenBytes = 64 << 20
)

// defaultPruneBudget bounds how many expired records, events or audit
// events one Commit deletes beyond the ones it appends, so a backlog (a
// lowered MaxEvents, a daemon that was down for a day) is worked off over
// several commits instead of stalling one API write behind a huge
// transaction.
const defaultPruneBudget = 256

// Buckets the store owns. The leading underscore keeps them out of the
// api.Kind namespace, whose names start with a letter.
const (
	bucketMeta     = "_meta"     // markerKey → marker
	bucketExpiring = "_expiring" // bucket name → "" for buckets whose values are wrapped
	bucketExpiry   = "_expiry"   // expiryKey → "": the expiry index
	bucketAudit    = "_audit"    // seq → audit record
	markerKey      = "format"
	revKey         = "rev" // in bucketMeta: the store's revision (8 bytes, big-endian)

	// legacyBucketIdempotencyIndex is format 0's expiry index.
	legacyBucketIdempotencyIndex = "_idempotency_by_time"
)

// requiredBuckets exist in every store of formatVersion; one missing means
// the file is damaged. Buckets of declared objects are created on demand.
var requiredBuckets = []string{bucketMeta, bucketExpiring, bucketExpiry, bucketAudit, BucketEvents, BucketState, BucketIdempotency}

// BoltOptions tunes OpenBolt. Zero values select the defaults.
type BoltOptions struct {
	// MaxEvents bounds the event log: older events are pruned in the same
	// transaction that appends (default 100000).
	MaxEvents int
	// AuditRetention and AuditKeep bound the audit log: an audit event is
	// pruned only once it is older than AuditRetention (default 400 days)
	// AND not among the AuditKeep newest (default 100000).
	AuditRetention time.Duration
	AuditKeep      int
	// Timeout is how long OpenBolt waits for the file lock before giving
	// up with "data dir X is in use by another failoverd" (default 1s).
	Timeout time.Duration
	// CheckAtOpenBytes: files up to this size get bbolt's full page check
	// at open (default DefaultCheckAtOpenBytes; negative: never).
	CheckAtOpenBytes int64
	// WatchBacklog is how many recent commits are kept for watchers
	// (default DefaultWatchBacklog).
	WatchBacklog int
}

func (o BoltOptions) withDefaults() BoltOptions {
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.AuditRetention <= 0 {
		o.AuditRetention = DefaultAuditRetention
	}
	if o.AuditKeep <= 0 {
		o.AuditKeep = DefaultAuditKeep
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultOpenTimeout
	}
	if o.CheckAtOpenBytes == 0 {
		o.CheckAtOpenBytes = DefaultCheckAtOpenBytes
	}
	if o.WatchBacklog <= 0 {
		o.WatchBacklog = DefaultWatchBacklog
	}
	return o
}

// Bolt is the embedded Store: one bbolt file, every Commit fsync'd before
// it returns. It is safe for concurrent use; writes are serialised by
// bbolt's single writer, reads run in parallel with them.
//
// Its revision is a counter in the meta bucket, raised by every commit in
// the commit's own transaction. Watch is an in-memory broadcast of the
// commits this process makes (bolt has a single writer), published after
// the fsync, with a backlog of the last WatchBacklog commits; a watcher
// cannot start before this process opened the store.
//
// A damaged file never crashes the process: bbolt panics (or faults on the
// memory map) when it meets a damaged page, and every method turns that
// into an error wrapping ErrDamaged. The first such error is sticky —
// every later call returns it — because a write into a damaged B-tree can
// only spread the damage.
type Bolt struct {
	db   *bolt.DB
	path string
	opts BoltOptions

	// now and pruneBudget are fields rather than constants so tests can
	// drive expiry with a fake clock and exercise incremental pruning with a
	// small budget. Set them only before the store is shared.
	now         func() time.Time
	pruneBudget int

	damageMu sync.Mutex
	damage   error

	// commitMu orders publishing to feed by revision. bbolt serialises
	// writers anyway, so holding it across the transaction costs nothing.
	commitMu sync.Mutex
	feed     *feed

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var (
	_ Store    = (*Bolt)(nil)
	_ Backuper = (*Bolt)(nil)
)

// Path is the file the store lives in.
func (s *Bolt) Path() string { return s.path }

// guard runs fn with faults on the memory map turned into panics, and
// turns any panic into a sticky ErrDamaged error. Every method that
// touches the file goes through it; callers add what they were doing.
func (s *Bolt) guard(fn func() error) (err error) {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.damaged(); err != nil {
		return err
	}
	prev := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(prev)
		if r := recover(); r != nil {
			err = s.markDamaged(r)
		}
	}()
	return fn()
}

func (s *Bolt) damaged() error {
	s.damageMu.Lock()
	defer s.damageMu.Unlock()
	return s.damage
}

func (s *Bolt) markDamaged(r any) error {
	s.damageMu.Lock()
	defer s.damageMu.Unlock()
	if s.damage == nil {
		s.damage = damagedError(s.path, fmt.Sprint(r))
	}
	return s.damage
}

// DamageError says a store file is damaged: what is wrong, and how to
// recover, on one line. errors.Is(err, ErrDamaged) holds for it.
type DamageError struct {
	Path string
	What string
}

func (e *DamageError) Error() string {
	dir := dirOf(e.Path)
	return fmt.Sprintf("%s is damaged (%s): restore a backup with failoverd stopped (failoverd store restore BACKUP --data-dir %s); failoverd store check --data-dir %s shows the damage",
		e.Path, oneLine(e.What), dir, dir)
}

// Is makes errors.Is(err, ErrDamaged) true.
func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

func damagedError(path, what string) error { return &DamageError{Path: path, What: what} }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (s *Bolt) view(fn func(tx *bolt.Tx) error) error {
	return s.guard(func() error { return s.db.View(fn) })
}

// Get returns a copy of the value at bucket/key, or ErrNotFound.
func (s *Bolt) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	op := fmt.Sprintf("get %s/%q", bucket, key)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		v, ok, err := s.read(tx, bucket, key, stamp(s.now()))
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
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return out, nil
}

// List returns copies of every key/value of bucket in key order. A bucket
// that was never written lists as empty.
func (s *Bolt) List(ctx context.Context, bucket string) ([]KV, error) {
	op := "list " + bucket
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	var out []KV
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		out, err = s.list(tx, bucket, stamp(s.now()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return out, nil
}

// Load reads the buckets and the revision in one read transaction.
func (s *Bolt) Load(ctx context.Context, buckets ...string) (uint64, map[string][]KV, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("store: load: %w", err)
	}
	var rev uint64
	out := make(map[string][]KV, len(buckets))
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		if rev, err = readRev(tx); err != nil {
			return err
		}
		now := stamp(s.now())
		for _, b := range buckets {
			kvs, err := s.list(tx, b, now)
			if err != nil {
				return fmt.Errorf("bucket %s: %w", b, err)
			}
			out[b] = kvs
		}
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("store: load: %w", err)
	}
	return rev, out, nil
}

// list returns copies of the unexpired records of bucket inside tx.
func (s *Bolt) list(tx *bolt.Tx, bucket string, now uint64) ([]KV, error) {
	b := tx.Bucket([]byte(bucket))
	if b == nil {
		return nil, nil
	}
	var out []KV
	exp := isExpiring(tx, bucket)
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil && b.Bucket(k) != nil {
			continue // nested bucket, not a value
		}
		if exp {
			expires, payload, err := decodeExpiring(v)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			if expired(expires, now) {
				continue
			}
			v = payload
		}
		out = append(out, KV{Bucket: bucket, Key: string(k), Value: append([]byte{}, v...)})
	}
	return out, nil
}

// readRev reads the store's revision; a store written before revisions
// existed is at revision 0.
func readRev(tx *bolt.Tx) (uint64, error) {
	raw, ok := lookup(tx.Bucket([]byte(bucketMeta)), []byte(revKey))
	if !ok {
		return 0, nil
	}
	return decodeRev(raw)
}

// Watch streams the commits after afterRev (see Store.Watch). Only the
// last WatchBacklog commits of this process are kept: an older afterRev,
// or one from before this process opened the store, gets ErrCompacted.
func (s *Bolt) Watch(ctx context.Context, afterRev uint64) <-chan WatchEvent {
	return s.feed.watch(ctx, afterRev)
}

// Commit writes b in one bbolt transaction — conditions, puts, deletes,
// events, audit events, pruning, the revision — and returns only after
// bbolt has fsync'd it; then it publishes the commit to watchers.
func (s *Bolt) Commit(ctx context.Context, b Batch) (CommitResult, error) {
	if err := ctx.Err(); err != nil {
		return CommitResult{}, fmt.Errorf("store: commit: %w", err)
	}
	if err := checkBatch(b); err != nil {
		return CommitResult{}, err
	}
	puts, deletes := netEffect(b)
	var res CommitResult
	var changes []Change
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	err := s.guard(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			// A retried closure must not keep a failed attempt's results.
			res, changes = CommitResult{}, nil
			// Update may have queued behind other writers. If the caller's
			// context ended meanwhile it will report a failure, so the
			// batch must not land behind its back. Past this point the
			// write goes through and is reported as done, even if ctx ends
			// during fsync.
			if err := ctx.Err(); err != nil {
				return err
			}
			now := s.now()
			nowStamp := stamp(now)
			for _, c := range b.Conditions {
				if err := s.check(tx, c, nowStamp); err != nil {
					return err
				}
			}
			for _, kv := range puts {
				if err := s.put(tx, kv, now); err != nil {
					return err
				}
				changes = append(changes, Change{Bucket: kv.Bucket, Key: kv.Key, Value: bytes.Clone(nonNil(kv.Value))})
			}
			for _, kv := range deletes {
				existed, err := s.delete(tx, kv)
				if err != nil {
					return err
				}
				if existed {
					changes = append(changes, Change{Bucket: kv.Bucket, Key: kv.Key, Deleted: true})
				}
			}
			ev := tx.Bucket([]byte(BucketEvents))
			if n := len(b.Events) + len(b.Audit); n > 0 {
				res.Seqs = make([]uint64, 0, n)
			}
			for _, encode := range b.Events {
				seq, v, err := appendEvent(ev, encode)
				if err != nil {
					return err
				}
				res.Seqs = append(res.Seqs, seq)
				changes = append(changes, Change{Bucket: BucketEvents, Key: SeqKey(seq), Value: v})
			}
			audit := tx.Bucket([]byte(bucketAudit))
			for _, encode := range b.Audit {
				seq, v, err := appendEvent(ev, encode)
				if err != nil {
					return err
				}
				ordinal, err := audit.NextSequence()
				if err != nil {
					return fmt.Errorf("audit sequence: %w", err)
				}
				if err := audit.Put(seqKey(seq), encodeAudit(ordinal, nowStamp, v)); err != nil {
					return fmt.Errorf("append audit event %d: %w", seq, err)
				}
				res.Seqs = append(res.Seqs, seq)
				changes = append(changes, Change{Bucket: BucketEvents, Key: SeqKey(seq), Value: v})
			}
			if err := s.pruneEvents(ev, len(res.Seqs)); err != nil {
				return err
			}
			if err := s.pruneAudit(audit, now); err != nil {
				return err
			}
			expired, err := s.pruneExpired(tx, nowStamp)
			if err != nil {
				return err
			}
			changes = append(changes, expired...)
			rev, err := readRev(tx)
			if err != nil {
				return err
			}
			res.Rev = rev + 1
			return tx.Bucket([]byte(bucketMeta)).Put([]byte(revKey), encodeRev(res.Rev))
		})
	})
	if err != nil {
		return CommitResult{}, fmt.Errorf("store: commit: %w", err)
	}
	s.feed.publish(WatchEvent{Rev: res.Rev, Changes: changes})
	return res, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// appendEvent assigns the next sequence number to one event and appends it
// to the event log. It returns the stored bytes (aliasing nothing of bolt's).
func appendEvent(ev *bolt.Bucket, encode func(uint64) []byte) (uint64, []byte, error) {
	seq, err := ev.NextSequence()
	if err != nil {
		return 0, nil, fmt.Errorf("event sequence: %w", err)
	}
	v := encode(seq)
	if v == nil {
		v = []byte{}
	}
	if err := ev.Put(seqKey(seq), v); err != nil {
		return 0, nil, fmt.Errorf("append event %d: %w", seq, err)
	}
	return seq, bytes.Clone(v), nil
}

// Events returns copies of up to limit events with seq > after, in order.
// Events pruned by MaxEvents are simply absent, so a reader that fell behind
// sees a gap between after and the first seq it gets back.
func (s *Bolt) Events(ctx context.Context, after uint64, limit int) ([][]byte, error) {
	return s.readLog(ctx, "events", BucketEvents, after, limit, func(v []byte) ([]byte, error) { return v, nil })
}

// AuditEvents returns copies of up to limit audit events with seq > after,
// in order, from the audit log.
func (s *Bolt) AuditEvents(ctx context.Context, after uint64, limit int) ([][]byte, error) {
	return s.readLog(ctx, "audit events", bucketAudit, after, limit, func(v []byte) ([]byte, error) {
		_, _, ev, err := decodeAudit(v)
		return ev, err
	})
}

func (s *Bolt) readLog(ctx context.Context, op, bucket string, after uint64, limit int, decode func([]byte) ([]byte, error)) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	if limit <= 0 {
		// Rejected rather than read as "none" or "all": either silent
		// reading hides a caller bug, and "all" could be 100000 events.
		return nil, fmt.Errorf("store: %s: limit must be positive, got %d", op, limit)
	}
	out := make([][]byte, 0, min(limit, 64))
	if after == math.MaxUint64 {
		return out, nil
	}
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucket)).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) != seqSize {
				continue // not written by Commit; never expected
			}
			ev, err := decode(v)
			if err != nil {
				return fmt.Errorf("seq %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, append([]byte{}, ev...))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
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
	err := s.view(func(tx *bolt.Tx) error {
		seq = tx.Bucket([]byte(BucketEvents)).Sequence()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: last seq: %w", err)
	}
	return seq, nil
}

// Backup writes a consistent copy of the whole file, as of one read
// transaction, while commits go on: bbolt never overwrites pages a reader
// still sees. The copy is a complete store that OpenBolt accepts as is.
func (s *Bolt) Backup(ctx context.Context, open func(size int64) (io.Writer, error)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	err := s.view(func(tx *bolt.Tx) error {
		w, err := open(tx.Size())
		if err != nil {
			return err
		}
		_, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// closeWait bounds Close on a damaged store: a panic inside a write
// transaction can leave bbolt's writer lock held, and the process must
// still be able to exit.
const closeWait = 5 * time.Second

// Close waits for running transactions, then releases the file and its
// lock. Calling it again returns the first call's result.
func (s *Bolt) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.feed != nil {
			s.feed.close()
		}
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("%v", r)
				}
			}()
			done <- s.db.Close()
		}()
		var err error
		if s.damaged() != nil {
			select {
			case err = <-done:
			case <-time.After(closeWait):
				err = fmt.Errorf("the damaged store did not close within %s", closeWait)
			}
		} else {
			err = <-done
		}
		if err != nil {
			s.closeErr = fmt.Errorf("store: close: %w", err)
		}
	})
	return s.closeErr
}

// isExpiring reports whether bucket's values carry the expiring wrapper.
func isExpiring(tx *bolt.Tx, bucket string) bool {
	_, ok := lookup(tx.Bucket([]byte(bucketExpiring)), []byte(bucket))
	return ok
}

// read returns the logical value at bucket/key inside tx: unwrapped in
// expiring buckets, where a record counts as absent once expired so that
// visibility never depends on how far pruning has got. v aliases tx memory.
func (s *Bolt) read(tx *bolt.Tx, bucket, key string, now uint64) (v []byte, ok bool, err error) {
	b := tx.Bucket([]byte(bucket))
	if b == nil {
		return nil, false, nil
	}
	v, ok = lookup(b, []byte(key))
	if !ok || !isExpiring(tx, bucket) {
		return v, ok, nil
	}
	expires, payload, err := decodeExpiring(v)
	if err != nil {
		return nil, false, fmt.Errorf("%s/%q: %w", bucket, key, err)
	}
	if expired(expires, now) {
		return nil, false, nil
	}
	return payload, true, nil
}

// lookup finds key in b. bucket.Get cannot be used directly because it
// answers nil both for a missing key and for a zero-length value, and an
// empty value is a legitimate thing to store.
func lookup(b *bolt.Bucket, key []byte) ([]byte, bool) {
	if b == nil {
		return nil, false
	}
	k, v := b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, false
	}
	if v == nil && b.Bucket(k) != nil {
		return nil, false // a nested bucket, not a value
	}
	return v, true
}

func (s *Bolt) check(tx *bolt.Tx, c Condition, now uint64) error {
	cur, ok, err := s.read(tx, c.Bucket, c.Key, now)
	if err != nil {
		return err
	}
	return c.holds(cur, ok)
}

func (s *Bolt) put(tx *bolt.Tx, kv KV, now time.Time) error {
	b, err := tx.CreateBucketIfNotExists([]byte(kv.Bucket))
	if err != nil {
		return fmt.Errorf("put %s/%q: bucket: %w", kv.Bucket, kv.Key, err)
	}
	exp := isExpiring(tx, kv.Bucket)
	if kv.TTL > 0 && !exp {
		if err := makeExpiring(tx, b, kv.Bucket); err != nil {
			return err
		}
		exp = true
	}
	v := kv.Value
	if exp {
		if err := unindex(tx, b, kv.Bucket, kv.Key); err != nil {
			return err
		}
		var expires uint64
		if kv.TTL > 0 {
			expires = expiryStamp(now, kv.TTL)
			if err := tx.Bucket([]byte(bucketExpiry)).Put(expiryKey(expires, kv.Bucket, kv.Key), []byte{}); err != nil {
				return fmt.Errorf("put %s/%q: expiry index: %w", kv.Bucket, kv.Key, err)
			}
		}
		v = encodeExpiring(expires, kv.Value)
	}
	if v == nil {
		v = []byte{}
	}
	if err := b.Put([]byte(kv.Key), v); err != nil {
		return fmt.Errorf("put %s/%q: %w", kv.Bucket, kv.Key, err)
	}
	return nil
}

// makeExpiring turns bucket into an expiring bucket: its existing values
// are rewritten with the wrapper (expires 0, never) and it is registered,
// all in the caller's transaction.
func makeExpiring(tx *bolt.Tx, b *bolt.Bucket, bucket string) error {
	var rewrite []KV
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil && b.Bucket(k) != nil {
			continue
		}
		rewrite = append(rewrite, KV{Key: string(k), Value: encodeExpiring(0, v)})
	}
	for _, kv := range rewrite {
		if err := b.Put([]byte(kv.Key), kv.Value); err != nil {
			return fmt.Errorf("make %s expiring: %w", bucket, err)
		}
	}
	if err := tx.Bucket([]byte(bucketExpiring)).Put([]byte(bucket), []byte{}); err != nil {
		return fmt.Errorf("make %s expiring: %w", bucket, err)
	}
	return nil
}

func (s *Bolt) delete(tx *bolt.Tx, kv KV) (existed bool, err error) {
	b := tx.Bucket([]byte(kv.Bucket))
	if b == nil {
		return false, nil
	}
	if _, ok := lookup(b, []byte(kv.Key)); !ok {
		return false, nil
	}
	if isExpiring(tx, kv.Bucket) {
		if err := unindex(tx, b, kv.Bucket, kv.Key); err != nil {
			return false, err
		}
	}
	if err := b.Delete([]byte(kv.Key)); err != nil {
		return false, fmt.Errorf("delete %s/%q: %w", kv.Bucket, kv.Key, err)
	}
	return true, nil
}

// unindex removes the expiry-index entry of the record currently at key in
// an expiring bucket, so an overwritten or deleted record leaves no entry
// behind. A record that does not decode has no entry we could find; pruning
// drops any leftover.
func unindex(tx *bolt.Tx, b *bolt.Bucket, bucket, key string) error {
	old, ok := lookup(b, []byte(key))
	if !ok {
		return nil
	}
	expires, _, err := decodeExpiring(old)
	if err != nil || expires == 0 {
		return nil
	}
	if err := tx.Bucket([]byte(bucketExpiry)).Delete(expiryKey(expires, bucket, key)); err != nil {
		return fmt.Errorf("unindex %s/%q: %w", bucket, key, err)
	}
	return nil
}

// pruneEvents keeps the newest MaxEvents events. Sequence numbers are dense
// and only the front is ever deleted, so everything at or below
// last-MaxEvents goes, found from the front of a cursor: the cost is the
// number of events deleted, normally one per event appended.
func (s *Bolt) pruneEvents(ev *bolt.Bucket, appended int) error {
	last, keep := ev.Sequence(), uint64(s.opts.MaxEvents)
	if last <= keep {
		return nil
	}
	cutoff := last - keep
	var victims [][]byte
	c := ev.Cursor()
	for k, _ := c.First(); k != nil && len(victims) < appended+s.pruneBudget; k, _ = c.Next() {
		if len(k) != seqSize {
			continue
		}
		if binary.BigEndian.Uint64(k) > cutoff {
			break
		}
		victims = append(victims, bytes.Clone(k))
	}
	return deleteKeys(ev, victims, "prune event")
}

// pruneAudit deletes, oldest first and up to pruneBudget, the audit events
// that are both outside the AuditKeep newest and older than
// AuditRetention. It stops at the first entry that must stay (or does not
// decode — store check reports that), so a clock that jumped never lets a
// young entry go.
func (s *Bolt) pruneAudit(audit *bolt.Bucket, now time.Time) error {
	last, keep := audit.Sequence(), uint64(s.opts.AuditKeep)
	if last <= keep {
		return nil
	}
	ageCutoff := stamp(now.Add(-s.opts.AuditRetention))
	var victims [][]byte
	c := audit.Cursor()
	for k, v := c.First(); k != nil && len(victims) < s.pruneBudget; k, v = c.Next() {
		ordinal, created, _, err := decodeAudit(v)
		if err != nil || ordinal > last-keep || created >= ageCutoff {
			break
		}
		victims = append(victims, bytes.Clone(k))
	}
	return deleteKeys(audit, victims, "prune audit event")
}

// pruneExpired deletes up to pruneBudget records whose expiry has passed,
// soonest first, by walking the expiry index, and returns them as
// deletions for watchers. When nothing has expired it is one cursor seek,
// so it runs on every commit.
func (s *Bolt) pruneExpired(tx *bolt.Tx, now uint64) ([]Change, error) {
	idx := tx.Bucket([]byte(bucketExpiry))
	var victims [][]byte
	c := idx.Cursor()
	for k, _ := c.First(); k != nil && len(victims) < s.pruneBudget; k, _ = c.Next() {
		if expires, _, _, ok := splitExpiryKey(k); ok && !expired(expires, now) {
			break
		}
		victims = append(victims, bytes.Clone(k)) // expired, or malformed
	}
	var gone []Change
	for _, k := range victims {
		if expires, bucket, key, ok := splitExpiryKey(k); ok {
			// Only delete the record this entry describes: if the key was
			// rewritten its entry moved, but guard against a stale one.
			if b := tx.Bucket([]byte(bucket)); b != nil {
				if v, found := lookup(b, []byte(key)); found {
					if got, _, err := decodeExpiring(v); err == nil && got == expires {
						if err := b.Delete([]byte(key)); err != nil {
							return nil, fmt.Errorf("prune %s/%q: %w", bucket, key, err)
						}
						gone = append(gone, Change{Bucket: bucket, Key: key, Deleted: true})
					}
				}
			}
		}
		if err := idx.Delete(k); err != nil {
			return nil, fmt.Errorf("prune expiry index: %w", err)
		}
	}
	return gone, nil
}

// deleteKeys deletes collected keys. Deleting through a cursor while
// iterating skips keys in bbolt, so pruning collects first.
func deleteKeys(b *bolt.Bucket, keys [][]byte, what string) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("%s %x: %w", what, k, err)
		}
	}
	return nil
}

func seqKey(seq uint64) []byte {
	k := make([]byte, seqSize)
	binary.BigEndian.PutUint64(k, seq)
	return k
}
