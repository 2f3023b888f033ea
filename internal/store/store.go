// Package store persists failoverd's declared objects, runtime state,
// idempotency records, event log and audit log. Handlers and the engine
// only see the Store interface, so the embedded bolt store and a clustered
// etcd store are interchangeable.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// Buckets. Declared objects live in a bucket named after their api.Kind.
// Names starting with '_' are reserved for the store's own bookkeeping and
// cannot be written through Commit.
const (
	BucketIdempotency = "idempotency" // Idempotency-Key → recorded response (written with a TTL)
	BucketState       = "state"       // runtime state: health, decisions, overrides
	BucketEvents      = "events"      // append-only log, key = big-endian seq
)

// Defaults of the audit log's retention (see Store.AuditEvents). They are
// a floor, not a ceiling: an audit event is deleted only once it is BOTH
// older than DefaultAuditRetention AND outside the DefaultAuditKeep newest,
// so no volume of other events, and no burst of audit events, can take an
// administrator's mutation out of the log before it is 400 days old.
const (
	DefaultAuditRetention = 400 * 24 * time.Hour
	DefaultAuditKeep      = 100000
)

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by Commit when a Condition does not hold; nothing
// of the batch was written.
var ErrConflict = errors.New("condition failed")

// ErrDamaged wraps every error caused by a damaged store (unreadable
// pages, a file cut short, records that do not decode). It is not a
// transient failure: retrying does not help, restoring a backup does.
var ErrDamaged = errors.New("store damaged")

// KV is one key/value in a bucket.
type KV struct {
	Bucket string
	Key    string
	Value  []byte
	// TTL, when positive on a Put, makes the record expire TTL after the
	// commit that wrote it: from then on Get, List and Conditions treat it
	// as absent (whether or not the store has physically deleted it yet),
	// and the store deletes it by itself. Zero: the record never expires.
	// Rewriting a key sets its expiry anew. Ignored in Deletes.
	//
	// The store removes an expired record by itself, at its expiry or
	// later (bolt: in a later commit; etcd: when the shared lease of the
	// record's expiry time bucket ends): Watch reports the removal as a
	// deletion when it happens.
	TTL time.Duration
	// Ephemeral, on a Put, ties the record to the life of the Store that
	// wrote it: a clustered store attaches it to its session lease, so the
	// record vanishes when that process stops or loses contact with the
	// cluster for longer than the session TTL (Watch reports the deletion).
	// The bolt store, a cluster of one, writes it as a plain record. An
	// ephemeral record cannot also have a TTL.
	Ephemeral bool
}

// Condition guards a Commit: the key must currently hold exactly Value, or
// be absent when Absent is set. Handlers use it for compare-and-swap so a
// clustered store never loses a concurrent write.
type Condition struct {
	Bucket string
	Key    string
	Value  []byte
	Absent bool
}

// Batch is written atomically: all of it or none of it. A clustered store
// bounds its size (etcd: EtcdOptions.MaxTxnOps operations, each audit event
// counting twice) and refuses a larger batch before writing anything.
type Batch struct {
	Conditions []Condition
	Puts       []KV
	Deletes    []KV // Value and TTL ignored
	// Events are appended to the event log; Commit assigns each a sequence
	// number by calling it before encoding, so the stored bytes carry it.
	// An encoder may be called more than once, with different numbers
	// (the etcd store retries when another node appended first): it must
	// only encode.
	Events []func(seq uint64) []byte
	// Audit events are appended to the event log after Events, in the
	// same sequence, and are also kept in the audit log under the same
	// sequence number. The event log is bounded by count and a flood of
	// other events pushes old entries out; the audit log is not (see
	// DefaultAuditRetention).
	Audit []func(seq uint64) []byte
	// ID names the batch for a retry after an error wrapping
	// ErrOutcomeUnknown: committed again with the same ID (within
	// MaxBatchIDLife), a batch that did land is not applied a second time
	// and the first commit's result is returned. Empty: a new ID for each
	// Commit. Up to MaxBatchIDLen bytes of [0-9A-Za-z_-]. A store whose
	// commits never end with an unknown outcome (bolt) ignores it.
	ID string
}

// MaxBatchIDLen bounds Batch.ID.
const MaxBatchIDLen = 64

// MaxBatchIDLife is how long a Batch.ID is remembered after its commit:
// far beyond any retry.
const MaxBatchIDLife = 5 * time.Minute

// NewBatchID returns a new random Batch.ID.
func NewBatchID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CommitResult is what a successful Commit wrote.
type CommitResult struct {
	// Rev is the store's revision after the commit: the revision Watch
	// reports the commit under.
	Rev uint64
	// Seqs are the sequence numbers assigned to Batch.Events followed by
	// those of Batch.Audit, in order.
	Seqs []uint64
}

// Change is one key a commit changed, as Watch reports it.
type Change struct {
	Bucket string
	Key    string
	// Value is the new value as it was Put (nil when Deleted).
	Value   []byte
	Deleted bool
}

