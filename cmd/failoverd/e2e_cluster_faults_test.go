package main

// Faults of the control plane itself: a leader killed in the middle of a
// failover, a leader killed under a stream of writes, a node stopped (its
// failoverd and its etcd member) while the others go on, a node cut off
// from the etcd majority.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
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

// TestClusterLeaderKilledUnderWrites: six clients spread over the three
// nodes make 300 acknowledged creates, each with an Idempotency-Key, and
// move on to the next node when theirs fails; the leader's failoverd is
// SIGKILLed after the first 100. Afterwards every acknowledged object is on
// every surviving node and on the restarted one, each was applied exactly
// once (one audit record of its create; no retry found it already there),
// and the same request sent again to another node replays the first
// outcome.
func TestClusterLeaderKilledUnderWrites(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	lead := c.waitOneLeader(10 * time.Second)
	const writes, clients, killAfter = 300, 6, 100
	type ack struct {
		node    int
		etag    string
		retried bool // acknowledged on a later attempt
	}
	var (
		mu      sync.Mutex
		acks    = map[string]ack{}
		replays int
		failed  []string
		killed  = make(chan time.Time, 1)
	)
	toggle := func(n int) (string, api.BurstToggle) {
		name := fmt.Sprintf("crash-%03d", n)
		return name, api.BurstToggle{Name: name, Site: "dc1"}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(node int) {
			defer wg.Done()
			for n := range work {
				name, body := toggle(n)
				hdr := map[string]string{"Idempotency-Key": "key-" + name}
				deadline := time.Now().Add(30 * time.Second)
				for attempt := 0; ; attempt++ {
					resp, b, err := c.apis[node].do(http.MethodPost, "/v1/burst-toggles", body, hdr)
					if err == nil && resp.StatusCode == http.StatusCreated {
						mu.Lock()
						acks[name] = ack{node: node, etag: resp.Header.Get("ETag"), retried: attempt > 0}
						if resp.Header.Get("Idempotent-Replayed") == "true" {
							replays++
						}
						if len(acks) == killAfter {
							go func() { c.nodes[lead].Kill(); killed <- time.Now() }()
						}
						mu.Unlock()
						break
					}
					if err == nil && resp.StatusCode < 500 {
						// 409: the object exists but the key's outcome was not
						// found — the request was applied twice.
						mu.Lock()
						failed = append(failed, fmt.Sprintf("%s on %s: %d %s", name, clusterSites[node], resp.StatusCode, b))
						mu.Unlock()
						break
					}
					if time.Now().After(deadline) {
						mu.Lock()
						failed = append(failed, fmt.Sprintf("%s: no node acknowledged it within 30s (last: %v %s)", name, err, b))
						mu.Unlock()
						break
					}
					node = (node + 1) % len(clusterSites) // unreachable or 503: the next node
					time.Sleep(50 * time.Millisecond)
				}
			}
		}(w % len(clusterSites))
	}
	start := time.Now()
	for n := 0; n < writes; n++ {
		work <- n
	}
	close(work)
	wg.Wait()
	for _, f := range failed {
		t.Error(f)
	}
	var killedAt time.Time
	select {
	case killedAt = <-killed:
	case <-time.After(5 * time.Second):
		t.Fatal("the leader was not killed")
	}
	retried := 0
	for _, a := range acks {
		if a.retried {
			retried++
		}
	}
	t.Logf("%d creates acknowledged in %s; leader %s killed after %d (%s in); %d acknowledged on a retry, %d of them replayed",
		len(acks), time.Since(start).Round(time.Millisecond), clusterSites[lead], killAfter, killedAt.Sub(start).Round(time.Millisecond), retried, replays)
	if len(acks) != writes {
		t.Fatalf("%d of %d creates acknowledged", len(acks), writes)
	}

	rest := others(lead)
	c.waitOneLeader(clusterLeaseTTL+10*time.Second, rest...)
	c.start(lead)
	for i := range clusterSites {
		eventually(t, 10*time.Second, clusterSites[i]+" holds every acknowledged object", func() (bool, string) {
			var list api.List[api.BurstToggle]
			c.apis[i].must(t, http.StatusOK, http.MethodGet, "/v1/burst-toggles", nil, &list)
			have := map[string]bool{}
			for _, bt := range list.Items {
				have[bt.Name] = true
			}
			var missing []string
			for name := range acks {
				if !have[name] {
					missing = append(missing, name)
				}
			}
			return len(missing) == 0, fmt.Sprintf("%d of %d missing, e.g. %v", len(missing), writes, missing[:min(len(missing), 5)])
		})
	}
	// Applied once each: one audit record of a create (a replay is
	// audited as replayed, not as a create).
	creates := map[string]int{}
	for _, e := range c.auditEvents(rest[0]) {
		if e.Action == "create" && e.Outcome == "201 Created" {
			creates[strings.TrimPrefix(e.Object, "burst-toggles/")]++
		}
	}
	for name := range acks {
		if creates[name] != 1 {
			t.Errorf("%s: %d audit records of its create, want 1", name, creates[name])
		}
	}
	// The same request on another node, later: the first outcome replays.
	names := api.SortedKeys(acks)
	for k := 0; k < len(names); k += 30 {
		name := names[k]
		a := acks[name]
		other := (a.node + 1) % len(clusterSites)
		_, body := toggle(0)
		body.Name = name
		resp, b, err := c.apis[other].do(http.MethodPost, "/v1/burst-toggles", body, map[string]string{"Idempotency-Key": "key-" + name})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Idempotent-Replayed") != "true" || resp.Header.Get("ETag") != a.etag {
			t.Errorf("%s sent again to %s: %d, replayed %q, ETag %q (first: %q): %s", name, clusterSites[other],
				resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), resp.Header.Get("ETag"), a.etag, b)
		}
	}
}

