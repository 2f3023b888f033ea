package main

import (
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestE2EOperatorSkipsDeadNode: with FAILOVER_ENDPOINT naming a dead node
// first and a real failoverd second, the built binary's operator commands
// work, each change is applied once, and a list of dead nodes fails in one
// line that names them all.
func TestE2EOperatorSkipsDeadNode(t *testing.T) {
	needBins(t)
	t.Parallel()
	f := startFailoverd(t, filepath.Join(t.TempDir(), "data"))
	a := newRawAPI(f)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 60, nil, nil), nil)
	dead, dead2 := closedLoopbackPort(t), closedLoopbackPort(t)
	env := []string{"FAILOVER_ENDPOINT=" + dead + "," + f.URL, "FAILOVER_TOKEN=" + e2eToken, "FAILOVER_CA_CERT="}
	op := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runBin(t, env, args...)
		if code != 0 {
			t.Fatalf("failoverd %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
		return stdout
	}
	before := a.lastSeq(t)

	if out := op("status"); !strings.Contains(out, "at "+f.URL+", site") || !strings.Contains(out, "web") {
		t.Errorf("status does not show the live node and its policy:\n%s", out)
	}
	if out := op("override", "set", "web", "cloud", "--for", "5m", "--reason", "INC-7"); !strings.Contains(out, "policy web now serves cloud") {
		t.Errorf("override set:\n%s", out)
	}
	if d := a.decision(t, "web"); d.Override == nil || d.Override.Target != "cloud" {
		t.Fatalf("after override set: decision %+v, want pinned to cloud", d)
	}
	if out := op("override", "clear", "web"); !strings.Contains(out, "override: none") {
		t.Errorf("override clear:\n%s", out)
	}
	if d := a.decision(t, "web"); d.Override != nil || servingTarget(d) != "dc1" {
		t.Errorf("after override clear: decision %+v, want dc1 without an override", d)
	}
	// Each change applied exactly once: one audit entry per command.
	counts := map[string]int{}
	for _, e := range a.events(t, before) {
		if e.Type == api.EventAudit {
			counts[e.Action]++
		}
	}
	if counts["override set"] != 1 || counts["override clear"] != 1 {
		t.Errorf("audit entries after the commands: %v, want one override set and one override clear", counts)
	}

	code, _, stderr := runBin(t, []string{"FAILOVER_ENDPOINT=" + dead + "," + dead2, "FAILOVER_TOKEN=" + e2eToken}, "status")
	if code != 1 || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("status with every node down: exit %d, stderr %q; want exit 1 and one line", code, stderr)
	}
	for _, s := range []string{"cannot reach any of the 2 failoverd endpoints", dead + ": dial tcp", dead2 + ": dial tcp", "connection refused"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q: %s", s, stderr)
		}
	}
}

// closedLoopbackPort is a URL on 127.0.0.1 where nothing listens.
func closedLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}