// WatchEvent is one revision of the store, as Watch reports it. An event
// with neither Changes nor Err is progress: every change up to Rev has
// been delivered, though the revisions since the last change touched
// nothing a watcher sees (the store's own keys, another prefix of a shared
// etcd). A reader that waits until it has applied a revision Load returned
// needs it: that revision may be one of those.
type WatchEvent struct {
	// Rev is the revision the changes were made at.
	Rev uint64
	// Changes are every key that revision changed (their Values are
	// shared between watchers: read-only), in the order the batch
	// listed them: puts, then deletes, then appended events (bucket
	// BucketEvents, key SeqKey(seq), events before audit events), then
	// records the store removed by itself (expired TTLs, ended sessions).
	// The store's own bookkeeping is never reported, nor is the pruning of
	// old entries from the event and audit logs (read those with Events).
	Changes []Change
	// Err ends the stream: ErrCompacted (the store no longer has the
	// changes after the asked revision: Load again and watch from the
	// revision Load returns), ErrClosed, or a failure of the store.
	Err error
}

// ErrCompacted is reported by Watch when the changes after the asked
// revision are no longer available (etcd compacted them, or a bolt
// watcher fell further behind than the store keeps): the watcher must
// Load again and watch from the revision Load returns.
var ErrCompacted = errors.New("revision compacted: the changes after it are no longer kept; load again and watch from the new revision")

// ErrClosed is reported by Watch, and returned by every method, once the
// Store is closed.
var ErrClosed = errors.New("store closed")

// ErrOutcomeUnknown is wrapped by Commit errors after which the batch may
// or may not have been written: the store lost contact with its cluster
// while the write was in flight, and a write that timed out can still
// land later. Nothing is known until the key is read again; a request
// retried with the same Idempotency-Key is applied at most once.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// Store is the persistence contract. Every implementation passes the
// contract suite in internal/store/storetest.
type Store interface {
	// Get returns the value at bucket/key or ErrNotFound.
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	// List returns every key/value of a bucket in key order.
	List(ctx context.Context, bucket string) ([]KV, error)
	// Load reads every listed bucket at one revision and returns that
	// revision with the buckets' contents (key order, as List). A watch
	// started at rev misses nothing that changed after the read and repeats
	// nothing the read already holds. Load() with no bucket returns the
	// current revision.
	Load(ctx context.Context, buckets ...string) (rev uint64, kvs map[string][]KV, err error)
	// Commit writes b atomically and durably: when it returns nil the
	// batch is on stable storage (bolt: fsync'd; etcd: in the WAL of a
	// quorum). It returns the commit's revision and the sequence numbers
	// assigned to b.Events followed by those of b.Audit. A failed
	// Condition returns ErrConflict and writes nothing; an error wrapping
	// ErrOutcomeUnknown says the batch may have been written anyway.
	Commit(ctx context.Context, b Batch) (CommitResult, error)
	// Watch streams, in revision order, every revision after afterRev
	// that changed a key of a caller's bucket or appended events, whoever
	// wrote it (this Store included): each exactly once. The channel
	// closes when ctx ends, after a WatchEvent with Err set, or when the
	// Store closes. A slow reader never blocks Commit: it falls behind
	// and, past what the store keeps, gets ErrCompacted. Revisions are
	// increasing but not dense (etcd's are shared with other keys).
	Watch(ctx context.Context, afterRev uint64) <-chan WatchEvent
	// Events returns up to limit encoded events with seq > after, in order.
	// Old events are pruned by count, so a reader that fell behind sees a
	// gap between after and the first seq it gets back.
	Events(ctx context.Context, after uint64, limit int) ([][]byte, error)
	// AuditEvents returns up to limit encoded audit events (Batch.Audit)
	// with seq > after, in order, from the audit log.
	AuditEvents(ctx context.Context, after uint64, limit int) ([][]byte, error)
	// LastSeq is the highest event sequence number written.
	LastSeq(ctx context.Context) (uint64, error)
	// Close releases the store: it ends every Watch (with ErrClosed) and,
	// in a clustered store, ends the session, so this process's Ephemeral
	// records vanish at once.
	Close() error
}

// SeqKey is the key of event seq in BucketEvents as Watch reports it:
// 16 lower-case hex digits, so key order is sequence order.
func SeqKey(seq uint64) string { return fmt.Sprintf("%016x", seq) }

// ParseSeqKey reverses SeqKey.
func ParseSeqKey(k string) (uint64, error) {
	if len(k) != 16 {
		return 0, fmt.Errorf("event key %q is not 16 hex digits", k)
	}
	var seq uint64
	for i := 0; i < len(k); i++ {
		c := k[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, fmt.Errorf("event key %q is not 16 lower-case hex digits", k)
		}
		seq = seq<<4 | uint64(d)
	}
	return seq, nil
}

// Backuper is implemented by stores that can copy themselves while in use
// (the bolt store). A clustered store is backed up with its own tools
// instead (an etcd snapshot).
type Backuper interface {
	// Backup writes a consistent snapshot of the whole store — one point in
	// time, while writes go on — to the writer open returns. open is called
	// once, with the exact number of bytes that will follow, before the
	// first byte is written.
	Backup(ctx context.Context, open func(size int64) (io.Writer, error)) error
}
