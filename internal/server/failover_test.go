package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestFailoverWithRealBackends: two real HTTP backends on 127.0.0.1, checks
// at the API minimum (interval 1 s, fall 1, rise 1), an active-passive
// policy without delay. Stopping the primary backend moves the decision to
// the secondary; the move is an event carrying the observation that caused
// it; and a restart keeps the decision rather than failing back by itself.
func TestFailoverWithRealBackends(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	primary, secondary := backend(t), backend(t)
	h.create(t, api.KindHealthCheck, fastCheck("web-dc1", hostPort(primary)))
	h.create(t, api.KindHealthCheck, fastCheck("web-dc2", hostPort(secondary)))
	h.create(t, api.KindTrafficPolicy, edit(t, policyFixture("web", "web-dc1", "web-dc2"), func(o obj) {
		o["failover_delay_seconds"], o["ttl_seconds"] = 0, 5
	}))

	// Both checks healthy, primary serving.
	eventually(t, 15*time.Second, func() (bool, string) {
		var st api.Status
		h.do(t, http.MethodGet, "/v1/status", readToken, nil).want(t, http.StatusOK).decode(t, &st)
		healthy := 0
		for _, c := range st.Checks {
			if c.State == api.StateHealthy {
				healthy++
			}
		}
		return healthy == 2, fmt.Sprintf("checks %+v", st.Checks)
	})
	before := h.decision(t, "web")
	if !slices.Equal(serving(before), []string{"primary"}) {
		t.Fatalf("before the failure: %+v", before)
	}

	primary.Close()
	var after api.Decision
	eventually(t, 20*time.Second, func() (bool, string) {
		after = h.decision(t, "web")
		return slices.Equal(serving(after), []string{"secondary"}), fmt.Sprintf("%+v", after)
	})
	if after.Generation <= before.Generation || after.Reason == "" || !after.Since.After(before.Since) ||
		after.ObservedAt.IsZero() || after.ObservedAt.After(after.Since) {
		t.Errorf("decision after failover %+v (before %+v)", after, before)
	}
	if !slices.Equal(after.Serving[0].Addresses, []string{"192.0.2.20"}) {
		t.Errorf("serving %+v, want the secondary's addresses", after.Serving)
	}

	// The health transition and the decision are both in the log.
	eventually(t, 10*time.Second, func() (bool, string) {
		var sawHealth, sawDecision bool
		for _, ev := range h.events(t) {
			switch {
			case ev.Type == api.EventHealth && ev.Object == "health-checks/web-dc1" && ev.ObservedAt != nil:
				sawHealth = true
			case ev.Type == api.EventDecision && ev.Object == "traffic-policies/web" && ev.ObservedAt != nil:
				var d api.Decision
				if json.Unmarshal(ev.Data, &d) == nil && d.Generation == after.Generation {
					sawDecision = true
				}
			}
		}
		return sawHealth && sawDecision, "no health and decision events for the failover"
	})

	// A restart restores the last known state: the primary is still down
	// and the decision stays where it was.
	h.restart(t)
	if d := h.decision(t, "web"); !slices.Equal(serving(d), []string{"secondary"}) {
		t.Errorf("after restart: %+v", d)
	}
}
