package main

// Faults of the control plane itself: a leader killed in the middle of a
// failover, a leader killed under a stream of writes, a node stopped (its
// failoverd and its etcd member) while the others go on, a node cut off
// from the etcd majority.

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestClusterLeaderLostMidFailover: dc1's backend stops, and the leader is
// SIGKILLed after its first failing probe, before the check's fall is
// reached. The new leader completes the failover: every surviving node
// serves cloud and answers it on DNS, the decision never flips back — not
// when the killed node comes back either — and no generation is written
// twice.
func TestClusterLeaderLostMidFailover(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	check := votesCheck("dc1-web", "dc1", dc1.Addr)
	check.Fall = 3 // two intervals between the first failure and the decision
	c.apis[1].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", check, nil)
	c.apis[1].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("cloud-web", "cloud", cloud.Addr), nil)
	// A failback delay longer than the test: nothing may come back by itself.
	c.apis[1].must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 600, []string{"dc1-web"}, []string{"cloud-web"}), nil)
	lead := c.waitOneLeader(10 * time.Second)
	for i := range clusterSites {
		waitServing(t, c.apis[i], 15*time.Second, "web", "dc1")
	}
	eventually(t, 15*time.Second, "three healthy votes for dc1-web", func() (bool, string) {
		v := votes(c.apis[lead].healthStatus(t, "dc1-web"))
		return len(v) == 3 && v["dc1"] == api.StateHealthy && v["cloud"] == api.StateHealthy && v["arbiter"] == api.StateHealthy, fmt.Sprint(v)
	})

	dc1.Stop()
	stopped := time.Now()
	eventually(t, 5*time.Second, "the leader's first failing probe of dc1-web", func() (bool, string) {
		o := c.apis[lead].healthStatus(t, "dc1-web").Sites[clusterSites[lead]]
		return o.Failures >= 1, fmt.Sprintf("%+v", o)
	})
	if d := c.apis[lead].decision(t, "web"); servingTarget(d) != "dc1" {
		t.Fatalf("the leader decided before the check's fall was reached: serving %s (%s)", servingTarget(d), d.Reason)
	}
	c.nodes[lead].Kill()
	killed := time.Now()
	t.Logf("leader %s killed %s after dc1 stopped, after its first failing probe", clusterSites[lead], killed.Sub(stopped).Round(time.Millisecond))

	rest := others(lead)
	newLead := c.waitOneLeader(clusterLeaseTTL+10*time.Second, rest...)
	t.Logf("%s leads %s after the kill (lease TTL %s)", clusterSites[newLead], time.Since(killed).Round(time.Millisecond), clusterLeaseTTL)
	var moved api.Decision
	for _, i := range rest {
		moved = waitServing(t, c.apis[i], 20*time.Second, "web", "cloud")
		waitDNSA(t, c.nodes[i].DNSAddr, "web.failover.internal.", "198.51.100.20", 5*time.Second)
	}
	t.Logf("the new leader decided cloud %s after the kill (generation %d: %s)", moved.Since.Sub(killed).Round(time.Millisecond), moved.Generation, moved.Reason)

	// The killed node comes back: it serves the new leader's decision at
	// once, and nothing flips back over a few intervals.
	c.start(lead)
	waitServing(t, c.apis[lead], 10*time.Second, "web", "cloud")
	for until := time.Now().Add(3 * time.Second); time.Now().Before(until); time.Sleep(250 * time.Millisecond) {
		for i := range clusterSites {
			if d := c.apis[i].decision(t, "web"); servingTarget(d) != "cloud" || d.Generation != moved.Generation {
				t.Fatalf("%s: serving %s, generation %d after the failover (generation %d): %s",
					clusterSites[i], servingTarget(d), d.Generation, moved.Generation, d.Reason)
			}
		}
	}
	for i := range clusterSites {
		targets, _ := c.servedSequence(i, "web")
		neverBack(t, targets, "dc1")
		if len(targets) == 0 || targets[len(targets)-1] != "cloud" {
			t.Errorf("%s: decision events serve %v, want cloud last", clusterSites[i], targets)
		}
	}
}