// auditEvents is node i's whole audit log.
func (c *testCluster) auditEvents(i int) []api.Event {
	c.t.Helper()
	var all []api.Event
	for after := uint64(0); ; {
		var page api.List[api.Event]
		c.apis[i].must(c.t, http.StatusOK, http.MethodGet, "/v1/events?type=audit&limit=1000&since="+strconv.FormatUint(after, 10), nil, &page)
		if len(page.Items) == 0 {
			return all
		}
		all = append(all, page.Items...)
		after = page.Items[len(page.Items)-1].Seq
	}
}

// decisionWrite is one write of a policy's decision record as etcd saw it.
type decisionWrite struct {
	rev        int64
	generation uint64
	since      time.Time
	serving    string
}

// watchDecisions records every write of policy's decision record in etcd,
// through the member at endpoint (one that stays up), from now until the
// test ends; the returned func reads what was recorded so far.
func watchDecisions(t *testing.T, endpoint, policy string) func() []decisionWrite {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	key := "/failover/" + store.BucketState + "/policy/" + policy
	gctx, gcancel := context.WithTimeout(ctx, 5*time.Second)
	resp, err := cli.Get(gctx, key)
	gcancel()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var writes []decisionWrite
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range cli.Watch(ctx, key, clientv3.WithRev(resp.Header.Revision+1)) {
			for _, ev := range r.Events {
				var rec struct {
					Decision api.Decision `json:"decision"`
				}
				if ev.Type != clientv3.EventTypePut || json.Unmarshal(ev.Kv.Value, &rec) != nil {
					continue
				}
				mu.Lock()
				writes = append(writes, decisionWrite{ev.Kv.ModRevision, rec.Decision.Generation, rec.Decision.Since, servingTarget(rec.Decision)})
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cli.Close() })
	return func() []decisionWrite {
		mu.Lock()
		defer mu.Unlock()
		return append([]decisionWrite(nil), writes...)
	}
}

