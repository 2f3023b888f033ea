package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// between runs a hook just before the first commit that records an
// idempotency outcome reaches the real store underneath: the moment when
// another node can apply the same request after this node found no
// outcome for its key. Only the ordering is staged; both nodes, their
// requests and the store are real.
type between struct {
	store.Store
	once sync.Once
	hook func()
}

func (b *between) Commit(ctx context.Context, batch store.Batch) (store.CommitResult, error) {
	for _, kv := range batch.Puts {
		if kv.Bucket == store.BucketIdempotency {
			b.once.Do(b.hook)
			break
		}
	}
	return b.Store.Commit(ctx, batch)
}

// TestIdempotencyAcrossNodes: a client retries a request on a second
// node while the first is still applying it (both found no outcome for
// the key). Only one of them applies it: the other's commit fails on the
// key's outcome, which it then replays — or refuses with 422 when the
// key came with a different request.
func TestIdempotencyAcrossNodes(t *testing.T) {
	tests := []struct {
		name      string
		otherBody obj // the request the other node gets with the same key
		wantOther int
		wantThis  int
		replayed  bool
	}{
		{name: "same request: replayed", otherBody: toggleFixture("dr"), wantOther: http.StatusCreated, wantThis: http.StatusCreated, replayed: true},
		{name: "key reused for another request: refused", otherBody: toggleFixture("dr2"), wantOther: http.StatusCreated, wantThis: http.StatusUnprocessableEntity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := newHarness(t)
			var first response
			var hook *between
			this := newPeerHarness(t, other, func(st store.Store) store.Store {
				hook = &between{Store: st, hook: func() {
					first = other.do(t, http.MethodPost, "/v1/burst-toggles", adminToken, tc.otherBody, "Idempotency-Key", "retry-1")
				}}
				return hook
			})
			got := this.do(t, http.MethodPost, "/v1/burst-toggles", adminToken, toggleFixture("dr"), "Idempotency-Key", "retry-1")
			first.want(t, tc.wantOther)
			got.want(t, tc.wantThis)
			if tc.replayed {
				if got.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(got.Body, first.Body) || got.Header.Get("ETag") != first.Header.Get("ETag") {
					t.Fatalf("this node answered %s %s (replayed %q), want the other node's answer %s replayed",
						got.Header.Get("ETag"), got.Body, got.Header.Get("Idempotent-Replayed"), first.Body)
				}
			}
			// Applied once: one applied create in the shared audit log.
			this.api.Close() // store the replay's audit summary
			eventually(t, 10*time.Second, func() (bool, string) {
				applied := 0
				for _, object := range []string{"burst-toggles/dr", "burst-toggles/dr2"} {
					for _, ev := range other.auditEvents(t, object, "create") {
						if kind, _, c := auditCount(t, ev); kind == "" {
							applied += c
						}
					}
				}
				return applied == 1, fmt.Sprintf("%d applied creates in the audit log, want 1", applied)
			})
		})
	}
}

// TestStoreErrorProblems: each kind of store failure answers with what
// the client should do.
func TestStoreErrorProblems(t *testing.T) {
	tests := []struct {
		err        error
		status     int
		title      string
		wantDetail string
	}{
		{err: fmt.Errorf("store: commit: %w", store.ErrConflict), status: http.StatusConflict, title: "Concurrent Modification", wantDetail: "read it again"},
		{err: fmt.Errorf("store: commit: %w: etcd did not confirm", store.ErrOutcomeUnknown), status: http.StatusServiceUnavailable, title: "Outcome Unknown", wantDetail: "may or may not have been applied"},
		{err: fmt.Errorf("store: %w", store.ErrDamaged), status: http.StatusServiceUnavailable, title: "Store Damaged", wantDetail: "nothing was applied"},
		{err: errors.New("store: commit: not applied: disk full"), status: http.StatusServiceUnavailable, title: "Store Unavailable", wantDetail: "the write was not applied"},
	}
	for _, tc := range tests {
		p := storeError(tc.err)
		if p.Status != tc.status || p.Title != tc.title || !bytes.Contains([]byte(p.Detail), []byte(tc.wantDetail)) {
			t.Errorf("storeError(%v) = %d %q %q, want %d %q with %q", tc.err, p.Status, p.Title, p.Detail, tc.status, tc.title, tc.wantDetail)
		}
	}
}
