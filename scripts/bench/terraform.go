package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// benchTerraform is P4: `terraform apply` of n failover_health_check
// resources against a real failoverd, against the same count of the
// built-in terraform_data on the same CLI, plus the no-change plan.
func benchTerraform(ctx context.Context, e env, tfBin string, n int) []row {
	tfBin, err := filepath.Abs(tfBin)
	if err != nil {
		fatal(err)
	}
	if _, err := os.Stat(tfBin); err != nil {
		fatal(fmt.Errorf("P4 needs a Terraform CLI at %s: run make tools", tfBin))
	}
	providerDir, err := filepath.Abs(e.bin)
	if err != nil {
		fatal(err)
	}
	fd, err := e.start(ctx, "p4")
	if err != nil {
		fatal(err)
	}
	defer fd.Stop()
	backend, err := launch.StartBackend(filepath.Join(e.bin, "standin"), "p4", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer backend.Stop()

	rc := filepath.Join(e.dir, "p4.tfrc")
	os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"hatopo/failover\" = %q\n  }\n  direct {}\n}\n", providerDir)), 0o600)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "FAILOVER_ENDPOINT="+fd.URL, "FAILOVER_TOKEN="+e.token,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")

	checks := fmt.Sprintf(`terraform {
  required_providers {
    failover = { source = "hatopo/failover" }
  }
}

resource "failover_health_check" "c" {
  count            = %d
  name             = "bench-${count.index}"
  site             = "dc1"
  type             = "http"
  address          = %q
  interval_seconds = 60
}
`, n, backend.Addr)
	data := fmt.Sprintf(`resource "terraform_data" "d" {
  count = %d
  input = {
    name             = "bench-${count.index}"
    site             = "dc1"
    address          = %q
    interval_seconds = 60
  }
}
`, n, backend.Addr)

	// run runs one CLI command in the directory of name; a plan must find
	// no changes. runIn does so in another directory's configuration and
	// state, with other environment variables.
	var runIn func(dirName, name string, env []string, args ...string) time.Duration
	run := func(name string, args ...string) time.Duration {
		return runIn(name, name, env, args...)
	}
	runIn = func(dirName, name string, env []string, args ...string) time.Duration {
		dir := filepath.Join(e.dir, "p4-"+dirName)
		cmd := exec.CommandContext(ctx, tfBin, args...)
		cmd.Dir, cmd.Env = dir, env
		// Output to a file, not a pipe: a provider process that
		// outlives the CLI for a moment must not count as CLI time.
		logf, err := os.CreateTemp(dir, "out-*.log")
		if err != nil {
			fatal(err)
		}
		defer logf.Close()
		cmd.Stdout, cmd.Stderr = logf, logf
		t0 := time.Now()
		err = cmd.Run()
		d := time.Since(t0)
		out, _ := os.ReadFile(logf.Name())
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			fatal(err)
		}
		if args[0] == "plan" && code == 2 {
			fatal(fmt.Errorf("P4 %s: the plan after apply is not empty:\n%s", name, out))
		}
		if code != 0 {
			fatal(fmt.Errorf("terraform %s (%s): exit %d\n%s", args[0], name, code, out))
		}
		return d
	}
	setup := func(name, config string, init bool) time.Duration {
		dir := filepath.Join(e.dir, "p4-"+name)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644)
		if init {
			run(name, "init", "-input=false", "-no-color")
		}
		apply := run(name, "apply", "-auto-approve", "-input=false", "-no-color")
		fmt.Printf("P4 %s ×%d: apply %.1fs\n", name, n, apply.Seconds())
		return apply
	}
	const hc, td = "failover_health_check", "terraform_data"
	fa := setup(hc, checks, false)
	da := setup(td, data, true)
	// The floor: the same plan of the same checks with a provider built to
	// do no work (provider/floor_p4.go): what Terraform itself spends on a
	// resource of this schema. No provider can plan faster.
	floorDir := filepath.Join(e.dir, "p4-floor-provider")
	build := exec.CommandContext(ctx, "go", "build", "-tags", "p4floor", "-o", filepath.Join(floorDir, "terraform-provider-failover"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		fatal(fmt.Errorf("building the P4 floor provider: %v\n%s", err, out))
	}
	floorRC := filepath.Join(e.dir, "p4-floor.tfrc")
	os.WriteFile(floorRC, []byte(fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"hatopo/failover\" = %q\n  }\n  direct {}\n}\n", floorDir)), 0o600)
	floorEnv := append(append([]string(nil), env...), "TF_CLI_CONFIG_FILE="+floorRC) // the last one wins

	// The no-change plans alternate, so all three see about the same
	// machine load; the median of three of each is reported.
	var fps, lps, dps []time.Duration
	plan := []string{"plan", "-detailed-exitcode", "-input=false", "-no-color"}
	for i := 0; i < 3; i++ {
		fps = append(fps, run(hc, plan...))
		lps = append(lps, runIn(hc, hc+" (floor provider)", floorEnv, plan...))
		dps = append(dps, run(td, plan...))
		fmt.Printf("P4 no-change plan, round %d: %s %.1fs, with the floor provider %.1fs, %s %.1fs\n", i+1, hc, fps[i].Seconds(), lps[i].Seconds(), td, dps[i].Seconds())
	}
	fp, lp, dp := medianDuration(fps), medianDuration(lps), medianDuration(dps)
	ratio, planRatio := fa.Seconds()/da.Seconds(), fp.Seconds()/dp.Seconds()
	version, _ := exec.Command(tfBin, "version").Output()
	cli := firstLine(string(version))
	return []row{{
		id:      "P4",
		measure: fmt.Sprintf("apply %d health checks vs %d terraform_data (%s); no-change plan", n, n, cli),
		result: fmt.Sprintf("apply %.1fs vs %.1fs (×%.2f); plan %.1fs vs %.1fs (×%.2f)",
			fa.Seconds(), da.Seconds(), ratio, fp.Seconds(), dp.Seconds(), planRatio),
		goal:    "each ≤ 1.5 × terraform_data",
		verdict: verdict(ratio <= 1.5 && planRatio <= 1.5),
	}, {
		id:      "P4 floor",
		measure: fmt.Sprintf("the same no-change plan with a provider that does no work (go build -tags p4floor): Terraform's own cost for %d resources of this schema", n),
		result:  fmt.Sprintf("plan %.1fs vs %.1fs (×%.2f)", lp.Seconds(), dp.Seconds(), lp.Seconds()/dp.Seconds()),
		goal:    "the lowest ratio any provider can reach",
		verdict: "(reference)",
	}}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	return s[len(s)/2]
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