// watchLeaders asks every node for its role every 50 ms until the test
// ends (a stopped node does not answer, and does not count); the returned
// func lists the rounds in which more than one node said it leads.
func (c *testCluster) watchLeaders() func() []string {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var twice []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var wg sync.WaitGroup
			roles := make([]string, len(clusterSites))
			for i := range clusterSites {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a := c.quick(i)
					resp, b, err := a.do(http.MethodGet, "/v1/cluster", nil, nil)
					var cs api.ClusterStatus
					if err == nil && resp.StatusCode == http.StatusOK && json.Unmarshal(b, &cs) == nil {
						roles[i] = cs.Role
					}
				}()
			}
			wg.Wait()
			var leaders []string
			for i, r := range roles {
				if r == api.RoleLeader {
					leaders = append(leaders, clusterSites[i])
				}
			}
			if len(leaders) > 1 {
				mu.Lock()
				twice = append(twice, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), leaders))
				mu.Unlock()
			}
			sleep(ctx, 50*time.Millisecond)
		}
	}()
	c.t.Cleanup(func() { cancel(); <-done })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), twice...)
	}
}

// compact compacts etcd's history up to its current revision, through the
// member at endpoint.
func compact(t *testing.T, endpoint string) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "compact")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// TestClusterNodeStoppedCatchesUp: dc1's backend goes down; once the
// leader has seen the check fail, while the policy's failover delay runs,
// the leader's site stops (SIGSTOP of its failoverd and its etcd member, a
// hung host). The other two elect a leader, take a write and complete the
// failover. Then the stopped site resumes — its failover timer is long due,
// and it still believes it leads: its own decision must not land (the
// fence), it catches up with the write and the new leader's decision, and
// at no time do two nodes say they lead.
func TestClusterNodeStoppedCatchesUp(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("dc1-web", "dc1", dc1.Addr), nil)
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("cloud-web", "cloud", cloud.Addr), nil)
	p := twoSitePolicy("web", 600, []string{"dc1-web"}, []string{"cloud-web"})
	p.FailoverDelaySeconds = 4
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", p, nil)
	lead := c.waitOneLeader(10 * time.Second)
	rest := others(lead)
	for i := range clusterSites {
		waitServing(t, c.apis[i], 15*time.Second, "web", "dc1")
	}
	decisionWrites := watchDecisions(t, c.etcd.Members[rest[0]].ClientURL, "web")
	twoLeaders := c.watchLeaders()

	dc1.Stop()
	eventually(t, 10*time.Second, "a follower holds the leader's unhealthy dc1-web", func() (bool, string) {
		hs := c.apis[rest[0]].healthStatus(t, "dc1-web")
		return hs.State == api.StateUnhealthy, hs.State
	})
	if d := c.apis[lead].decision(t, "web"); servingTarget(d) != "dc1" {
		t.Fatalf("the failover delay is over already: serving %s (%s)", servingTarget(d), d.Reason)
	}
	if err := c.nodes[lead].Pause(); err != nil {
		t.Fatal(err)
	}
	if err := c.etcd.Members[lead].Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()

	newLead := c.waitOneLeader(clusterLeaseTTL+10*time.Second, rest...)
	t.Logf("site %s stopped; %s leads %s later", clusterSites[lead], clusterSites[newLead], time.Since(paused).Round(time.Millisecond))
	c.apis[rest[1]].must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "while-stopped", Site: "cloud"}, nil)
	var moved api.Decision
	for _, i := range rest {
		moved = waitServing(t, c.apis[i], 15*time.Second, "web", "cloud")
	}
	t.Logf("the new leader failed over %s after the stop (generation %d)", moved.Since.Sub(paused).Round(time.Millisecond), moved.Generation)

	if err := c.etcd.Members[lead].Resume(); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[lead].Resume(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	eventually(t, 15*time.Second, "the resumed node holds the write made while it was stopped", func() (bool, string) {
		resp, _, err := c.apis[lead].do(http.MethodGet, "/v1/burst-toggles/while-stopped", nil, nil)
		if err != nil {
			return false, err.Error()
		}
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	eventually(t, 15*time.Second, "the resumed node holds the new leader's decision", func() (bool, string) {
		d, err := c.apis[lead].tryDecision("web")
		if err != nil {
			return false, err.Error()
		}
		return d.Generation == moved.Generation && d.Since.Equal(moved.Since) && servingTarget(d) == "cloud",
			fmt.Sprintf("generation %d since %s serving %s, want generation %d since %s", d.Generation, d.Since, servingTarget(d), moved.Generation, moved.Since)
	})
	waitDNSA(t, c.nodes[lead].DNSAddr, "web.failover.internal.", "198.51.100.20", 5*time.Second)
	t.Logf("the resumed node caught up %s after it resumed", time.Since(resumed).Round(time.Millisecond))
	eventually(t, 15*time.Second, "the resumed node follows, in contact, under another node", func() (bool, string) {
		cs, err := c.cluster(lead)
		if err != nil {
			return false, err.Error()
		}
		// On a busy machine leadership may have moved on between the two
		// that went on; it must not have come back by itself.
		return cs.Role == api.RoleFollower && cs.Store.InContact && cs.Leader != nil && cs.Leader.Site != clusterSites[lead], fmt.Sprintf("%+v leader %+v", cs, cs.Leader)
	})
	time.Sleep(2 * time.Second) // what a stale leader would do, it has done by now

	if tw := twoLeaders(); len(tw) > 0 {
		t.Errorf("two nodes said they lead at once: %v", tw)
	}
	// Every decision write that reached etcd continues the one before: a
	// higher generation, or the same decision (generation, since, target)
	// with a new reason. The stopped leader's own failover, due when it
	// resumed, never landed: it would repeat generation 2 with its own since.
	writes := decisionWrites()
	for k := 1; k < len(writes); k++ {
		w, prev := writes[k], writes[k-1]
		if w.generation < prev.generation || w.generation == prev.generation && (!w.since.Equal(prev.since) || w.serving != prev.serving) {
			t.Errorf("decision write at revision %d (generation %d since %s serving %s) after generation %d since %s serving %s: a deposed leader wrote",
				w.rev, w.generation, w.since, w.serving, prev.generation, prev.since, prev.serving)
		}
	}
	if len(writes) == 0 || writes[len(writes)-1].serving != "cloud" {
		t.Errorf("decision writes %+v, want the failover to cloud last", writes)
	}
	if logs := c.nodes[lead].Logs(); strings.Contains(logs, "the store refused a fenced write") {
		t.Logf("the resumed node wrote as leader, and the fence refused it")
	} else if strings.Contains(logs, `"to":"cloud"`) {
		t.Errorf("the resumed node decided the failover itself (its write did not land)")
	}
	for i := range clusterSites {
		targets, _ := c.servedSequence(i, "web")
		neverBack(t, targets, "dc1")
	}
}

// TestClusterNodeCutOffFailsStatic: the leader's etcd member stops, which
// cuts its failoverd off from the majority. That node turns /readyz 503
// with the reason, refuses API writes with a 503 that sends the client to
// another node, decides nothing, and keeps answering DNS and /burst with
// the last decisions it knew — also while the other two elect a leader, take a write
// and fail over, and etcd compacts its history. When the member is back,
// the node loads everything again (its feed cannot resume from a compacted
// revision), is ready, serves the new leader's decision and takes writes.
// (A member that hangs instead, SIGSTOP, is TestClusterNodeStoppedCatchesUp.)
func TestClusterNodeCutOffFailsStatic(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("dc1-web", "dc1", dc1.Addr), nil)
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("cloud-web", "cloud", cloud.Addr), nil)
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 600, []string{"dc1-web"}, []string{"cloud-web"}), nil)
	engaged := true
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "prod-plus", Site: "cloud", Engaged: &engaged}, nil)
	cut := c.waitOneLeader(10 * time.Second)
	rest := others(cut)
	var before api.Decision
	for i := range clusterSites {
		before = waitServing(t, c.apis[i], 15*time.Second, "web", "dc1")
	}
	burst := func() int {
		resp, _, err := c.apis[cut].do(http.MethodGet, "/burst/prod-plus", nil, nil)
		if err != nil {
			t.Fatalf("/burst on %s: %v", clusterSites[cut], err)
		}
		return resp.StatusCode
	}
	eventually(t, 5*time.Second, "the toggle engaged on "+clusterSites[cut], func() (bool, string) { return burst() == http.StatusOK, "" })
	twoLeaders := c.watchLeaders()

	paused := time.Now()
	if err := c.etcd.Members[cut].Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the cut-off node's /readyz says why it is not ready", func() (bool, string) {
		resp, b, err := c.apis[cut].do(http.MethodGet, "/readyz", nil, nil)
		if err != nil {
			return false, err.Error()
		}
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(b), "lost contact with the etcd majority"),
			fmt.Sprintf("%d %s", resp.StatusCode, b)
	})
	t.Logf("%s cut off: /readyz 503 %s after its member was told to stop", clusterSites[cut], time.Since(paused).Round(time.Millisecond))
	resp, b, err := c.apis[cut].do(http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "cut-off", Site: "dc1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "retry on another node") {
		t.Errorf("a write to the cut-off node: %d %s, want 503 sending the client to another node", resp.StatusCode, b)
	}
	if cs, err := c.cluster(cut); err != nil || cs.Role != api.RoleFollower || cs.Store.InContact {
		t.Errorf("the cut-off node's cluster status: %+v, %v", cs, err)
	}

	// The others go on: a leader, a failover. The cut-off node answers the
	// last decision it knew all along.
	newLead := c.waitOneLeader(clusterLeaseTTL+10*time.Second, rest...)
	dc1.Stop()
	var moved api.Decision
	for _, i := range rest {
		moved = waitServing(t, c.apis[i], 15*time.Second, "web", "cloud")
	}
	t.Logf("%s leads and failed over %s after the cut", clusterSites[newLead], moved.Since.Sub(paused).Round(time.Millisecond))
	c.apis[newLead].must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "while-cut", Site: "cloud"}, nil)
	// And etcd compacts its history: the cut-off node cannot resume its
	// feed where it stopped, it must load everything again.
	compact(t, c.etcd.Members[newLead].ClientURL)
	for until := time.Now().Add(2 * time.Second); time.Now().Before(until); time.Sleep(200 * time.Millisecond) {
		if got, _ := dnsA(t, c.nodes[cut].DNSAddr, "web.failover.internal."); got != "192.0.2.10" {
			t.Fatalf("the cut-off node's DNS answers %q, want the last decision it knew (dc1's 192.0.2.10)", got)
		}
		if d := c.apis[cut].decision(t, "web"); d.Generation != before.Generation {
			t.Fatalf("the cut-off node decided: generation %d (was %d): %s", d.Generation, before.Generation, d.Reason)
		}
		if st := burst(); st != http.StatusOK {
			t.Fatalf("the cut-off node's /burst/prod-plus answers %d, want the engaged toggle's 200", st)
		}
	}

	if err := c.etcd.Members[cut].Restart(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	eventually(t, 15*time.Second, "the node is ready again", func() (bool, string) {
		resp, b, err := c.apis[cut].do(http.MethodGet, "/readyz", nil, nil)
		if err != nil {
			return false, err.Error()
		}
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("%d %s", resp.StatusCode, b)
	})
	eventually(t, 10*time.Second, "the node serves the new leader's decision", func() (bool, string) {
		d := c.apis[cut].decision(t, "web")
		return d.Generation == moved.Generation && d.Since.Equal(moved.Since), fmt.Sprintf("generation %d serving %s", d.Generation, servingTarget(d))
	})
	waitDNSA(t, c.nodes[cut].DNSAddr, "web.failover.internal.", "198.51.100.20", 5*time.Second)
	eventually(t, 10*time.Second, "the node holds the write made while it was cut off", func() (bool, string) {
		resp, _, err := c.apis[cut].do(http.MethodGet, "/v1/burst-toggles/while-cut", nil, nil)
		if err != nil {
			return false, err.Error()
		}
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	t.Logf("reconnected: ready and caught up %s after the member was restarted", time.Since(resumed).Round(time.Millisecond))
	if !strings.Contains(c.nodes[cut].Logs(), "store feed compacted: reloading") {
		t.Errorf("the node caught up without reloading after the compaction")
	}
	c.apis[cut].must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "back", Site: "dc1"}, nil)
	if tw := twoLeaders(); len(tw) > 0 {
		t.Errorf("two nodes said they lead at once: %v", tw)
	}
}

