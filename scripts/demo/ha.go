package main

// `make demo-ha`: the control plane survives the loss of a whole site.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// runHA starts three etcd members and three failoverd nodes (sites dc1,
// cloud, arbiter, each probing from its own 127.0.0.N), applies example
// through all three endpoints, kills the leader's whole site (its
// failoverd and its etcd member), shows a new leader elected and traffic
// still failing over and back, brings the site back, then cuts one site's
// probe path and shows that no false failover happens, and last cuts one
// node off from the etcd majority to show it failing static.
func runHA(ctx context.Context, bin, tfBin, example string, failbackDelay int, leaseTTL time.Duration) (err error) {
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
	etcdBin, err := launch.FindEtcd()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "failover-demo-ha-")
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

	fmt.Println("== failover demo across three sites: dc1 (on-prem), cloud (region), arbiter (tie-breaker), all on 127.0.0.1/8 ==")
	say("starting three etcd members and three failoverd nodes (--store etcd, --lease-ttl %s)", leaseTTL)
	cl, err := launch.StartCluster(ctx, launch.ClusterOptions{Bin: filepath.Join(bin, "failoverd"), EtcdBin: etcdBin,
		Dir: dir, Token: token, LeaseTTL: leaseTTL})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := cl.Close(); cerr != nil && err == nil {
			err = cerr
		}
		say("failoverd nodes and etcd members stopped")
	}()
	for i, site := range cl.Sites {
		say("site %-7s etcd member %s at %s; failoverd at %s, DNS %s, probes from %s",
			site, cl.Etcd.Members[i].Name, cl.Etcd.Members[i].ClientURL, cl.Nodes[i].URL, cl.Nodes[i].DNSAddr, cl.SourceAddr(i))
	}
	lead, _, err := cl.WaitLeader(ctx, 30*time.Second)
	if err != nil {
		return err
	}
	say("LEADER: %s evaluates the policies and writes decisions; the others follow and serve the same decisions", cl.Sites[lead])

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

	endpoints := strings.Join(cl.URLs(), ",")
	c, err := client.New(client.Config{Endpoints: cl.URLs(), Token: token})
	if err != nil {
		return err
	}
	tf, err := newTerraform(tfBin, bin, example, dir, endpoints, token)
	if err != nil {
		return err
	}
	tf.brief = true // the story here is the control plane
	vars := map[string]any{
		"failback_delay_seconds": failbackDelay,
		"sites": map[string]any{
			"dc1":   map[string]any{"health_address": dc1.Addr, "addresses": []string{"192.0.2.10"}, "priority": 1},
			"cloud": map[string]any{"health_address": cloud.Addr, "addresses": []string{"198.51.100.20"}, "priority": 2},
		},
	}
	say("terraform apply of %s with FAILOVER_ENDPOINT=%s (all three nodes)", example, endpoints)
	if err := tf.run(ctx, vars, "apply", "-auto-approve", "-input=false"); err != nil {
		return err
	}
	defer func() {
		say("terraform destroy (FAILOVER_ENDPOINT still names the lost node's old address: the provider moves on past it)")
		if derr := tf.run(context.Background(), vars, "destroy", "-auto-approve", "-input=false"); derr != nil && err == nil {
			err = derr
		}
	}()
	outputs, err := tf.outputs(ctx)
	if err != nil {
		return err
	}
	fqdn := fmt.Sprint(outputs["fqdn"])

	// The event log, cluster-wide, from whichever node answers.
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
	for _, site := range cl.Sites {
		if err := waitVote(ctx, c, "web-dc1", site, api.StateHealthy, 30*time.Second); err != nil {
			return err
		}
	}
	if err := showVotes(ctx, c, "web-dc1"); err != nil {
		return err
	}
	d, err := c.Decision(ctx, "web")
	if err != nil {
		return err
	}
	say("decision: web serves %s — %s", serving(d), d.Reason)
	if err := dnsAll(ctx, cl, []int{0, 1, 2}, fqdn, "192.0.2.10", time.Time{}); err != nil {
		return err
	}
	statusCLI(bin, endpoints, token)

	fmt.Printf("\n-- site %s, the leader's, is lost: SIGKILL of its failoverd and of its etcd member --\n", cl.Sites[lead])
	lost := lead
	killed := time.Now()
	cl.KillSite(lost)
	say("killed failoverd %s and etcd member %s: the leader's lease runs out within %s", cl.Sites[lost], cl.Etcd.Members[lost].Name, leaseTTL)
	var survivors []int
	for i := range cl.Sites {
		if i != lost {
			survivors = append(survivors, i)
		}
	}
	for _, i := range survivors {
		ips, _, err := lookup(cl.Nodes[i].DNSAddr, fqdn)
		say("DNS at %s (a survivor) meanwhile: %s A %v (%v)", cl.Sites[i], fqdn, ips, errOr(err))
	}
	lead, _, err = cl.WaitLeader(ctx, leaseTTL+30*time.Second)
	if err != nil {
		return err
	}
	say("NEW LEADER: %s, elected %.2fs after the kill (lease TTL %s)", cl.Sites[lead], time.Since(killed).Seconds(), leaseTTL)
	statusCLI(bin, endpoints, token)

	fmt.Println("\n-- traffic still moves: the dc1 backend dies (while site " + cl.Sites[lost] + "'s control plane is down) --")
	down := time.Now()
	dc1.Stop()
	say("stopped the dc1 backend: connections to %s are refused", dc1.Addr)
	d, err = waitServing(ctx, c, "web", "cloud", 30*time.Second)
	if err != nil {
		return err
	}
	say("FAILOVER decided by %s: web serves %s, %.2fs after the backend died (two of three sites voted it down)", cl.Sites[lead], serving(d), d.Since.Sub(down).Seconds())
	if err := dnsAll(ctx, cl, survivors, fqdn, "198.51.100.20", down); err != nil {
		return err
	}

	fmt.Println("\n-- the dc1 backend comes back --")
	if err := dc1.Restart(); err != nil {
		return err
	}
	restored := time.Now()
	say("restarted the dc1 backend at %s; failback waits until dc1 has been healthy for %ds", dc1.Addr, failbackDelay)
	d, err = waitServing(ctx, c, "web", "dc1", time.Duration(failbackDelay+30)*time.Second)
	if err != nil {
		return err
	}
	say("FAILBACK decided by %s: web serves %s again, %.2fs after the restart — %s", cl.Sites[lead], serving(d), d.Since.Sub(restored).Seconds(), d.Reason)
	if err := dnsAll(ctx, cl, survivors, fqdn, "192.0.2.10", restored); err != nil {
		return err
	}

	fmt.Printf("\n-- site %s comes back --\n", cl.Sites[lost])
	back := time.Now()
	if err := cl.RestartSite(ctx, lost); err != nil {
		return err
	}
	say("etcd member %s rejoined and failoverd %s is up, %.2fs after the restart began",
		cl.Etcd.Members[lost].Name, cl.Sites[lost], time.Since(back).Seconds())
	if _, _, err := cl.WaitLeader(ctx, 30*time.Second); err != nil {
		return err
	}
	if err := dnsAll(ctx, cl, []int{lost}, fqdn, "192.0.2.10", time.Time{}); err != nil {
		return err
	}
	say("%s follows %s and answers DNS from the shared decision (the leader does not move back by itself)", cl.Sites[lost], cl.Sites[lead])

	cut := lead
	fmt.Printf("\n-- site %s's path to the dc1 backend is cut (the stand-in resets connections from %s) --\n", cl.Sites[cut], cl.SourceAddr(cut))
	before, err := c.Decision(ctx, "web")
	if err != nil {
		return err
	}
	if err := dc1.Refuse(cl.SourceAddr(cut)); err != nil {
		return err
	}
	cutAt := time.Now()
	var reach []string
	for i, site := range cl.Sites {
		if i != cut {
			reach = append(reach, site)
		}
	}
	say("cut: probes of site %s (from %s) to %s are reset; %s still reach it", cl.Sites[cut], cl.SourceAddr(cut), dc1.Addr, strings.Join(reach, " and "))
	if err := waitVote(ctx, c, "web-dc1", cl.Sites[cut], api.StateUnhealthy, 30*time.Second); err != nil {
		return err
	}
	say("site %s votes web-dc1 unhealthy, %.2fs after the cut", cl.Sites[cut], time.Since(cutAt).Seconds())
	hold := 5 * time.Second
	time.Sleep(hold)
	if err := showVotes(ctx, c, "web-dc1"); err != nil {
		return err
	}
	after, err := c.Decision(ctx, "web")
	if err != nil {
		return err
	}
	if after.Generation != before.Generation || len(after.Serving) == 0 || after.Serving[0].Target != "dc1" {
		return fmt.Errorf("FALSE FAILOVER: web went from generation %d to %d, serving %s (%s)", before.Generation, after.Generation, serving(after), after.Reason)
	}
	say("NO FALSE FAILOVER: held %s with the path cut; web still serves %s (decision generation %d unchanged): one site's vote is not a majority",
		hold, serving(after), after.Generation)
	if err := dc1.Refuse(); err != nil {
		return err
	}
	if err := waitVote(ctx, c, "web-dc1", cl.Sites[cut], api.StateHealthy, 30*time.Second); err != nil {
		return err
	}
	say("path restored: site %s votes web-dc1 healthy again", cl.Sites[cut])

	if err := partition(ctx, cl, (lead+1)%len(cl.Sites), fqdn); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond) // let the last events print
	fmt.Println()
	return nil
}

