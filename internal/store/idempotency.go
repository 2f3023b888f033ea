package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Idempotency records are opaque to the store, but it must know when each
// was written to expire it. The bolt store therefore keeps two things per
// record:
//
//   - the record itself in BucketIdempotency, wrapped as
//     version(1 byte) | created(8 bytes, big-endian unix nanoseconds) | payload,
//     so that Get can hide an expired record even before pruning reaches it
//     and so that pruning can tell a stale index entry from a live one;
//   - an entry in bucketIdempotencyIndex keyed created | key, so the oldest
//     records are always at the front of a cursor and pruning costs
//     O(expired records), never O(all records).
const (
	idemVersion    byte = 1
	idemHeaderSize      = 1 + 8
	stampSize           = 8
)

// errCorruptIdempotency marks a stored idempotency record the store cannot
// read; it means the file was written by something else or damaged.
var errCorruptIdempotency = errors.New("corrupt idempotency record")

// stamp turns a wall-clock time into the fixed-width value stored in the
// wrapper and the index. Times before 1970 clamp to 0 so the big-endian
// encoding keeps sorting in time order.
func stamp(t time.Time) uint64 {
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// encodeIdempotency wraps payload with its creation stamp. The result is a
// fresh slice: bolt keeps a reference to the values it is given until the
// transaction commits.
func encodeIdempotency(created uint64, payload []byte) []byte {
	out := make([]byte, idemHeaderSize+len(payload))
	out[0] = idemVersion
	binary.BigEndian.PutUint64(out[1:idemHeaderSize], created)
	copy(out[idemHeaderSize:], payload)
	return out
}

// decodeIdempotency splits a stored record into its creation stamp and the
// exact payload that was Put. The payload aliases raw.
func decodeIdempotency(raw []byte) (created uint64, payload []byte, err error) {
	if len(raw) < idemHeaderSize {
		return 0, nil, fmt.Errorf("%w: %d bytes is shorter than the %d-byte header", errCorruptIdempotency, len(raw), idemHeaderSize)
	}
	if raw[0] != idemVersion {
		return 0, nil, fmt.Errorf("%w: unknown format version %d", errCorruptIdempotency, raw[0])
	}
	return binary.BigEndian.Uint64(raw[1:idemHeaderSize]), raw[idemHeaderSize:], nil
}

// indexKey is the key of a record's entry in the expiry index: the creation
// stamp first so that cursor order is expiry order, then the record's key so
// that records created in the same nanosecond do not collide.
func indexKey(created uint64, key string) []byte {
	out := make([]byte, stampSize+len(key))
	binary.BigEndian.PutUint64(out, created)
	copy(out[stampSize:], key)
	return out
}

// splitIndexKey reverses indexKey. ok is false for a key too short to hold
// a stamp and a non-empty record key (bolt rejects empty keys, so a real
// record never has one).
func splitIndexKey(k []byte) (created uint64, key string, ok bool) {
	if len(k) <= stampSize {
		return 0, "", false
	}
	return binary.BigEndian.Uint64(k[:stampSize]), string(k[stampSize:]), true
}
