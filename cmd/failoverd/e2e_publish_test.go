package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
	"github.com/hatopo/terraform-provider-failover/internal/publish"
)

const (
	knotZone      = "example.test."
	knotKeyName   = "failover-update"
	knotKeySecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
	wrongSecret   = "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc="
)

// TestPublishRFC2136ToKnot: a policy publishes to a real knotd by TSIG-
// signed dynamic update. A real backend kill moves the record — seen by
// a DNS query to knot, not by reading failoverd —, a record changed
// behind failoverd's back is repaired and evented, and a policy whose key
// the server refuses reports a clear error while the other keeps working.
func TestPublishRFC2136ToKnot(t *testing.T) {
	needBins(t)
	t.Parallel()
	bin := launch.KnotForTest(t)
	k, err := launch.StartKnot(context.Background(), launch.KnotOptions{Bin: bin, Dir: t.TempDir(), Zone: knotZone,
		KeyName: knotKeyName, KeySecret: knotKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	keys := filepath.Join(t.TempDir(), "tsig.keys")
	// "stale-key" has a name knot knows but the wrong secret.
	if err := os.WriteFile(keys, []byte(fmt.Sprintf("%s hmac-sha256 %s\nstale-key hmac-sha256 %s\n", knotKeyName, knotKeySecret, wrongSecret)), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startFailoverd(t, filepath.Join(t.TempDir(), "data"), "--tsig-keys", keys, "--publish-reconcile-interval", "1s")
	a := newRawAPI(f)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("dc1-web", "dc1", dc1.Addr), nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("cloud-web", "cloud", cloud.Addr), nil)
	web := twoSitePolicy("web", 60, []string{"dc1-web"}, []string{"cloud-web"})
	web.Publish = &api.Publish{RFC2136: &api.PublishRFC2136{Server: k.Addr(), Zone: "example.test", RecordName: "web.example.test", TSIGKey: knotKeyName}}
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", web, nil)
	bad := twoSitePolicy("api", 60, []string{"dc1-web"}, []string{"cloud-web"})
	bad.Publish = &api.Publish{RFC2136: &api.PublishRFC2136{Server: k.Addr(), Zone: "example.test", RecordName: "api.example.test", TSIGKey: "stale-key"}}
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", bad, nil)

	waitHealthy(t, a, 15*time.Second, "dc1-web", "cloud-web")
	waitDNSA(t, k.Addr(), "web.example.test.", "192.0.2.10", 5*time.Second)
	if _, ttl := dnsA(t, k.Addr(), "web.example.test."); ttl != 5 {
		t.Errorf("knot answers web.example.test with TTL %d, want the policy's 5", ttl)
	}

	// A real backend kill moves the record at knot.
	killed := time.Now()
	dc1.Stop()
	over := waitServing(t, a, 15*time.Second, "web", "cloud")
	moved := waitDNSA(t, k.Addr(), "web.example.test.", "198.51.100.20", 5*time.Second)
	t.Logf("failover: decision %.3fs after the kill; knot answers the new record %.3fs after the decision",
		over.Since.Sub(killed).Seconds(), moved.Sub(over.Since).Seconds())
	var st api.PolicyStatus
	eventually(t, 5*time.Second, "web's publication in sync", func() (bool, string) {
		st = api.PolicyStatus{}
		a.must(t, http.StatusOK, http.MethodGet, "/v1/traffic-policies/web/status", nil, &st)
		return len(st.Publish) == 1 && st.Publish[0].InSync && st.Publish[0].PublishedGeneration == st.Decision.Generation,
			fmt.Sprintf("%+v", st.Publish)
	})
	if p := st.Publish[0]; p.Destination != api.DestinationRFC2136 || p.Record != "web.example.test" || p.LastSuccess == nil || p.LastError != "" {
		t.Errorf("web's publish status %+v", p)
	}

	// The wrong key: a clear error in the status and an event; web kept
	// working meanwhile (above).
	eventually(t, 10*time.Second, "api's publication failing with a TSIG error", func() (bool, string) {
		st = api.PolicyStatus{}
		a.must(t, http.StatusOK, http.MethodGet, "/v1/traffic-policies/api/status", nil, &st)
		return len(st.Publish) == 1 && st.Publish[0].Attempts > 0 && strings.Contains(st.Publish[0].LastError, "refused TSIG key stale-key"),
			fmt.Sprintf("%+v", st.Publish)
	})
	if p := st.Publish[0]; p.InSync || p.LagSeconds <= 0 {
		t.Errorf("a refused publication reads in_sync %t, lag %.1fs; want false and > 0", p.InSync, p.LagSeconds)
	}
	if got, _ := dnsA(t, k.Addr(), "api.example.test."); got != "NXDOMAIN" {
		t.Errorf("knot answers api.example.test %q; a refused key must change nothing", got)
	}

	// Drift: someone rewrites the record behind failoverd's back; the
	// reconciliation puts the decision back and says so.
	since := a.lastSeq(t)
	u := &publish.RFC2136{Keys: mustKeys(t, keys)}
	drift := publish.Entry{RFC2136: web.Publish.RFC2136, Records: publish.RecordSet{TTL: 300, A: []string{"203.0.113.66"}}}
	if err := u.Publish(context.Background(), drift); err != nil {
		t.Fatal(err)
	}
	waitDNSA(t, k.Addr(), "web.example.test.", "198.51.100.20", 10*time.Second)
	eventually(t, 5*time.Second, "a publish event about the repair", func() (bool, string) {
		for _, ev := range a.events(t, since) {
			if ev.Type == api.EventPublish && strings.Contains(ev.Message, "changed outside failoverd") {
				return true, ""
			}
		}
		return false, "no repair event"
	})
	// The operator's one screen shows both destinations' state.
	code, out, errOut := runBin(t, []string{"FAILOVER_ENDPOINT=" + f.URL, "FAILOVER_TOKEN=" + e2eToken}, "status")
	if code != 0 {
		t.Fatalf("failoverd status: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"PUBLISHED RECORDS", "web.example.test", "api.example.test", "refused TSIG key stale-key"} {
		if !strings.Contains(out, want) {
			t.Errorf("failoverd status lacks %q:\n%s", want, out)
		}
	}
	metrics := a.metricsText(t)
	for _, want := range []string{
		`failover_publish_in_sync{destination="rfc2136",policy="web"} 1`,
		`failover_publish_in_sync{destination="rfc2136",policy="api"} 0`,
		`failover_publish_repairs_total{destination="rfc2136"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The publisher alerts and dashboard panels use metrics this
	// failoverd exports.
	checkAlertMetrics(t, a, "failover_publish_")
}

func mustKeys(t *testing.T, path string) publish.TSIGKeys {
	t.Helper()
	keys, err := publish.LoadTSIGKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// metricsText is failoverd's /metrics (no token).
func (a *rawAPI) metricsText(t *testing.T) string {
	t.Helper()
	resp, b, err := (&rawAPI{base: a.base, hc: a.hc}).do(http.MethodGet, "/metrics", nil, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %v", err, resp)
	}
	return string(b)
}

// TestClusterPublishFollowsTheLeader: in a three-site cluster only the
// leader publishes; when it is SIGKILLed, the new leader picks the outbox
// up from the store and publishes the next decision to knot.
func TestClusterPublishFollowsTheLeader(t *testing.T) {
	t.Parallel()
	bin := launch.KnotForTest(t)
	needBins(t)
	launch.EtcdForTest(t)
	k, err := launch.StartKnot(context.Background(), launch.KnotOptions{Bin: bin, Dir: t.TempDir(), Zone: knotZone,
		KeyName: knotKeyName, KeySecret: knotKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	keys := filepath.Join(t.TempDir(), "tsig.keys")
	if err := os.WriteFile(keys, []byte(knotKeyName+" hmac-sha256 "+knotKeySecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, "--tsig-keys", keys)
	lead := c.waitOneLeader(10 * time.Second)
	ttl := 5
	pol := api.TrafficPolicy{Name: "web", Mode: api.ModeActivePassive, TTLSeconds: &ttl, WhenAllDown: api.AllDownFailOpen,
		Targets: map[string]api.PolicyTarget{
			"dc1":   {Site: "dc1", Addresses: []string{"192.0.2.10"}, Priority: 1},
			"cloud": {Site: "cloud", Addresses: []string{"198.51.100.20"}, Priority: 2},
		},
		Publish: &api.Publish{RFC2136: &api.PublishRFC2136{Server: k.Addr(), Zone: "example.test", RecordName: "web.example.test", TSIGKey: knotKeyName}}}
	c.apis[(lead+1)%3].must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", pol, nil)
	waitDNSA(t, k.Addr(), "web.example.test.", "192.0.2.10", 10*time.Second)

	c.nodes[lead].Kill()
	alive := others(lead)
	next := c.waitOneLeader(20*time.Second, alive...)
	c.apis[next].must(t, http.StatusOK, http.MethodPut, "/v1/traffic-policies/web/override",
		api.Override{Target: "cloud", ExpiresAt: time.Now().Add(time.Hour)}, nil)
	waitDNSA(t, k.Addr(), "web.example.test.", "198.51.100.20", 15*time.Second)
	var st api.PolicyStatus
	eventually(t, 5*time.Second, "the new leader's publication recorded", func() (bool, string) {
		st = api.PolicyStatus{}
		c.apis[alive[0]].must(t, http.StatusOK, http.MethodGet, "/v1/traffic-policies/web/status", nil, &st)
		return len(st.Publish) == 1 && st.Publish[0].InSync && st.Publish[0].PublishedGeneration == st.Decision.Generation, fmt.Sprintf("%+v", st.Publish)
	})
}
