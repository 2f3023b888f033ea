package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// benchScale is P8: one failoverd holding n HTTP health checks (one probe
// per check per interval against stand-in backends) and n traffic
// policies, one check each. With everything running, an operator
// override moves one random policy's decision at a time; a poller that
// queries that policy's name over UDP every pollEvery from before the
// request notes when the answer changes. The figures are the time from
// the decision (its own timestamp, same clock) to the first answer that
// shows it — an upper bound: it includes that poll's round trip, reported
// beside it — and from sending the request (which includes the store's
// fsync) to that answer; the probe schedule lag and failures over the
// same window; and failoverd's resident memory.
func benchScale(ctx context.Context, e env, n, changes int, interval time.Duration) []row {
	const goal = "decision → DNS ≤ 10 ms (p99); probe schedule held; memory stated"
	measure := fmt.Sprintf("%d HTTP checks at %s and %d policies on one node; %d overrides, one policy each", n, interval, n, changes)
	fd, err := e.start(ctx, "p8")
	if err != nil {
		fatal(err)
	}
	defer fd.Stop()
	c, err := client.New(client.Config{Endpoint: fd.URL, Token: e.token})
	if err != nil {
		fatal(err)
	}
	var backends []*launch.Backend
	for i := 0; i < 4; i++ {
		b, err := launch.StartBackend(filepath.Join(e.bin, "standin"), fmt.Sprintf("b%d", i), "127.0.0.1:0")
		if err != nil {
			fatal(err)
		}
		defer b.Stop()
		backends = append(backends, b)
	}
	created := time.Now()
	parallel(n, func(i int) {
		b := backends[i%len(backends)]
		if _, err := client.Create(ctx, c, api.KindHealthCheck, api.HealthCheck{Name: fmt.Sprintf("c%05d", i), Site: "local",
			Type: api.CheckHTTP, Address: b.Addr, IntervalSeconds: interval.Seconds(), TimeoutSeconds: 1}); err != nil {
			fatal(err)
		}
	})
	checksAt := time.Since(created)
	parallel(n, func(i int) {
		if _, err := client.Create(ctx, c, api.KindTrafficPolicy, scalePolicy(i)); err != nil {
			fatal(err)
		}
	})
	fmt.Printf("P8 %d checks created in %.1fs, %d policies in %.1fs; warming up\n", n, checksAt.Seconds(), n, (time.Since(created) - checksAt).Seconds())
	// Every check probed at least twice: the rise transitions (unknown →
	// healthy) of the start are behind us.
	deadline := time.Now().Add(5*interval + time.Minute)
	for scrape(fd.URL).sum("failover_probes_total") < float64(2*n) {
		if time.Now().After(deadline) {
			fatal(fmt.Errorf("P8: fewer than %d probes after %s", 2*n, time.Since(created)))
		}
		time.Sleep(time.Second)
	}

	m0, cpu0, t0 := scrape(fd.URL), cpuTicks(fd.Pid()), time.Now()
	var fromDecision, fromRequest, rtts []time.Duration
	for _, i := range rand.Perm(n)[:changes] {
		d, sent, w, err := overrideAndWatch(ctx, c, fd.DNSAddr, i)
		if err != nil {
			fatal(err)
		}
		fromDecision = append(fromDecision, w.at.Sub(d.Since))
		fromRequest = append(fromRequest, w.at.Sub(sent))
		rtts = append(rtts, w.rtt)
	}
	// Hold the window for at least two probe intervals, so the lag and
	// failure figures cover whole rounds of probes.
	if rest := 2*interval - time.Since(t0); rest > 0 {
		time.Sleep(rest)
	}
	m1, cpu1, t1 := scrape(fd.URL), cpuTicks(fd.Pid()), time.Now()
	secs := t1.Sub(t0).Seconds()
	probes := m1.sum("failover_probes_total") - m0.sum("failover_probes_total")
	// The endpoint's failures and this node's own (result="local_failure").
	failed := m1.sumWhere("failover_probes_total", `failure"`) - m0.sumWhere("failover_probes_total", `failure"`)
	lag99 := quantile(m0, m1, "failover_probe_schedule_lag_seconds", 0.99)
	rss := residentBytes(fd.Pid())
	slices.Sort(fromDecision)
	slices.Sort(fromRequest)
	slices.Sort(rtts)
	fmt.Printf("P8 decision → DNS p50 %s p99 %s max %s (poll round trip p50 %s); request → DNS p50 %s p99 %s; %.0f probes/s (%.1f%% failed), p99 lag ≤ %s; CPU %.0f%%; RSS %.0f MiB (Go heap in use %.0f MiB, %.0f goroutines)\n",
		pct(fromDecision, 50), pct(fromDecision, 99), fromDecision[len(fromDecision)-1], pct(rtts, 50), pct(fromRequest, 50), pct(fromRequest, 99),
		probes/secs, 100*failed/max(probes, 1), fmtSecs(lag99), float64(cpu1-cpu0)/secs, float64(rss)/(1<<20),
		m1.sum("go_memstats_heap_inuse_bytes")/(1<<20), m1.sum("go_goroutines"))
	held := probes >= 0.97*float64(n)*secs/interval.Seconds() && lag99 <= 0.1 && failed <= 0.01*probes
	return []row{{
		id:      "P8",
		measure: measure,
		result: fmt.Sprintf("decision → DNS p50 %s, p99 %s (poll round trip p50 %s); request (incl. fsync) → DNS p50 %s, p99 %s; %.0f probes/s, %.1f%% failed, p99 lag ≤ %s; RSS %.0f MiB",
			pct(fromDecision, 50).Round(10*time.Microsecond), pct(fromDecision, 99).Round(10*time.Microsecond), pct(rtts, 50).Round(10*time.Microsecond),
			pct(fromRequest, 50).Round(10*time.Microsecond), pct(fromRequest, 99).Round(10*time.Microsecond),
			probes/secs, 100*failed/max(probes, 1), fmtSecs(lag99), float64(rss)/(1<<20)),
		goal:    goal,
		verdict: verdict(pct(fromDecision, 99) <= 10*time.Millisecond && held),
	}}
}

