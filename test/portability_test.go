package test

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
)

// TestPortability applies the active-passive module (through the hybrid
// example: on-prem DC + cloud region + arbiter site) for every environment
// on both CLIs, asserts the topology invariants on each, and asserts that
// Terraform and OpenTofu build the same topology from the same code.
func TestPortability(t *testing.T) {
	t.Parallel()
	clis := map[string]string{"terraform": terraformCL, "tofu": tofuCLI}
	envs := []string{"dev", "prod"}
	var mu sync.Mutex
	topo := map[string]map[string]string{} // env -> cli -> outputs that must agree
	t.Run("apply", func(t *testing.T) {
		for _, env := range envs {
			for name, cli := range clis {
				t.Run(env+"/"+name, func(t *testing.T) {
					t.Parallel()
					out := applyAndCheck(t, cli, hybrid, env)
					b, _ := json.Marshal(map[string]any{
						"fqdn": out["fqdn"], "site_loss": out["site_loss"], "members": out["replica_set_members"],
						"worst": out["worst_case_failover_seconds"], "primary": out["primary_site"],
						"secondary": out["secondary_site"], "arbiter": out["arbiter_site"],
					})
					mu.Lock()
					defer mu.Unlock()
					if topo[env] == nil {
						topo[env] = map[string]string{}
					}
					topo[env][name] = string(b)
				})
			}
		}
	})
	for _, env := range envs {
		a, b := topo[env]["terraform"], topo[env]["tofu"]
		if a == "" || b == "" {
			t.Errorf("%s: no outputs to compare (terraform %t, tofu %t)", env, a != "", b != "")
			continue
		}
		if a != b {
			t.Errorf("%s: Terraform and OpenTofu built different topologies:\nterraform: %s\ntofu:      %s", env, a, b)
		}
	}
}

// applyAndCheck applies spec's example for env with cli against its own
// failoverd (health checks probing stand-in backends), asserts the
// invariants and a no-change plan, destroys, and returns the outputs.
func applyAndCheck(t *testing.T, cli string, spec exampleSpec, env string) map[string]any {
	t.Helper()
	f := startFailoverd(t)
	overrides := map[string]string{}
	for _, e := range spec.endpoints[env] {
		overrides[e.key] = startBackend(t, e.site()).Addr
	}
	opts := tfOptions(cli, copyConfig(t, spec.example), env, f, map[string]any{"health_check_addresses": overrides})
	terraform.RunTerraformCommand(t, opts, "get")
	defer terraform.Destroy(t, opts)
	terraform.Apply(t, opts)
	out := terraform.OutputAll(t, opts)
	assertInvariants(t, out, spec, rtoSeconds(t, opts))
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Errorf("%s plan right after apply: exit code %d, want 0 (no changes)", filepath.Base(cli), code)
	}
	return out
}
