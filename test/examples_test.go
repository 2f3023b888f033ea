package test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/gruntwork-io/terratest/modules/terraform"
)

// endpoint is one "<site>/<zone>/<endpoint>" of an example's tfvars with
// the client addresses DNS answers for it.
type endpoint struct {
	key       string
	addresses []string
}

func (e endpoint) site() string { return strings.SplitN(e.key, "/", 2)[0] }

func (e endpoint) zone() string { return strings.SplitN(e.key, "/", 3)[1] }

type exampleSpec struct {
	example string
	// endpoints per environment, as in env/<env>.tfvars.
	endpoints           map[string][]endpoint
	primary             string // the site that serves while healthy
	secondary           string // where active-passive traffic goes when it fails
	arbiter             string
	activeActive, burst bool
	// azLoss: before the whole primary site, lose one of its zones; the
	// decision must stay and the answer lose only that zone's addresses.
	azLoss bool
}

var hybrid = exampleSpec{
	example: "hybrid-active-passive", primary: "chicago-dc", secondary: "aws-use1", arbiter: "azure-scus", azLoss: true,
	endpoints: map[string][]endpoint{
		"dev": {
			{"chicago-dc/hall-a/web", []string{"192.0.2.11"}},
			{"chicago-dc/hall-b/web", []string{"192.0.2.12"}},
			{"aws-use1/us-east-1a/web", []string{"198.51.100.11"}},
			{"aws-use1/us-east-1b/web", []string{"198.51.100.12"}},
		},
		"prod": {
			{"chicago-dc/hall-a/web", []string{"192.0.2.21"}},
			{"chicago-dc/hall-a/api", []string{"192.0.2.22"}},
			{"chicago-dc/hall-b/web", []string{"192.0.2.23"}},
			{"chicago-dc/hall-b/api", []string{"192.0.2.24"}},
			{"aws-use1/us-east-1a/web", []string{"198.51.100.21"}},
			{"aws-use1/us-east-1b/web", []string{"198.51.100.22"}},
			{"aws-use1/us-east-1c/web", []string{"198.51.100.23"}},
		},
	},
}

var burstableDR = exampleSpec{
	example: "burstable-dr", primary: "nj-dc", secondary: "aws-use2", arbiter: "gcp-usc1", burst: true,
	endpoints: map[string][]endpoint{
		"dev": {
			{"nj-dc/row-1/web", []string{"192.0.2.31"}},
			{"nj-dc/row-2/web", []string{"192.0.2.32"}},
			{"aws-use2/us-east-2a/web", []string{"198.51.100.31"}},
			{"aws-use2/us-east-2b/web", []string{"198.51.100.32"}},
		},
		"prod": {
			{"nj-dc/row-1/web", []string{"192.0.2.41", "192.0.2.42"}},
			{"nj-dc/row-2/web", []string{"192.0.2.43", "192.0.2.44"}},
			{"aws-use2/us-east-2a/web", []string{"198.51.100.41"}},
			{"aws-use2/us-east-2b/web", []string{"198.51.100.42"}},
			{"aws-use2/us-east-2c/web", []string{"198.51.100.43"}},
		},
	},
}

var activeActive = exampleSpec{
	example: "active-active", primary: "aws-use1", activeActive: true,
	endpoints: map[string][]endpoint{
		"dev": {
			{"aws-use1/us-east-1a/lb", []string{"192.0.2.51"}},
			{"aws-usw2/us-west-2a/lb", []string{"198.51.100.51"}},
			{"gcp-euw1/europe-west1-b/lb", []string{"203.0.113.51"}},
		},
		"prod": {
			{"aws-use1/us-east-1a/lb", []string{"192.0.2.61"}},
			{"aws-use1/us-east-1b/lb", []string{"192.0.2.62"}},
			{"aws-use1/us-east-1c/lb", []string{"192.0.2.63"}},
			{"aws-usw2/us-west-2a/lb", []string{"198.51.100.61"}},
			{"aws-usw2/us-west-2b/lb", []string{"198.51.100.62"}},
			{"gcp-euw1/europe-west1-b/lb", []string{"203.0.113.61"}},
			{"gcp-euw1/europe-west1-c/lb", []string{"203.0.113.62"}},
		},
	},
}