// TestClusterHandoverKeepsFailbackClock: dc1 failed over to cloud and has
// recovered; its failback delay is running when the leader is SIGKILLed.
// The new leader carries the clock on from the stored check state — the
// check's since is the same on it as before the kill — so the failback
// comes once the delay has passed since the recovery, never earlier, and
// the decision never flips otherwise.
func TestClusterHandoverKeepsFailbackClock(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	c.apis[2].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("dc1-web", "dc1", dc1.Addr), nil)
	c.apis[2].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("cloud-web", "cloud", cloud.Addr), nil)
	const failback = 8 * time.Second
	c.apis[2].must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", int(failback/time.Second), []string{"dc1-web"}, []string{"cloud-web"}), nil)
	lead := c.waitOneLeader(10 * time.Second)
	rest := others(lead)
	for i := range clusterSites {
		waitServing(t, c.apis[i], 15*time.Second, "web", "dc1")
	}
	dc1.Stop()
	for i := range clusterSites {
		waitServing(t, c.apis[i], 15*time.Second, "web", "cloud")
	}
	if err := dc1.Restart(); err != nil {
		t.Fatal(err)
	}
	var recovered api.HealthStatus
	eventually(t, 10*time.Second, "a follower holds dc1-web healthy again", func() (bool, string) {
		recovered = c.apis[rest[0]].healthStatus(t, "dc1-web")
		return recovered.State == api.StateHealthy, recovered.State
	})
	if d := c.apis[lead].decision(t, "web"); servingTarget(d) != "cloud" {
		t.Fatalf("failed back before the delay: serving %s (%s)", servingTarget(d), d.Reason)
	}
	c.nodes[lead].Kill()
	killed := time.Now()
	newLead := c.waitOneLeader(clusterLeaseTTL+10*time.Second, rest...)
	elected := time.Since(killed)
	if hs := c.apis[newLead].healthStatus(t, "dc1-web"); hs.State != api.StateHealthy || !hs.Since.Equal(recovered.Since) {
		t.Errorf("the new leader holds dc1-web %s since %s; before the kill: healthy since %s", hs.State, hs.Since, recovered.Since)
	}
	back := waitServing(t, c.apis[newLead], failback+15*time.Second, "web", "dc1")
	t.Logf("recovered at %s, leader killed %s later, %s led %s after the kill, failed back %s after the recovery (failback delay %s)",
		recovered.Since.Format("15:04:05.000"), killed.Sub(recovered.Since).Round(time.Millisecond), clusterSites[newLead],
		elected.Round(time.Millisecond), back.Since.Sub(recovered.Since).Round(time.Millisecond), failback)
	if back.Since.Sub(recovered.Since) < failback {
		t.Errorf("failed back %s after the recovery, before the failback delay of %s", back.Since.Sub(recovered.Since), failback)
	}
	for _, i := range rest {
		waitDNSA(t, c.nodes[i].DNSAddr, "web.failover.internal.", "192.0.2.10", 5*time.Second)
		// The new leader answers from memory at once; its event reaches
		// the store's log a moment later.
		eventually(t, 5*time.Second, clusterSites[i]+"'s decision events serve dc1, cloud, dc1", func() (bool, string) {
			targets, _ := c.servedSequence(i, "web")
			return fmt.Sprint(targets) == "[dc1 cloud dc1]", fmt.Sprint(targets)
		})
	}
}

