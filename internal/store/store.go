// Package store persists failoverd's declared objects, runtime state,
// idempotency records, event log and audit log. Handlers and the engine
// only see the Store interface, so the embedded bolt store and a clustered
// etcd store are interchangeable.
package store

import (
	"context"
	"errors"
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
	TTL time.Duration
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

// Batch is written atomically: all of it or none of it.
type Batch struct {
	Conditions []Condition
	Puts       []KV
	Deletes    []KV // Value and TTL ignored
	// Events are appended to the event log; Commit assigns each a sequence
	// number by calling it before encoding, so the stored bytes carry it.
	Events []func(seq uint64) []byte
	// Audit events are appended to the event log after Events, in the
	// same sequence, and are also kept in the audit log under the same
	// sequence number. The event log is bounded by count and a flood of
	// other events pushes old entries out; the audit log is not (see
	// DefaultAuditRetention).
	Audit []func(seq uint64) []byte
}

// Store is the persistence contract.
type Store interface {
	// Get returns the value at bucket/key or ErrNotFound.
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	// List returns every key/value of a bucket in key order.
	List(ctx context.Context, bucket string) ([]KV, error)
	// Commit writes b atomically and durably: when it returns nil the
	// batch is on stable storage (fsync'd). It returns the sequence numbers
	// assigned to b.Events followed by those of b.Audit, in order.
	Commit(ctx context.Context, b Batch) ([]uint64, error)
	// Events returns up to limit encoded events with seq > after, in order.
	// Old events are pruned by count, so a reader that fell behind sees a
	// gap between after and the first seq it gets back.
	Events(ctx context.Context, after uint64, limit int) ([][]byte, error)
	// AuditEvents returns up to limit encoded audit events (Batch.Audit)
	// with seq > after, in order, from the audit log.
	AuditEvents(ctx context.Context, after uint64, limit int) ([][]byte, error)
	// LastSeq is the highest event sequence number written.
	LastSeq(ctx context.Context) (uint64, error)
	// Close flushes and releases the store.
	Close() error
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
