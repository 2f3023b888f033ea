package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>",
	// the HMAC keyed with the webhook's secret over "<t>.<body>" (the
	// timestamp as sent, a '.', the raw body bytes). A receiver:
	//
	//  1. splits the header on ',' and each part on the first '=';
	//  2. computes HMAC-SHA256(secret, t + "." + body) over the body
	//     exactly as received, and compares it to each v1 in constant
	//     time (several v1 may come during a secret rotation);
	//  3. rejects the delivery when |now - t| exceeds its tolerance
	//     (DefaultTolerance), so a captured request cannot be replayed
	//     later;
	//  4. dedupes on EventIDHeader (= the body's "seq"): delivery is at
	//     least once.
	//
	// Verify does exactly this.
	SignatureHeader = "Failover-Signature"
	// EventIDHeader is the event's id: its sequence number in the event
	// log, the same on every redelivery.
	EventIDHeader = "Failover-Event-Id"
	// EventTypeHeader is the event's type, for routing without parsing.
	EventTypeHeader = "Failover-Event-Type"
)

// DefaultTolerance is how old a signature Verify accepts.
const DefaultTolerance = 5 * time.Minute

// Sign returns the SignatureHeader value of body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("no valid " + SignatureHeader + " header: want t=<unix seconds>,v1=<hex>")
	ErrBadSignature = errors.New("signature does not match the body: wrong secret, or the body was changed")
	ErrTooOld       = errors.New("signature timestamp outside the tolerance: a replay, or a clock off")
)

// Verify checks a delivery as a receiver should (see SignatureHeader).
func Verify(secret []byte, header string, body []byte, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %s ago, tolerance %s", ErrTooOld, d.Round(time.Second), tolerance)
	}
	return nil
}
