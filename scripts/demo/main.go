// Command demo is `make demo`: a failover and a failback, for real, on
// 127.0.0.1. It starts failoverd --dev and two stand-in site backends,
// `terraform apply`s a complete example (a health check per site, an
// active-passive policy, a burst toggle) with the provider built from this
// tree, stops the primary site's backend, prints the decision moving with
// timestamps, restores it, waits out the failback delay, then
// `terraform destroy`s and cleans up everything.
//
// With --ha (`make demo-ha`) the same story runs on a control plane of three
// failoverd nodes on a three-member etcd, and the leader's whole site is
// killed first (see ha.go).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

var start = time.Now()

func say(format string, args ...any) {
	fmt.Printf("%s  +%6.2fs  %s\n", time.Now().UTC().Format("15:04:05.000"), time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

func main() {
	bin := flag.String("bin", "bin", "directory holding failoverd, terraform-provider-failover and standin")
	tf := flag.String("terraform", ".tools/bin/terraform", "Terraform or OpenTofu CLI (make tools builds one)")
	example := flag.String("example", "examples/quickstart", "the configuration to apply")
	failback := flag.Int("failback-delay", 5, "failback delay of the demo policy, seconds")
	ha := flag.Bool("ha", false, "three sites: three etcd members and three failoverd nodes; the leader's site is killed (needs the etcd of make tools)")
	leaseTTL := flag.Duration("lease-ttl", 5*time.Second, "with --ha: the nodes' --lease-ttl (a new leader decides within about this + 1s)")
	flag.BoolVar(&hold, "hold", false, "after the failback, keep everything running (console included) until Ctrl-C, then destroy")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *ha {
		err = runHA(ctx, *bin, *tf, *example, *failback, *leaseTTL)
	} else {
		err = run(ctx, *bin, *tf, *example, *failback)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
	// The last word: where the console was, and how to keep it up.
	fmt.Printf("\nconsole: %s (the token rides in the URL fragment, which the browser never sends)\n", consoleURL)
	if !hold {
		fmt.Println("         it lived while the demo ran; `make demo DEMO_HOLD=1` keeps the demo and its console up until Ctrl-C")
	}
}

// hold and consoleURL are set by flags and by run.
var (
	hold       bool
	consoleURL string
)

func run(ctx context.Context, bin, tfBin, example string, failbackDelay int) (err error) {
	bin, err = filepath.Abs(bin)
	if err != nil {
		return err
	}
	if tfBin, err = filepath.Abs(tfBin); err != nil {
		return err
	}
	if _, err := os.Stat(tfBin); err != nil {
		return fmt.Errorf("no Terraform CLI at %s: run `make tools` first (it builds one from the Go module proxy)", tfBin)
	}
	dir, err := os.MkdirTemp("", "failover-demo-")
	if err != nil {
		return err
	}
	defer func() {
		os.RemoveAll(dir)
		say("cleaned up: nothing left running, %s removed", dir)
	}()
	tokenBytes := make([]byte, 16)
	rand.Read(tokenBytes)
	token := hex.EncodeToString(tokenBytes)

	fmt.Println("== failover demo: two sites, one active-passive policy, everything on 127.0.0.1 ==")
	fd, err := launch.StartFailoverd(ctx, launch.Options{Bin: filepath.Join(bin, "failoverd"), DataDir: filepath.Join(dir, "data"), Token: token})
	if err != nil {
		return err
	}
	defer func() {
		if serr := fd.Stop(); serr != nil && err == nil {
			err = serr
		}
		say("failoverd stopped")
	}()
	say("failoverd --dev is up at %s (pid %d)", fd.URL, fd.Pid())
	consoleURL = fd.URL + "/ui/#token=" + token
	say("console: %s", consoleURL)

	standin := filepath.Join(bin, "standin")
	dc1, err := launch.StartBackend(standin, "dc1", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer dc1.Stop()
	cloud, err := launch.StartBackend(standin, "cloud", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer cloud.Stop()
	say("stand-in backends: site dc1 (on-prem) at %s, site cloud (region) at %s", dc1.Addr, cloud.Addr)

	c, err := client.New(client.Config{Endpoint: fd.URL, Token: token})
	if err != nil {
		return err
	}
	tf, err := newTerraform(tfBin, bin, example, dir, fd.URL, token)
	if err != nil {
		return err
	}
	vars := map[string]any{
		"failback_delay_seconds": failbackDelay,
		"sites": map[string]any{
			"dc1":   map[string]any{"health_address": dc1.Addr, "addresses": []string{"192.0.2.10"}, "priority": 1},
			"cloud": map[string]any{"health_address": cloud.Addr, "addresses": []string{"198.51.100.20"}, "priority": 2},
		},
	}
	say("terraform apply of %s (provider built from this tree, via dev_overrides)", example)
	if err := tf.run(ctx, vars, "apply", "-auto-approve", "-input=false"); err != nil {
		return err
	}
	defer func() {
		say("terraform destroy")
		if derr := tf.run(context.Background(), vars, "destroy", "-auto-approve", "-input=false"); derr != nil && err == nil {
			err = derr
		}
	}()
	outputs, err := tf.outputs(ctx)
	if err != nil {
		return err
	}
	say("applied: fqdn %v, worst-case failover %vs (≤ rto 30s), burst URL %v", outputs["fqdn"], outputs["worst_case_failover_seconds"], outputs["burst_url"])
	delay := failbackDelay

	// Stream the event log as it happens, like `failoverd events --follow`.
	evCtx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	go c.FollowEvents(evCtx, 0, func(ev api.Event) error {
		if ev.Type != api.EventAudit && ev.Type != api.EventBurst {
			fmt.Printf("%s            event %-8s %s\n", ev.Time.UTC().Format("15:04:05.000"), ev.Type, ev.Message)
		}
		return nil
	})

	if err := waitHealthy(ctx, c, "web-dc1", "web-cloud"); err != nil {
		return err
	}
	d, err := c.Decision(ctx, "web")
	if err != nil {
		return err
	}
	say("decision: web serves %s — %s", serving(d), d.Reason)
	fqdn := fmt.Sprint(outputs["fqdn"])
	if err := waitDNS(ctx, fd.DNSAddr, fqdn, "192.0.2.10", time.Time{}); err != nil {
		return err
	}

	fmt.Println("\n-- the dc1 backend dies (simulated data-center outage) --")
	killed := time.Now()
	dc1.Stop()
	say("stopped the dc1 backend: connections to %s are refused", dc1.Addr)
	d, err = waitServing(ctx, c, "web", "cloud", 30*time.Second)
	if err != nil {
		return err
	}
	say("FAILOVER: web serves %s, %.2fs after the kill (bound fall×interval+timeout = 2.5s); detected %s, decided %s",
		serving(d), d.Since.Sub(killed).Seconds(), d.ObservedAt.UTC().Format("15:04:05.000"), d.Since.UTC().Format("15:04:05.000"))
	if err := waitDNS(ctx, fd.DNSAddr, fqdn, "198.51.100.20", killed); err != nil {
		return err
	}

	fmt.Println("\n-- dc1 comes back --")
	if err := dc1.Restart(); err != nil {
		return err
	}
	restored := time.Now()
	say("restarted the dc1 backend at %s; failback waits until dc1 has been healthy for %ds", dc1.Addr, delay)
	d, err = waitServing(ctx, c, "web", "dc1", time.Duration(delay+30)*time.Second)
	if err != nil {
		return err
	}
	say("FAILBACK: web serves %s again, %.2fs after the restart — %s", serving(d), d.Since.Sub(restored).Seconds(), d.Reason)
	if err := waitDNS(ctx, fd.DNSAddr, fqdn, "192.0.2.10", restored); err != nil {
		return err
	}
	if err := gameDay(ctx, c); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond) // let the last events print
	fmt.Println()
	if hold {
		say("holding: open the console at %s — Ctrl-C ends the demo (destroy, stop, clean up)", consoleURL)
		<-ctx.Done()
	}
	return nil
}

func serving(d api.Decision) string {
	var parts []string
	for _, s := range d.Serving {
		parts = append(parts, fmt.Sprintf("%s %v", s.Target, s.Addresses))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, " + ")
}

func waitHealthy(ctx context.Context, c *client.Client, checks ...string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, name := range checks {
		for {
			st, err := c.HealthStatus(ctx, name)
			if err != nil {
				return err
			}
			if st.State == api.StateHealthy {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("check %s still %s after 30s", name, st.State)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	say("both sites are healthy")
	return nil
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
			return d, fmt.Errorf("policy %s still serves %s after %s (%s)", policy, serving(d), within, d.Reason)
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// gameDay runs a drill, as `failoverd drill run web --to cloud --hold 3s`
// would, and prints its report: the RTO proven, not assumed.
func gameDay(ctx context.Context, c *client.Client) error {
	fmt.Println("\n-- game day: a drill fails web over to cloud on purpose, holds 3s, fails back --")
	d, err := c.StartDrill(ctx, "web", api.DrillRequest{Target: "cloud", Hold: "3s", Reason: "demo game day"})
	if err != nil {
		return err
	}
	say("drill %s started (failoverd drill show %s)", d.ID, d.ID)
	deadline := time.Now().Add(60 * time.Second)
	for d.State == api.DrillRunning {
		if time.Now().After(deadline) {
			return fmt.Errorf("drill %s still %s after 60s", d.ID, d.Step)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if d, err = c.Drill(ctx, d.ID); err != nil {
			return err
		}
	}
	r := d.Report
	if r == nil || r.SwitchSeconds == nil || r.FailbackSwitchSecs == nil {
		return fmt.Errorf("drill %s ended %s without measurements: %s", d.ID, d.State, d.Error)
	}
	verdict := "FAIL"
	if r.Pass {
		verdict = "PASS"
	}
	say("DRILL %s: %s → %s decided in %.3fs, DNS answered in %.3fs; failback decided in %.3fs, DNS in %.3fs; declared worst case %.1fs, RTO %ds: %s",
		d.ID, d.From, d.Target, *r.DecisionSeconds, *r.SwitchSeconds, *r.FailbackDecisionSecs, *r.FailbackSwitchSecs, r.WorstCaseSeconds, r.RTOSeconds, verdict)
	for _, n := range r.Notes {
		say("  note: %s", n)
	}
	if !r.Pass {
		return fmt.Errorf("drill %s failed against the RTO", d.ID)
	}
	return nil
}
