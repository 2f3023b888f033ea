package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Regressions of issue 12, through real CLI runs against a real failoverd:
// every CLI the machine has (the pinned pair, the newest OpenTofu and a
// terraform on PATH whose version differs).

// regressionCLIs lists the CLIs to run on, by name; a missing one is
// skipped with a message, never silently.
func regressionCLIs(t *testing.T) map[string]string {
	t.Helper()
	clis := map[string]string{}
	for name, p := range map[string]string{
		"terraform-pinned": terraformCL,
		"tofu-pinned":      tofuCLI,
		"tofu-newest":      filepath.Join(repoRoot, ".tools", "bin", "tofu-newest"),
	} {
		if _, err := os.Stat(p); err != nil {
			t.Logf("%s: %s absent (make tools builds it): skipped", name, p)
			continue
		}
		clis[name] = p
	}
	if p, err := exec.LookPath("terraform"); err == nil && !strings.HasPrefix(p, filepath.Join(repoRoot, ".tools")) {
		if v, pinned := cliVersion(p), cliVersion(terraformCL); v != pinned {
			clis["terraform-path"] = p
		}
	} else {
		t.Log("no terraform on PATH besides the pinned one: skipped")
	}
	return clis
}

func cliVersion(cli string) string {
	out, _ := exec.Command(cli, "version").Output()
	line, _, _ := strings.Cut(string(out), "\n")
	return line
}

// runCLI runs one CLI command in dir with the dev_overrides config and the
// failoverd of f; it returns the exit code and the combined output.
func runCLI(t *testing.T, cli, dir string, f *failoverd, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(cli, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+tfrcPath, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"FAILOVER_ENDPOINT="+f.URL, "FAILOVER_TOKEN="+f.Token, "TF_INPUT=0")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("%s %v: %v", cli, args, err)
	}
	return 0, string(out)
}

const stringNamedCheckConfig = `
terraform {
  required_providers {
    failover = { source = "hatopo/failover" }
  }
}

resource "failover_health_check" "web" {
  name    = "order-web"
  site    = "dc1"
  type    = "tcp"
  address = "127.0.0.1:9"
}

# Named by plain string: nothing orders the two resources.
resource "failover_traffic_policy" "p" {
  name          = "order"
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = ["192.0.2.10"], health_checks = ["order-web"], priority = 1 }
  }
}
`

// Item 1: a policy naming a check by string, planned in the same run, used
// to fail about 1 apply in 6 ("inconsistent final plan") and every destroy
// (409 Still Referenced), depending on which resource went first. Repeated
// so that an ordering bug cannot pass by luck.
func TestStringNamedCheckOrdering(t *testing.T) {
	runs := 20
	if testing.Short() {
		runs = 3
	}
	for name, cli := range regressionCLIs(t) {
		t.Run(name, func(t *testing.T) {
			f := startFailoverd(t)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(stringNamedCheckConfig), 0o600); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			warned := 0
			for i := 1; i <= runs; i++ {
				code, out := runCLI(t, cli, dir, f, "apply", "-auto-approve", "-no-color")
				if code != 0 {
					t.Fatalf("run %d: apply exited %d:\n%s", i, code, out)
				}
				if strings.Contains(strings.Join(strings.Fields(out), " "), "Health Check Named But Not Referenced") {
					warned++
				}
				var p struct {
					WorstCaseFailoverSeconds float64 `json:"worst_case_failover_seconds"`
				}
				if _, err := f.api("GET", "/v1/traffic-policies/order", nil, &p); err != nil || p.WorstCaseFailoverSeconds != 62 {
					t.Fatalf("run %d: policy after apply: %+v, %v (want worst case 3 × 10 + 2 + 30 = 62)", i, p, err)
				}
				if code, out := runCLI(t, cli, dir, f, "destroy", "-auto-approve", "-no-color"); code != 0 {
					t.Fatalf("run %d: destroy exited %d:\n%s", i, code, out)
				}
				if code, _ := f.api("GET", "/v1/health-checks/order-web", nil, nil); code != 404 {
					t.Fatalf("run %d: the check survived the destroy (GET %d)", i, code)
				}
			}
			// Whether a plan warns depends on the order the CLI happens to
			// plan the two resources in (TestStringNamedCheckWarning forces
			// it): counted here, asserted there.
			t.Logf("%d apply+destroy cycles in %s; the plan warned in %d", runs, time.Since(start).Round(time.Second), warned)

			// The referenced form never warns.
			ref := strings.Replace(stringNamedCheckConfig, `["order-web"]`, `[failover_health_check.web.name]`, 1)
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(ref), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out := runCLI(t, cli, dir, f, "apply", "-auto-approve", "-no-color")
			if code != 0 {
				t.Fatalf("referenced: apply exited %d:\n%s", code, out)
			}
			if strings.Contains(strings.Join(strings.Fields(out), " "), "Named But Not Referenced") {
				t.Errorf("a policy that references its check is warned as naming it by string:\n%s", out)
			}
			if code, out := runCLI(t, cli, dir, f, "destroy", "-auto-approve", "-no-color"); code != 0 {
				t.Fatalf("referenced: destroy exited %d:\n%s", code, out)
			}
		})
	}
}

