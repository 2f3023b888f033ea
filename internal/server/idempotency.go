package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// An outcome is a response a mutation produced. Successful outcomes are
// recorded under the request's Idempotency-Key in the same atomic commit
// as the change itself, so a retry — even after a crash and restart —
// gets the original answer and never applies twice (the LevelUp lesson:
// a replayed request must not double-charge). Failed requests change
// nothing and are not recorded: a retry re-evaluates them.
type outcome struct {
	Fingerprint string `json:"fp"`
	Status      int    `json:"status"`
	ETag        string `json:"etag,omitempty"`
	Location    string `json:"location,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

const maxIdempotencyKey = 255

// IdempotencyTTL is how long a recorded outcome replays: a retry within it
// gets the original answer, a key reused after it is a new request. The
// store expires the record by itself (store.KV.TTL).
const IdempotencyTTL = 24 * time.Hour

// idemKey scopes a client key by token name, so two clients can never
// collide: "<length of name>:<name>:<key>". The length prefix makes the
// split unambiguous whatever either part contains (before, "name/key" let
// a token named "a/b" with key "c" share "a" with key "b/c"). Records
// written in the old form are not found any more, so a retry that spans
// the upgrade is applied again; they expire with the idempotency TTL.
func idemKey(who, key string) string { return strconv.Itoa(len(who)) + ":" + who + ":" + key }

// fingerprint identifies a request: reusing a key for a different request
// is a client bug and is refused rather than silently replayed.
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n" + r.Header.Get("If-Match") + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > maxIdempotencyKey {
		return false
	}
	for _, c := range k {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// lookupOutcome returns the recorded outcome of key, if any.
func (s *Server) lookupOutcome(ctx context.Context, key string) (*outcome, error) {
	b, err := s.store.Get(ctx, store.BucketIdempotency, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var o outcome
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

func (o *outcome) kv(key string) store.KV {
	b, _ := json.Marshal(o)
	return store.KV{Bucket: store.BucketIdempotency, Key: key, Value: b, TTL: IdempotencyTTL}
}

func (o *outcome) write(w http.ResponseWriter, replayed bool) {
	if o.ETag != "" {
		w.Header().Set("ETag", o.ETag)
	}
	if o.Location != "" {
		w.Header().Set("Location", o.Location)
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if len(o.Body) == 0 {
		w.WriteHeader(o.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(o.Body)))
	w.WriteHeader(o.Status)
	w.Write(o.Body)
}
