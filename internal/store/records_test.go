package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

func TestDecodeExpiring(t *testing.T) {
	exp := stamp(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name        string
		raw         []byte
		wantExpires uint64
		wantPayload []byte
		wantErr     bool
	}{
		{name: "round trip", raw: encodeExpiring(exp, []byte(`{"status":201}`)), wantExpires: exp, wantPayload: []byte(`{"status":201}`)},
		{name: "never expires", raw: encodeExpiring(0, []byte("x")), wantExpires: 0, wantPayload: []byte("x")},
		{name: "empty payload", raw: encodeExpiring(exp, nil), wantExpires: exp, wantPayload: []byte{}},
		{name: "payload that looks like a header", raw: encodeExpiring(7, encodeExpiring(9, []byte("x"))), wantExpires: 7, wantPayload: encodeExpiring(9, []byte("x"))},
		{name: "nil", raw: nil, wantErr: true},
		{name: "header cut short", raw: encodeExpiring(exp, nil)[:expiringHeaderSize-1], wantErr: true},
		{name: "format-0 idempotency wrapper", raw: append([]byte{legacyIdemVersion}, make([]byte, 8)...), wantErr: true},
		{name: "unwrapped value", raw: []byte(`{"status":201}`), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotExpires, gotPayload, err := decodeExpiring(tc.raw)
			if tc.wantErr {
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("err = %v, want ErrDamaged", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if gotExpires != tc.wantExpires || !bytes.Equal(gotPayload, tc.wantPayload) {
				t.Fatalf("got (%d, %q), want (%d, %q)", gotExpires, gotPayload, tc.wantExpires, tc.wantPayload)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if got := stamp(time.Unix(-5, 0)); got != 0 {
		t.Fatalf("stamp(before 1970) = %d, want 0 so index order stays time order", got)
	}
	if got := expiryStamp(time.Unix(-100, 0), time.Second); got != 1 {
		t.Fatalf("expiryStamp before 1970 = %d, want 1: 0 means never", got)
	}
	e := expiryStamp(t0, time.Hour)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{t0, false}, {t0.Add(time.Hour), false}, {t0.Add(time.Hour + 1), true}} {
		if got := expired(e, stamp(tc.at)); got != tc.want {
			t.Errorf("expired at %s = %t, want %t", tc.at, got, tc.want)
		}
	}
	if expired(0, stamp(t0.Add(1000*time.Hour))) {
		t.Error("a record without TTL expired")
	}
	a, b := stamp(time.Unix(100, 0)), stamp(time.Unix(100, 1))
	if bytes.Compare(expiryKey(a, "zz", "z"), expiryKey(b, "a", "a")) >= 0 {
		t.Fatal("expiry keys must sort by time before bucket and key")
	}
}

func TestSplitExpiryKey(t *testing.T) {
	tests := []struct {
		name        string
		k           []byte
		wantExpires uint64
		wantBucket  string
		wantKey     string
		wantOK      bool
	}{
		{name: "round trip", k: expiryKey(42, "idempotency", "req-1"), wantExpires: 42, wantBucket: "idempotency", wantKey: "req-1", wantOK: true},
		{name: "binary key", k: expiryKey(1, "b", "\x00\xff"), wantExpires: 1, wantBucket: "b", wantKey: "\x00\xff", wantOK: true},
		{name: "no key", k: expiryKey(42, "b", ""), wantOK: false},
		{name: "no bucket", k: expiryKey(42, "", "k"), wantOK: false},
		{name: "bucket length past the end", k: append(binary.BigEndian.AppendUint64(nil, 1), 0, 9, 'a'), wantOK: false},
		{name: "short", k: []byte{1, 2, 3}, wantOK: false},
		{name: "nil", k: nil, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expires, bucket, key, ok := splitExpiryKey(tc.k)
			if ok != tc.wantOK || expires != tc.wantExpires || bucket != tc.wantBucket || key != tc.wantKey {
				t.Fatalf("got (%d, %q, %q, %t), want (%d, %q, %q, %t)", expires, bucket, key, ok, tc.wantExpires, tc.wantBucket, tc.wantKey, tc.wantOK)
			}
		})
	}
}

func TestDecodeAudit(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte
		wantErr bool
	}{
		{name: "round trip", raw: encodeAudit(3, 99, []byte(`{"type":"audit"}`))},
		{name: "empty event", raw: encodeAudit(1, 0, nil)},
		{name: "ordinal 0", raw: encodeAudit(0, 99, []byte("x")), wantErr: true},
		{name: "short", raw: encodeAudit(1, 1, nil)[:auditHeaderSize-1], wantErr: true},
		{name: "other version", raw: append([]byte{9}, encodeAudit(1, 1, nil)[1:]...), wantErr: true},
		{name: "nil", raw: nil, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ordinal, created, ev, err := decodeAudit(tc.raw)
			if tc.wantErr {
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("err = %v, want ErrDamaged", err)
				}
				return
			}
			if err != nil || !bytes.Equal(encodeAudit(ordinal, created, ev), tc.raw) {
				t.Fatalf("decode = (%d, %d, %q, %v): does not re-encode to the input", ordinal, created, ev, err)
			}
		})
	}
}