// A policy planned before the check it names by plain string is warned to
// reference the check instead. depends_on on the check forces that order
// (and makes the check's plan wait for the policy's), so the policy never
// sees the check planned: "Not Found At Plan Time", with the advice. When the
// CLI plans both at once and the policy goes first, it sees the check's plan
// arrive and says "Named But Not Referenced" (counted by
// TestStringNamedCheckOrdering); a check planned first cannot be told apart
// from a reference, so that case is not warned.
func TestStringNamedCheckWarning(t *testing.T) {
	forced := strings.Replace(stringNamedCheckConfig, `  address = "127.0.0.1:9"
}`, `  address = "127.0.0.1:9"

  depends_on = [failover_traffic_policy.p] # plan the policy first
}`, 1)
	if forced == stringNamedCheckConfig {
		t.Fatal("the configuration to force the order was not built")
	}
	for name, cli := range regressionCLIs(t) {
		t.Run(name, func(t *testing.T) {
			f := startFailoverd(t)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(forced), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out := runCLI(t, cli, dir, f, "plan", "-no-color")
			if code != 0 {
				t.Fatalf("plan exited %d:\n%s", code, out)
			}
			flat := strings.Join(strings.Fields(out), " ")
			if !strings.Contains(flat, "with failover_traffic_policy.p") || !strings.Contains(flat, `"order-web"`) ||
				!strings.Contains(flat, "failover_health_check.<name>.name") {
				t.Errorf("the plan does not advise referencing the check \"order-web\" the policy names by string:\n%s", out)
			}
		})
	}
}

const refreshOnlyConfig = `
terraform {
  required_providers {
    failover = { source = "hatopo/failover" }
  }
}

resource "failover_health_check" "web" {
  name             = "ro-web"
  site             = "dc1"
  type             = "http"
  address          = "127.0.0.1:9"
  interval_seconds = 5
  timeout_seconds  = 0.5
}

resource "failover_burst_toggle" "b" {
  name = "ro-b"
  site = "dc2"
}

resource "failover_replica_set" "rs" {
  name = "ro"
  members = {
    a = { host = "a.example.org:27017", site = "dc1", priority = 2 }
    b = { host = "b.example.org:27017", site = "dc2" }
    c = { host = "c.example.net:27017", site = "dc3", arbiter = true }
  }
}

resource "failover_traffic_policy" "p" {
  name          = "ro"
  mode          = "active-passive"
  when_all_down = "fail_closed"
  burst_toggle  = failover_burst_toggle.b.name
  replica_set   = failover_replica_set.rs.name
  targets = {
    dc1 = { site = "dc1", addresses = ["192.0.2.10"], health_checks = [failover_health_check.web.name], priority = 1 }
    dr  = { site = "dc2", addresses = ["192.0.2.11"], health_checks = [failover_health_check.web.name], burst_only = true }
  }
}
`

