package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// On-disk records of the bolt store beyond the caller's opaque values.
//
// Expiring records (KV.TTL). A bucket becomes "expiring" the first time a
// record with a TTL is put into it (it is then listed in bucketExpiring),
// and from then on every value in it is wrapped as
//
//	version(1 byte) | expires(8 bytes, big-endian unix ns; 0 = never) | payload
//
// so that Get hides an expired record before pruning reaches it, and a
// value without TTL in the same bucket simply carries expires 0. Each
// record that expires also has an entry in bucketExpiry keyed
//
//	expires(8) | len(bucket)(2) | bucket | key
//
// so the next records to expire are always at the front of one cursor and
// pruning costs O(expired records), never O(all records).
//
// Audit records (Batch.Audit) live in bucketAudit under the event's
// sequence number (8 bytes, big-endian), wrapped as
//
//	version(1 byte) | ordinal(8) | created(8, unix ns) | event
//
// where ordinal counts audit events ever appended (the bucket's sequence),
// so "outside the newest N" is known from the front entry alone.
const (
	expiringVersion    byte = 2
	expiringHeaderSize      = 1 + 8
	auditVersion       byte = 1
	auditHeaderSize         = 1 + 8 + 8
	stampSize               = 8
	seqSize                 = 8

	// legacyIdemVersion is the format-0 idempotency wrapper, version(1) |
	// created(8) | payload, with the TTL fixed by the store; it is read
	// only to upgrade a format-0 file (see migrateLegacy).
	legacyIdemVersion byte = 1
)

