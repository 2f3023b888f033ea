package main

// Drills on a real two-site setup: failoverd and two stand-in backends as
// child processes; the drill is driven through the CLI and the API, and
// its report is checked against the server's own event log and DNS.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

const (
	dc1Addr   = "192.0.2.10"
	cloudAddr = "198.51.100.20"
)

// drillSetup: failoverd on dataDir, stand-ins for dc1 and cloud, and the
// active-passive policy "web" (RTO 30 s) serving dc1, DNS answering it.
func drillSetup(t *testing.T, dataDir string) (*launch.Failoverd, *rawAPI) {
	t.Helper()
	f := startFailoverd(t, dataDir)
	a := newRawAPI(f)
	for _, site := range []string{"dc1", "cloud"} {
		b := startBackend(t, site)
		a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("web-"+site, site, b.Addr), nil)
	}
	p := twoSitePolicy("web", 0, []string{"web-dc1"}, []string{"web-cloud"})
	p.RTOSeconds = 30
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", p, nil)
	waitHealthy(t, a, 20*time.Second, "web-dc1", "web-cloud")
	waitServing(t, a, 10*time.Second, "web", "dc1")
	waitDNSA(t, f.DNSAddr, "web.failover.internal.", dc1Addr, 5*time.Second)
	return f, a
}

func (a *rawAPI) drill(t *testing.T, id string) api.Drill {
	t.Helper()
	var d api.Drill
	a.must(t, http.StatusOK, http.MethodGet, "/v1/drills/"+id, nil, &d)
	return d
}

func waitDrill(t *testing.T, a *rawAPI, id string, within time.Duration, cond func(api.Drill) bool) api.Drill {
	t.Helper()
	var d api.Drill
	eventually(t, within, "drill "+id, func() (bool, string) {
		d = a.drill(t, id)
		return cond(d), fmt.Sprintf("state %s step %s (%s)", d.State, d.Step, d.Error)
	})
	return d
}

