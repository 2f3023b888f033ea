package server

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestDeleteReferenced: an object that another one uses cannot be deleted;
// the 409 names every referrer, the object stays, and once the references
// are gone the delete goes through.
func TestDeleteReferenced(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web-dc1", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))
	h.create(t, api.KindHealthCheck, checkFixture("db-1", "127.0.0.1:27017"))
	h.create(t, api.KindBurstToggle, toggleFixture("dr-burst"))

	rs := edit(t, replicaSetFixture("orders"), func(o obj) {
		sub(o, "members", "db-1")["health_check"] = "db-1"
		sub(o, "members", "db-2")["health_check"] = "web-dc2"
	})
	h.create(t, api.KindReplicaSet, rs)

	pol := edit(t, policyFixture("web", "web-dc1", "web-dc2"), func(o obj) {
		o["burst_toggle"] = "dr-burst"
		o["replica_set"] = "orders"
		sub(o, "targets")["burst"] = obj{"site": "dc3", "addresses": []any{"192.0.2.30"}, "health_checks": []any{"web-dc2"}, "burst_only": true}
	})
	h.create(t, api.KindTrafficPolicy, pol)

	tests := []struct {
		kind      api.Kind
		name      string
		referrers []string
	}{
		{api.KindHealthCheck, "web-dc1", []string{"traffic-policies/web"}},
		{api.KindHealthCheck, "web-dc2", []string{"traffic-policies/web", "replica-sets/orders"}},
		{api.KindHealthCheck, "db-1", []string{"replica-sets/orders"}},
		{api.KindBurstToggle, "dr-burst", []string{"traffic-policies/web"}},
		{api.KindReplicaSet, "orders", []string{"traffic-policies/web"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind)+"/"+tc.name, func(t *testing.T) {
			before := h.state(t, tc.kind, tc.name)
			p := h.do(t, http.MethodDelete, objPath(tc.kind, tc.name), adminToken, nil).problem(t, http.StatusConflict)
			if !slices.Equal(sortedCopy(p.Referrers), sortedCopy(tc.referrers)) {
				t.Errorf("referrers %v, want %v", p.Referrers, tc.referrers)
			}
			for _, ref := range tc.referrers {
				if !strings.Contains(p.Detail, ref) {
					t.Errorf("detail %q does not name %s", p.Detail, ref)
				}
			}
			h.wantUnchanged(t, tc.kind, tc.name, before)
		})
	}

	// Drop the policy's references to web-dc2, the toggle and the replica
	// set; the replica set still uses web-dc2.
	lean := policyFixture("web", "web-dc1", "web-dc1")
	h.do(t, http.MethodPut, "/v1/traffic-policies/web", adminToken, lean).want(t, http.StatusOK)
	h.do(t, http.MethodDelete, "/v1/burst-toggles/dr-burst", adminToken, nil).want(t, http.StatusNoContent)
	p := h.do(t, http.MethodDelete, "/v1/health-checks/web-dc2", adminToken, nil).problem(t, http.StatusConflict)
	if !slices.Equal(p.Referrers, []string{"replica-sets/orders"}) {
		t.Errorf("referrers %v, want only the replica set", p.Referrers)
	}
	h.do(t, http.MethodDelete, "/v1/replica-sets/orders", adminToken, nil).want(t, http.StatusNoContent)
	h.do(t, http.MethodDelete, "/v1/health-checks/web-dc2", adminToken, nil).want(t, http.StatusNoContent)
	h.do(t, http.MethodDelete, "/v1/health-checks/db-1", adminToken, nil).want(t, http.StatusNoContent)

	// Deleting the policy frees its last check.
	h.do(t, http.MethodDelete, "/v1/health-checks/web-dc1", adminToken, nil).problem(t, http.StatusConflict)
	h.do(t, http.MethodDelete, "/v1/traffic-policies/web", adminToken, nil).want(t, http.StatusNoContent)
	h.do(t, http.MethodDelete, "/v1/health-checks/web-dc1", adminToken, nil).want(t, http.StatusNoContent)
	for _, k := range api.Kinds {
		var l api.List[map[string]any]
		h.do(t, http.MethodGet, "/v1/"+string(k), readToken, nil).want(t, http.StatusOK).decode(t, &l)
		if len(l.Items) != 0 {
			t.Errorf("%s: %d objects left", k, len(l.Items))
		}
	}
}

// TestUpdateKeepsReferences: an update may not make a referrer's rules
// false — slowing a check down past a policy's RTO is refused on the
// check, with the policy named.
func TestUpdateKeepsReferences(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fast := edit(t, checkFixture("web-dc1", "127.0.0.1:443"), func(o obj) { o["interval_seconds"], o["timeout_seconds"], o["fall"] = 1, 0.5, 2 })
	h.create(t, api.KindHealthCheck, fast)
	h.create(t, api.KindHealthCheck, checkFixture("web-dc2", "127.0.0.1:443"))
	pol := edit(t, policyFixture("web", "web-dc1", "web-dc1"), func(o obj) { o["ttl_seconds"], o["rto_seconds"] = 5, 10 })
	h.create(t, api.KindTrafficPolicy, pol) // 2 × 1 + 0.5 + 0 + 5 = 7.5 s ≤ 10 s

	before := h.state(t, api.KindHealthCheck, "web-dc1")
	slow := edit(t, fast, func(o obj) { o["interval_seconds"] = 5 })
	p := h.do(t, http.MethodPut, "/v1/health-checks/web-dc1", adminToken, slow).problem(t, http.StatusBadRequest)
	wantDetail(t, p, "interval_seconds", `"web"`, "rto_seconds = 10")
	h.wantUnchanged(t, api.KindHealthCheck, "web-dc1", before)
}
