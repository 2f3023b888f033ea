package server

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// A check whose probe_sites have no live failoverd is warned about when
// written, reads unknown with the reason "no prober for site X", and is
// an event and a metric (issue 14). The harness runs standalone in site
// "local".
func TestCheckWithoutProber(t *testing.T) {
	h := newHarness(t)
	var c api.HealthCheck
	h.create(t, api.KindHealthCheck, obj{"name": "web-dc3", "site": "dc3", "type": "tcp", "address": "192.0.2.1:443", "probe_sites": []string{"dc3"}}).decode(t, &c)
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], `no failoverd runs in probe site(s) dc3 right now (this node runs in "local")`) ||
		!strings.Contains(c.Warnings[0], "no site probes it") {
		t.Errorf("warnings on write: %q", c.Warnings)
	}
	var st api.HealthStatus
	h.do(t, http.MethodGet, "/v1/health-checks/web-dc3/status", readToken, nil).want(t, http.StatusOK).decode(t, &st)
	if st.State != api.StateUnknown || st.Reason != "no prober for site dc3" {
		t.Errorf("status %+v, want unknown with the reason", st)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		for _, ev := range h.events(t) {
			if ev.Object == "health-checks/web-dc3" && strings.Contains(ev.Message, "no prober for site dc3") {
				return true, ""
			}
		}
		return false, "no event"
	})
	metrics := string(h.do(t, http.MethodGet, "/metrics", "", nil).want(t, http.StatusOK).Body)
	if !strings.Contains(metrics, `failover_check_no_prober{check="web-dc3"} 1`) {
		t.Errorf("metric missing:\n%s", grepLines(metrics, "no_prober"))
	}

	// Probed from this site as well: a prober, no warning, no reason.
	h.do(t, http.MethodPut, objPath(api.KindHealthCheck, "web-dc3"), adminToken,
		obj{"name": "web-dc3", "site": "dc3", "type": "tcp", "address": "192.0.2.1:443", "probe_sites": []string{"dc3", "local"}}).want(t, http.StatusOK).decode(t, &c)
	if len(c.Warnings) != 1 || strings.Contains(c.Warnings[0], "no site probes it") {
		t.Errorf("warnings with a live site: %q", c.Warnings)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		st = api.HealthStatus{}
		h.do(t, http.MethodGet, "/v1/health-checks/web-dc3/status", readToken, nil).want(t, http.StatusOK).decode(t, &st)
		metrics = string(h.do(t, http.MethodGet, "/metrics", "", nil).want(t, http.StatusOK).Body)
		return st.Reason == "" && strings.Contains(metrics, `failover_check_no_prober{check="web-dc3"} 0`),
			"reason " + st.Reason + "; " + grepLines(metrics, "no_prober")
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A healthy check whose only prober goes away becomes unknown with the
// reason, instead of keeping its last state with nobody observing it.
func TestCheckLosesItsProber(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	check := func(sites ...string) obj {
		return obj{"name": "web", "site": "dc1", "type": "tcp", "address": ln.Addr().String(), "probe_sites": sites,
			"interval_seconds": 1, "timeout_seconds": 0.5, "rise": 1, "fall": 1}
	}
	h.create(t, api.KindHealthCheck, check("local"))
	var st api.HealthStatus
	eventually(t, 10*time.Second, func() (bool, string) {
		st = api.HealthStatus{}
		h.do(t, http.MethodGet, "/v1/health-checks/web/status", readToken, nil).want(t, http.StatusOK).decode(t, &st)
		return st.State == api.StateHealthy, st.State
	})
	h.do(t, http.MethodPut, objPath(api.KindHealthCheck, "web"), adminToken, check("dc9")).want(t, http.StatusOK)
	eventually(t, 5*time.Second, func() (bool, string) {
		st = api.HealthStatus{}
		h.do(t, http.MethodGet, "/v1/health-checks/web/status", readToken, nil).want(t, http.StatusOK).decode(t, &st)
		return st.State == api.StateUnknown && st.Reason == "no prober for site dc9", st.State + " " + st.Reason
	})
}
