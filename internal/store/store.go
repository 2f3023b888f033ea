// Package store persists failoverd's declared objects, runtime state,
// idempotency records and event log. Handlers and the engine only see the
// Store interface, so the embedded bolt store and a clustered etcd store
// are interchangeable.
package store

import (
	"context"
	"errors"
)

// Buckets. Declared objects live in a bucket named after their api.Kind.
const (
	BucketIdempotency = "idempotency" // Idempotency-Key → recorded response
	BucketState       = "state"       // runtime state: health, decisions, overrides
	BucketEvents      = "events"      // append-only log, key = big-endian seq
)

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by Commit when a Condition does not hold; nothing
// of the batch was written.
var ErrConflict = errors.New("condition failed")

// KV is one key/value in a bucket.
type KV struct {
	Bucket string
	Key    string
	Value  []byte
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
	Deletes    []KV // Value ignored
	// Events are appended to the event log; Commit assigns each a sequence
	// number by calling Seq before encoding, so the stored bytes carry it.
	Events []func(seq uint64) []byte
}

// Store is the persistence contract.
type Store interface {
	// Get returns the value at bucket/key or ErrNotFound.
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	// List returns every key/value of a bucket in key order.
	List(ctx context.Context, bucket string) ([]KV, error)
	// Commit writes b atomically and durably: when it returns nil the
	// batch is on stable storage (fsync'd). It returns the sequence numbers
	// assigned to b.Events, in order.
	Commit(ctx context.Context, b Batch) ([]uint64, error)
	// Events returns up to limit encoded events with seq > after, in order.
	Events(ctx context.Context, after uint64, limit int) ([][]byte, error)
	// LastSeq is the highest event sequence number written.
	LastSeq(ctx context.Context) (uint64, error)
	// Close flushes and releases the store.
	Close() error
}
