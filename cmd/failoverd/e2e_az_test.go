package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestAZLossKeepsSite: the on-prem target has one endpoint per AZ, each
// probed by its own check (real stand-in backends, real probes, real DNS).
// Losing one AZ keeps the site serving and only drops that AZ's address
// from the DNS answer; losing the second (below min_healthy) fails over;
// recovery restores every address (issue 14).
func TestAZLossKeepsSite(t *testing.T) {
	needBins(t)
	t.Parallel()
	f := startFailoverd(t, filepath.Join(t.TempDir(), "data"))
	a := newRawAPI(f)
	az1, az2, cloud := startBackend(t, "dc1-az1"), startBackend(t, "dc1-az2"), startBackend(t, "cloud")
	for _, c := range []api.HealthCheck{
		sitesCheck("dc1-az1", "dc1", az1.Addr), sitesCheck("dc1-az2", "dc1", az2.Addr), sitesCheck("cloud-web", "cloud", cloud.Addr),
	} {
		a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", c, nil)
	}
	p := twoSitePolicy("web", 2, nil, []string{"cloud-web"})
	dc1 := p.Targets["dc1"]
	dc1.Addresses = nil
	dc1.MinHealthy = new(1)
	dc1.Endpoints = map[string]api.TargetEndpoint{
		"az1": {Addresses: []string{"192.0.2.11"}, HealthChecks: []string{"dc1-az1"}},
		"az2": {Addresses: []string{"192.0.2.12"}, HealthChecks: []string{"dc1-az2"}},
	}
	p.Targets["dc1"] = dc1
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", p, nil)
	waitHealthy(t, a, 15*time.Second, "dc1-az1", "dc1-az2", "cloud-web")
	const fqdn = "web.failover.internal."
	waitDNSA(t, f.DNSAddr, fqdn, "192.0.2.11,192.0.2.12", 2*time.Second)
	first := a.decision(t, "web")
	before := a.lastSeq(t)

	// One AZ lost: same site, one address fewer, and the reason says why.
	az1.Stop()
	waitDNSA(t, f.DNSAddr, fqdn, "192.0.2.12", 15*time.Second)
	d := a.decision(t, "web")
	if servingTarget(d) != "dc1" || d.Generation <= first.Generation {
		t.Fatalf("after losing az1: serving %s generation %d (%s), want dc1 in a new generation", servingTarget(d), d.Generation, d.Reason)
	}
	if want := `endpoint "az1" down`; !strings.Contains(d.Reason, want) || !strings.Contains(d.Reason, "so the site keeps serving") {
		t.Errorf("reason %q, want it to name the lost AZ (%s) and say the site keeps serving", d.Reason, want)
	}
	// Events reach the log a moment after the decision they record.
	eventually(t, 5*time.Second, "a decision event names the lost AZ az1", func() (bool, string) {
		for _, e := range a.events(t, before) {
			if e.Type == api.EventDecision && strings.Contains(e.Message, `endpoint "az1" down`) {
				return true, ""
			}
		}
		return false, "no such event yet"
	})

	// The second AZ lost: below min_healthy, the site is down: failover.
	az2.Stop()
	over := waitServing(t, a, 15*time.Second, "web", "cloud")
	waitDNSA(t, f.DNSAddr, fqdn, "198.51.100.20", 2*time.Second)
	if want := `endpoint "az1", "az2" down: 0 of 2 endpoints up, below min_healthy 1`; !strings.Contains(over.Reason, want) {
		t.Errorf("failover reason %q, want it to contain %q", over.Reason, want)
	}

	// Recovery: both AZs back; after the failback delay every address.
	for _, b := range []interface{ Restart() error }{az1, az2} {
		if err := b.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	waitServing(t, a, 20*time.Second, "web", "dc1")
	waitDNSA(t, f.DNSAddr, fqdn, "192.0.2.11,192.0.2.12", 10*time.Second)
}
