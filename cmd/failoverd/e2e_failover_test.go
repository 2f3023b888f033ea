package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// TestFailoverAndFailback kills the primary site's backend and restores it:
// the decision must leave within the detection bound of DESIGN §4.3 and
// come back only after the failback delay, measured on the server's own
// timestamps.
func TestFailoverAndFailback(t *testing.T) {
	needBins(t)
	t.Parallel()
	const (
		interval      = 1 * time.Second
		timeout       = 500 * time.Millisecond
		fall          = 2
		failbackDelay = 3 * time.Second
		slack         = 1500 * time.Millisecond
	)
	f := startFailoverd(t, filepath.Join(t.TempDir(), "data"))
	a := newRawAPI(f)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("dc1-web", "dc1", dc1.Addr), nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("cloud-web", "cloud", cloud.Addr), nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies",
		twoSitePolicy("web", int(failbackDelay/time.Second), []string{"dc1-web"}, []string{"cloud-web"}), nil)
	waitHealthy(t, a, 15*time.Second, "dc1-web", "cloud-web")
	if d := a.decision(t, "web"); servingTarget(d) != "dc1" {
		t.Fatalf("with both sites healthy web serves %s, want dc1 (%s)", servingTarget(d), d.Reason)
	}
	// The process's DNS answers the decision (DESIGN §4.3), with its TTL.
	const fqdn = "web.failover.internal."
	if got, ttl := dnsA(t, f.DNSAddr, fqdn); got != "192.0.2.10" || ttl != 5 {
		t.Fatalf("DNS %s A: %q TTL %d, want 192.0.2.10 TTL 5", fqdn, got, ttl)
	}
	// Events reach the log a moment after the state they record: wait for
	// dc1-web's first healthy event, or under load it lands after before.
	eventually(t, 5*time.Second, "dc1-web healthy event durable", func() (bool, string) {
		for _, e := range a.events(t, 0) {
			if e.Object == "health-checks/dc1-web" && strings.Contains(e.Message, "is healthy (was unknown)") {
				return true, ""
			}
		}
		return false, "not yet"
	})
	before := a.lastSeq(t)

	// Failover.
	killed := time.Now()
	dc1.Stop()
	over := waitServing(t, a, 15*time.Second, "web", "cloud")
	bound := fall*interval + timeout + slack
	took := over.Since.Sub(killed)
	t.Logf("failover: decision %.3fs after the kill (bound %s); detected %s, decided %s (detect→decide %s)",
		took.Seconds(), bound, over.ObservedAt.Format(time.RFC3339Nano), over.Since.Format(time.RFC3339Nano), over.Since.Sub(over.ObservedAt))
	if took > bound {
		t.Errorf("failover decided %s after the kill, want ≤ fall×interval + timeout + slack = %s", took, bound)
	}
	if over.ObservedAt.IsZero() || over.ObservedAt.After(over.Since) {
		t.Errorf("failover decision observed_at %s, want set and ≤ since %s", over.ObservedAt, over.Since)
	}
	if over.ObservedAt.Before(killed) {
		t.Errorf("failover decision observed_at %s is before the backend was killed at %s", over.ObservedAt, killed)
	}
	// The DNS answer moves with the decision: it is read from the
	// snapshot the decision published, so at once.
	moved := waitDNSA(t, f.DNSAddr, fqdn, "198.51.100.20", 2*time.Second)
	t.Logf("failover: DNS answer moved %.3fs after the kill (%.3fs after the decision)", moved.Sub(killed).Seconds(), moved.Sub(over.Since).Seconds())

	// Failback.
	if err := dc1.Restart(); err != nil {
		t.Fatalf("restart dc1 backend: %v", err)
	}
	restarted := time.Now()
	back := waitServing(t, a, 20*time.Second, "web", "dc1")
	waitDNSA(t, f.DNSAddr, fqdn, "192.0.2.10", 2*time.Second)
	hs := a.healthStatus(t, "dc1-web")
	if hs.State != api.StateHealthy {
		t.Fatalf("web failed back to dc1 while dc1-web is %s", hs.State)
	}
	healthyAt := hs.Since
	waited := back.Since.Sub(healthyAt)
	t.Logf("failback: dc1-web healthy %.3fs after the restart, decision %.3fs after that (failback delay %s)",
		healthyAt.Sub(restarted).Seconds(), waited.Seconds(), failbackDelay)
	if healthyAt.Before(over.Since) {
		t.Errorf("dc1-web healthy since %s, before the failover at %s: its status did not follow the outage", healthyAt, over.Since)
	}
	if waited < failbackDelay {
		t.Errorf("failback decided %s after dc1-web became healthy, want ≥ the failback delay %s", waited, failbackDelay)
	}
	if waited > failbackDelay+slack {
		t.Errorf("failback decided %s after dc1-web became healthy, want ≤ failback delay + slack = %s", waited, failbackDelay+slack)
	}
	if !back.ObservedAt.Equal(healthyAt) {
		t.Errorf("failback decision observed_at %s, want the recovery observation %s", back.ObservedAt, healthyAt)
	}
	if back.Generation <= over.Generation {
		t.Errorf("failback generation %d, want > failover generation %d", back.Generation, over.Generation)
	}

	// The event log tells the same story, and nothing else: one failover,
	// one failback — no early or repeated move.
	// Events reach the log a moment after the decision they record.
	var evs []api.Event
	var ds []api.Decision
	eventually(t, 5*time.Second, "failback decision event durable", func() (bool, string) {
		evs = a.events(t, before)
		ds = decisionEvents(evs, "web")
		return len(ds) > 0 && ds[len(ds)-1].Generation >= back.Generation, fmt.Sprintf("%d decision events", len(ds))
	})
	var story []string
	for _, d := range ds {
		story = append(story, fmt.Sprintf("gen %d → %s at %s", d.Generation, servingTarget(d), d.Since.Format(time.RFC3339Nano)))
	}
	if len(ds) != 2 || servingTarget(ds[0]) != "cloud" || servingTarget(ds[1]) != "dc1" {
		t.Fatalf("decision events after the kill: %v, want exactly [cloud, dc1]", story)
	}
	if !ds[0].Since.Equal(over.Since) || !ds[1].Since.Equal(back.Since) {
		t.Errorf("decision events %v disagree with the decisions read from the API (%s, %s)", story, over.Since, back.Since)
	}
	var healthStory []string
	var healthEvents []api.Event
	for _, e := range evs {
		if e.Type == api.EventHealth && e.Object == "health-checks/dc1-web" {
			healthStory = append(healthStory, e.Message)
			healthEvents = append(healthEvents, e)
		}
	}
	if len(healthStory) != 2 || !strings.Contains(healthStory[0], "unhealthy") || !strings.Contains(healthStory[1], "is healthy") {
		t.Fatalf("dc1-web health events: %q, want one unhealthy then one healthy", healthStory)
	}
	if o := healthEvents[0].ObservedAt; o == nil || !o.Equal(over.ObservedAt) {
		t.Errorf("dc1-web unhealthy event observed_at %v, want the failover's observed_at %s", o, over.ObservedAt)
	}
	if o := healthEvents[1].ObservedAt; o == nil || !o.Equal(healthyAt) {
		t.Errorf("dc1-web healthy event observed_at %v, want the status since %s", o, healthyAt)
	}
}

