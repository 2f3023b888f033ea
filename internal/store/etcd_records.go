package store

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Values of the etcd store. Most values are stored exactly as Put, so
// `etcdctl get --prefix /failover/` shows readable JSON. Two first bytes,
// which JSON never starts with, mark the exceptions:
//
//	0x00 | expires(8 bytes, big-endian unix ns, never 0) | payload   a record with a TTL
//	0x01 | payload                                                a payload that itself starts with 0x00 or 0x01
//
// The expiry in the value makes a record invisible at exactly its TTL,
// as in the bolt store; its lease (time-bucketed, see ttlSlot) only
// removes it later.
const (
	etcdExpiringMark byte = 0x00
	etcdEscapeMark   byte = 0x01
)

// encodeEtcdValue is the stored form of payload, expiring at expires (0:
// never).
func encodeEtcdValue(payload []byte, expires uint64) []byte {
	switch {
	case expires != 0:
		out := make([]byte, expiringHeaderSize+len(payload))
		out[0] = etcdExpiringMark
		binary.BigEndian.PutUint64(out[1:expiringHeaderSize], expires)
		copy(out[expiringHeaderSize:], payload)
		return out
	case len(payload) > 0 && (payload[0] == etcdExpiringMark || payload[0] == etcdEscapeMark):
		return append([]byte{etcdEscapeMark}, payload...)
	}
	return payload
}

// decodeEtcdValue reverses encodeEtcdValue; payload aliases raw.
func decodeEtcdValue(raw []byte) (expires uint64, payload []byte, err error) {
	if len(raw) == 0 {
		return 0, []byte{}, nil // etcd hands an empty value back as nil; it is present
	}
	switch raw[0] {
	case etcdExpiringMark:
		if len(raw) < expiringHeaderSize {
			return 0, nil, fmt.Errorf("%w: expiring value of %d bytes is shorter than its %d-byte header", ErrDamaged, len(raw), expiringHeaderSize)
		}
		expires = binary.BigEndian.Uint64(raw[1:expiringHeaderSize])
		if expires == 0 {
			return 0, nil, fmt.Errorf("%w: expiring value without an expiry", ErrDamaged)
		}
		return expires, raw[expiringHeaderSize:], nil
	case etcdEscapeMark:
		if len(raw) < 2 || (raw[1] != etcdExpiringMark && raw[1] != etcdEscapeMark) {
			return 0, nil, fmt.Errorf("%w: escaped value does not start with an escaped byte", ErrDamaged)
		}
		return 0, raw[1:], nil
	}
	return 0, raw, nil
}

// encodePair stores two counters as "A B" in decimal: the event log's last
// sequence number and audit ordinal (the counter key), or a commit's first
// sequence number and count (its commit key).
func encodePair(a, b uint64) string {
	return strconv.FormatUint(a, 10) + " " + strconv.FormatUint(b, 10)
}

// decodePair reverses encodePair, accepting only its exact output.
func decodePair(raw []byte) (a, b uint64, err error) {
	s := string(raw)
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return 0, 0, fmt.Errorf("%w: counter %q is not two numbers", ErrDamaged, truncate(raw, 64))
	}
	a, errA := strconv.ParseUint(s[:i], 10, 64)
	b, errB := strconv.ParseUint(s[i+1:], 10, 64)
	if errA != nil || errB != nil || encodePair(a, b) != s {
		return 0, 0, fmt.Errorf("%w: counter %q is not two numbers", ErrDamaged, truncate(raw, 64))
	}
	return a, b, nil
}