// TestClusterLeaderBackAfterBriefCutStoresItsDecision: the leader decides a
// failover while its etcd member is down, so the decision's write cannot
// land; the leader steps down (cut off), and when the member is back
// within the lease it leads again. The decision it holds must reach the
// store then: the followers serve it too, instead of the old one forever.
//
// The order is fixed, not raced. The member is killed first and only then
// is the backend stopped, so the leader's two failing probes (fall 2, 1 s
// apart) — and its decision — come after the cut, about 1–2 s into it;
// --contact-timeout 8s keeps it deciding that long, with 6 s to spare on a
// loaded machine. The member is killed, not paused: a paused member would
// still execute, on resume, the write already in its socket. It stays down
// until every attempt of the old term has failed (each waits for a
// connection at most the store's request timeout; none is made once the
// term ended), so only the new term can store the decision. --lease-ttl
// 60s keeps the leader's lease through the cut, so the same node leads
// again.
func TestClusterLeaderBackAfterBriefCutStoresItsDecision(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "--lease-ttl", "60s", "--contact-timeout", "8s")
	lead := c.waitOneLeader(10 * time.Second)
	rest := others(lead)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	// Probed from the leader's site alone: its vote decides, cut off or not.
	check := sitesCheck("dc1-web", "dc1", dc1.Addr)
	check.ProbeSites = []string{clusterSites[lead]}
	c.apis[lead].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", check, nil)
	c.apis[lead].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("cloud-web", "cloud", cloud.Addr), nil)
	c.apis[lead].must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 600, []string{"dc1-web"}, []string{"cloud-web"}), nil)
	for i := range clusterSites {
		waitServing(t, c.apis[i], 15*time.Second, "web", "dc1")
	}
	member := c.etcd.Members[lead]
	member.Kill()
	cut := time.Now()
	dc1.Stop()
	eventually(t, 20*time.Second, "the leader decided the failover, and is cut off", func() (bool, string) {
		d := c.apis[lead].decision(t, "web")
		cs, err := c.cluster(lead)
		if err != nil {
			return false, err.Error()
		}
		return servingTarget(d) == "cloud" && !cs.Store.InContact, fmt.Sprintf("serving %s, in contact %v", servingTarget(d), cs.Store.InContact)
	})
	moved := c.apis[lead].decision(t, "web")
	if !moved.Since.After(cut) {
		t.Fatalf("the decision (since %s) was made before the cut (%s)", moved.Since, cut)
	}
	// Its write did not land: the others still serve the old decision.
	for _, i := range rest {
		if d := c.apis[i].decision(t, "web"); servingTarget(d) != "dc1" {
			t.Fatalf("%s serves %s while the leader that decided it is cut off", clusterSites[i], servingTarget(d))
		}
	}
	time.Sleep(store.DefaultEtcdRequestTimeout + 3*time.Second)
	if err := member.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the same node leads again", func() (bool, string) {
		l, desc := c.leader()
		return l == lead, desc
	})
	for _, i := range rest {
		d := waitServing(t, c.apis[i], 10*time.Second, "web", "cloud")
		if d.Generation != moved.Generation || !d.Since.Equal(moved.Since) {
			t.Errorf("%s serves generation %d since %s; the leader decided generation %d since %s", clusterSites[i], d.Generation, d.Since, moved.Generation, moved.Since)
		}
	}
	// The event log tells of the failover too, stored by the new term.
	eventually(t, 5*time.Second, "the failover's decision event", func() (bool, string) {
		targets, gens := c.servedSequence(rest[0], "web")
		return fmt.Sprint(targets) == "[dc1 cloud]" && gens[len(gens)-1] == moved.Generation, fmt.Sprintf("%v %v", targets, gens)
	})
}