// partition cuts site p's failoverd off from the etcd majority by pausing
// its etcd member (SIGSTOP: the member holds its sockets and answers
// nothing, as behind a broken link), shows the node failing static, and
// resumes it.
func partition(ctx context.Context, cl *launch.Cluster, p int, fqdn string) error {
	site, node := cl.Sites[p], cl.Nodes[p]
	fmt.Printf("\n-- site %s is cut off from the etcd majority (its etcd member %s paused) --\n", site, cl.Etcd.Members[p].Name)
	if err := cl.Etcd.Members[p].Pause(); err != nil {
		return err
	}
	cut := time.Now()
	resumed := false
	defer func() {
		if !resumed {
			cl.Etcd.Members[p].Resume()
		}
	}()
	code, body, err := waitReadyz(ctx, node.URL, http.StatusServiceUnavailable, 30*time.Second)
	if err != nil {
		return err
	}
	say("%s /readyz: %d %s (%.2fs after the cut)", site, code, body, time.Since(cut).Seconds())
	only, err := cl.Client(p)
	if err != nil {
		return err
	}
	_, err = only.SetOverride(ctx, "web", api.Override{Target: "cloud", ExpiresAt: time.Now().Add(time.Minute), Reason: "demo"})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		return fmt.Errorf("a write to the cut-off node %s answered %v, want a 503", site, err)
	}
	say("a write sent to %s alone is refused: %v", site, err)
	ips, _, err := lookup(node.DNSAddr, fqdn)
	if err != nil {
		return err
	}
	say("%s still answers DNS: %s A %v (fail static: the last decision it knew)", site, fqdn, ips)
	if err := cl.Etcd.Members[p].Resume(); err != nil {
		return err
	}
	resumed = true
	back := time.Now()
	if _, _, err := waitReadyz(ctx, node.URL, http.StatusOK, 30*time.Second); err != nil {
		return err
	}
	say("link back: %s caught up and is ready again %.2fs later", site, time.Since(back).Seconds())
	return nil
}

