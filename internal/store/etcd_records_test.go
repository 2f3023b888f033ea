package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestEtcdValue(t *testing.T) {
	exp := stamp(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name        string
		payload     []byte
		expires     uint64
		wantStored  []byte // nil: not checked
		wantReadAs  []byte
		wantExpires uint64
	}{
		{name: "JSON is stored as is", payload: []byte(`{"a":1}`), wantStored: []byte(`{"a":1}`), wantReadAs: []byte(`{"a":1}`)},
		{name: "empty", payload: []byte{}, wantStored: []byte{}, wantReadAs: []byte{}},
		{name: "leading 0x00 is escaped", payload: []byte("\x00raw"), wantStored: []byte("\x01\x00raw"), wantReadAs: []byte("\x00raw")},
		{name: "leading 0x01 is escaped", payload: []byte("\x01"), wantStored: []byte("\x01\x01"), wantReadAs: []byte("\x01")},
		{name: "other binary as is", payload: []byte("\x02\x00"), wantStored: []byte("\x02\x00"), wantReadAs: []byte("\x02\x00")},
		{name: "with expiry", payload: []byte(`{"status":201}`), expires: exp, wantReadAs: []byte(`{"status":201}`), wantExpires: exp},
		{name: "with expiry, escaped-looking payload", payload: []byte("\x01\x00"), expires: 1, wantReadAs: []byte("\x01\x00"), wantExpires: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stored := encodeEtcdValue(tc.payload, tc.expires)
			if tc.wantStored != nil && !bytes.Equal(stored, tc.wantStored) {
				t.Fatalf("stored %q, want %q", stored, tc.wantStored)
			}
			expires, got, err := decodeEtcdValue(stored)
			if err != nil || expires != tc.wantExpires || !bytes.Equal(got, tc.wantReadAs) || got == nil {
				t.Fatalf("decode = (%d, %q, %v), want (%d, %q)", expires, got, err, tc.wantExpires, tc.wantReadAs)
			}
		})
	}
	// Damaged: a header cut short, an expiry of 0, a needless escape.
	for _, raw := range [][]byte{{0x00}, {0x00, 1, 2}, append([]byte{0x00}, make([]byte, 8)...), {0x01}, {0x01, 'x'}} {
		if _, _, err := decodeEtcdValue(raw); !errors.Is(err, ErrDamaged) {
			t.Errorf("decode(%x) = %v, want ErrDamaged", raw, err)
		}
	}
}

// FuzzDecodeEtcdValue: every value read from etcd goes through it; a value
// written by something else must be an error or read back exactly, and
// whatever decodes must re-encode to the same bytes.
func FuzzDecodeEtcdValue(f *testing.F) {
	f.Add([]byte(`{"a":1}`))
	f.Add([]byte{})
	f.Add(encodeEtcdValue([]byte("\x00x"), 0))
	f.Add(encodeEtcdValue([]byte("x"), 12345))
	f.Add([]byte{0x00, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		expires, payload, err := decodeEtcdValue(raw)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("unexpected error type: %v", err)
			}
		} else if got := encodeEtcdValue(payload, expires); !bytes.Equal(got, raw) {
			t.Fatalf("re-encode of %x = %x", raw, got)
		}
		// Any payload comes back byte for byte, with or without expiry.
		for _, exp := range []uint64{0, 77} {
			e2, p2, err := decodeEtcdValue(encodeEtcdValue(raw, exp))
			if err != nil || e2 != exp || !bytes.Equal(p2, raw) {
				t.Fatalf("round trip of %x (expires %d): (%d, %x, %v)", raw, exp, e2, p2, err)
			}
		}
	})
}

func TestDecodePair(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		a, b    uint64
		wantErr bool
	}{
		{raw: "0 0"},
		{raw: "42 7", a: 42, b: 7},
		{raw: "18446744073709551615 1", a: 1<<64 - 1, b: 1},
		{raw: "", wantErr: true},
		{raw: "42", wantErr: true},
		{raw: "042 7", wantErr: true},
		{raw: "42  7", wantErr: true},
		{raw: "-1 7", wantErr: true},
		{raw: "42 7 ", wantErr: true},
		{raw: "18446744073709551616 0", wantErr: true},
	} {
		a, b, err := decodePair([]byte(tc.raw))
		if (err != nil) != tc.wantErr || a != tc.a || b != tc.b {
			t.Errorf("decodePair(%q) = (%d, %d, %v), want (%d, %d, error %t)", tc.raw, a, b, err, tc.a, tc.b, tc.wantErr)
		}
		if err != nil && !errors.Is(err, ErrDamaged) {
			t.Errorf("decodePair(%q): %v is not ErrDamaged", tc.raw, err)
		}
	}
}

// FuzzDecodePair: the counters and commit ids are read on every commit.
func FuzzDecodePair(f *testing.F) {
	f.Add([]byte("42 7"))
	f.Add([]byte(""))
	f.Add([]byte("1 2 3"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, b, err := decodePair(raw)
		if err == nil && encodePair(a, b) != string(raw) {
			t.Fatalf("decodePair(%q) = (%d, %d) does not re-encode", raw, a, b)
		}
	})
}

// TestLeaseSlots: records with a TTL share a lease per time bucket about
// an eighth of the TTL wide, and the lease never ends before the record's
// expiry.
func TestLeaseSlots(t *testing.T) {
	for _, tc := range []struct {
		ttl  time.Duration
		want int64
	}{
		{time.Second, 1}, {2 * time.Second, 1}, {16 * time.Second, 2}, {5 * time.Minute, 32},
		{time.Hour, 256}, {24 * time.Hour, 4096}, {365 * 24 * time.Hour, 4096},
	} {
		if got := ttlWidth(tc.ttl); got != tc.want {
			t.Errorf("ttlWidth(%s) = %d s, want %d s", tc.ttl, got, tc.want)
		}
	}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{0, time.Nanosecond, 999 * time.Millisecond, time.Second, 4095 * time.Second, 4096 * time.Second} {
		exp := t0.Add(d)
		slot := slotFor(exp, 24*time.Hour)
		if end := slot.end(); end.Before(exp) || end.Sub(exp) > 4096*time.Second {
			t.Errorf("record expiring at %s in slot ending %s", exp, end)
		}
	}
	a, b := slotFor(t0.Add(time.Second), 24*time.Hour), slotFor(t0.Add(2*time.Second), 24*time.Hour)
	if a != b {
		t.Errorf("records expiring a second apart get slots %v and %v, want one shared lease", a, b)
	}
}