func TestHybridActivePassive(t *testing.T) { runExample(t, hybrid) }
func TestBurstableDR(t *testing.T)         { runExample(t, burstableDR) }
func TestActiveActive(t *testing.T)        { runExample(t, activeActive) }

// runExample runs the lifecycle for every environment on both CLIs, each
// run with its own failoverd and backends.
func runExample(t *testing.T, spec exampleSpec) {
	t.Parallel()
	for _, env := range []string{"dev", "prod"} {
		for _, cli := range []string{terraformCL, tofuCLI} {
			t.Run(env+"/"+filepath.Base(cli), func(t *testing.T) {
				t.Parallel()
				exampleLifecycle(t, cli, spec, env)
			})
		}
	}
}

// exampleLifecycle applies one example for one environment against its own
// failoverd and stand-in backends, checks the outputs and the live
// behaviour, fails the primary site and checks the failover, then destroys.
func exampleLifecycle(t *testing.T, cli string, spec exampleSpec, env string) {
	f := startFailoverd(t)
	overrides := map[string]string{}
	backends := map[string][]*backend{} // by site
	byKey := map[string]*backend{}
	for _, e := range spec.endpoints[env] {
		b := startBackend(t, e.site())
		overrides[e.key] = b.Addr
		backends[e.site()] = append(backends[e.site()], b)
		byKey[e.key] = b
	}
	vars := map[string]any{"health_check_addresses": overrides}
	if spec.burst {
		vars["burst_schedule"] = []any{} // the toggle is flipped by hand below
	}
	opts := tfOptions(cli, copyConfig(t, spec.example), env, f, vars)

	terraform.RunTerraformCommand(t, opts, "get")
	defer terraform.Destroy(t, opts)
	terraform.Apply(t, opts)

	out := terraform.OutputAll(t, opts)
	fqdn, _ := out["fqdn"].(string)
	policy, _ := out["policy_name"].(string)
	if fqdn == "" || policy == "" {
		t.Fatalf("fqdn %q, policy_name %q: both must be set", fqdn, policy)
	}
	assertInvariants(t, out, spec, rtoSeconds(t, opts))

	addrsOf := func(sites ...string) []string {
		var a []string
		for _, e := range spec.endpoints[env] {
			if slices.Contains(sites, e.site()) {
				a = append(a, e.addresses...)
			}
		}
		sort.Strings(a)
		return a
	}
	var others []string
	for s := range backends {
		if s != spec.primary {
			others = append(others, s)
		}
	}

	// Health checks need `rise` successes before a site serves, and a
	// failover needs detection + delay: bound every wait by the worst case
	// the module computed (plus slack for the first probes).
	worst := toFloat(out["worst_case_failover_seconds"])
	tries := int((worst+15)*2) + 1

	// Serving: the primary (active-passive) or every site (active-active).
	want := addrsOf(spec.primary)
	if spec.activeActive {
		want = addrsOf(append(others, spec.primary)...)
	}
	waitServing(t, f, policy, fqdn, want, spec.activeActive, tries)

	if spec.burst {
		checkBurst(t, f, out)
	}

	if spec.azLoss {
		// Lose one AZ of the primary site (its first zone): the site keeps
		// serving, and the answer loses only that zone's addresses.
		var zone string
		var keep []string
		for _, e := range spec.endpoints[env] {
			if e.site() != spec.primary {
				continue
			}
			if zone == "" {
				zone = e.zone()
			}
			if e.zone() == zone {
				byKey[e.key].stop()
			} else {
				keep = append(keep, e.addresses...)
			}
		}
		sort.Strings(keep)
		waitServing(t, f, policy, fqdn, keep, false, tries)
		d, err := f.decision(policy)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Serving) != 1 || d.Serving[0].Target != spec.primary {
			t.Errorf("after losing zone %s of %s the decision serves %+v, want still %s", zone, spec.primary, d.Serving, spec.primary)
		}
		if want := fmt.Sprintf("endpoint %q down", zone); !strings.Contains(d.Reason, want) || !strings.Contains(d.Reason, "so the site keeps serving") {
			t.Errorf("reason %q: want it to name the lost zone (%s) and say the site keeps serving", d.Reason, want)
		}
	}

	// Lose the primary site: every one of its backends stops answering.
	for _, b := range backends[spec.primary] {
		b.stop()
	}
	want = addrsOf(spec.secondary)
	if spec.activeActive {
		want = addrsOf(others...)
	}
	waitServing(t, f, policy, fqdn, want, spec.activeActive, tries)

	// The live state change is not drift: the configuration still matches.
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Errorf("plan after the failover: exit code %d, want 0 (no changes)", code)
	}
}

