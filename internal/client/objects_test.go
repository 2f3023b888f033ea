package client

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestObjectLifecycle(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	ctx := context.Background()

	created, err := Create(ctx, c, api.KindHealthCheck, webCheck)
	if err != nil || created.Version != 1 {
		t.Fatalf("Create = %+v, %v; want version 1", created, err)
	}
	got, err := Get[api.HealthCheck](ctx, c, api.KindHealthCheck, "web")
	if err != nil || got.Address != webCheck.Address || got.Version != 1 {
		t.Fatalf("Get = %+v, %v", got, err)
	}

	changed := got
	changed.Address = "192.0.2.11:80"
	updated, err := Update(ctx, c, api.KindHealthCheck, "web", changed, got.Version)
	if err != nil || updated.Version != 2 || updated.Address != "192.0.2.11:80" {
		t.Fatalf("Update = %+v, %v; want version 2 with the new address", updated, err)
	}
	// A writer still holding version 1 must not overwrite version 2.
	if _, err := Update(ctx, c, api.KindHealthCheck, "web", got, got.Version); !IsPreconditionFailed(err) {
		t.Fatalf("stale Update err = %v, want 412", err)
	}
	if _, err := Update(ctx, c, api.KindHealthCheck, "web", got, 0); err != nil {
		t.Fatalf("unconditional Update: %v", err)
	}

	list, err := List[api.HealthCheck](ctx, c, api.KindHealthCheck)
	if err != nil || len(list) != 1 || list[0].Name != "web" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := c.Delete(ctx, api.KindHealthCheck, "web", 1); !IsPreconditionFailed(err) {
		t.Fatalf("stale Delete err = %v, want 412", err)
	}
	if err := c.Delete(ctx, api.KindHealthCheck, "web", 3); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := Get[api.HealthCheck](ctx, c, api.KindHealthCheck, "web"); !IsNotFound(err) {
		t.Fatalf("Get after Delete err = %v, want 404", err)
	}
	list, err = List[api.HealthCheck](ctx, c, api.KindHealthCheck)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("List = %#v, %v; want an empty, non-nil slice", list, err)
	}
}

func TestRejectedBeforeSending(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func() error
		errHas string
	}{
		{"wrong kind for type", func() error {
			_, err := Get[api.HealthCheck](ctx, c, api.KindTrafficPolicy, "web")
			return err
		}, `api.HealthCheck objects live under "health-checks"`},
		{"unknown kind", func() error { return c.Delete(ctx, "widgets", "web", 0) }, `unknown kind "widgets"`},
		{"path traversal", func() error {
			_, err := Get[api.HealthCheck](ctx, c, api.KindHealthCheck, "../status")
			return err
		}, `invalid health-checks name "../status"`},
		{"empty name", func() error { _, err := c.PatchBurst(ctx, "", true); return err }, "invalid burst-toggles name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("err = %v, want it to contain %q", err, tc.errHas)
			}
		})
	}
	if _, _, requests := f.stats(); len(requests) != 0 {
		t.Errorf("requests = %v, want none", requests)
	}
}

func TestRuntimeViews(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	ctx := context.Background()
	f.objects["burst-toggles"] = map[string]map[string]any{"dr": {"name": "dr", "site": "dc2", "version": 4}}

	hs, err := c.HealthStatus(ctx, "web")
	if err != nil || hs.Check != "web" || hs.State != api.StateHealthy {
		t.Errorf("HealthStatus = %+v, %v", hs, err)
	}
	d, err := c.Decision(ctx, "shop")
	if err != nil || d.Policy != "shop" || len(d.Serving) != 1 {
		t.Errorf("Decision = %+v, %v", d, err)
	}
	until := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	d, err = c.SetOverride(ctx, "shop", api.Override{Target: "dc2", ExpiresAt: until, Reason: "drill"})
	if err != nil || d.Override == nil || d.Override.Target != "dc2" || !d.Override.ExpiresAt.Equal(until) || d.Serving[0].Target != "dc2" {
		t.Errorf("SetOverride = %+v, %v", d, err)
	}
	d, err = c.ClearOverride(ctx, "shop")
	if err != nil || d.Override != nil {
		t.Errorf("ClearOverride = %+v, %v", d, err)
	}
	rs, err := c.ReplicaSetStatus(ctx, "orders")
	if err != nil || !rs.HasMajority || rs.ReplicaSet != "orders" {
		t.Errorf("ReplicaSetStatus = %+v, %v", rs, err)
	}
	raw, err := c.ReplicaSetConfig(ctx, "orders")
	var doc map[string]any
	if err != nil || json.Unmarshal(raw, &doc) != nil || doc["_id"] != "orders" {
		t.Errorf("ReplicaSetConfig = %s, %v", raw, err)
	}
	bt, err := c.PatchBurst(ctx, "dr", true)
	if err != nil || bt.Engaged == nil || !*bt.Engaged || bt.Version != 5 || bt.Site != "dc2" {
		t.Errorf("PatchBurst = %+v, %v; want engaged at version 5", bt, err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.Site != "dc1" {
		t.Errorf("Status = %+v, %v", st, err)
	}

	_, _, requests := f.stats()
	want := []string{
		"GET /v1/health-checks/web/status",
		"GET /v1/traffic-policies/shop/decision",
		"PUT /v1/traffic-policies/shop/override",
		"DELETE /v1/traffic-policies/shop/override",
		"GET /v1/replica-sets/orders/status",
		"GET /v1/replica-sets/orders/config",
		"PATCH /v1/burst-toggles/dr",
		"GET /v1/status",
	}
	if strings.Join(requests, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(requests, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseETag(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{`"1"`, 1, true},
		{`"18446744073709551615"`, 18446744073709551615, true},
		{` W/"42" `, 42, true},
		{`42`, 0, false},
		{`""`, 0, false},
		{`"0"`, 0, false}, // 0 means "no version" everywhere
		{`"-1"`, 0, false},
		{`"+1"`, 0, false},
		{`"18446744073709551616"`, 0, false},
		{`"1`, 0, false},
		{``, 0, false},
	}
	for _, tc := range tests {
		got, ok := parseETag(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseETag(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseETag: parsing never panics, and whatever parses round-trips
// through the form failoverd sends (so If-Match always echoes a version
// failoverd recognises).
func FuzzParseETag(f *testing.F) {
	for _, s := range []string{`"1"`, `W/"2"`, `""`, `"-1"`, `"18446744073709551616"`, `"0x10"`, "\"1\x00\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseETag(s)
		if !ok {
			if v != 0 {
				t.Fatalf("parseETag(%q) = %d with ok=false", s, v)
			}
			return
		}
		if v == 0 {
			t.Fatalf("parseETag(%q) accepted version 0", s)
		}
		if back, ok := parseETag(formatETag(v)); !ok || back != v {
			t.Fatalf("round trip of %d via %q = %d, %v", v, formatETag(v), back, ok)
		}
	})
}