func TestDecodeMarker(t *testing.T) {
	good := encodeMarker(marker{Format: 1, CreatedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)})
	for _, tc := range []struct {
		name    string
		raw     []byte
		wantErr bool
	}{
		{name: "valid", raw: good},
		{name: "empty", raw: nil, wantErr: true},
		{name: "no format", raw: []byte(`{"created_at":"2024-05-01T00:00:00Z"}`), wantErr: true},
		{name: "no creation time", raw: []byte(`{"format":1}`), wantErr: true},
		{name: "garbage", raw: []byte("\x00\x01"), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeMarker(tc.raw)
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrDamaged)) {
				t.Fatalf("err = %v, want error %t (ErrDamaged)", err, tc.wantErr)
			}
		})
	}
}

// FuzzDecodeExpiring: decoding arbitrary bytes (a damaged or foreign file)
// must never panic, and whatever decodes must re-encode to exactly the
// same bytes, so Get returns exactly what Put stored.
func FuzzDecodeExpiring(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{expiringVersion})
	f.Add(encodeExpiring(0, nil))
	f.Add(encodeExpiring(stamp(time.Unix(1700000000, 0)), []byte(`{"status":201,"body":"ok"}`)))
	f.Add(append([]byte{legacyIdemVersion}, make([]byte, 20)...))
	f.Fuzz(func(t *testing.T, raw []byte) {
		expires, payload, err := decodeExpiring(raw)
		if err == nil {
			if got := encodeExpiring(expires, payload); !bytes.Equal(got, raw) {
				t.Fatalf("re-encode = %x, want %x", got, raw)
			}
		} else if !errors.Is(err, ErrDamaged) {
			t.Fatalf("unexpected error type: %v", err)
		}
		// Any payload at all must come back byte for byte.
		e2, p2, err := decodeExpiring(encodeExpiring(expires^0x5a5a, raw))
		if err != nil || e2 != expires^0x5a5a || !bytes.Equal(p2, raw) {
			t.Fatalf("round trip of %x: got (%d, %x, %v)", raw, e2, p2, err)
		}
		// The format-0 reader used by the upgrade must not panic either.
		_, _, _ = decodeLegacyIdempotency(raw)
	})
}

// FuzzDecodeAudit: the audit log is read back record by record; damage
// must be an error, never a panic or a misread.
func FuzzDecodeAudit(f *testing.F) {
	f.Add([]byte{})
	f.Add(encodeAudit(1, 0, nil))
	f.Add(encodeAudit(1<<40, stamp(time.Unix(1700000000, 0)), []byte(`{"seq":7,"type":"audit","actor":"ci"}`)))
	f.Add(encodeAudit(0, 1, []byte("x")))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ordinal, created, ev, err := decodeAudit(raw)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		if ordinal == 0 || !bytes.Equal(encodeAudit(ordinal, created, ev), raw) {
			t.Fatalf("decode(%x) = (%d, %d, %x): does not re-encode", raw, ordinal, created, ev)
		}
	})
}

