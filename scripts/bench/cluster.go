package main

// The three-site control plane: P7 (the leader's whole site killed → the
// next decision, by the new leader), P1 with three probing sites and a
// majority quorum, and false failovers with one site's path cut. Every
// figure comes from launch.StartCluster: three etcd members and three
// failoverd nodes (dc1, cloud, arbiter), site i's member and probes on
// 127.0.0.(i+1).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// clusterBench is one cluster with a primary and a secondary backend, each
// with a check probed from every site (majority quorum), and the
// active-passive policy "p" over them (no failover or failback delay).
type clusterBench struct {
	cl                 *launch.Cluster
	primary, secondary *launch.Backend
	token              string
}

const (
	clusterInterval = 1.0
	clusterTimeout  = 0.5
	clusterPolicy   = "p"
	clusterName     = clusterPolicy + ".failover.internal."
	primaryAddr     = "192.0.2.1"
	secondaryAddr   = "192.0.2.2"
)

// startClusterBench returns nil and why when there is no etcd to run.
func startClusterBench(ctx context.Context, e env, name string, leaseTTL time.Duration, fall int) (*clusterBench, string) {
	etcdBin, err := launch.FindEtcd()
	if err != nil {
		return nil, "not run (no etcd: make tools)"
	}
	cl, err := launch.StartCluster(ctx, launch.ClusterOptions{Bin: filepath.Join(e.bin, "failoverd"), EtcdBin: etcdBin,
		Dir: filepath.Join(e.dir, name), Token: e.token, LeaseTTL: leaseTTL})
	if err != nil {
		fatal(err)
	}
	b := &clusterBench{cl: cl, token: e.token}
	standin := filepath.Join(e.bin, "standin")
	if b.primary, err = launch.StartBackend(standin, "primary", "127.0.0.1:0"); err != nil {
		b.close()
		fatal(err)
	}
	if b.secondary, err = launch.StartBackend(standin, "secondary", "127.0.0.1:0"); err != nil {
		b.close()
		fatal(err)
	}
	c := b.client()
	for _, be := range []*launch.Backend{b.primary, b.secondary} {
		if _, err := client.Create(ctx, c, api.KindHealthCheck, api.HealthCheck{Name: be.Site, Site: be.Site, Type: api.CheckHTTP,
			Address: be.Addr, IntervalSeconds: clusterInterval, TimeoutSeconds: clusterTimeout, Rise: 1, Fall: fall,
			ProbeSites: cl.Sites, Quorum: api.QuorumMajority}); err != nil {
			b.close()
			fatal(err)
		}
	}
	zero := 0
	if _, err := client.Create(ctx, c, api.KindTrafficPolicy, api.TrafficPolicy{Name: clusterPolicy, Mode: api.ModeActivePassive,
		FailbackDelaySeconds: &zero, WhenAllDown: api.AllDownFailOpen, Targets: map[string]api.PolicyTarget{
			"primary":   {Site: "primary", Addresses: []string{primaryAddr}, HealthChecks: []string{"primary"}, Priority: 1},
			"secondary": {Site: "secondary", Addresses: []string{secondaryAddr}, HealthChecks: []string{"secondary"}, Priority: 2},
		}}); err != nil {
		b.close()
		fatal(err)
	}
	// Every site votes before anything is measured.
	for _, site := range cl.Sites {
		if err := waitVote(ctx, c, "primary", site, api.StateHealthy, 30*time.Second); err != nil {
			b.close()
			fatal(err)
		}
	}
	return b, ""
}

// client reaches whichever of the running nodes answers.
func (b *clusterBench) client() *client.Client {
	c, err := client.New(client.Config{Endpoints: b.cl.URLs(), Token: b.token, Timeout: 2 * time.Second})
	if err != nil {
		fatal(err)
	}
	return c
}

