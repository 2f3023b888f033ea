package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Calculated checks are checked on write: children must exist, and a
// cycle of calculated checks is refused with the cycle named.
func TestCalculatedCheckWrites(t *testing.T) {
	h := newHarness(t)
	tcp := func(name string) obj {
		return obj{"name": name, "site": "dc1", "type": "tcp", "address": "192.0.2.1:443"}
	}
	calc := func(name string, children ...string) obj {
		return obj{"name": name, "site": "dc1", "type": "calculated", "child_checks": children}
	}
	h.create(t, api.KindHealthCheck, tcp("az1"))
	h.create(t, api.KindHealthCheck, tcp("az2"))

	resp := h.do(t, http.MethodPost, "/v1/health-checks", adminToken, calc("site", "az1", "az3"))
	if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), `child_checks[1]`) || !strings.Contains(string(resp.Body), `no health check named \"az3\"`) {
		t.Errorf("missing child: %d %s", resp.Status, resp.Body)
	}
	h.create(t, api.KindHealthCheck, calc("site", "az1", "az2"))
	h.create(t, api.KindHealthCheck, calc("region", "site"))

	// site → region → site.
	resp = h.do(t, http.MethodPut, objPath(api.KindHealthCheck, "site"), adminToken, calc("site", "az1", "region"))
	if resp.Status != http.StatusBadRequest || !strings.Contains(string(resp.Body), `would make a cycle of calculated checks: site → region → site`) {
		t.Errorf("cycle: %d %s", resp.Status, resp.Body)
	}
	var got api.HealthCheck
	h.get(t, api.KindHealthCheck, "site").decode(t, &got)
	if strings.Join(got.ChildChecks, ",") != "az1,az2" || got.HealthyWhen != api.HealthyWhenAll {
		t.Errorf("site after the refused write: %+v", got)
	}
}