// stamp turns a wall-clock time into the fixed-width value stored in the
// wrappers and the index. Times before 1970 clamp to 0 — and 1 for an
// expiry, since 0 there means "never" — so the big-endian encoding keeps
// sorting in time order.
func stamp(t time.Time) uint64 {
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// expiryStamp is the expires value of a record written at now with ttl
// (> 0): never 0, which means "never expires".
func expiryStamp(now time.Time, ttl time.Duration) uint64 {
	return max(stamp(now.Add(ttl)), 1)
}

// expired reports whether a record with this expiry is gone at now: it is
// still visible at exactly its expiry instant.
func expired(expires, now uint64) bool { return expires != 0 && expires < now }

// encodeExpiring wraps payload with its expiry. The result is a fresh
// slice: bolt keeps a reference to the values it is given until the
// transaction commits.
func encodeExpiring(expires uint64, payload []byte) []byte {
	out := make([]byte, expiringHeaderSize+len(payload))
	out[0] = expiringVersion
	binary.BigEndian.PutUint64(out[1:expiringHeaderSize], expires)
	copy(out[expiringHeaderSize:], payload)
	return out
}

// decodeExpiring splits a stored record of an expiring bucket into its
// expiry and the exact payload that was Put. The payload aliases raw.
func decodeExpiring(raw []byte) (expires uint64, payload []byte, err error) {
	if len(raw) < expiringHeaderSize {
		return 0, nil, fmt.Errorf("%w: expiring record of %d bytes is shorter than its %d-byte header", ErrDamaged, len(raw), expiringHeaderSize)
	}
	if raw[0] != expiringVersion {
		return 0, nil, fmt.Errorf("%w: expiring record has unknown format version %d", ErrDamaged, raw[0])
	}
	return binary.BigEndian.Uint64(raw[1:expiringHeaderSize]), raw[expiringHeaderSize:], nil
}

// decodeLegacyIdempotency reads a format-0 idempotency record.
func decodeLegacyIdempotency(raw []byte) (created uint64, payload []byte, err error) {
	if len(raw) < 1+stampSize || raw[0] != legacyIdemVersion {
		return 0, nil, fmt.Errorf("%w: format-0 idempotency record is not version %d with an %d-byte stamp", ErrDamaged, legacyIdemVersion, stampSize)
	}
	return binary.BigEndian.Uint64(raw[1 : 1+stampSize]), raw[1+stampSize:], nil
}

// expiryKey is the key of a record's entry in the expiry index: the expiry
// first so cursor order is expiry order, then bucket and key so records
// expiring in the same nanosecond do not collide.
func expiryKey(expires uint64, bucket, key string) []byte {
	out := make([]byte, stampSize+2+len(bucket)+len(key))
	binary.BigEndian.PutUint64(out, expires)
	binary.BigEndian.PutUint16(out[stampSize:], uint16(len(bucket)))
	copy(out[stampSize+2:], bucket)
	copy(out[stampSize+2+len(bucket):], key)
	return out
}

// splitExpiryKey reverses expiryKey. ok is false for a key that cannot
// have been written by expiryKey (bolt rejects empty bucket names and keys).
func splitExpiryKey(k []byte) (expires uint64, bucket, key string, ok bool) {
	if len(k) < stampSize+2 {
		return 0, "", "", false
	}
	n := int(binary.BigEndian.Uint16(k[stampSize:]))
	rest := k[stampSize+2:]
	if n == 0 || n >= len(rest) {
		return 0, "", "", false
	}
	return binary.BigEndian.Uint64(k[:stampSize]), string(rest[:n]), string(rest[n:]), true
}

// maxBucketName bounds bucket names so an expiry key can hold their length.
const maxBucketName = 1<<16 - 1

// encodeAudit wraps an audit event for bucketAudit.
func encodeAudit(ordinal, created uint64, event []byte) []byte {
	out := make([]byte, auditHeaderSize+len(event))
	out[0] = auditVersion
	binary.BigEndian.PutUint64(out[1:9], ordinal)
	binary.BigEndian.PutUint64(out[9:auditHeaderSize], created)
	copy(out[auditHeaderSize:], event)
	return out
}

// decodeAudit splits an audit record; event aliases raw.
func decodeAudit(raw []byte) (ordinal, created uint64, event []byte, err error) {
	if len(raw) < auditHeaderSize {
		return 0, 0, nil, fmt.Errorf("%w: audit record of %d bytes is shorter than its %d-byte header", ErrDamaged, len(raw), auditHeaderSize)
	}
	if raw[0] != auditVersion {
		return 0, 0, nil, fmt.Errorf("%w: audit record has unknown format version %d", ErrDamaged, raw[0])
	}
	if binary.BigEndian.Uint64(raw[1:9]) == 0 {
		return 0, 0, nil, fmt.Errorf("%w: audit record has ordinal 0", ErrDamaged)
	}
	return binary.BigEndian.Uint64(raw[1:9]), binary.BigEndian.Uint64(raw[9:auditHeaderSize]), raw[auditHeaderSize:], nil
}

// encodeRev is the stored form of the store's revision (bucketMeta/revKey).
func encodeRev(rev uint64) []byte { return seqKey(rev) }

// decodeRev reads the store's revision.
func decodeRev(raw []byte) (uint64, error) {
	if len(raw) != 8 {
		return 0, fmt.Errorf("%w: the store's revision is %d bytes, not 8", ErrDamaged, len(raw))
	}
	return binary.BigEndian.Uint64(raw), nil
}

// formatVersion is the layout this store writes and reads: the buckets
// below, expiring records and the audit log as described above. Format 0
// is the layout before the marker existed; OpenBolt upgrades it.
const formatVersion = 1

// marker is the value of markerKey in bucketMeta. Its presence tells a
// failoverd store from a file that is empty, foreign or was cut short: a
// store without it is refused, not silently started as an empty database.
type marker struct {
	Format    int       `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	// UpgradedAt is set when an older format was converted in place.
	UpgradedAt *time.Time `json:"upgraded_at,omitempty"`
}

func encodeMarker(m marker) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // a struct of ints and times always marshals
	}
	return b
}

func decodeMarker(raw []byte) (marker, error) {
	var m marker
	if err := json.Unmarshal(raw, &m); err != nil {
		return marker{}, fmt.Errorf("%w: format marker %q does not decode: %v", ErrDamaged, truncate(raw, 64), err)
	}
	if m.Format < 1 || m.CreatedAt.IsZero() {
		return marker{}, fmt.Errorf("%w: format marker %q lacks a format version or creation time", ErrDamaged, truncate(raw, 64))
	}
	return m, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