// TestClusterOverrideOutlivesLeader: an override pinned through a follower
// moves the decision on every node; the leader is SIGKILLed while it is
// pinned; the new leader keeps the pin (no flip during the handover) and
// releases it when it expires, not before.
func TestClusterOverrideOutlivesLeader(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("dc1-web", "dc1", dc1.Addr), nil)
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("cloud-web", "cloud", cloud.Addr), nil)
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 1, []string{"dc1-web"}, []string{"cloud-web"}), nil)
	lead := c.waitOneLeader(10 * time.Second)
	rest := others(lead)
	for i := range clusterSites {
		waitServing(t, c.apis[i], 15*time.Second, "web", "dc1")
	}
	expires := time.Now().Add(clusterLeaseTTL + 7*time.Second).Truncate(time.Second)
	c.apis[rest[0]].must(t, http.StatusOK, http.MethodPut, "/v1/traffic-policies/web/override",
		api.Override{Target: "cloud", ExpiresAt: expires, Reason: "drill"}, nil)
	var pinned api.Decision
	for i := range clusterSites {
		pinned = waitServing(t, c.apis[i], 5*time.Second, "web", "cloud")
	}
	c.nodes[lead].Kill()
	killed := time.Now()
	newLead := c.waitOneLeader(clusterLeaseTTL+10*time.Second, rest...)
	elected := time.Since(killed)
	if time.Now().After(expires.Add(-time.Second)) {
		t.Fatalf("the new leader came %s after the kill, too late to see it keep the pin", elected)
	}
	for time.Now().Before(expires.Add(-500 * time.Millisecond)) {
		for _, i := range rest {
			if d := c.apis[i].decision(t, "web"); servingTarget(d) != "cloud" || d.Generation != pinned.Generation {
				t.Fatalf("%s: serving %s (generation %d, pinned %d) before the override expired: %s", clusterSites[i], servingTarget(d), d.Generation, pinned.Generation, d.Reason)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	back := waitServing(t, c.apis[newLead], 10*time.Second, "web", "dc1")
	t.Logf("%s led %s after the kill; the pin was released %s after its expiry", clusterSites[newLead], elected.Round(time.Millisecond), back.Since.Sub(expires).Round(time.Millisecond))
	if back.Since.Before(expires) {
		t.Errorf("released at %s, before the override expired at %s", back.Since, expires)
	}
	for _, i := range rest {
		waitServing(t, c.apis[i], 5*time.Second, "web", "dc1")
	}
}

// TestClusterFollowerFrozenComesBack: a follower's failoverd hangs
// (SIGSTOP) for longer than its lease while its etcd member stays up: its
// site leaves the cluster and its votes stop counting, the others fail
// over without it. Resumed, it catches up with the decision, registers its
// site again on a new session and votes again — every node sees its
// observation — and it never claims to lead.
func TestClusterFollowerFrozenComesBack(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("dc1-web", "dc1", dc1.Addr), nil)
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", votesCheck("cloud-web", "cloud", cloud.Addr), nil)
	c.apis[0].must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 600, []string{"dc1-web"}, []string{"cloud-web"}), nil)
	lead := c.waitOneLeader(10 * time.Second)
	frozen := others(lead)[0]
	for i := range clusterSites {
		waitServing(t, c.apis[i], 15*time.Second, "web", "dc1")
	}
	twoLeaders := c.watchLeaders()
	if err := c.nodes[frozen].Pause(); err != nil {
		t.Fatal(err)
	}
	eventually(t, clusterLeaseTTL+5*time.Second, "the leader sees the frozen site leave", func() (bool, string) {
		cs, err := c.cluster(lead)
		if err != nil {
			return false, err.Error()
		}
		for _, m := range cs.Members {
			if m.Site == clusterSites[frozen] {
				return !m.Fresh, fmt.Sprintf("%+v", m)
			}
		}
		return true, ""
	})
	dc1.Stop()
	moved := waitServing(t, c.apis[lead], 15*time.Second, "web", "cloud")
	if err := c.nodes[frozen].Resume(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	eventually(t, 10*time.Second, "the resumed follower serves the new decision", func() (bool, string) {
		d, err := c.apis[frozen].tryDecision("web")
		if err != nil {
			return false, err.Error()
		}
		return d.Generation == moved.Generation && d.Since.Equal(moved.Since), fmt.Sprintf("generation %d serving %s", d.Generation, servingTarget(d))
	})
	waitDNSA(t, c.nodes[frozen].DNSAddr, "web.failover.internal.", "198.51.100.20", 5*time.Second)
	caught := time.Since(resumed)
	for i := range clusterSites {
		eventually(t, 10*time.Second, clusterSites[i]+" counts the resumed site's vote again", func() (bool, string) {
			cs, err := c.cluster(i)
			if err != nil {
				return false, err.Error()
			}
			fresh := 0
			for _, m := range cs.Members {
				if m.Fresh {
					fresh++
				}
			}
			v := votes(c.apis[i].healthStatus(t, "cloud-web"))
			return fresh == 3 && v[clusterSites[frozen]] == api.StateHealthy, fmt.Sprintf("%d fresh members, votes %v", fresh, v)
		})
	}
	t.Logf("the frozen follower caught up %s after it resumed, and votes again %s after", caught.Round(time.Millisecond), time.Since(resumed).Round(time.Millisecond))
	if tw := twoLeaders(); len(tw) > 0 {
		t.Errorf("two nodes said they lead at once: %v", tw)
	}
}
