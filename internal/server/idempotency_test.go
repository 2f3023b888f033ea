package server

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// TestIdempotentCreate: a POST retried with its Idempotency-Key gets the
// original answer (status, body, ETag, Location) marked as replayed, and
// the object is created once: version 1, one audit event. Reusing the key
// for another body is refused. The record survives a restart.
func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := checkFixture("web", "127.0.0.1:443")
	const key = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"

	first := h.do(t, http.MethodPost, "/v1/health-checks", adminToken, body, "Idempotency-Key", key).want(t, http.StatusCreated)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Error("first request marked as replayed")
	}
	wantReplay := func(t *testing.T, r response) {
		t.Helper()
		r.want(t, first.Status)
		if got := r.Header.Get("Idempotent-Replayed"); got != "true" {
			t.Errorf("Idempotent-Replayed %q, want \"true\"", got)
		}
		if !bytes.Equal(r.Body, first.Body) {
			t.Errorf("replayed body %s, want %s", r.Body, first.Body)
		}
		for _, hdr := range []string{"ETag", "Location", "Content-Type"} {
			if r.Header.Get(hdr) != first.Header.Get(hdr) {
				t.Errorf("replayed %s %q, want %q", hdr, r.Header.Get(hdr), first.Header.Get(hdr))
			}
		}
	}
	wantAppliedOnce := func(t *testing.T) {
		t.Helper()
		if got := h.get(t, api.KindHealthCheck, "web").Header.Get("ETag"); got != `"1"` {
			t.Errorf("ETag %s, want \"1\": the create was applied more than once", got)
		}
		created := 0
		for _, ev := range h.auditEvents(t, "health-checks/web", "create") {
			if ev.Outcome == "201 Created" {
				created++
			}
		}
		if created != 1 {
			t.Errorf("%d audit events for the create, want 1", created)
		}
	}

	wantReplay(t, h.do(t, http.MethodPost, "/v1/health-checks", adminToken, body, "Idempotency-Key", key))
	wantReplay(t, h.do(t, http.MethodPost, "/v1/health-checks", adminToken, body, "Idempotency-Key", key))
	wantAppliedOnce(t)
	// Replays are audited too, as replays (aggregated like refusals).
	h.api.Close()
	eventually(t, 10*time.Second, func() (bool, string) {
		replays := 0
		for _, ev := range h.auditEvents(t, "health-checks/web", "create") {
			if kind, _, n := auditCount(t, ev); ev.Outcome == "201 Created (replayed)" && kind == auditReplayed && ev.Actor == adminName {
				replays += n
			}
		}
		return replays == 2, fmt.Sprintf("audit events count %d replays, want 2", replays)
	})

	// The same key for something else is a client bug, not a replay.
	other := edit(t, body, func(o obj) { o["path"] = "/other" })
	p := h.do(t, http.MethodPost, "/v1/health-checks", adminToken, other, "Idempotency-Key", key).problem(t, http.StatusUnprocessableEntity)
	if !strings.Contains(p.Detail, "Idempotency-Key") {
		t.Errorf("422 detail %q does not name the header", p.Detail)
	}
	// …and so is the same key on another route.
	h.do(t, http.MethodPut, "/v1/health-checks/web", adminToken, body, "Idempotency-Key", key).problem(t, http.StatusUnprocessableEntity)

	// Without the key, the retry is a new request: the name is taken.
	h.do(t, http.MethodPost, "/v1/health-checks", adminToken, body).problem(t, http.StatusConflict)

	h.restart(t)
	wantReplay(t, h.do(t, http.MethodPost, "/v1/health-checks", adminToken, body, "Idempotency-Key", key))
	wantAppliedOnce(t)
	h.do(t, http.MethodPost, "/v1/health-checks", adminToken, other, "Idempotency-Key", key).problem(t, http.StatusUnprocessableEntity)
}

