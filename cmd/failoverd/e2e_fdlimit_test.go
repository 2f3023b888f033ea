package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestOutOfFileDescriptorsNeverFailsOver is the false failover,
// against the real binary: failoverd probes two healthy stand-ins (rise 1,
// fall 1, every second) behind an active-passive policy, then its soft
// RLIMIT_NOFILE is lowered to 0 with prlimit, so every socket() and
// accept() fails with EMFILE — the state a client that holds hundreds of
// connections open drives it into. While it lasts, each probe fails for a
// local reason; none may count against the stand-ins: no check turns
// unhealthy, the decision does not move, DNS keeps answering over UDP.
// When descriptors are back the checks read healthy again, and the metrics
// show the local failures were real.
func TestOutOfFileDescriptorsNeverFailsOver(t *testing.T) {
	needBins(t)
	t.Parallel()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	f := startFailoverd(t, filepath.Join(t.TempDir(), "data"))
	a := newRawAPI(f)
	dc1, cloud := startBackend(t, "dc1"), startBackend(t, "cloud")
	for _, c := range []api.HealthCheck{sitesCheck("dc1-web", "dc1", dc1.Addr), sitesCheck("cloud-web", "cloud", cloud.Addr)} {
		// fall 1: a single failure counted against a stand-in would show.
		// The long timeout keeps a slow answer on a loaded machine from
		// being one.
		c.Rise, c.Fall, c.TimeoutSeconds = 1, 1, 0.9
		a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", c, nil)
	}
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies",
		twoSitePolicy("web", 0, []string{"dc1-web"}, []string{"cloud-web"}), nil)
	waitHealthy(t, a, 15*time.Second, "dc1-web", "cloud-web")
	before := a.decision(t, "web")
	if servingTarget(before) != "dc1" {
		t.Fatalf("serving %s, want dc1", servingTarget(before))
	}
	seq := a.lastSeq(t)
	const fqdn = "web.failover.internal."

	soft, hard := nofile(t, f.Pid())
	setNofile := func(limit string) {
		t.Helper()
		if out, err := exec.Command(prlimit, "--pid", strconv.Itoa(f.Pid()), "--nofile="+limit).CombinedOutput(); err != nil {
			t.Fatalf("prlimit --nofile=%s: %v: %s", limit, err, out)
		}
	}
	setNofile("0:" + hard)
	restored := false
	restore := func() {
		if !restored {
			restored = true
			setNofile(soft + ":" + hard)
		}
	}
	defer restore()
	// Four probe intervals: with fall 1, one counted failure would flip a
	// check. The API cannot accept a connection meanwhile; DNS over UDP
	// keeps its socket and answers from the last decision.
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); {
		if got, _ := dnsA(t, f.DNSAddr, fqdn); got != "192.0.2.10" {
			t.Errorf("DNS while out of descriptors: %s, want 192.0.2.10", got)
		}
		time.Sleep(500 * time.Millisecond)
	}
	restore()

	// The API accepts again once the server's accept back-off (≤ 1 s) ends.
	eventually(t, 10*time.Second, "API back", func() (bool, string) {
		resp, _, err := a.do(http.MethodGet, "/healthz", nil, nil)
		return err == nil && resp.StatusCode == http.StatusOK, fmt.Sprint(err)
	})
	m := scrapeMetrics(t, f.URL)
	if n := m[`failover_probe_local_failures_total{reason="file_descriptors"}`]; n < 4 {
		t.Fatalf("%g probes failed for lack of descriptors, want ≥ 4: the limit did not bite", n)
	}
	if n := m[`failover_probes_total{result="failure",type="http"}`]; n != 0 {
		t.Errorf("%g probe failures counted against healthy stand-ins", n)
	}
	if d := a.decision(t, "web"); d.Generation != before.Generation || servingTarget(d) != "dc1" {
		t.Errorf("decision moved while out of descriptors: generation %d serving %s (%s), want generation %d serving dc1",
			d.Generation, servingTarget(d), d.Reason, before.Generation)
	}
	var sawLocal bool
	for _, ev := range a.events(t, seq) {
		if ev.Type != api.EventHealth {
			continue
		}
		if strings.Contains(ev.Message, " is unhealthy") {
			t.Errorf("event %q: a local failure counted as the backend's", ev.Message)
		}
		if strings.Contains(ev.Message, "local: too many open files") {
			sawLocal = true
		}
	}
	if !sawLocal {
		t.Error("no health event says the checks were unknown because of a local failure")
	}
	waitHealthy(t, a, 10*time.Second, "dc1-web", "cloud-web")
}

// nofile reads a process's RLIMIT_NOFILE (soft, hard) from /proc.
func nofile(t *testing.T, pid int) (soft, hard string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Skipf("no /proc limits: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				return f[0], f[1]
			}
		}
	}
	t.Fatalf("no open-files limit in /proc/%d/limits", pid)
	return "", ""
}

// scrapeMetrics reads failoverd's /metrics.
func scrapeMetrics(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, b, err := (&rawAPI{base: base, hc: http.DefaultClient}).do(http.MethodGet, "/metrics", nil, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %v", err, resp)
	}
	return parseMetrics(string(b))
}