// scalePolicy is P8's policy i: its check's target first, a standby with
// no check second, so an override to the standby moves the answer.
func scalePolicy(i int) api.TrafficPolicy {
	return api.TrafficPolicy{Name: fmt.Sprintf("s%05d", i), Mode: api.ModeActivePassive, WhenAllDown: api.AllDownFailOpen,
		Targets: map[string]api.PolicyTarget{
			"primary": {Site: "primary", Addresses: []string{scaleAddr(10, i)}, HealthChecks: []string{fmt.Sprintf("c%05d", i)}, Priority: 1},
			"standby": {Site: "standby", Addresses: []string{scaleAddr(11, i)}, Priority: 2},
		}}
}

func scaleAddr(first, i int) string { return fmt.Sprintf("%d.%d.%d.1", first, i/256, i%256) }

// pollEvery is the pause between two DNS polls of P8.
const pollEvery = 200 * time.Microsecond

// sighting is when DNS first answered a change, and the round trip of the
// poll that saw it.
type sighting struct {
	at  time.Time
	rtt time.Duration
}

// overrideAndWatch pins policy i to its standby and returns the decision
// made, when the request was sent and when DNS first answered the
// standby. The poller starts before the request, so the answer is seen as
// soon as it changes, not after the API has replied.
func overrideAndWatch(ctx context.Context, c *client.Client, dnsAddr string, i int) (api.Decision, time.Time, sighting, error) {
	name, want := fmt.Sprintf("s%05d.failover.internal.", i), scaleAddr(11, i)
	co, err := dns.Dial("udp", dnsAddr)
	if err != nil {
		return api.Decision{}, time.Time{}, sighting{}, err
	}
	defer co.Close()
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	seen := make(chan sighting, 1)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			co.SetDeadline(time.Now().Add(time.Second))
			asked := time.Now()
			if err := co.WriteMsg(q); err != nil {
				continue
			}
			r, err := co.ReadMsg()
			if err == nil && len(r.Answer) > 0 {
				if a, ok := r.Answer[0].(*dns.A); ok && a.A.String() == want {
					now := time.Now()
					seen <- sighting{at: now, rtt: now.Sub(asked)}
					return
				}
			}
			// A breather, so the poller does not take a core from
			// failoverd on a 2-core machine; the resolution stays far
			// below the 10 ms goal.
			time.Sleep(pollEvery)
		}
	}()
	defer close(stop)
	sent := time.Now()
	policy := fmt.Sprintf("s%05d", i)
	if _, err := c.SetOverride(ctx, policy, api.Override{Target: "standby", ExpiresAt: time.Now().Add(time.Hour), Reason: "P8"}); err != nil {
		return api.Decision{}, sent, sighting{}, err
	}
	var w sighting
	select {
	case w = <-seen:
	case <-time.After(10 * time.Second):
		return api.Decision{}, sent, w, fmt.Errorf("P8: DNS still does not answer %s for %s 10 s after the override", want, name)
	}
	// The override's reply previews the decision before the commit; the
	// decision as made (after it) carries the time it was made.
	d, err := c.Decision(ctx, policy)
	return d, sent, w, err
}

// parallel runs fn(0..n-1) on 8 workers, as a provider applying a plan
// with Terraform's default parallelism would.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}

// residentBytes is a process's resident set size (VmRSS).
func residentBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
