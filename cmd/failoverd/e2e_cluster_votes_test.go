package main

// Health is a vote of the sites (DESIGN §4.4): one site whose own path to
// a backend is cut must not fail over a target the other sites still see
// as healthy; a backend the majority of sites cannot reach fails over.

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// probeSource is the source address site i's probes leave from in the
// vote tests: a loopback address of its own, so a stand-in can refuse one
// site's probes and answer the others'.
func probeSource(i int) string { return fmt.Sprintf("127.0.0.%d", 11+i) }

// votesCheck is a check of addr probed from all three sites, majority
// quorum (the default with several probe sites).
func votesCheck(name, site, addr string) api.HealthCheck {
	c := sitesCheck(name, site, addr)
	c.ProbeSites = clusterSites
	return c
}

// votes is each site's state in a check's status.
func votes(hs api.HealthStatus) map[string]string {
	out := map[string]string{}
	for site, o := range hs.Sites {
		out[site] = o.State
	}
	return out
}

// TestClusterProbePathCut: the stand-in behind dc1's target refuses dc1's
// probe source. Every node's status of the check shows dc1's vote
// unhealthy and the other two healthy, the check stays healthy, and the
// decision does not move over several probe intervals. Then the stand-in
// refuses cloud's source as well: the majority sees the backend down and
// the decision moves. The same backend checked with quorum "all" is down
// from the first cut, with "any" up while one site still reaches it.
func TestClusterProbePathCut(t *testing.T) {
	t.Parallel()
	c := startClusterWith(t, func(i int) []string { return []string{"--probe-source-addr", probeSource(i)} })
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	api0 := c.apis[0]
	api0.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("dc1-web", "dc1", dc1.Addr), nil)
	api0.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("cloud-web", "cloud", cloud.Addr), nil)
	api0.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 1, []string{"dc1-web"}, []string{"cloud-web"}), nil)
	// The same backend under the other quorum rules.
	for _, q := range []string{api.QuorumAll, api.QuorumAny} {
		qc := votesCheck("dc1-"+q, "dc1", dc1.Addr)
		qc.Quorum = q
		api0.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", qc, nil)
	}
	quorumStates := func(want map[string]string) {
		t.Helper()
		for i := range clusterSites {
			eventually(t, 15*time.Second, fmt.Sprintf("%s: states %v", clusterSites[i], want), func() (bool, string) {
				got := map[string]string{}
				for check := range want {
					got[check] = c.apis[i].healthStatus(t, check).State
				}
				return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprint(got)
			})
		}
	}
	allVote := func(want map[string]string) {
		t.Helper()
		for i := range clusterSites {
			eventually(t, 15*time.Second, fmt.Sprintf("%s sees the votes %v", clusterSites[i], want), func() (bool, string) {
				hs := c.apis[i].healthStatus(t, "dc1-web")
				got := votes(hs)
				return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("votes %v, state %s", got, hs.State)
			})
		}
	}
	allVote(map[string]string{"arbiter": api.StateHealthy, "cloud": api.StateHealthy, "dc1": api.StateHealthy})
	var before api.Decision
	for i := range clusterSites {
		before = waitServing(t, c.apis[i], 10*time.Second, "web", "dc1")
	}

	// dc1's path cut: its vote goes unhealthy, the check does not.
	if err := dc1.RestartWith("--refuse-source", probeSource(0)); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	allVote(map[string]string{"arbiter": api.StateHealthy, "cloud": api.StateHealthy, "dc1": api.StateUnhealthy})
	t.Logf("dc1's vote unhealthy on every node %s after its path was cut", time.Since(cut).Round(time.Millisecond))
	// Over five probe intervals: nothing moves, on any node.
	for until := time.Now().Add(5 * time.Second); time.Now().Before(until); time.Sleep(250 * time.Millisecond) {
		for i := range clusterSites {
			hs := c.apis[i].healthStatus(t, "dc1-web")
			if hs.State != api.StateHealthy {
				t.Fatalf("%s: check dc1-web is %s with one site's path cut (votes %v)", clusterSites[i], hs.State, votes(hs))
			}
			if d := c.apis[i].decision(t, "web"); servingTarget(d) != "dc1" || d.Generation != before.Generation {
				t.Fatalf("%s: the decision moved with one site's path cut: serving %s, generation %d (was %d): %s",
					clusterSites[i], servingTarget(d), d.Generation, before.Generation, d.Reason)
			}
			if got, _ := dnsA(t, c.nodes[i].DNSAddr, "web.failover.internal."); got != "192.0.2.10" {
				t.Fatalf("%s DNS answers %q with one site's path cut, want dc1's 192.0.2.10", clusterSites[i], got)
			}
		}
	}
	quorumStates(map[string]string{"dc1-web": api.StateHealthy, "dc1-all": api.StateUnhealthy, "dc1-any": api.StateHealthy})
	if hs := c.apis[0].healthStatus(t, "dc1-web"); hs.Sites["dc1"].LastError == "" {
		t.Errorf("dc1's unhealthy vote says no error: %+v", hs.Sites["dc1"])
	}

	// The majority's paths cut: the backend is down as far as the control
	// plane can tell, and the decision moves.
	if err := dc1.RestartWith("--refuse-source", probeSource(0), "--refuse-source", probeSource(1)); err != nil {
		t.Fatal(err)
	}
	cut = time.Now()
	for i := range clusterSites {
		waitServing(t, c.apis[i], 15*time.Second, "web", "cloud")
		waitDNSA(t, c.nodes[i].DNSAddr, "web.failover.internal.", "198.51.100.20", 5*time.Second)
	}
	t.Logf("two of three sites' paths cut: every node serves cloud %s later", time.Since(cut).Round(time.Millisecond))
	quorumStates(map[string]string{"dc1-web": api.StateUnhealthy, "dc1-all": api.StateUnhealthy, "dc1-any": api.StateHealthy})
	hs := c.apis[1].healthStatus(t, "dc1-web")
	if hs.State != api.StateUnhealthy {
		t.Errorf("check dc1-web is %s with two sites voting unhealthy: %v", hs.State, votes(hs))
	}
	if v := votes(hs); v["arbiter"] != api.StateHealthy {
		t.Errorf("arbiter's path is intact, but its vote is %s", v["arbiter"])
	}
}