// TestIdempotentDelete: a retried DELETE answers 204 again rather than
// 404, so a client whose first answer was lost sees success.
func TestIdempotentDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	const key = "delete-dr-1"
	h.do(t, http.MethodDelete, "/v1/burst-toggles/dr", adminToken, nil, "Idempotency-Key", key).want(t, http.StatusNoContent)
	r := h.do(t, http.MethodDelete, "/v1/burst-toggles/dr", adminToken, nil, "Idempotency-Key", key).want(t, http.StatusNoContent)
	if r.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("retried DELETE not marked as replayed")
	}
	h.do(t, http.MethodDelete, "/v1/burst-toggles/dr", adminToken, nil).problem(t, http.StatusNotFound)
}

// TestIdempotencyKeyPerToken: keys are scoped by token, so two callers
// that happen to pick the same key make two independent requests.
func TestIdempotencyKeyPerToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	const key = "flip-1"

	h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", adminToken, `{"engaged":true}`, "Idempotency-Key", key).want(t, http.StatusOK)
	// Another token, same key, another body: neither a 422 nor a replay.
	r := h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, `{"engaged":false}`, "Idempotency-Key", key).want(t, http.StatusOK)
	if r.Header.Get("Idempotent-Replayed") != "" {
		t.Error("another token's request was answered from the first token's record")
	}
	var tg api.BurstToggle
	h.get(t, api.KindBurstToggle, "dr").decode(t, &tg)
	if api.Bool(tg.Engaged, true) || tg.Version != 3 {
		t.Errorf("toggle %+v: want released at version 3 (both requests applied)", tg)
	}
	// Each token still replays its own.
	r = h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", adminToken, `{"engaged":true}`, "Idempotency-Key", key).want(t, http.StatusOK)
	if r.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("admin's retry not replayed")
	}
	h.get(t, api.KindBurstToggle, "dr").decode(t, &tg)
	if api.Bool(tg.Engaged, true) || tg.Version != 3 {
		t.Errorf("toggle %+v changed by a replay", tg)
	}
}

// TestIdempotencyFailuresNotRecorded: a refused request changed nothing,
// so its retry is evaluated afresh rather than replayed.
func TestIdempotencyFailuresNotRecorded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	bad := checkFixture("web", "192.0.2.10")
	const key = "create-web"
	for i := 0; i < 2; i++ {
		r := h.do(t, http.MethodPost, "/v1/health-checks", adminToken, bad, "Idempotency-Key", key)
		r.problem(t, http.StatusBadRequest)
		if r.Header.Get("Idempotent-Replayed") != "" {
			t.Error("a refused request was replayed")
		}
	}
}

// TestIdempotentNoOp: a request that changes nothing still has an outcome,
// and its retry returns that outcome rather than applying the body over
// somebody else's later change.
func TestIdempotentNoOp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := checkFixture("web", "127.0.0.1:443")
	h.create(t, api.KindHealthCheck, body)
	const key = "terraform-apply-42"

	first := h.do(t, http.MethodPut, "/v1/health-checks/web", adminToken, body, "Idempotency-Key", key).want(t, http.StatusOK)
	if first.Header.Get("ETag") != `"1"` {
		t.Fatalf("no-op PUT: ETag %s", first.Header.Get("ETag"))
	}
	// An operator changes the check in between.
	h.do(t, http.MethodPut, "/v1/health-checks/web", adminToken, edit(t, body, func(o obj) { o["path"] = "/deep" })).want(t, http.StatusOK)

	r := h.do(t, http.MethodPut, "/v1/health-checks/web", adminToken, body, "Idempotency-Key", key).want(t, http.StatusOK)
	if r.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r.Body, first.Body) {
		t.Errorf("retry of a no-op answered %s (replayed %q), want the original %s", r.Body, r.Header.Get("Idempotent-Replayed"), first.Body)
	}
	var c api.HealthCheck
	h.get(t, api.KindHealthCheck, "web").decode(t, &c)
	if c.Path != "/deep" || c.Version != 2 {
		t.Errorf("check %+v: the retry overwrote the later change", c)
	}
}