// Item 3: a drift check (`plan -refresh-only -detailed-exitcode`) exits 0
// right after an apply, on every CLI (Terraform 1.11 used to exit 2 while
// printing "No changes"), and 2 once something changed outside Terraform.
func TestRefreshOnlyDetailedExitCode(t *testing.T) {
	for name, cli := range regressionCLIs(t) {
		t.Run(name, func(t *testing.T) {
			f := startFailoverd(t)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(refreshOnlyConfig), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, out := runCLI(t, cli, dir, f, "apply", "-auto-approve", "-no-color"); code != 0 {
				t.Fatalf("apply exited %d:\n%s", code, out)
			}
			defer runCLI(t, cli, dir, f, "destroy", "-auto-approve", "-no-color")
			if code, out := runCLI(t, cli, dir, f, "plan", "-refresh-only", "-detailed-exitcode", "-no-color"); code != 0 {
				t.Fatalf("refresh-only plan right after apply exited %d, want 0:\n%s", code, out)
			}
			if code, out := runCLI(t, cli, dir, f, "plan", "-detailed-exitcode", "-no-color"); code != 0 {
				t.Fatalf("plan right after apply exited %d, want 0:\n%s", code, out)
			}
			// An operator engages the toggle: that is drift (Terraform
			// reports it with 2; OpenTofu's refresh-only mode never exits 2,
			// opentofu/opentofu#3107, so it only has to say so).
			if _, err := f.api("PATCH", "/v1/burst-toggles/ro-b", map[string]bool{"engaged": true}, nil); err != nil {
				t.Fatal(err)
			}
			code, out := runCLI(t, cli, dir, f, "plan", "-refresh-only", "-detailed-exitcode", "-no-color")
			if !strings.Contains(out, "changed outside of") || (strings.HasPrefix(name, "terraform") && code != 2) || code == 1 {
				t.Fatalf("refresh-only plan after an out-of-band flip exited %d:\n%s", code, out)
			}
		})
	}
}

// Item 8: a burst window entirely in the past plans with a warning.
func TestPastBurstWindowWarns(t *testing.T) {
	for name, cli := range regressionCLIs(t) {
		t.Run(name, func(t *testing.T) {
			f := startFailoverd(t)
			dir := t.TempDir()
			cfg := `
terraform {
  required_providers {
    failover = { source = "hatopo/failover" }
  }
}

resource "failover_burst_toggle" "bf" {
  name     = "past"
  site     = "dr"
  schedule = [{ start = "2025-11-28T00:00:00Z", end = "2025-12-01T06:00:00Z" }]
}
`
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out := runCLI(t, cli, dir, f, "plan", "-no-color")
			flat := strings.Join(strings.Fields(out), " ")
			if code != 0 || !strings.Contains(flat, "Warning") || !strings.Contains(flat, "is in the past") || !strings.Contains(flat, "never engages again") {
				t.Fatalf("plan exited %d without the past-window warning:\n%s", code, out)
			}
		})
	}
}

// moduleRoot writes a root configuration next to a copy of modules/ (so
// `source = "../modules/…"` resolves) and returns its directory.
func moduleRoot(t *testing.T, config string) string {
	t.Helper()
	dst := t.TempDir()
	if err := copyTree(filepath.Join(repoRoot, "modules"), filepath.Join(dst, "modules")); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dst, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return root
}

// apSites is an active-passive `sites` value whose endpoints probe addr.
func apSites(addr, arbiterRole string) string {
	return fmt.Sprintf(`{
    dc1  = { kind = "onprem", region = "chicago", role = "primary", zones = { a = { endpoints = { web = { health_check_address = %[1]q, addresses = ["192.0.2.11"] } }, database_hosts = ["db-1.example.org:27017"] } } }
    use1 = { kind = "aws", region = "us-east-1", role = "secondary", zones = { a = { endpoints = { web = { health_check_address = %[1]q, addresses = ["198.51.100.11"] } }, database_hosts = ["db-2.example.org:27017"] } } }
    arb  = { kind = "gcp", region = "us-central1", role = %[2]q, zones = { a = { database_hosts = ["arb.example.org:27017"] } } }
  }`, addr, arbiterRole)
}