// waitServing retries until the decision serves exactly the sites whose
// client addresses are want and failoverd's DNS answers the fqdn with them
// (with some of them, for a weighted policy).
func waitServing(t *testing.T, f *failoverd, policy, fqdn string, want []string, weighted bool, tries int) {
	t.Helper()
	retry.DoWithRetry(t, fmt.Sprintf("%s serves %v", policy, want), tries, 500*time.Millisecond, func() (string, error) {
		d, err := f.decision(policy)
		if err != nil {
			return "", err
		}
		var got []string
		for _, s := range d.Serving {
			got = append(got, s.Addresses...)
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			return "", fmt.Errorf("decision serves %v (%s), want %v", got, d.Reason, want)
		}
		// Active-passive answers with the serving site's addresses; a
		// weighted (active-active) policy picks one target per answer, so
		// there every answer must come from the serving set. Ask a few
		// times so that a stale target would show.
		for range 5 {
			ans, err := f.resolveA(fqdn)
			if err != nil {
				return "", err
			}
			sort.Strings(ans)
			if weighted {
				if len(ans) == 0 || slices.ContainsFunc(ans, func(a string) bool { return !slices.Contains(want, a) }) {
					return "", fmt.Errorf("DNS answers %s with %v, want a non-empty subset of %v", fqdn, ans, want)
				}
			} else if !slices.Equal(ans, want) {
				return "", fmt.Errorf("DNS answers %s with %v, want %v", fqdn, ans, want)
			}
		}
		return "", nil
	})
}

// checkBurst flips the burst toggle through the API and watches the load
// balancer's health-check URL follow it.
func checkBurst(t *testing.T, f *failoverd, out map[string]any) {
	t.Helper()
	url, _ := out["lb_health_check_url"].(string)
	toggle, _ := out["burst_toggle_name"].(string)
	if url == "" || toggle == "" {
		t.Fatalf("lb_health_check_url %q, burst_toggle_name %q: both must be set", url, toggle)
	}
	get := func() (int, string, error) {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, strings.TrimSpace(string(b)), nil
	}
	expect := func(code int, body string) {
		t.Helper()
		retry.DoWithRetry(t, fmt.Sprintf("GET %s = %d %q", url, code, body), 20, 250*time.Millisecond, func() (string, error) {
			c, b, err := get()
			if err != nil {
				return "", err
			}
			if c != code || (body != "" && b != body) {
				return "", fmt.Errorf("GET %s: %d %q, want %d %q", url, c, b, code, body)
			}
			return "", nil
		})
	}
	expect(http.StatusServiceUnavailable, "")
	if _, err := f.api(http.MethodPatch, "/v1/burst-toggles/"+toggle, map[string]any{"engaged": true}, nil); err != nil {
		t.Fatal(err)
	}
	expect(http.StatusOK, "burst")
	// Release again so that the state matches the configuration.
	if _, err := f.api(http.MethodPatch, "/v1/burst-toggles/"+toggle, map[string]any{"engaged": false}, nil); err != nil {
		t.Fatal(err)
	}
	expect(http.StatusServiceUnavailable, "")
}