// clientOf reaches the nodes of sites idx only.
func (b *clusterBench) clientOf(idx ...int) *client.Client {
	var urls []string
	for _, i := range idx {
		urls = append(urls, b.cl.Nodes[i].URL)
	}
	c, err := client.New(client.Config{Endpoints: urls, Token: b.token, Timeout: 2 * time.Second})
	if err != nil {
		fatal(err)
	}
	return c
}

func (b *clusterBench) close() {
	if b.primary != nil {
		b.primary.Stop()
	}
	if b.secondary != nil {
		b.secondary.Stop()
	}
	if err := b.cl.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: stopping the cluster:", err)
	}
}

// waitVote waits until site's observation of check is state.
func waitVote(ctx context.Context, c *client.Client, check, site, state string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		st, err := c.HealthStatus(ctx, check)
		if err == nil && st.Sites[site].State == state {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("site %s does not vote %s on %s after %s (%+v, %v)", site, state, check, within, st.Sites[site], err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func others(n, i int) []int {
	var out []int
	for j := 0; j < n; j++ {
		if j != i {
			out = append(out, j)
		}
	}
	return out
}

// summarize is "median, p99, worst" of took and whether p99 ≤ bound.
func summarize(took []time.Duration, bound time.Duration) (string, bool) {
	took = slices.Clone(took)
	slices.Sort(took)
	p99 := pct(took, 99)
	return fmt.Sprintf("median %.2fs, p99 %.2fs, worst %.2fs", pct(took, 50).Seconds(), p99.Seconds(), took[len(took)-1].Seconds()), p99 <= bound
}

// benchLeaderLoss is P7. Each run kills the leader's whole site (SIGKILL
// of its failoverd and of its etcd member) at a random phase of its lease
// keep-alives, and at once writes an override moving the policy to its
// secondary through a surviving node: the decision can only be written by
// the next leader, once the dead one's lease has expired and the election
// has moved. The figure is the kill → that decision's own timestamp (the
// same clock); the survivors' DNS answer is polled too. Then the site is
// restarted and the override cleared.
//
// The failoverd leader keeps etcd's raft leader off its own site's member
// (internal/cluster, apart.go), so that a site loss never takes both.
// Before each kill the bench waits until it has (a leader that never does
// is a defect: the bench stops); when the leader had to move it during
// that wait, the bench lets one TTL pass, as the new raft leader renews
// every lease on promotion and a real site loss seldom follows a move
// within seconds. The runs are also split by whether the raft leader died
// with the site, which should now never happen.
func benchLeaderLoss(ctx context.Context, e env, runs int, leaseTTL time.Duration) []row {
	goal := fmt.Sprintf("p99 ≤ lease TTL + 1s = %s", leaseTTL+time.Second)
	measure := fmt.Sprintf("leader's site killed (failoverd + etcd member, SIGKILL) → next decision by the new leader, --lease-ttl %s, %d runs", leaseTTL, runs)
	b, skip := startClusterBench(ctx, e, "p7", leaseTTL, 3)
	if b == nil {
		return []row{{id: "P7", measure: measure, result: skip, goal: goal, verdict: "skipped"}}
	}
	defer b.close()
	n := len(b.cl.Sites)
	var toDecision, toDNS, toLeader, withRaftLeader, withoutRaftLeader []time.Duration
	movedBefore := 0
	for run := 0; run < runs; run++ {
		lead, _, err := b.cl.WaitLeader(ctx, 30*time.Second)
		if err != nil {
			fatal(err)
		}
		if _, err := waitServing(ctx, b.client(), clusterPolicy, "primary", 30*time.Second); err != nil {
			fatal(err)
		}
		survivors := others(n, lead)
		sc := b.clientOf(survivors...)
		dnsAt := b.cl.Nodes[survivors[0]].DNSAddr
		if _, err := waitDNS(dnsAt, clusterName, primaryAddr, 10*time.Second); err != nil {
			fatal(err)
		}
		apart, err := waitRaftApart(ctx, b.cl, lead, 30*time.Second)
		if err != nil {
			fatal(err)
		}
		if apart > 0 {
			fmt.Printf("P7 run %2d: etcd's raft leader was on the leader's (%s) member; moved off within %.3fs\n", run+1, b.cl.Sites[lead], apart.Seconds())
			movedBefore++
			// A new raft leader renews every lease (for TTL + its election
			// timeout): let that pass, as it would have long before a real
			// site loss.
			time.Sleep(leaseTTL)
		}
		// A random phase against the lease's keep-alives (every TTL/3).
		time.Sleep(time.Duration(rand.Float64() * float64(leaseTTL) / 3))
		// Whether the etcd raft leader dies too: the new raft leader then
		// renews every lease for a full TTL (etcd's lessor Promote), so the
		// dead node's lease outlives it by the raft election as well.
		raftLeader, err := b.cl.Etcd.Leader(ctx)
		if err != nil {
			fatal(err)
		}
		withRaft := raftLeader == b.cl.Etcd.Members[lead]
		killed := time.Now()
		b.cl.KillSite(lead)
		if _, err := sc.SetOverride(ctx, clusterPolicy, api.Override{Target: "secondary", ExpiresAt: time.Now().Add(time.Hour),
			Reason: "P7 run"}); err != nil {
			fatal(fmt.Errorf("override through a survivor: %w", err))
		}
		moved, err := waitDNS(dnsAt, clusterName, secondaryAddr, leaseTTL+30*time.Second)
		if err != nil {
			fatal(err)
		}
		d, err := waitServing(ctx, sc, clusterPolicy, "secondary", 30*time.Second)
		if err != nil {
			fatal(err)
		}
		newLead, since, err := b.cl.WaitLeader(ctx, 10*time.Second)
		if err != nil {
			fatal(err)
		}
		if newLead == lead || d.Since.Before(killed) {
			fatal(fmt.Errorf("P7 run %d: decision at %s by %s, kill at %s: not the new leader's", run+1, d.Since, b.cl.Sites[newLead], killed))
		}
		toDecision = append(toDecision, d.Since.Sub(killed))
		toDNS = append(toDNS, moved.Sub(killed))
		toLeader = append(toLeader, since.Sub(killed))
		raftNote := "the etcd raft leader survived"
		if withRaft {
			raftNote = "the etcd raft leader died with it"
			withRaftLeader = append(withRaftLeader, d.Since.Sub(killed))
		} else {
			withoutRaftLeader = append(withoutRaftLeader, d.Since.Sub(killed))
		}
		fmt.Printf("P7 run %2d: killed site %s (%s); %s leads %.3fs after the kill; its decision %.3fs, DNS at %s moved %.3fs after the kill\n",
			run+1, b.cl.Sites[lead], raftNote, b.cl.Sites[newLead], since.Sub(killed).Seconds(), d.Since.Sub(killed).Seconds(),
			b.cl.Sites[survivors[0]], moved.Sub(killed).Seconds())
		if err := b.cl.RestartSite(ctx, lead); err != nil {
			fatal(err)
		}
		if _, err := b.client().ClearOverride(ctx, clusterPolicy); err != nil {
			fatal(err)
		}
		for _, site := range b.cl.Sites {
			if err := waitVote(ctx, b.client(), "primary", site, api.StateHealthy, 30*time.Second); err != nil {
				fatal(err)
			}
		}
	}
	bound := leaseTTL + time.Second
	decided, ok := summarize(toDecision, bound)
	answered, okDNS := summarize(toDNS, bound)
	elected, _ := summarize(toLeader, bound)
	rows := []row{
		{id: "P7", measure: measure, result: decided, goal: goal, verdict: verdict(ok)},
		{id: "P7", measure: "same runs: kill → a survivor's DNS answers the new decision", result: answered, goal: goal, verdict: verdict(okDNS)},
		{id: "P7", measure: "same runs: kill → the survivors name the new leader", result: elected},
		{id: "P7", measure: "same runs: etcd's raft leader on the failoverd leader's site when the bench was ready to kill (the leader then moved it; the bench waited one TTL more)",
			result: fmt.Sprintf("%d of %d runs", movedBefore, runs)},
	}
	for _, part := range []struct {
		took []time.Duration
		what string
	}{{withRaftLeader, "the etcd raft leader's member was in the killed site"}, {withoutRaftLeader, "the etcd raft leader survived"}} {
		if len(part.took) > 0 {
			r, _ := summarize(part.took, bound)
			rows = append(rows, row{id: "P7", measure: fmt.Sprintf("same runs, the %d where %s: kill → decision", len(part.took), part.what), result: r})
		}
	}
	return rows
}

// benchQuorumFailover is P1 on a cluster: the primary backend is killed at
// a random phase of the probe schedule; every site probes it (majority
// quorum), so the decision needs two sites' fall. Figures: kill → the
// leader's decision (its timestamp), and kill → a follower's DNS answer.
func benchQuorumFailover(ctx context.Context, e env, runs, fall int) []row {
	bound := time.Duration((float64(fall)*clusterInterval + clusterTimeout) * float64(time.Second))
	goal := fmt.Sprintf("p99 ≤ fall×interval+0.5s = %.1fs", bound.Seconds())
	measure := fmt.Sprintf("three probing sites, majority: backend killed → decision, interval 1s fall %d, %d runs", fall, runs)
	b, skip := startClusterBench(ctx, e, "p1q", 0, fall)
	if b == nil {
		return []row{{id: "P1q", measure: measure, result: skip, goal: goal, verdict: "skipped"}}
	}
	defer b.close()
	lead, _, err := b.cl.WaitLeader(ctx, 30*time.Second)
	if err != nil {
		fatal(err)
	}
	follower := others(len(b.cl.Sites), lead)[0]
	dnsAt := b.cl.Nodes[follower].DNSAddr
	c := b.client()
	var toDecision, toDNS []time.Duration
	for run := 0; run < runs; run++ {
		if _, err := waitServing(ctx, c, clusterPolicy, "primary", 30*time.Second); err != nil {
			fatal(err)
		}
		if _, err := waitDNS(dnsAt, clusterName, primaryAddr, 10*time.Second); err != nil {
			fatal(err)
		}
		time.Sleep(time.Duration(rand.Float64() * float64(time.Second)))
		killed := time.Now()
		b.primary.Stop()
		moved, err := waitDNS(dnsAt, clusterName, secondaryAddr, 30*time.Second)
		if err != nil {
			fatal(err)
		}
		d, err := waitServing(ctx, c, clusterPolicy, "secondary", 30*time.Second)
		if err != nil {
			fatal(err)
		}
		toDecision = append(toDecision, d.Since.Sub(killed))
		toDNS = append(toDNS, moved.Sub(killed))
		fmt.Printf("P1q run %2d: kill → decision by %s %.3fs, kill → DNS at %s moved %.3fs\n", run+1, b.cl.Sites[lead],
			d.Since.Sub(killed).Seconds(), b.cl.Sites[follower], moved.Sub(killed).Seconds())
		if err := b.primary.Restart(); err != nil {
			fatal(err)
		}
	}
	decided, ok := summarize(toDecision, bound)
	answered, okDNS := summarize(toDNS, bound)
	return []row{
		{id: "P1q", measure: measure, result: decided, goal: goal, verdict: verdict(ok)},
		{id: "P1q", measure: "same runs: kill → a follower's DNS answer moved (polled every 5 ms)", result: answered, goal: goal, verdict: verdict(okDNS)},
	}
}

// benchFalseFailovers cuts one site's path to the primary backend per
// trial (the stand-in resets connections from that site's probe source
// address), turn by turn dc1, cloud, arbiter, the leader's site included.
// A trial counts only once the cut site votes the primary down; it then
// holds the cut for hold, watching the decision every 20 ms, and restores
// the path. Any change of the serving target is a false failover.
func benchFalseFailovers(ctx context.Context, e env, trials, fall int, hold time.Duration) []row {
	measure := fmt.Sprintf("one site's path to the primary cut (its probes reset), held %s after its vote fell, fall %d, majority; %d trials", hold, fall, trials)
	b, skip := startClusterBench(ctx, e, "ff", 0, fall)
	if b == nil {
		return []row{{id: "FF", measure: measure, result: skip, goal: "0", verdict: "skipped"}}
	}
	defer b.close()
	c := b.client()
	moves, rewrites := 0, 0
	var cutToVote []time.Duration
	perSite := map[string]int{}
	for trial := 0; trial < trials; trial++ {
		k := trial % len(b.cl.Sites)
		site := b.cl.Sites[k]
		before, err := waitServing(ctx, c, clusterPolicy, "primary", 30*time.Second)
		if err != nil {
			fatal(err)
		}
		cut := time.Now()
		if err := b.primary.Refuse(b.cl.SourceAddr(k)); err != nil {
			fatal(err)
		}
		if err := waitVote(ctx, c, "primary", site, api.StateUnhealthy, 30*time.Second); err != nil {
			fatal(fmt.Errorf("trial %d: the cut did not take: %w", trial+1, err))
		}
		cutToVote = append(cutToVote, time.Since(cut))
		moved := false
		last := before
		for end := time.Now().Add(hold); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			d, err := c.Decision(ctx, clusterPolicy)
			if err != nil {
				fatal(err)
			}
			if len(d.Serving) == 0 || d.Serving[0].Target != "primary" {
				moved = true
			}
			last = d
		}
		if moved {
			moves++
			perSite[site]++
		}
		if last.Generation != before.Generation {
			rewrites++
		}
		fmt.Printf("FF trial %2d: cut site %s, its vote fell after %.2fs, held %s: serving %s (generation %d → %d)%s\n",
			trial+1, site, cutToVote[len(cutToVote)-1].Seconds(), hold, last.Serving[0].Target, before.Generation, last.Generation,
			map[bool]string{true: "  FALSE FAILOVER", false: ""}[moved])
		if err := b.primary.Refuse(); err != nil {
			fatal(err)
		}
		if err := waitVote(ctx, c, "primary", site, api.StateHealthy, 30*time.Second); err != nil {
			fatal(err)
		}
	}
	result := fmt.Sprintf("%d false failovers in %d trials", moves, trials)
	if moves > 0 {
		var by []string
		for s, n := range perSite {
			by = append(by, fmt.Sprintf("%s %d", s, n))
		}
		result += " (" + strings.Join(by, ", ") + ")"
	}
	if rewrites > 0 {
		result += fmt.Sprintf("; %d trials rewrote the decision without moving it", rewrites)
	}
	slices.Sort(cutToVote)
	result += fmt.Sprintf("; the cut site's vote fell after a median %.2fs", pct(cutToVote, 50).Seconds())
	return []row{{id: "FF", measure: measure, result: result, goal: "0 in 50", verdict: verdict(moves == 0)}}
}

// waitRaftApart waits until etcd's raft leader is not site lead's member
// (the failoverd leader moves it off) and returns how long that took: 0
// when it was elsewhere already.
func waitRaftApart(ctx context.Context, cl *launch.Cluster, lead int, within time.Duration) (time.Duration, error) {
	start := time.Now()
	wasThere := false
	for {
		l, err := cl.Etcd.Leader(ctx)
		if err == nil && l != cl.Etcd.Members[lead] {
			if !wasThere {
				return 0, nil
			}
			return time.Since(start), nil
		}
		wasThere = wasThere || err == nil
		if time.Since(start) > within {
			return 0, fmt.Errorf("P7: etcd's raft leader is still site %s's member %s after the failoverd leader of that site led for %s (%v): it should have moved it off",
				cl.Sites[lead], cl.Etcd.Members[lead].Name, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
