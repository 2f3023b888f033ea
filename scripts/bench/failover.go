package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// benchFailover is P1: a backend is killed at a random phase of its probe
// schedule; the figure is the time from the kill to failoverd's decision
// (the decision's own timestamp, same clock).
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
	var took []time.Duration
	for i := 0; i < runs; i++ {
		if _, err := waitServing(ctx, c, "p1", "primary", 30*time.Second); err != nil {
			fatal(err)
		}
		// A random phase against the probe schedule.
		time.Sleep(time.Duration(rand.Float64() * float64(time.Second)))
		killed := time.Now()
		primary.Stop()
		d, err := waitServing(ctx, c, "p1", "secondary", 30*time.Second)
		if err != nil {
			fatal(err)
		}
		took = append(took, d.Since.Sub(killed))
		fmt.Printf("P1 run %2d: kill → decision %.3fs\n", i+1, d.Since.Sub(killed).Seconds())
		if err := primary.Restart(); err != nil {
			fatal(err)
		}
	}
	slices.Sort(took)
	bound := float64(fall)*interval + timeout
	p50, p99, worst := pct(took, 50), pct(took, 99), took[len(took)-1]
	return []row{{
		id:      "P1",
		measure: fmt.Sprintf("backend killed → decision, interval 1s fall %d, %d runs", fall, runs),
		result:  fmt.Sprintf("median %.2fs, p99 %.2fs, worst %.2fs", p50.Seconds(), p99.Seconds(), worst.Seconds()),
		goal:    fmt.Sprintf("p99 ≤ fall×interval+0.5s = %.1fs", bound),
		verdict: verdict(p99.Seconds() <= bound),
	}}
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