// TestIdempotencyKeyFormat: keys are 1–255 printable ASCII characters.
func TestIdempotencyKeyFormat(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, key := range []string{"has space", strings.Repeat("k", 256), "naïve"} {
		h.do(t, http.MethodPost, "/v1/burst-toggles", adminToken, toggleFixture("dr"), "Idempotency-Key", key).problem(t, http.StatusBadRequest)
	}
	h.do(t, http.MethodGet, "/v1/burst-toggles/dr", readToken, nil).problem(t, http.StatusNotFound)
	h.do(t, http.MethodPost, "/v1/burst-toggles", adminToken, toggleFixture("dr"), "Idempotency-Key", strings.Repeat("k", 255)).want(t, http.StatusCreated)
}

// TestIdempotentConcurrentRetries: retries racing the original request
// (a client that timed out and retried at once) apply it once; every one
// gets the same answer.
func TestIdempotentConcurrentRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 8
	bodies := make(chan response, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies <- h.do(t, http.MethodPost, "/v1/burst-toggles", adminToken, toggleFixture("dr"), "Idempotency-Key", "race-1")
		}()
	}
	wg.Wait()
	close(bodies)
	var first []byte
	replayed := 0
	for r := range bodies {
		r.want(t, http.StatusCreated)
		if first == nil {
			first = r.Body
		} else if !bytes.Equal(r.Body, first) {
			t.Errorf("answers differ: %s vs %s", r.Body, first)
		}
		if r.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != n-1 {
		t.Errorf("%d replays, want %d", replayed, n-1)
	}
	h.api.Close() // store the replays' audit summary
	eventually(t, 10*time.Second, func() (bool, string) {
		applied, replays := 0, 0
		for _, ev := range h.auditEvents(t, "burst-toggles/dr", "create") {
			switch kind, _, c := auditCount(t, ev); kind {
			case "":
				applied += c
			case auditReplayed:
				replays += c
			}
		}
		return applied == 1 && replays == n-1, fmt.Sprintf("audit events count %d creates and %d replays, want 1 and %d", applied, replays, n-1)
	})
}

// TestIdempotencyNamespaces: keys are scoped by token name unambiguously.
// With "name/key", a token named "a/b" and key "c" shared a record with
// token "a" and key "b/c".
func TestIdempotencyNamespaces(t *testing.T) {
	pairs := [][2][2]string{
		{{"a/b", "c"}, {"a", "b/c"}},
		{{"a:b", "c"}, {"a", "b:c"}},
		{{"1:a", "b"}, {"a", "b"}},
		{{"", "1:a:b"}, {"1", "a:b"}},
	}
	for _, p := range pairs {
		if x, y := idemKey(p[0][0], p[0][1]), idemKey(p[1][0], p[1][1]); x == y {
			t.Errorf("idemKey%q = idemKey%q = %q", p[0], p[1], x)
		}
	}
}

// FuzzIdemKey: different (token name, key) pairs never share a record.
func FuzzIdemKey(f *testing.F) {
	f.Add("a/b", "c", "a", "b/c")
	f.Add("1", "2:x", "2:x", "1")
	f.Fuzz(func(t *testing.T, who1, key1, who2, key2 string) {
		if (who1 != who2 || key1 != key2) && idemKey(who1, key1) == idemKey(who2, key2) {
			t.Fatalf("idemKey(%q, %q) = idemKey(%q, %q)", who1, key1, who2, key2)
		}
	})
}

// TestOutcomeRecordExpires: the recorded outcome carries its TTL to the
// store, which expires it (store.KV.TTL); without one it would be kept
// forever and a key could never be reused.
func TestOutcomeRecordExpires(t *testing.T) {
	kv := (&outcome{Status: http.StatusCreated}).kv("ci-admin/key")
	if kv.Bucket != store.BucketIdempotency || kv.TTL != IdempotencyTTL || IdempotencyTTL <= 0 {
		t.Fatalf("idempotency record = %+v, want bucket %q with TTL %s", kv, store.BucketIdempotency, IdempotencyTTL)
	}
}
