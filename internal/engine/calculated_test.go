package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// A calculated check (any of two AZ checks) and an inverted check (a
// maintenance flag: healthy while its URL does NOT answer) drive a policy,
// with real probes of real HTTP servers (issue 14).
func TestCalculatedAndInvertedChecksDriveAPolicy(t *testing.T) {
	r := newRig(t)
	az1, az2, flag, dr := newBackend(t), newBackend(t), newBackend(t), newBackend(t)
	flag.down() // no maintenance: the flag URL does not answer
	r.put(check("az1", az1.addr))
	r.put(check("az2", az2.addr))
	r.put(check("dr", dr.addr))
	maint := check("maintenance", flag.addr)
	maint.Invert = true
	r.put(maint)
	site := api.HealthCheck{Name: "site", Site: "site", Type: api.CheckCalculated, ChildChecks: []string{"az1", "az2"}, HealthyWhen: api.HealthyWhenAny}
	site.Normalize()
	r.put(site)

	p := activePassive("web", 0, "site", "dr")
	tg := p.Targets["site"]
	tg.HealthChecks = []string{"site", "maintenance"}
	p.Targets["site"] = tg
	r.put(p)
	r.start()

	state := func(c string) string {
		st, _ := r.e.HealthStatus(c)
		return st.State
	}
	r.waitFor("site healthy (calculated) and maintenance healthy (inverted, flag down)", 5*time.Second, func() bool {
		return state("site") == api.StateHealthy && state("maintenance") == api.StateHealthy && state("dr") == api.StateHealthy
	})
	if got := r.serving("web"); got != "site" {
		t.Fatalf("serving %s, want site", got)
	}

	// One child down: "any" keeps the calculated check healthy.
	az1.down()
	r.waitFor("az1 unhealthy", 5*time.Second, func() bool { return state("az1") == api.StateUnhealthy })
	if state("site") != api.StateHealthy || r.serving("web") != "site" {
		t.Fatalf("one of two children down: site %s, serving %s; want healthy, site", state("site"), r.serving("web"))
	}
	// Both down: the calculated check is unhealthy, the policy fails over,
	// and the event says which children decided it.
	az2.down()
	r.waitFor("failover to dr", 5*time.Second, func() bool { return r.serving("web") == "dr" })
	if state("site") != api.StateUnhealthy {
		t.Fatalf("site is %s with both children down", state("site"))
	}
	r.e.Flush()
	var msgs []string
	evs, _ := r.e.Events(t.Context(), 0, 1000)
	for _, ev := range evs {
		if ev.Object == "health-checks/site" {
			msgs = append(msgs, ev.Message)
		}
	}
	if want := "check site is unhealthy (was healthy): calculated (any) from child checks: az1 unhealthy, az2 unhealthy"; !slices.Contains(msgs, want) {
		t.Errorf("events of check site: %q, want %q", msgs, want)
	}

	// Recover the children; then raise the maintenance flag: the inverted
	// check goes unhealthy and takes the site out although it is healthy.
	az1.up()
	az2.up()
	r.waitFor("back to site", 5*time.Second, func() bool { return r.serving("web") == "site" })
	flag.up()
	r.waitFor("maintenance flag raised: failover to dr", 5*time.Second, func() bool {
		return state("maintenance") == api.StateUnhealthy && r.serving("web") == "dr"
	})
	if state("site") != api.StateHealthy {
		t.Errorf("site is %s, want healthy: only the maintenance flag moved traffic", state("site"))
	}
	flag.down()
	r.waitFor("maintenance over: back to site", 5*time.Second, func() bool { return r.serving("web") == "site" })

	// The calculated check is computed, never probed.
	st, _ := r.e.HealthStatus("site")
	for s, o := range st.Sites {
		if o.State != api.StateUnknown || !strings.Contains(o.LastError, "not probed") {
			t.Errorf("site %s observed calculated check as %+v, want unknown, not probed", s, o)
		}
	}
}