// waitReadyz polls url's /readyz until it answers code.
func waitReadyz(ctx context.Context, url string, code int, within time.Duration) (int, string, error) {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		if err != nil {
			return 0, "", err
		}
		resp, err := hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == code {
				return code, strings.TrimSpace(string(b)), nil
			}
		}
		if time.Now().After(deadline) {
			return 0, "", fmt.Errorf("%s/readyz does not answer %d after %s (%v)", url, code, within, err)
		}
		select {
		case <-ctx.Done():
			return 0, "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// dnsAll waits until the DNS of each node in idx answers name with want,
// and says so in one line, naming the nodes.
func dnsAll(ctx context.Context, cl *launch.Cluster, idx []int, name, want string, since time.Time) error {
	var sites []string
	var ttl uint32
	for _, i := range idx {
		deadline := time.Now().Add(30 * time.Second)
		for {
			ips, t, err := lookup(cl.Nodes[i].DNSAddr, name)
			if err == nil && strings.Join(ips, ",") == want {
				ttl = t
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("DNS of %s still answers %v (%v) for %s after 30s, want %s", cl.Sites[i], ips, err, name, want)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		sites = append(sites, cl.Sites[i])
	}
	after := ""
	if !since.IsZero() {
		after = fmt.Sprintf(", %.2fs after the change began", time.Since(since).Seconds())
	}
	say("DNS: %s A %s (ttl %ds) from %s%s", name, want, ttl, strings.Join(sites, ", "), after)
	return nil
}

// showVotes prints each site's vote on a check and the check's state.
func showVotes(ctx context.Context, c *client.Client, check string) error {
	st, err := c.HealthStatus(ctx, check)
	if err != nil {
		return err
	}
	var votes []string
	for _, site := range api.SortedKeys(st.Sites) {
		v := st.Sites[site].State
		if e := st.Sites[site].LastError; e != "" && v != api.StateHealthy {
			v += " (" + e + ")"
		}
		votes = append(votes, site+" "+v)
	}
	say("votes on %s: %s → %s (quorum majority)", check, strings.Join(votes, ", "), st.State)
	return nil
}

// waitVote waits until site's observation of check is state.
func waitVote(ctx context.Context, c *client.Client, check, site, state string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		st, err := c.HealthStatus(ctx, check)
		if err != nil {
			return err
		}
		if st.Sites[site].State == state {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("site %s still votes %s on %s after %s", site, st.Sites[site].State, check, within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// statusCLI prints the CLUSTER section of `failoverd status`, run as an
// operator would, with every node in FAILOVER_ENDPOINT.
func statusCLI(bin, endpoints, token string) {
	cmd := exec.Command(filepath.Join(bin, "failoverd"), "status")
	cmd.Env = append(os.Environ(), "FAILOVER_ENDPOINT="+endpoints, "FAILOVER_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	say("$ FAILOVER_ENDPOINT=<the three nodes> failoverd status   (cluster section)")
	in := false
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "CLUSTER") {
			in = true
		} else if in && strings.TrimSpace(line) == "" {
			break
		}
		if in {
			fmt.Println("              │ " + line)
		}
	}
	if err != nil {
		fmt.Printf("              │ (failoverd status: %v: %s)\n", err, strings.TrimSpace(string(out)))
	}
}

func errOr(err error) string {
	if err != nil {
		return err.Error()
	}
	return "the decision in force, answered while no node leads"
}