// TestRestartNeverFailsOver: a restart — crash or graceful — resumes the
// last decision (same generation) and never moves traffic by itself
// (DESIGN §4.3 "a restart never triggers a failover by itself").
func TestRestartNeverFailsOver(t *testing.T) {
	needBins(t)
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	f := startFailoverd(t, dataDir)
	a := newRawAPI(f)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("dc1-web", "dc1", dc1.Addr), nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("cloud-web", "cloud", cloud.Addr), nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies",
		// A short failback delay: were the primary's restored "down" state
		// lost, the policy would fail back within the window watched below.
		twoSitePolicy("web", 1, []string{"dc1-web"}, []string{"cloud-web"}), nil)

	// durable waits until the event log (read from the store) holds the
	// health events of both checks reaching want, so the runtime state a
	// crash must not lose is on disk (it is written before its event).
	durable := func(a *rawAPI, want map[string]string) {
		t.Helper()
		eventually(t, 10*time.Second, "health states durable", func() (bool, string) {
			last := map[string]string{}
			for _, e := range a.events(t, 0) {
				if e.Type == api.EventHealth {
					var d struct{ To string }
					_ = json.Unmarshal(e.Data, &d)
					last[strings.TrimPrefix(e.Object, "health-checks/")] = d.To
				}
			}
			for c, s := range want {
				if last[c] != s {
					return false, fmt.Sprintf("durable health states %v, want %v", last, want)
				}
			}
			return true, ""
		})
	}

	// restart kills (or stops) failoverd, starts it again on the same data
	// dir, and checks that the decision is the one before, then that three
	// probe intervals later nothing moved. It returns the old process.
	restart := func(name string, graceful bool, want string) (old *launch.Failoverd, stopTook time.Duration) {
		t.Helper()
		before := a.decision(t, "web")
		if servingTarget(before) != want {
			t.Fatalf("%s: before the restart web serves %s, want %s", name, servingTarget(before), want)
		}
		// Everything after this is the restart's doing: the state before it
		// is quiescent (durable, nothing changing).
		seq := a.lastSeq(t)
		old = f
		stopping := time.Now()
		if graceful {
			if err := f.Stop(); err != nil {
				t.Fatalf("%s: graceful stop: %v\n%s", name, err, f.Logs())
			}
		} else {
			f.Kill()
		}
		stopTook = time.Since(stopping)
		restartedAt := time.Now()
		f = startFailoverd(t, dataDir)
		a = newRawAPI(f)
		after := a.decision(t, "web")
		if servingTarget(after) != want || after.Generation != before.Generation || !after.Since.Equal(before.Since) {
			t.Fatalf("%s: after the restart web serves %s gen %d since %s, want %s gen %d since %s (%s)", name,
				servingTarget(after), after.Generation, after.Since, want, before.Generation, before.Since, after.Reason)
		}
		// Three probes of each check after the restart, then the log must
		// hold no decision (and no health change) since before the stop.
		for _, c := range []string{"dc1-web", "cloud-web"} {
			eventually(t, 10*time.Second, name+": three probes of "+c+" after the restart", func() (bool, string) {
				o := a.healthStatus(t, c).Sites["local"]
				return o.LastChecked.After(restartedAt.Add(3 * time.Second)), fmt.Sprintf("last checked %s", o.LastChecked)
			})
		}
		for _, e := range a.events(t, seq) {
			if e.Type == api.EventDecision || e.Type == api.EventHealth {
				t.Errorf("%s: %s event after the restart: %s", name, e.Type, e.Message)
			}
		}
		if d := a.decision(t, "web"); d.Generation != before.Generation || servingTarget(d) != want {
			t.Errorf("%s: web serves %s gen %d three probes after the restart, want %s gen %d", name, servingTarget(d), d.Generation, want, before.Generation)
		}
		return old, stopTook
	}

	// (a) All healthy, serving the primary.
	waitHealthy(t, a, 15*time.Second, "dc1-web", "cloud-web")
	durable(a, map[string]string{"dc1-web": api.StateHealthy, "cloud-web": api.StateHealthy})
	restart("all healthy, crash", false, "dc1")

	// (b) Primary down, failed over; a crash with the primary still down
	// keeps serving the secondary with the same generation.
	dc1.Stop()
	waitServing(t, a, 15*time.Second, "web", "cloud")
	durable(a, map[string]string{"dc1-web": api.StateUnhealthy, "cloud-web": api.StateHealthy})
	eventually(t, 5*time.Second, "failover decision durable", func() (bool, string) {
		ds := decisionEvents(a.events(t, 0), "web")
		return len(ds) > 0 && servingTarget(ds[len(ds)-1]) == "cloud", fmt.Sprintf("%d decision events", len(ds))
	})
	restart("primary down, crash", false, "cloud")

	// (c) Graceful SIGTERM with an event follower connected: failoverd ends
	// the stream, exits 0 promptly (well inside its 15 s shutdown budget),
	// says so, and resumes like after a crash.
	fl := followEvents(t, a)
	old, took := restart("primary down, SIGTERM", true, "cloud")
	t.Logf("graceful stop took %s", took)
	logs := old.Logs()
	if !strings.Contains(logs, `"msg":"failoverd stopped cleanly"`) {
		t.Errorf("graceful stop: no \"failoverd stopped cleanly\" in the logs:\n%s", logs)
	}
	if strings.Contains(logs, "http shutdown incomplete") || took > 10*time.Second {
		t.Errorf("graceful stop took %s (shutdown incomplete: %t): an open event stream held it up", took, strings.Contains(logs, "http shutdown incomplete"))
	}
	if err := fl.ended(5 * time.Second); err != nil {
		t.Errorf("event follower: %v", err)
	}
}

// follower is an open GET /v1/events?follow=1 stream.
type follower struct {
	done chan struct{}
}

// followEvents opens an event stream and reads it until failoverd ends it.
func followEvents(t *testing.T, a *rawAPI) *follower {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.base+"/v1/events?follow=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("follow events: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("follow events: status %d", resp.StatusCode)
	}
	fl := &follower{done: make(chan struct{})}
	go func() {
		defer close(fl.done)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return fl
}

func (fl *follower) ended(within time.Duration) error {
	select {
	case <-fl.done:
		return nil
	case <-time.After(within):
		return fmt.Errorf("stream still open %s after failoverd exited", within)
	}
}
