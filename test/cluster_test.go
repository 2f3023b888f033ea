package test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// TestHybridActivePassiveOneSiteDown applies examples/hybrid-active-passive
// against a control plane of three failoverd nodes on a three-member etcd
// while one site (its failoverd and its etcd member) is down: the provider's
// `endpoints` lists all three nodes with the dead one first, so every
// request has to move on. The surviving nodes serve the decision, fail it
// over when the primary site's backends die, and the destroy goes through
// the same list. Skipped without the etcd of `make tools` (a failure where
// launch.EtcdRequired says it must be there, as under CI=true).
func TestHybridActivePassiveOneSiteDown(t *testing.T) {
	t.Parallel()
	etcdBin := launch.EtcdForTest(t)
	token := "terratest-cluster"
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := launch.StartCluster(ctx, launch.ClusterOptions{Bin: filepath.Join(binDir, "failoverd"), EtcdBin: etcdBin,
		Dir: dir, Token: token, LeaseTTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range cl.Nodes {
				t.Logf("failoverd %s log:\n%s", cl.Sites[i], n.Logs())
			}
		}
		if err := cl.Close(); err != nil {
			t.Error(err)
		}
	})
	urls := cl.URLs()
	cl.KillSite(0)
	dead := cl.Sites[0]
	if _, _, err := cl.WaitLeader(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// The survivors as the helpers' failoverd (URL, DNS and token are all
	// waitServing and the API calls need).
	var survivors []*failoverd
	for i := 1; i < len(cl.Nodes); i++ {
		survivors = append(survivors, &failoverd{URL: cl.Nodes[i].URL, DNSAddr: cl.Nodes[i].DNSAddr, Token: token})
	}

	spec, env := hybrid, "dev"
	overrides := map[string]string{}
	backends := map[string][]*backend{}
	for _, e := range spec.endpoints[env] {
		b := startBackend(t, e.site())
		overrides[e.key] = b.Addr
		backends[e.site()] = append(backends[e.site()], b)
	}
	cfg := copyConfig(t, spec.example)
	// An override file sets the provider's endpoints: the example's own
	// provider block stays as users have it. The dead node comes first.
	quoted := make([]string, len(urls))
	for i, u := range urls {
		quoted[i] = fmt.Sprintf("%q", u)
	}
	override := fmt.Sprintf("provider \"failover\" {\n  endpoints       = [%s]\n  request_timeout = \"2s\"\n}\n", strings.Join(quoted, ", "))
	if err := os.WriteFile(filepath.Join(cfg, "provider_override.tf"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := tfOptions(terraformCL, cfg, env, survivors[0], map[string]any{"health_check_addresses": overrides})
	delete(opts.EnvVars, "FAILOVER_ENDPOINT") // the provider block's endpoints, nothing else
	terraform.RunTerraformCommand(t, opts, "get")
	destroyed := false
	defer func() {
		if !destroyed {
			terraform.Destroy(t, opts)
		}
	}()
	start := time.Now()
	terraform.Apply(t, opts)
	t.Logf("terraform apply through [%s (down), %s, %s] took %s", dead, cl.Sites[1], cl.Sites[2], time.Since(start).Round(time.Millisecond))

	out := terraform.OutputAll(t, opts)
	fqdn, _ := out["fqdn"].(string)
	policy, _ := out["policy_name"].(string)
	if fqdn == "" || policy == "" {
		t.Fatalf("fqdn %q, policy_name %q: both must be set", fqdn, policy)
	}
	addrsOf := func(site string) []string {
		var a []string
		for _, e := range spec.endpoints[env] {
			if e.site() == site {
				a = append(a, e.addresses...)
			}
		}
		sort.Strings(a)
		return a
	}
	tries := int((toFloat(out["worst_case_failover_seconds"])+15)*2) + 1
	for _, f := range survivors {
		waitServing(t, f, policy, fqdn, addrsOf(spec.primary), false, tries)
	}
	// The surviving leader still fails over: the primary site's backends die.
	for _, b := range backends[spec.primary] {
		b.stop()
	}
	for _, f := range survivors {
		waitServing(t, f, policy, fqdn, addrsOf(spec.secondary), false, tries)
	}
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Errorf("plan after the failover with %s down: exit code %d, want 0 (no changes)", dead, code)
	}

	terraform.Destroy(t, opts)
	destroyed = true
	for _, f := range survivors {
		if code, err := f.api(http.MethodGet, "/v1/traffic-policies/"+policy, nil, nil); code != http.StatusNotFound {
			t.Errorf("%s after destroy: GET the policy answered %d (%v), want 404", f.URL, code, err)
		}
	}
}