// assertInvariants checks the outputs every topology must satisfy: the
// voting majority survives the loss of any one site, the arbiter (where
// there is one: active-active has three data sites) is alone in its site,
// the worst-case failover fits the RTO.
func assertInvariants(t *testing.T, out map[string]any, spec exampleSpec, rto float64) {
	t.Helper()
	loss, ok := out["site_loss"].(map[string]any)
	if !ok || len(loss) < 3 {
		t.Errorf("site_loss = %#v: want one entry per site (at least 3)", out["site_loss"])
	}
	for site, v := range loss {
		row, _ := v.(map[string]any)
		if row["survives"] != true {
			t.Errorf("site_loss[%s] = %v: the replica set must survive losing any one site", site, v)
		}
	}
	worst := toFloat(out["worst_case_failover_seconds"])
	if worst <= 0 {
		t.Errorf("worst_case_failover_seconds = %v", out["worst_case_failover_seconds"])
	}
	if rto <= 0 {
		t.Errorf("no rto_seconds in the tfvars: every environment sets one")
	} else if worst > rto {
		t.Errorf("worst case failover %vs exceeds the RTO %vs", worst, rto)
	}
	if spec.arbiter != "" {
		if got := out["arbiter_site"]; got != spec.arbiter {
			t.Errorf("arbiter_site = %v, want %s", got, spec.arbiter)
		}
		assertArbiterAlone(t, out)
	}
	if spec.primary != "" {
		if got := out["primary_site"]; got != spec.primary {
			t.Errorf("primary_site = %v, want %s", got, spec.primary)
		}
	}
}

// assertArbiterAlone: the arbiter's site holds no other member, and no
// data member shares a site with an arbiter.
func assertArbiterAlone(t *testing.T, out map[string]any) {
	t.Helper()
	members, ok := out["replica_set_members"].([]any)
	if !ok {
		if m, ok2 := out["replica_set_members"].(map[string]any); ok2 {
			for _, v := range m {
				members = append(members, v)
			}
		} else {
			t.Errorf("replica_set_members = %#v: want a list or map of members", out["replica_set_members"])
			return
		}
	}
	arbiterSites := map[string]int{}
	dataSites := map[string]int{}
	for _, m := range members {
		mm, _ := m.(map[string]any)
		site, _ := mm["site"].(string)
		if mm["arbiter"] == true {
			arbiterSites[site]++
		} else {
			dataSites[site]++
		}
	}
	if len(arbiterSites) == 0 {
		t.Errorf("replica_set_members has no arbiter: %v", members)
	}
	for s, n := range arbiterSites {
		if n != 1 || dataSites[s] != 0 {
			t.Errorf("site %s holds %d arbiter(s) and %d data member(s): the arbiter must be alone in its site", s, n, dataSites[s])
		}
	}
}

var rtoLine = regexp.MustCompile(`(?m)^rto_seconds\s*=\s*([0-9.]+)`)

// rtoSeconds reads rto_seconds from the options' var files (the examples
// pass it to the module but do not output it).
func rtoSeconds(t *testing.T, opts *terraform.Options) float64 {
	t.Helper()
	var rto float64
	for _, vf := range opts.VarFiles {
		b, err := os.ReadFile(filepath.Join(opts.TerraformDir, vf))
		if err != nil {
			t.Fatal(err)
		}
		if m := rtoLine.FindSubmatch(b); m != nil {
			rto = toFloat(string(m[1]))
		}
	}
	return rto
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case string:
		var f float64
		fmt.Sscan(x, &f)
		return f
	}
	return 0
}
