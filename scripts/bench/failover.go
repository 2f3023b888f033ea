package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// benchFailover is P1: a backend is killed at a random phase of its probe
// schedule; the figures are the time from the kill to failoverd's decision
// (the decision's own timestamp, same clock) and to the moment failoverd's
// DNS answers the secondary's address (polled every 5 ms, as a client
// that just saw its TTL expire would ask).
func benchFailover(ctx context.Context, e env, runs, fall int) []row {
	const interval, timeout = 1.0, 0.5
	fd, err := e.start(ctx, "p1")
	if err != nil {
		fatal(err)
	}
	defer fd.Stop()
	c, err := client.New(client.Config{Endpoint: fd.URL, Token: e.token})
	if err != nil {
		fatal(err)
	}
	standin := filepath.Join(e.bin, "standin")
	primary, err := launch.StartBackend(standin, "primary", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer primary.Stop()
	secondary, err := launch.StartBackend(standin, "secondary", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer secondary.Stop()
	for _, b := range []*launch.Backend{primary, secondary} {
		if _, err := client.Create(ctx, c, api.KindHealthCheck, api.HealthCheck{Name: b.Site, Site: b.Site, Type: api.CheckHTTP,
			Address: b.Addr, IntervalSeconds: interval, TimeoutSeconds: timeout, Rise: 1, Fall: fall}); err != nil {
			fatal(err)
		}
	}
	zero := 0
	if _, err := client.Create(ctx, c, api.KindTrafficPolicy, api.TrafficPolicy{Name: "p1", Mode: api.ModeActivePassive,
		FailbackDelaySeconds: &zero, WhenAllDown: api.AllDownFailOpen, Targets: map[string]api.PolicyTarget{
			"primary":   {Site: "primary", Addresses: []string{"192.0.2.1"}, HealthChecks: []string{"primary"}, Priority: 1},
			"secondary": {Site: "secondary", Addresses: []string{"192.0.2.2"}, HealthChecks: []string{"secondary"}, Priority: 2},
		}}); err != nil {
		fatal(err)
	}
	const name = "p1.failover.internal."
	var toDecision, toDNS []time.Duration
	for i := 0; i < runs; i++ {
		if _, err := waitServing(ctx, c, "p1", "primary", 30*time.Second); err != nil {
			fatal(err)
		}
		if _, err := waitDNS(fd.DNSAddr, name, "192.0.2.1", 5*time.Second); err != nil {
			fatal(err)
		}
		// A random phase against the probe schedule.
		time.Sleep(time.Duration(rand.Float64() * float64(time.Second)))
		killed := time.Now()
		primary.Stop()
		moved, err := waitDNS(fd.DNSAddr, name, "192.0.2.2", 30*time.Second)
		if err != nil {
			fatal(err)
		}
		d, err := waitServing(ctx, c, "p1", "secondary", 30*time.Second)
		if err != nil {
			fatal(err)
		}
		toDecision = append(toDecision, d.Since.Sub(killed))
		toDNS = append(toDNS, moved.Sub(killed))
		fmt.Printf("P1 run %2d: kill → decision %.3fs, kill → DNS answer moved %.3fs\n", i+1, d.Since.Sub(killed).Seconds(), moved.Sub(killed).Seconds())
		if err := primary.Restart(); err != nil {
			fatal(err)
		}
	}
	bound := float64(fall)*interval + timeout
	summary := func(took []time.Duration) (string, bool) {
		slices.Sort(took)
		p50, p99, worst := pct(took, 50), pct(took, 99), took[len(took)-1]
		return fmt.Sprintf("median %.2fs, p99 %.2fs, worst %.2fs", p50.Seconds(), p99.Seconds(), worst.Seconds()), p99.Seconds() <= bound
	}
	decided, okDecided := summary(toDecision)
	answered, okAnswered := summary(toDNS)
	goal := fmt.Sprintf("p99 ≤ fall×interval+0.5s = %.1fs", bound)
	return []row{{
		id:      "P1",
		measure: fmt.Sprintf("backend killed → decision, interval 1s fall %d, %d runs", fall, runs),
		result:  decided,
		goal:    goal,
		verdict: verdict(okDecided),
	}, {
		id:      "P1",
		measure: fmt.Sprintf("backend killed → DNS answer moved (polled every 5 ms), %d runs", runs),
		result:  answered,
		goal:    goal,
		verdict: verdict(okAnswered),
	}}
}

// waitDNS asks failoverd's DNS for name's A records every 5 ms until the
// first is want, and returns when it saw it.
func waitDNS(addr, name, want string, within time.Duration) (time.Time, error) {
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	deadline := time.Now().Add(within)
	var got string
	for {
		r, _, err := c.Exchange(m, addr)
		if err == nil && len(r.Answer) > 0 {
			if a, ok := r.Answer[0].(*dns.A); ok {
				got = a.A.String()
				if got == want {
					return time.Now(), nil
				}
			}
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("DNS %s at %s answers %q after %s, want %s (last error %v)", name, addr, got, within, want, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func waitServing(ctx context.Context, c *client.Client, policy, target string, within time.Duration) (api.Decision, error) {
	deadline := time.Now().Add(within)
	for {
		d, err := c.Decision(ctx, policy)
		if err != nil {
			return d, err
		}
		if len(d.Serving) > 0 && d.Serving[0].Target == target {
			return d, nil
		}
		if time.Now().After(deadline) {
			return d, fmt.Errorf("policy %s does not serve %s after %s: %s", policy, target, within, d.Reason)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
