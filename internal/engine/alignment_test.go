package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/prometheus/client_golang/prometheus"
)

// While a policy serves a site other than its replica set's expected
// primary site, an event says so and failover_policy_primary_misaligned
// is 1; failing back clears both (issue 14). Real probes, real servers.
func TestPrimaryMisalignedAtRuntime(t *testing.T) {
	r := newRig(t)
	a, b := newBackend(t), newBackend(t)
	r.put(check("a", a.addr))
	r.put(check("b", b.addr))
	rs := api.ReplicaSet{Name: "orders", Members: map[string]api.Member{
		"a-1": {Host: "a-1.example.org:27017", Site: "a", Priority: new(2.0)},
		"b-1": {Host: "b-1.example.org:27017", Site: "b"},
		"arb": {Host: "arb.example.org:27017", Site: "c", Arbiter: true},
	}}
	rs.Normalize()
	r.put(rs)
	p := activePassive("web", 0, "a", "b")
	p.ReplicaSet = "orders"
	r.put(p)
	r.start()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.e.metrics.misaligned)
	gauge := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if mf.GetName() == "failover_policy_primary_misaligned" && m.GetLabel()[0].GetValue() == "web" {
					return m.GetGauge().GetValue()
				}
			}
		}
		return -1
	}
	r.waitFor("serving a", 5*time.Second, func() bool { return r.serving("web") == "a" })
	if g := gauge(); g != 0 {
		t.Fatalf("aligned: gauge %v", g)
	}

	a.down()
	r.waitFor("failover to b", 5*time.Second, func() bool { return r.serving("web") == "b" })
	if g := gauge(); g != 1 {
		t.Errorf("serving b while the primary is expected in a: gauge %v, want 1", g)
	}
	a.up()
	r.waitFor("failback to a", 5*time.Second, func() bool { return r.serving("web") == "a" })
	if g := gauge(); g != 0 {
		t.Errorf("back in a: gauge %v, want 0", g)
	}
	r.e.Flush()
	evs, _ := r.e.Events(t.Context(), 0, 1000)
	var story []string
	for _, ev := range evs {
		if ev.Type == api.EventAlignment {
			story = append(story, ev.Message)
		}
	}
	if len(story) != 2 || !strings.Contains(story[0], "policy web serves site(s) [b], but replica set orders is expected to have its primary in site a") ||
		!strings.Contains(story[1], "again") {
		t.Errorf("alignment events %q, want one misaligned then one aligned", story)
	}
}
