package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

var webCheck = api.HealthCheck{Name: "web", Site: "dc1", Type: api.CheckHTTP, Address: "192.0.2.10:80"}

func TestRetryThenSuccessAppliesOnce(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	f.push(step{status: 503}, step{status: 502})

	got, err := Create(context.Background(), c, api.KindHealthCheck, webCheck)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "web" || got.Version != 1 {
		t.Errorf("created = %+v, want web at version 1", got)
	}
	applied, keys, requests := f.stats()
	if len(requests) != 3 || applied != 1 {
		t.Errorf("requests = %v, applied = %d; want 3 requests applied once", requests, applied)
	}
	if len(keys) != 1 {
		t.Fatalf("distinct Idempotency-Keys = %v, want one key on every attempt", keys)
	}
	for _, n := range keys {
		if n != 3 {
			t.Errorf("key sent %d times, want 3", n)
		}
	}
}

// The LevelUp case: failoverd applied the write but the answer was lost.
// The retry must carry the same key and be replayed, not applied again.
func TestLostAnswerIsReplayedNotReapplied(t *testing.T) {
	f := newFixture(t)
	sink := &logSink{}
	c := f.client(t, func(cfg *Config) { cfg.Logger = sink.log })
	f.push(step{afterApply: true})

	got, err := Create(context.Background(), c, api.KindHealthCheck, webCheck)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 {
		t.Errorf("version = %d, want 1", got.Version)
	}
	applied, keys, requests := f.stats()
	if applied != 1 || len(requests) != 2 {
		t.Fatalf("applied = %d over %d requests, want applied once over 2", applied, len(requests))
	}
	if len(keys) != 1 {
		t.Fatalf("distinct Idempotency-Keys = %v, want one key sent twice", keys)
	}
	for _, n := range keys {
		if n != 2 {
			t.Errorf("key sent %d times, want 2", n)
		}
	}
	if !strings.Contains(sink.text(), "idempotent_replayed:true") {
		t.Errorf("the replay is not logged:\n%s", sink.text())
	}
}

func TestEveryCallGetsItsOwnKey(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	ctx := context.Background()
	if _, err := Create(ctx, c, api.KindHealthCheck, webCheck); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PatchBurst(ctx, "missing", true); !IsNotFound(err) {
		t.Fatalf("PatchBurst err = %v, want not found", err)
	}
	if _, err := Get[api.HealthCheck](ctx, c, api.KindHealthCheck, "web"); err != nil {
		t.Fatal(err)
	}
	if _, keys, _ := f.stats(); len(keys) != 2 {
		t.Errorf("distinct keys = %d, want one per mutating call (2)", len(keys))
	}
}

func TestRetryPolicyByStatus(t *testing.T) {
	tests := []struct {
		status int
		retry  bool
	}{
		{http.StatusTooManyRequests, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusGatewayTimeout, true},
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusForbidden, false},
		{http.StatusNotFound, false},
		{http.StatusConflict, false},
		{http.StatusPreconditionFailed, false},
		{http.StatusInternalServerError, false},
		{http.StatusNotImplemented, false},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			f := newFixture(t)
			c := f.client(t)
			f.push(step{status: tc.status})
			_, err := Create(context.Background(), c, api.KindHealthCheck, webCheck)
			_, _, requests := f.stats()
			if tc.retry {
				if err != nil || len(requests) != 2 {
					t.Errorf("err = %v after %d requests, want success on the retry", err, len(requests))
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Status != tc.status || ce.Attempts != 1 || len(requests) != 1 {
				t.Errorf("err = %v after %d requests, want HTTP %d without a retry", err, len(requests), tc.status)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	f := newFixture(t)
	c := f.client(t) // backoff alone would wait ≤ 5ms
	f.push(step{status: 429, retryAfter: "1"})
	start := time.Now()
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second || d > 3*time.Second {
		t.Errorf("call took %s, want about the 1s Retry-After", d)
	}
}

func TestCancelStopsRetries(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	f.push(step{status: 503, retryAfter: "30"}, step{status: 503, retryAfter: "30"})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Create(ctx, c, api.KindHealthCheck, webCheck)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %s to stop the retries", d)
	}
	if applied, _, requests := f.stats(); applied != 0 || len(requests) != 1 {
		t.Errorf("applied = %d, requests = %v; want nothing applied after one attempt", applied, requests)
	}
}

func TestRetriesExhaustedKeepProblem(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, func(cfg *Config) { cfg.MaxRetries = 2 })
	f.push(step{status: 503}, step{status: 503}, step{status: 503}, step{status: 503})
	_, err := c.Status(context.Background())
	var ce *Error
	if !errors.As(err, &ce) || ce.Status != 503 || ce.Attempts != 3 || ce.Problem == nil {
		t.Fatalf("err = %#v, want the last 503 problem after 3 attempts", err)
	}
	for _, s := range []string{"Service Unavailable (HTTP 503): scripted failure (after 3 attempts)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, 2*time.Second
	for attempt := range 70 {
		want := hi
		if attempt < 5 {
			want = lo << attempt // 100ms, 200ms, … 1.6s
		}
		for range 50 {
			if d := backoff(lo, hi, attempt); d < want/2 || d > want {
				t.Fatalf("backoff(attempt %d) = %s, want within [%s, %s]", attempt, d, want/2, want)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"-1", 0, false},
		{"99999999999999", maxRetryAfter, true},
		{"Sun, 22 Nov 2026 04:00:10 GMT", 10 * time.Second, true},
		{"Sun, 22 Nov 2026 03:00:00 GMT", 0, true}, // in the past: now
		{"Sun, 22 Nov 2026 06:00:00 GMT", maxRetryAfter, true},
		{"soon", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