// TestDrillMeasured runs `failoverd drill run` to its report and checks
// every measured time against the server's events: the override's audit
// event (requested), the decision events (decided), the drill's own step
// event (DNS seen), for the failover and the failback.
func TestDrillMeasured(t *testing.T) {
	needBins(t)
	f, a := drillSetup(t, t.TempDir())
	before := a.lastSeq(t)
	env := []string{"FAILOVER_ENDPOINT=" + f.URL, "FAILOVER_TOKEN=" + e2eToken, "FAILOVER_CA_CERT="}

	// While the drill runs, a client of failoverd's DNS sees cloud.
	seen := make(chan time.Time, 1)
	go func() {
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if got, _ := dnsAQuiet(f.DNSAddr, "web.failover.internal."); got == cloudAddr {
				seen <- time.Now()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		close(seen)
	}()
	code, out, errOut := runBin(t, env, "drill", "run", "web", "--to", "cloud", "--hold", "2s", "--reason", "game day 42")
	t.Logf("failoverd drill run:\n%s%s", out, errOut)
	if code != 0 {
		t.Fatalf("drill run exit %d", code)
	}
	if _, ok := <-seen; !ok {
		t.Error("DNS never answered cloud during the drill")
	}
	for _, w := range []string{"verdict:     PASS against the RTO of 30s", "failover:    requested", "failback:    requested", "serving dc1"} {
		if !strings.Contains(out, w) {
			t.Errorf("drill run output lacks %q", w)
		}
	}
	// Automatic routing is back: no override, dc1 serves, DNS answers dc1.
	if d := a.decision(t, "web"); d.Override != nil || servingTarget(d) != "dc1" {
		t.Errorf("after the drill: serving %s, override %+v", servingTarget(d), d.Override)
	}
	if got, _ := dnsA(t, f.DNSAddr, "web.failover.internal."); got != dc1Addr {
		t.Errorf("after the drill DNS answers %q", got)
	}

	var list api.List[api.Drill]
	a.must(t, http.StatusOK, http.MethodGet, "/v1/drills?policy=web", nil, &list)
	if len(list.Items) != 1 {
		t.Fatalf("drills: %+v", list.Items)
	}
	d := a.drill(t, list.Items[0].ID)
	r := d.Report
	if d.State != api.DrillPassed || r == nil || !r.Pass || d.From != "dc1" || d.Target != "cloud" || d.Reason != "game day 42" {
		t.Fatalf("drill %+v report %+v", d, r)
	}
	if r.RTOSeconds != 30 || r.WorstCaseSeconds <= 0 {
		t.Errorf("declared: rto %d worst case %v", r.RTOSeconds, r.WorstCaseSeconds)
	}
	if r.FailoverDecidedAt == nil || r.FailoverDNSAt == nil || r.FailbackRequestedAt == nil || r.FailbackDecidedAt == nil || r.FailbackDNSAt == nil {
		t.Fatalf("report misses a time: %+v", r)
	}

	// The server's events of the drill, in order.
	evs := a.events(t, before)
	var ovSet, ovClear *api.Event
	var decisions []api.Event
	var drillEvs []api.Event
	for i := range evs {
		ev := evs[i]
		switch {
		case ev.Type == api.EventAudit && ev.Object == "traffic-policies/web" && ev.Action == "override set":
			ovSet = &evs[i]
		case ev.Type == api.EventAudit && ev.Object == "traffic-policies/web" && ev.Action == "override clear":
			ovClear = &evs[i]
		case ev.Type == api.EventDecision && ev.Object == "traffic-policies/web":
			decisions = append(decisions, ev)
		case ev.Type == api.EventDrill && ev.Object == "drills/"+d.ID:
			drillEvs = append(drillEvs, ev)
		}
	}
	if ovSet == nil || ovClear == nil || len(decisions) != 2 {
		t.Fatalf("events: override set %v, clear %v, %d decisions:\n%s", ovSet, ovClear, len(decisions), eventLines(evs))
	}
	same := func(what string, got time.Time, want time.Time) {
		t.Helper()
		if !got.Equal(want) {
			t.Errorf("%s: report %s, server event %s", what, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
	}
	decSince := func(ev api.Event) time.Time {
		var dec api.Decision
		if err := json.Unmarshal(ev.Data, &dec); err != nil {
			t.Fatal(err)
		}
		return dec.Since
	}
	same("failover requested", r.FailoverRequestedAt, ovSet.Time)
	same("failover decided", *r.FailoverDecidedAt, decisions[0].Time)
	same("failover decided (decision since)", *r.FailoverDecidedAt, decSince(decisions[0]))
	same("failback requested", *r.FailbackRequestedAt, ovClear.Time)
	same("failback decided", *r.FailbackDecidedAt, decisions[1].Time)
	if !strings.Contains(decisions[0].Message, "serves cloud") || !strings.Contains(decisions[1].Message, "serves dc1") {
		t.Errorf("decisions: %q, %q", decisions[0].Message, decisions[1].Message)
	}
	// The drill's own events: started, failed over (at the DNS time),
	// failing back, report.
	if len(drillEvs) != 4 {
		t.Fatalf("%d drill events:\n%s", len(drillEvs), eventLines(drillEvs))
	}
	same("failover DNS seen", *r.FailoverDNSAt, drillEvs[1].Time)
	if !strings.Contains(drillEvs[0].Message, "started by dev-admin") || !strings.Contains(drillEvs[3].Message, "report") ||
		!strings.Contains(drillEvs[3].Message, "PASSED") {
		t.Errorf("drill events:\n%s", eventLines(drillEvs))
	}
	// The durations are the differences of those times.
	near := func(what string, got *float64, from, to time.Time) {
		t.Helper()
		if want := to.Sub(from).Seconds(); got == nil || *got < want-1e-6 || *got > want+1e-6 {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	near("decision seconds", r.DecisionSeconds, r.FailoverRequestedAt, *r.FailoverDecidedAt)
	near("switch seconds", r.SwitchSeconds, r.FailoverRequestedAt, *r.FailoverDNSAt)
	near("failback decision seconds", r.FailbackDecisionSecs, *r.FailbackRequestedAt, *r.FailbackDecidedAt)
	near("failback switch seconds", r.FailbackSwitchSecs, *r.FailbackRequestedAt, *r.FailbackDNSAt)
	if !(r.FailoverRequestedAt.Before(*r.FailoverDecidedAt) || r.FailoverRequestedAt.Equal(*r.FailoverDecidedAt)) ||
		r.FailoverDNSAt.Before(*r.FailoverDecidedAt) || r.FailbackRequestedAt.Before(*r.FailoverDNSAt) || r.FailbackDNSAt.Before(*r.FailbackDecidedAt) {
		t.Errorf("times out of order: %+v", r)
	}
	t.Logf("measured: decision %.3fs, DNS switch %.3fs, failback decision %.3fs, failback DNS %.3fs (declared worst case %.1fs, RTO %ds)",
		*r.DecisionSeconds, *r.SwitchSeconds, *r.FailbackDecisionSecs, *r.FailbackSwitchSecs, r.WorstCaseSeconds, r.RTOSeconds)

	// Metrics for alerting on a failed (or missing) game day.
	resp, metrics, err := a.do(http.MethodGet, "/metrics", nil, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %v", err)
	}
	for _, w := range []string{`failover_drill_last_pass{policy="web"} 1`, `failover_drills_total{policy="web",state="passed"} 1`,
		fmt.Sprintf(`failover_drill_last_switch_seconds{policy="web"} %g`, *r.SwitchSeconds)} {
		if !strings.Contains(string(metrics), w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}

	// list / show / status print it.
	code, out, _ = runBin(t, env, "drill", "list")
	if code != 0 || !strings.Contains(out, d.ID) || !strings.Contains(out, "PASSED") {
		t.Errorf("drill list (%d):\n%s", code, out)
	}
	code, out, _ = runBin(t, env, "drill", "show", d.ID)
	if code != 0 || !strings.Contains(out, "verdict:     PASS") {
		t.Errorf("drill show (%d):\n%s", code, out)
	}
	t.Logf("failoverd drill show:\n%s", out)
	code, out, _ = runBin(t, env, "status")
	if code != 0 || !strings.Contains(out, "LAST DRILLS") || !strings.Contains(out, d.ID) {
		t.Errorf("status (%d):\n%s", code, out)
	}
}

// TestDrillRefused: what a drill refuses, each with its field and fix.
func TestDrillRefused(t *testing.T) {
	needBins(t)
	_, a := drillSetup(t, t.TempDir())
	for _, tc := range []struct {
		name, policy string
		body         any
		code         int
		detail       string
	}{
		{"unknown policy", "nope", api.DrillRequest{Target: "cloud"}, http.StatusNotFound, "no traffic policy"},
		{"unknown target", "web", api.DrillRequest{Target: "mars"}, http.StatusBadRequest, "has no target"},
		{"current target", "web", api.DrillRequest{Target: "dc1"}, http.StatusBadRequest, "already serves"},
		{"no target", "web", api.DrillRequest{}, http.StatusBadRequest, "is required: name the target"},
		{"bad hold", "web", api.DrillRequest{Target: "cloud", Hold: "ten minutes"}, http.StatusBadRequest, "not a duration"},
		{"long hold", "web", api.DrillRequest{Target: "cloud", Hold: "48h"}, http.StatusBadRequest, "longer than 24h"},
		{"unknown field", "web", map[string]any{"target": "cloud", "hodl": "1m"}, http.StatusBadRequest, "hodl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, err := a.do(http.MethodPost, "/v1/traffic-policies/"+tc.policy+"/drills", tc.body, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.detail) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, body, tc.code, tc.detail)
			}
		})
	}
	var d api.Drill
	a.must(t, http.StatusAccepted, http.MethodPost, "/v1/traffic-policies/web/drills", api.DrillRequest{Target: "cloud", Hold: "10m"}, &d)
	resp, body, _ := a.do(http.MethodPost, "/v1/traffic-policies/web/drills", api.DrillRequest{Target: "cloud"}, nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), d.ID) {
		t.Errorf("second drill: %d %s", resp.StatusCode, body)
	}
	a.must(t, http.StatusOK, http.MethodPost, "/v1/drills/"+d.ID+"/abort", nil, nil)
	resp, body, _ = a.do(http.MethodPost, "/v1/drills/"+d.ID+"/abort", nil, nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "already ended") {
		t.Errorf("second abort: %d %s", resp.StatusCode, body)
	}
}

// TestDrillAbort: aborting mid-hold (from the CLI) restores automatic
// routing at once — no override, dc1 serving, DNS answering dc1 — and
// the report says aborted.
func TestDrillAbort(t *testing.T) {
	needBins(t)
	f, a := drillSetup(t, t.TempDir())
	env := []string{"FAILOVER_ENDPOINT=" + f.URL, "FAILOVER_TOKEN=" + e2eToken, "FAILOVER_CA_CERT="}
	code, out, errOut := runBin(t, env, "drill", "run", "web", "--to", "cloud", "--hold", "10m", "--detach")
	if code != 0 {
		t.Fatalf("drill run --detach: %d %s%s", code, out, errOut)
	}
	var list api.List[api.Drill]
	a.must(t, http.StatusOK, http.MethodGet, "/v1/drills", nil, &list)
	id := list.Items[0].ID
	waitDrill(t, a, id, 15*time.Second, func(d api.Drill) bool { return d.Step == api.StepHold })
	if got, _ := dnsA(t, f.DNSAddr, "web.failover.internal."); got != cloudAddr {
		t.Fatalf("holding, DNS answers %q", got)
	}
	code, out, errOut = runBin(t, env, "drill", "abort", id)
	if code != 0 || !strings.Contains(out, "ABORTED") {
		t.Fatalf("drill abort: %d %s%s", code, out, errOut)
	}
	// Abort answers once routing is restored: no waiting needed.
	if d := a.decision(t, "web"); d.Override != nil || servingTarget(d) != "dc1" {
		t.Errorf("after abort: serving %s, override %+v", servingTarget(d), d.Override)
	}
	waitDNSA(t, f.DNSAddr, "web.failover.internal.", dc1Addr, 2*time.Second)
	d := a.drill(t, id)
	if d.State != api.DrillAborted || !strings.Contains(d.Error, "aborted by an operator during step holding") || d.Report == nil || d.Report.SwitchSeconds == nil {
		t.Errorf("aborted drill: %+v", d)
	}
}

// TestDrillRestart: failoverd killed mid-drill (SIGKILL, no clean
// shutdown) aborts the drill when it starts again, and clears its
// override: traffic is not left pinned to the drill's target.
func TestDrillRestart(t *testing.T) {
	needBins(t)
	data := filepath.Join(t.TempDir(), "data")
	f, a := drillSetup(t, data)
	var d api.Drill
	a.must(t, http.StatusAccepted, http.MethodPost, "/v1/traffic-policies/web/drills", api.DrillRequest{Target: "cloud", Hold: "10m", Reason: "restart test"}, &d)
	waitDrill(t, a, d.ID, 15*time.Second, func(d api.Drill) bool { return d.Step == api.StepHold })
	f.Kill()
	f2 := startFailoverd(t, data)
	a2 := newRawAPI(f2)
	got := a2.drill(t, d.ID)
	if got.State != api.DrillAborted || !strings.Contains(got.Error, "failoverd restarted during step holding") {
		t.Errorf("after restart: %+v", got)
	}
	if dec := a2.decision(t, "web"); dec.Override != nil {
		t.Errorf("after restart the drill's override is still set: %+v", dec.Override)
	}
	waitServing(t, a2, 20*time.Second, "web", "dc1")
}

// dnsAQuiet asks failoverd's DNS for name's A records without a
// *testing.T (for goroutines): the addresses, comma-separated.
func dnsAQuiet(addr, name string) (string, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil {
		return "", err
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return strings.Join(out, ","), nil
}

func eventLines(evs []api.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%d %s %s %s %s\n", e.Seq, e.Time.Format(time.RFC3339Nano), e.Type, e.Object, e.Message)
	}
	return b.String()
}

// TestDrillSchedule: a policy's drill_schedule window runs a drill by
// itself, and `failoverd status` shows its result.
func TestDrillSchedule(t *testing.T) {
	needBins(t)
	f, a := drillSetup(t, t.TempDir())
	var p api.TrafficPolicy
	hdr := a.must(t, http.StatusOK, http.MethodGet, "/v1/traffic-policies/web", nil, &p)
	start := time.Now().UTC().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	p.DrillSchedule = &api.DrillSchedule{Target: "cloud", Reason: "weekly",
		Windows: []string{start.Format(time.RFC3339) + "/" + start.Add(2*time.Second).Format(time.RFC3339)}}
	p.FQDN, p.WorstCaseFailoverSeconds, p.Warnings = "", 0, nil
	resp, body, err := a.do(http.MethodPut, "/v1/traffic-policies/web", p, map[string]string{"If-Match": hdr.Get("ETag")})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT policy with drill_schedule: %v %d %s", err, resp.StatusCode, body)
	}
	// A bad schedule is refused with the field and the fix.
	bad := p
	bad.DrillSchedule = &api.DrillSchedule{Target: "cloud", Cron: "0 25 * * *"}
	resp, body, _ = a.do(http.MethodPut, "/v1/traffic-policies/web", bad, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "drill_schedule.cron") {
		t.Errorf("bad cron: %d %s", resp.StatusCode, body)
	}
	var d api.Drill
	eventually(t, 20*time.Second, "the scheduled drill passes", func() (bool, string) {
		var list api.List[api.Drill]
		a.must(t, http.StatusOK, http.MethodGet, "/v1/drills?policy=web", nil, &list)
		if len(list.Items) == 0 {
			return false, "no drill yet"
		}
		d = list.Items[0]
		return d.State == api.DrillPassed, d.State + " " + d.Error
	})
	if d.StartedBy != "drill-schedule" || d.Reason != "scheduled game day: weekly" || d.StartedAt.Before(start) {
		t.Errorf("scheduled drill: %+v (window starts %s)", d, start)
	}
	env := []string{"FAILOVER_ENDPOINT=" + f.URL, "FAILOVER_TOKEN=" + e2eToken, "FAILOVER_CA_CERT="}
	code, out, _ := runBin(t, env, "status")
	if code != 0 || !strings.Contains(out, d.ID) || !strings.Contains(out, "PASSED") {
		t.Errorf("status (%d) does not show the last drill:\n%s", code, out)
	}
	t.Logf("failoverd status:\n%s", out)
}

// TestDrillPublishers: a drill measures every publisher. Two policies
// publish to a real knotd by RFC 2136: web with the key knot knows, api
// with a key knot refuses. web's drill reports when knot took each
// switch — after the decision, at the publish status's own last success
// — and knot answers the drill's target during the hold; api's drill
// names its publisher as not followed (with the TSIG error), fails
// against the RTO, and still fails back cleanly.
func TestDrillPublishers(t *testing.T) {
	needBins(t)
	bin := launch.KnotForTest(t)
	k, err := launch.StartKnot(context.Background(), launch.KnotOptions{Bin: bin, Dir: t.TempDir(), Zone: knotZone,
		KeyName: knotKeyName, KeySecret: knotKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	keys := filepath.Join(t.TempDir(), "tsig.keys")
	if err := os.WriteFile(keys, []byte(fmt.Sprintf("%s hmac-sha256 %s\nstale-key hmac-sha256 %s\n", knotKeyName, knotKeySecret, wrongSecret)), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startFailoverd(t, filepath.Join(t.TempDir(), "data"), "--tsig-keys", keys)
	a := newRawAPI(f)
	for _, site := range []string{"dc1", "cloud"} {
		b := startBackend(t, site)
		a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("web-"+site, site, b.Addr), nil)
	}
	for name, key := range map[string]string{"web": knotKeyName, "api": "stale-key"} {
		p := twoSitePolicy(name, 0, []string{"web-dc1"}, []string{"web-cloud"})
		p.RTOSeconds = 30
		p.Publish = &api.Publish{RFC2136: &api.PublishRFC2136{Server: k.Addr(), Zone: "example.test", RecordName: name + ".example.test", TSIGKey: key}}
		a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", p, nil)
	}
	waitHealthy(t, a, 20*time.Second, "web-dc1", "web-cloud")
	waitServing(t, a, 10*time.Second, "web", "dc1")
	waitDNSA(t, k.Addr(), "web.example.test.", dc1Addr, 10*time.Second)
	before := a.lastSeq(t)

	var web, apid api.Drill
	a.must(t, http.StatusAccepted, http.MethodPost, "/v1/traffic-policies/web/drills", api.DrillRequest{Target: "cloud", Hold: "5s", Reason: "publishers"}, &web)
	a.must(t, http.StatusAccepted, http.MethodPost, "/v1/traffic-policies/api/drills", api.DrillRequest{Target: "cloud", Hold: "1s", Reason: "bad key"}, &apid)

	// During web's hold: the report's failover publication is the
	// status's last success, and knot answers the drill's target.
	held := waitDrill(t, a, web.ID, 30*time.Second, func(d api.Drill) bool { return d.Step != api.StepFailover })
	if held.Step != api.StepHold || held.Report == nil || len(held.Report.Publishers) != 1 {
		t.Fatalf("web's drill after the failover: %+v", held)
	}
	if got, _ := dnsA(t, k.Addr(), "web.example.test."); got != cloudAddr {
		t.Errorf("during the hold knot answers web.example.test %q, want the drill's target %s", got, cloudAddr)
	}
	var st api.PolicyStatus
	a.must(t, http.StatusOK, http.MethodGet, "/v1/traffic-policies/web/status", nil, &st)
	if len(st.Publish) != 1 || st.Publish[0].LastSuccess == nil || st.Publish[0].PublishedGeneration != st.Decision.Generation {
		t.Fatalf("web's publish status during the hold: %+v (decision generation %d)", st.Publish, st.Decision.Generation)
	}
	hp := held.Report.Publishers[0]
	if hp.FailoverPublishedAt == nil || !hp.FailoverPublishedAt.Equal(*st.Publish[0].LastSuccess) {
		t.Errorf("failover published at %v in the report, the publish status's last success %v", hp.FailoverPublishedAt, st.Publish[0].LastSuccess)
	}
	if still := a.drill(t, web.ID); still.Step != api.StepHold {
		t.Errorf("the hold ended (step %s) before knot was asked: the check above proves nothing", still.Step)
	}

	web = waitDrill(t, a, web.ID, 60*time.Second, func(d api.Drill) bool { return d.State != api.DrillRunning })
	r := web.Report
	if web.State != api.DrillPassed || r == nil || !r.Pass || len(r.Publishers) != 1 {
		t.Fatalf("web's drill: %+v report %+v", web, r)
	}
	p := r.Publishers[0]
	if !p.Followed || p.Problem != "" || p.Destination != api.DestinationRFC2136 || p.Record != "web.example.test" ||
		p.FailoverPublishedAt == nil || p.FailbackPublishedAt == nil {
		t.Fatalf("web's publisher: %+v", p)
	}
	// Published after the decision; the switch is the slowest of DNS and
	// the publisher; the durations are the differences of the times.
	if p.FailoverPublishedAt.Before(*r.FailoverDecidedAt) || p.FailbackPublishedAt.Before(*r.FailbackDecidedAt) {
		t.Errorf("published before the decision: %+v, decided %s / %s", p, r.FailoverDecidedAt, r.FailbackDecidedAt)
	}
	near := func(what string, got *float64, want float64) {
		t.Helper()
		if got == nil || *got < want-1e-6 || *got > want+1e-6 {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	near("publisher failover seconds", p.FailoverSeconds, p.FailoverPublishedAt.Sub(r.FailoverRequestedAt).Seconds())
	near("publisher failback seconds", p.FailbackSeconds, p.FailbackPublishedAt.Sub(*r.FailbackRequestedAt).Seconds())
	if *p.FailoverSeconds < *r.DecisionSeconds || *p.FailbackSeconds < *r.FailbackDecisionSecs {
		t.Errorf("publisher times %v/%v below the decision times %v/%v", *p.FailoverSeconds, *p.FailbackSeconds, *r.DecisionSeconds, *r.FailbackDecisionSecs)
	}
	near("switch seconds", r.SwitchSeconds, max(*r.DNSSeconds, *p.FailoverSeconds))
	near("failback switch seconds", r.FailbackSwitchSecs, max(*r.FailbackDNSSecs, *p.FailbackSeconds))
	st = api.PolicyStatus{}
	a.must(t, http.StatusOK, http.MethodGet, "/v1/traffic-policies/web/status", nil, &st)
	if len(st.Publish) != 1 || st.Publish[0].LastSuccess == nil || !st.Publish[0].LastSuccess.Equal(*p.FailbackPublishedAt) ||
		st.Publish[0].PublishedGeneration != st.Decision.Generation {
		t.Errorf("failback published at %s in the report; the publish status: %+v (decision generation %d)", p.FailbackPublishedAt, st.Publish, st.Decision.Generation)
	}
	waitDNSA(t, k.Addr(), "web.example.test.", dc1Addr, 5*time.Second)
	t.Logf("web: decision %.3fs, DNS %.3fs, knot %.3fs after the request; failback decision %.3fs, DNS %.3fs, knot %.3fs",
		*r.DecisionSeconds, *r.DNSSeconds, *p.FailoverSeconds, *r.FailbackDecisionSecs, *r.FailbackDNSSecs, *p.FailbackSeconds)

	// api: knot refuses its key. The drill waits out its budget for the
	// publisher, names it, fails, and still fails back.
	apid = waitDrill(t, a, apid.ID, 150*time.Second, func(d api.Drill) bool { return d.State != api.DrillRunning })
	r = apid.Report
	if apid.State != api.DrillFailed || r == nil || r.Pass || len(r.Publishers) != 1 {
		t.Fatalf("api's drill: %+v report %+v", apid, r)
	}
	p = r.Publishers[0]
	if p.Followed || p.FailoverPublishedAt != nil || p.FailbackPublishedAt != nil || !strings.Contains(p.LastError, "refused TSIG key stale-key") ||
		!strings.Contains(p.Problem, "failover not published within 30s of the request") || !strings.Contains(p.Problem, "failback not published within 30s") {
		t.Errorf("api's publisher: %+v", p)
	}
	if r.SwitchSeconds != nil || r.DNSSeconds == nil || r.FailbackDNSSecs == nil || r.FailbackTo != "dc1" {
		t.Errorf("api's report: switch %v (want none: knot never switched), DNS %v / %v, failback to %q", r.SwitchSeconds, r.DNSSeconds, r.FailbackDNSSecs, r.FailbackTo)
	}
	if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.HasPrefix(n, "publisher rfc2136 api.example.test did not follow") }) {
		t.Errorf("api's notes do not name the publisher: %q", r.Notes)
	}
	if d := a.decision(t, "api"); d.Override != nil || servingTarget(d) != "dc1" {
		t.Errorf("after api's drill: serving %s, override %+v", servingTarget(d), d.Override)
	}
	waitDNSA(t, f.DNSAddr, "api.failover.internal.", dc1Addr, 5*time.Second)
	if got, _ := dnsA(t, k.Addr(), "api.example.test."); got != "NXDOMAIN" {
		t.Errorf("knot answers api.example.test %q; a refused key must change nothing", got)
	}

	// The report events and the CLI name the publisher.
	var reports []string
	for _, ev := range a.events(t, before) {
		if ev.Type == api.EventDrill && strings.Contains(ev.Message, " report: ") {
			reports = append(reports, ev.Message)
		}
	}
	if !slices.ContainsFunc(reports, func(m string) bool { return strings.Contains(m, "publisher rfc2136 web.example.test followed") }) ||
		!slices.ContainsFunc(reports, func(m string) bool { return strings.Contains(m, "publisher rfc2136 api.example.test DID NOT FOLLOW") }) {
		t.Errorf("report events:\n%s", strings.Join(reports, "\n"))
	}
	env := []string{"FAILOVER_ENDPOINT=" + f.URL, "FAILOVER_TOKEN=" + e2eToken, "FAILOVER_CA_CERT="}
	for _, tc := range []struct{ id, want string }{{web.ID, "publisher:   rfc2136 web.example.test"}, {apid.ID, "DID NOT FOLLOW"}} {
		code, out, _ := runBin(t, env, "drill", "show", tc.id)
		if code != 0 || !strings.Contains(out, tc.want) || !strings.Contains(out, "switch:") {
			t.Errorf("drill show %s (%d) lacks %q:\n%s", tc.id, code, tc.want, out)
		}
		t.Logf("failoverd drill show:\n%s", out)
	}
	if m := a.metricsText(t); !strings.Contains(m, `failover_drill_last_pass{policy="api"} 0`) || !strings.Contains(m, `failover_drill_last_pass{policy="web"} 1`) {
		t.Error("/metrics lacks the drills' last pass")
	}
}