// Item 2: data sources fed from module outputs used to fail the first plan
// with "Not Found": the outputs were names known at plan time, so Terraform
// read the data sources before the objects existed (it waits only for
// resources a data source references directly). The modules' outputs are
// now known once the objects exist, and the first apply reads them after
// the create.
func TestDataSourcesFromModuleOutputs(t *testing.T) {
	for name, cli := range regressionCLIs(t) {
		t.Run(name, func(t *testing.T) {
			f := startFailoverd(t)
			web := startBackend(t, "dc1")
			dir := moduleRoot(t, `
terraform {
  required_providers {
    failover = { source = "hatopo/failover" }
  }
}

module "ap" {
  source                 = "../modules/active-passive"
  name                   = "dsmod"
  sites                  = `+apSites(web.Addr, "arbiter")+`
  database_health_checks = true
  burst                  = {}
}

data "failover_traffic_decision" "now" {
  name = module.ap.policy_name
}

data "failover_replica_set_status" "db" {
  name = module.ap.replica_set_name
}

data "failover_health_check_status" "web" {
  for_each = module.ap.health_checks["dc1"]
  name     = each.value.id
}

output "serving" {
  value = [for s in data.failover_traffic_decision.now.serving : s.target]
}

output "members_up" {
  value = data.failover_replica_set_status.db.members_up
}

output "check_names" {
  value = [for s in data.failover_health_check_status.web : s.name]
}
`)
			if code, out := runCLI(t, cli, dir, f, "get", "-no-color"); code != 0 {
				t.Fatalf("get exited %d:\n%s", code, out)
			}
			defer func() {
				if code, out := runCLI(t, cli, dir, f, "destroy", "-auto-approve", "-no-color"); code != 0 {
					t.Errorf("destroy exited %d:\n%s", code, out)
				}
			}()
			code, out := runCLI(t, cli, dir, f, "apply", "-auto-approve", "-no-color")
			if code != 0 {
				t.Fatalf("first apply exited %d (the data sources must wait for the module's objects):\n%s", code, out)
			}
			for _, want := range []string{"serving = [", "members_up = ", `"dsmod-dc1-a-web"`} {
				if !strings.Contains(out, want) {
					t.Errorf("first apply's outputs lack %s:\n%s", want, out)
				}
			}
			// The next run reads them at plan time, now that they exist.
			if code, out := runCLI(t, cli, dir, f, "apply", "-auto-approve", "-no-color"); code != 0 {
				t.Fatalf("second apply exited %d:\n%s", code, out)
			}
		})
	}
}

// Item 7: a module's validation names the site, zone or endpoint at fault,
// once per mistake: a misspelt role is not reported again as a missing
// arbiter or as an arbiter with no endpoints.
func TestModuleErrorsNameTheSite(t *testing.T) {
	for name, cli := range regressionCLIs(t) {
		t.Run(name, func(t *testing.T) {
			dir := moduleRoot(t, `
module "ap" {
  source = "../modules/active-passive"
  name   = "payments"
  sites  = `+strings.Replace(apSites("127.0.0.1:18101", "arbitre"), `health_check_address = "127.0.0.1:18101", addresses = ["198.51.100.11"]`, `health_check_address = "127.0.0.1", addresses = ["198.51.100.11"]`, 1)+`
}
`)
			f := &failoverd{URL: "http://127.0.0.1:9", Token: "unused"} // never reached: the plan fails first
			if code, out := runCLI(t, cli, dir, f, "get", "-no-color"); code != 0 {
				t.Fatalf("get exited %d:\n%s", code, out)
			}
			code, out := runCLI(t, cli, dir, f, "plan", "-no-color")
			flat := strings.Join(strings.Fields(out), " ")
			if code != 1 {
				t.Fatalf("plan exited %d, want 1:\n%s", code, out)
			}
			role := `sites["arb"].role is "arbitre": set "primary", "secondary" or "arbiter".`
			addr := `sites["use1"].zones["a"].endpoints["web"].health_check_address is "127.0.0.1": write host:port`
			// Terraform reports every failed rule of a variable; OpenTofu
			// stops at the first (the role, declared first).
			wants := []string{role, addr}
			if strings.HasPrefix(name, "tofu") {
				wants = wants[:1]
			}
			for _, want := range wants {
				if !strings.Contains(flat, want) {
					t.Errorf("plan output lacks %q:\n%s", want, out)
				}
			}
			if n := strings.Count(out, "Error: Invalid value for variable"); n != len(wants) {
				t.Errorf("%d errors, want %d: a misspelt role must not cascade into a missing arbiter:\n%s", n, len(wants), out)
			}
			for _, cascade := range []string{"needs exactly one site with role", "is the arbiter site"} {
				if strings.Contains(flat, cascade) {
					t.Errorf("the misspelt role cascaded (%q):\n%s", cascade, out)
				}
			}
		})
	}
}
