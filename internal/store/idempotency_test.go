package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestDecodeIdempotency(t *testing.T) {
	created := stamp(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name        string
		raw         []byte
		wantCreated uint64
		wantPayload []byte
		wantErr     bool
	}{
		{name: "round trip", raw: encodeIdempotency(created, []byte(`{"status":201}`)), wantCreated: created, wantPayload: []byte(`{"status":201}`)},
		{name: "empty payload", raw: encodeIdempotency(created, nil), wantCreated: created, wantPayload: []byte{}},
		{name: "payload that looks like a header", raw: encodeIdempotency(7, encodeIdempotency(9, []byte("x"))), wantCreated: 7, wantPayload: encodeIdempotency(9, []byte("x"))},
		{name: "nil", raw: nil, wantErr: true},
		{name: "header cut short", raw: encodeIdempotency(created, nil)[:idemHeaderSize-1], wantErr: true},
		{name: "unknown version", raw: append([]byte{2}, make([]byte, 8)...), wantErr: true},
		{name: "unwrapped value", raw: []byte(`{"status":201}`), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotCreated, gotPayload, err := decodeIdempotency(tc.raw)
			if tc.wantErr {
				if !errors.Is(err, errCorruptIdempotency) {
					t.Fatalf("err = %v, want errCorruptIdempotency", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if gotCreated != tc.wantCreated || !bytes.Equal(gotPayload, tc.wantPayload) {
				t.Fatalf("got (%d, %q), want (%d, %q)", gotCreated, gotPayload, tc.wantCreated, tc.wantPayload)
			}
		})
	}
}

func TestStampClampsBeforeEpoch(t *testing.T) {
	if got := stamp(time.Unix(-5, 0)); got != 0 {
		t.Fatalf("stamp(before 1970) = %d, want 0 so index order stays time order", got)
	}
	a, b := stamp(time.Unix(100, 0)), stamp(time.Unix(100, 1))
	if !(a < b) || !(bytes.Compare(indexKey(a, "z"), indexKey(b, "a")) < 0) {
		t.Fatalf("index keys must sort by time before key: %d %d", a, b)
	}
}

func TestSplitIndexKey(t *testing.T) {
	tests := []struct {
		name        string
		k           []byte
		wantCreated uint64
		wantKey     string
		wantOK      bool
	}{
		{name: "round trip", k: indexKey(42, "req-1"), wantCreated: 42, wantKey: "req-1", wantOK: true},
		{name: "binary key", k: indexKey(1, "\x00\xff"), wantCreated: 1, wantKey: "\x00\xff", wantOK: true},
		{name: "stamp only", k: indexKey(42, ""), wantOK: false},
		{name: "short", k: []byte{1, 2, 3}, wantOK: false},
		{name: "nil", k: nil, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			created, key, ok := splitIndexKey(tc.k)
			if ok != tc.wantOK || created != tc.wantCreated || key != tc.wantKey {
				t.Fatalf("got (%d, %q, %t), want (%d, %q, %t)", created, key, ok, tc.wantCreated, tc.wantKey, tc.wantOK)
			}
		})
	}
}

// FuzzDecodeIdempotency: decoding arbitrary bytes (a damaged or foreign
// file) must never panic, and whatever decodes must re-encode to exactly the
// same bytes, so Get returns exactly what Put stored.
func FuzzDecodeIdempotency(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{idemVersion})
	f.Add(encodeIdempotency(0, nil))
	f.Add(encodeIdempotency(stamp(time.Unix(1700000000, 0)), []byte(`{"status":201,"body":"ok"}`)))
	f.Add(append([]byte{0xff}, make([]byte, 20)...))
	f.Fuzz(func(t *testing.T, raw []byte) {
		created, payload, err := decodeIdempotency(raw)
		if err == nil {
			if got := encodeIdempotency(created, payload); !bytes.Equal(got, raw) {
				t.Fatalf("re-encode = %x, want %x", got, raw)
			}
		} else if !errors.Is(err, errCorruptIdempotency) {
			t.Fatalf("unexpected error type: %v", err)
		}
		// Any payload at all must come back byte for byte.
		wrapped := encodeIdempotency(created^0x5a5a, raw)
		c2, p2, err := decodeIdempotency(wrapped)
		if err != nil || c2 != created^0x5a5a || !bytes.Equal(p2, raw) {
			t.Fatalf("round trip of %x: got (%d, %x, %v)", raw, c2, p2, err)
		}
	})
}

// FuzzSplitIndexKey: pruning parses every index key it meets; a malformed
// one must be reported, not panic or be misread.
func FuzzSplitIndexKey(f *testing.F) {
	f.Add([]byte{})
	f.Add(indexKey(0, "a"))
	f.Add(indexKey(1<<63, "idempotency-key-with-dashes"))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, k []byte) {
		created, key, ok := splitIndexKey(k)
		if !ok {
			if len(k) > stampSize {
				t.Fatalf("rejected a well-formed key %x", k)
			}
			return
		}
		if got := indexKey(created, key); !bytes.Equal(got, k) {
			t.Fatalf("indexKey(splitIndexKey(%x)) = %x", k, got)
		}
	})
}