// FuzzSplitExpiryKey: pruning parses every index key it meets; a malformed
// one must be reported, not panic or be misread.
func FuzzSplitExpiryKey(f *testing.F) {
	f.Add([]byte{})
	f.Add(expiryKey(0, "a", "b"))
	f.Add(expiryKey(1<<63, "idempotency", "token/idempotency-key-with-dashes"))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, k []byte) {
		expires, bucket, key, ok := splitExpiryKey(k)
		if !ok {
			return
		}
		if bucket == "" || key == "" {
			t.Fatalf("accepted %x with an empty bucket or key", k)
		}
		if got := expiryKey(expires, bucket, key); !bytes.Equal(got, k) {
			t.Fatalf("expiryKey(splitExpiryKey(%x)) = %x", k, got)
		}
	})
}

// FuzzDecodeMarker: the marker is the first thing read from a file that
// may be anything.
func FuzzDecodeMarker(f *testing.F) {
	f.Add([]byte(`{"format":1,"created_at":"2024-05-01T00:00:00Z"}`))
	f.Add([]byte(`{"format":99,"created_at":"2024-05-01T00:00:00Z","upgraded_at":null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := decodeMarker(raw)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		if m.Format < 1 || m.CreatedAt.IsZero() {
			t.Fatalf("accepted an incomplete marker %+v", m)
		}
	})
}

func TestDecodeRev(t *testing.T) {
	for _, tc := range []struct {
		raw     []byte
		want    uint64
		wantErr bool
	}{
		{raw: encodeRev(0), want: 0},
		{raw: encodeRev(1 << 40), want: 1 << 40},
		{raw: nil, wantErr: true},
		{raw: []byte("1234567"), wantErr: true},
		{raw: make([]byte, 9), wantErr: true},
	} {
		got, err := decodeRev(tc.raw)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("decodeRev(%x) = (%d, %v), want (%d, error %t)", tc.raw, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, ErrDamaged) {
			t.Errorf("decodeRev(%x): error %v is not ErrDamaged", tc.raw, err)
		}
	}
}

// FuzzDecodeRev: the revision is read at every open and commit.
func FuzzDecodeRev(f *testing.F) {
	f.Add(encodeRev(7))
	f.Add([]byte{})
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rev, err := decodeRev(raw)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		if !bytes.Equal(encodeRev(rev), raw) {
			t.Fatalf("decodeRev(%x) = %d does not re-encode", raw, rev)
		}
	})
}

func TestParseSeqKey(t *testing.T) {
	for _, tc := range []struct {
		k       string
		want    uint64
		wantErr bool
	}{
		{k: SeqKey(0), want: 0},
		{k: SeqKey(1), want: 1},
		{k: "00000000000000ff", want: 255},
		{k: SeqKey(1<<64 - 1), want: 1<<64 - 1},
		{k: "00000000000000FF", wantErr: true},
		{k: "ff", wantErr: true},
		{k: "000000000000000g", wantErr: true},
		{k: "", wantErr: true},
	} {
		got, err := ParseSeqKey(tc.k)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseSeqKey(%q) = (%d, %v), want (%d, error %t)", tc.k, got, err, tc.want, tc.wantErr)
		}
	}
	if SeqKey(9) >= SeqKey(10) || SeqKey(255) >= SeqKey(256) {
		t.Fatal("event keys must sort in sequence order")
	}
}

// FuzzParseSeqKey: watchers parse event keys from the feed.
func FuzzParseSeqKey(f *testing.F) {
	f.Add(SeqKey(42))
	f.Add("")
	f.Add("zzzzzzzzzzzzzzzz")
	f.Fuzz(func(t *testing.T, k string) {
		seq, err := ParseSeqKey(k)
		if err == nil && SeqKey(seq) != k {
			t.Fatalf("ParseSeqKey(%q) = %d does not re-encode", k, seq)
		}
	})
}
