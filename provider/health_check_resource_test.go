package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

const testAccHealthCheckAddr = "failover_health_check.test"

// testAccHealthCheckConfig is a check on a documentation address with the
// given extra attribute lines.
func testAccHealthCheckConfig(name string, extra ...string) string {
	return fmt.Sprintf(`
resource "failover_health_check" "test" {
  name    = %q
  site    = "dc1"
  type    = "http"
  address = "127.0.0.1:80"
%s
}
`, name, strings.Join(extra, "\n"))
}

// testAccPhraseRE matches phrase in a diagnostic however the CLI wrapped
// its lines.
func testAccPhraseRE(phrase string) *regexp.Regexp {
	return regexp.MustCompile(`(?i)` + strings.Join(strings.Fields(regexp.QuoteMeta(phrase)), `\s+`))
}

func hcAttr(name string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(testAccHealthCheckAddr, tfjsonpath.New(name), v)
}

// A calculated check over two probed checks and an inverted check apply,
// import and plan empty; healthy_when defaults to "all" only on the
// calculated check.
func TestAccHealthCheckResource_calculatedAndInverted(t *testing.T) {
	config := func(rule string) string {
		return fmt.Sprintf(`
resource "failover_health_check" "az1" {
  name    = "hcc-az1"
  site    = "dc1"
  type    = "tcp"
  address = "192.0.2.1:443"
}

resource "failover_health_check" "az2" {
  name    = "hcc-az2"
  site    = "dc1"
  type    = "tcp"
  address = "192.0.2.2:443"
}

resource "failover_health_check" "maintenance" {
  name    = "hcc-maintenance"
  site    = "dc1"
  type    = "http"
  address = "192.0.2.3:80"
  path    = "/maintenance"
  invert  = true
}

resource "failover_health_check" "site" {
  name         = "hcc-site"
  site         = "dc1"
  type         = "calculated"
  child_checks = [failover_health_check.az1.name, failover_health_check.az2.name]
  %s
}
`, rule)
	}
	const site = "failover_health_check.site"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(site, tfjsonpath.New("healthy_when"), knownvalue.StringExact("all")),
					statecheck.ExpectKnownValue(site, tfjsonpath.New("address"), knownvalue.Null()),
					statecheck.ExpectKnownValue(site, tfjsonpath.New("path"), knownvalue.Null()),
					statecheck.ExpectKnownValue(site, tfjsonpath.New("at_least"), knownvalue.Null()),
					statecheck.ExpectKnownValue("failover_health_check.maintenance", tfjsonpath.New("invert"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("failover_health_check.maintenance", tfjsonpath.New("healthy_when"), knownvalue.Null()),
					statecheck.ExpectKnownValue("failover_health_check.az1", tfjsonpath.New("invert"), knownvalue.Bool(false)),
				},
			},
			{ResourceName: site, ImportState: true, ImportStateId: "hcc-site", ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts"}},
			{
				Config: config(`healthy_when = "at_least"
  at_least     = 1`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(site, tfjsonpath.New("healthy_when"), knownvalue.StringExact("at_least")),
					statecheck.ExpectKnownValue(site, tfjsonpath.New("at_least"), knownvalue.Int64Exact(1)),
				},
			},
			{
				Config:      config(`healthy_when = "at_least"`),
				ExpectError: regexp.MustCompile(`at_least`),
			},
		},
	})
}

func TestAccHealthCheckResource_basic(t *testing.T) {
	name := "acc-hc-basic"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccHealthCheckConfig(name),
				ConfigStateChecks: []statecheck.StateCheck{
					hcAttr("id", knownvalue.StringExact(name)),
					hcAttr("name", knownvalue.StringExact(name)),
					hcAttr("site", knownvalue.StringExact("dc1")),
					hcAttr("type", knownvalue.StringExact("http")),
					hcAttr("address", knownvalue.StringExact("127.0.0.1:80")),
					hcAttr("path", knownvalue.StringExact("/")),
					hcAttr("method", knownvalue.StringExact("GET")),
					hcAttr("host_header", knownvalue.Null()),
					hcAttr("headers", knownvalue.Null()),
					hcAttr("expected_status", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("200-399")})),
					hcAttr("body_match", knownvalue.Null()),
					hcAttr("tls", knownvalue.Null()),
					hcAttr("interval_seconds", knownvalue.Float64Exact(10)),
					hcAttr("timeout_seconds", knownvalue.Float64Exact(2)),
					hcAttr("rise", knownvalue.Int64Exact(2)),
					hcAttr("fall", knownvalue.Int64Exact(3)),
					hcAttr("probe_sites", knownvalue.Null()),
					hcAttr("quorum", knownvalue.StringExact("majority")),
					hcAttr("enabled", knownvalue.Bool(true)),
					hcAttr("version", knownvalue.Int64Exact(1)),
				},
			},
			{
				ResourceName:      testAccHealthCheckAddr,
				ImportState:       true,
				ImportStateId:     name,
				ImportStateVerify: true,
			},
			{
				// The same import through an `import {}` block (Terraform ≥ 1.5):
				// the plan imports by name and changes nothing.
				ResourceName:    testAccHealthCheckAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   name,
			},
			{
				// In place: a new interval and a fractional timeout.
				Config: testAccHealthCheckConfig(name, "interval_seconds = 20", "timeout_seconds = 0.3"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccHealthCheckAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					hcAttr("interval_seconds", knownvalue.Float64Exact(20)),
					hcAttr("timeout_seconds", knownvalue.Float64Exact(0.3)),
					hcAttr("version", knownvalue.Int64Exact(2)),
				},
			},
			{
				// A name is an identity: renaming replaces.
				Config: testAccHealthCheckConfig(name+"-renamed", "interval_seconds = 20", "timeout_seconds = 0.3"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccHealthCheckAddr, plancheck.ResourceActionReplace),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					hcAttr("id", knownvalue.StringExact(name+"-renamed")),
					hcAttr("version", knownvalue.Int64Exact(1)),
				},
				Check: func(*terraform.State) error {
					if _, err := client.Get[api.HealthCheck](context.Background(), testFailoverd.client, api.KindHealthCheck, name); !client.IsNotFound(err) {
						return fmt.Errorf("the check under its old name %q still exists after the rename (err %v)", name, err)
					}
					return nil
				},
			},
		},
	})
}

// Every optional attribute set, then all removed again: both directions
// must round-trip without a diff, and import must reproduce them.
func TestAccHealthCheckResource_full(t *testing.T) {
	name := "acc-hc-full"
	full := fmt.Sprintf(`
resource "failover_health_check" "test" {
  name             = %q
  site             = "dc2"
  type             = "https"
  address          = "localhost:8443"
  path             = "/healthz?deep=1"
  method           = "HEAD"
  host_header      = "www.example.org"
  headers          = { "X-Probe" = "failover", "Accept" = "text/plain" }
  expected_status  = ["200", "204-206"]
  body_match       = { mode = "exact", value = "" }
  tls              = { server_name = "www.example.org", insecure_skip_verify = true }
  interval_seconds = 5
  timeout_seconds  = 1.5
  rise             = 1
  fall             = 5
  probe_sites      = ["local", "dc3"]
  quorum           = "any"
  enabled          = false
}
`, name)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: full,
				ConfigStateChecks: []statecheck.StateCheck{
					hcAttr("headers", knownvalue.MapExact(map[string]knownvalue.Check{
						"X-Probe": knownvalue.StringExact("failover"), "Accept": knownvalue.StringExact("text/plain")})),
					hcAttr("expected_status", knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("200"), knownvalue.StringExact("204-206")})),
					hcAttr("body_match", knownvalue.ObjectExact(map[string]knownvalue.Check{
						"mode": knownvalue.StringExact("exact"), "value": knownvalue.StringExact("")})),
					hcAttr("tls", knownvalue.ObjectExact(map[string]knownvalue.Check{
						"server_name":          knownvalue.StringExact("www.example.org"),
						"ca_cert_pem":          knownvalue.Null(),
						"insecure_skip_verify": knownvalue.Bool(true)})),
					hcAttr("timeout_seconds", knownvalue.Float64Exact(1.5)),
					hcAttr("probe_sites", knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact("dc3"), knownvalue.StringExact("local")})),
					hcAttr("quorum", knownvalue.StringExact("any")),
					hcAttr("enabled", knownvalue.Bool(false)),
				},
				// HEAD with a body match warns, it does not fail.
			},
			{
				ResourceName:      testAccHealthCheckAddr,
				ImportState:       true,
				ImportStateId:     name,
				ImportStateVerify: true,
			},
			{
				// Explicitly empty collections stay empty, not null.
				Config: testAccHealthCheckConfig(name, "headers = {}", "probe_sites = []", `host_header = ""`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccHealthCheckAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					hcAttr("headers", knownvalue.MapExact(map[string]knownvalue.Check{})),
					hcAttr("probe_sites", knownvalue.SetExact([]knownvalue.Check{})),
					hcAttr("host_header", knownvalue.StringExact("")),
					hcAttr("body_match", knownvalue.Null()),
					hcAttr("tls", knownvalue.Null()),
					hcAttr("path", knownvalue.StringExact("/")),
					hcAttr("enabled", knownvalue.Bool(true)),
				},
			},
			{
				Config: testAccHealthCheckConfig(name),
				ConfigStateChecks: []statecheck.StateCheck{
					hcAttr("headers", knownvalue.Null()),
					hcAttr("probe_sites", knownvalue.Null()),
					hcAttr("host_header", knownvalue.Null()),
				},
			},
		},
	})
}

func TestAccHealthCheckResource_drift(t *testing.T) {
	name := "acc-hc-drift"
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: testAccHealthCheckConfig(name)},
			{
				// Someone slows the check down behind Terraform's back.
				PreConfig: func() {
					c, err := client.Get[api.HealthCheck](ctx, testFailoverd.client, api.KindHealthCheck, name)
					if err != nil {
						t.Fatal(err)
					}
					c.IntervalSeconds = 30
					if _, err := client.Update(ctx, testFailoverd.client, api.KindHealthCheck, name, c, c.Version); err != nil {
						t.Fatal(err)
					}
				},
				Config:             testAccHealthCheckConfig(name),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// The apply puts the declared interval back.
				Config: testAccHealthCheckConfig(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccHealthCheckAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{hcAttr("interval_seconds", knownvalue.Float64Exact(10))},
			},
			{
				// Someone deletes it: the plan recreates it.
				PreConfig: func() {
					if err := testFailoverd.client.Delete(ctx, api.KindHealthCheck, name, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config:             testAccHealthCheckConfig(name),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: testAccHealthCheckConfig(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccHealthCheckAddr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{hcAttr("version", knownvalue.Int64Exact(1))},
			},
		},
	})
}

// A concurrent edit landing between plan and apply stops the apply (412)
// and survives: Terraform never silently overwrites it.
func TestAccHealthCheckResource_concurrentEdit(t *testing.T) {
	name := "acc-hc-concurrent"
	ctx := context.Background()
	t.Cleanup(func() { testBeforeRequest.Store(nil) })
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: testAccHealthCheckConfig(name)},
			{
				PreConfig: func() {
					var fired atomic.Bool
					hook := func(r *http.Request) {
						if r.Method != http.MethodPut || r.URL.Path != api.ObjectPath(api.KindHealthCheck, name) ||
							!strings.HasPrefix(r.UserAgent(), "terraform-provider-failover/") || !fired.CompareAndSwap(false, true) {
							return
						}
						c, err := client.Get[api.HealthCheck](r.Context(), testFailoverd.client, api.KindHealthCheck, name)
						if err == nil {
							c.Rise = 5
							_, err = client.Update(r.Context(), testFailoverd.client, api.KindHealthCheck, name, c, c.Version)
						}
						if err != nil {
							t.Errorf("concurrent edit: %v", err)
						}
					}
					testBeforeRequest.Store(&hook)
				},
				Config:      testAccHealthCheckConfig(name, "interval_seconds = 20"),
				ExpectError: testAccPhraseRE("Health Check Changed Outside Terraform"),
			},
			{
				PreConfig: func() {
					testBeforeRequest.Store(nil)
					c, err := client.Get[api.HealthCheck](ctx, testFailoverd.client, api.KindHealthCheck, name)
					if err != nil {
						t.Fatal(err)
					}
					if c.Rise != 5 || c.IntervalSeconds != 10 {
						t.Fatalf("after the refused apply: rise = %d, interval = %g; want the concurrent edit (rise 5) kept and Terraform's interval (20) not applied", c.Rise, c.IntervalSeconds)
					}
				},
				Config:             testAccHealthCheckConfig(name, "interval_seconds = 20"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Having seen the change in the plan, the next apply goes
				// through: an informed overwrite.
				Config: testAccHealthCheckConfig(name, "interval_seconds = 20"),
				ConfigStateChecks: []statecheck.StateCheck{
					hcAttr("interval_seconds", knownvalue.Float64Exact(20)),
					hcAttr("rise", knownvalue.Int64Exact(2)),
					hcAttr("version", knownvalue.Int64Exact(3)),
				},
			},
		},
	})
}

// Every rule fails at plan time, with failoverd's own message on the
// attribute at fault.
func TestAccHealthCheckResource_validation(t *testing.T) {
	cases := []struct {
		name   string
		config string
		err    string // a phrase of the message; Terraform may wrap it anywhere
	}{
		{"timeout not below interval", testAccHealthCheckConfig("acc-hc-val", "interval_seconds = 5", "timeout_seconds = 5"), "must be less than interval_seconds"},
		{"default timeout vs interval", testAccHealthCheckConfig("acc-hc-val", "interval_seconds = 1"), "must be less than interval_seconds"},
		{"bad name", testAccHealthCheckConfig("Web_1"), `"Web_1" is not a valid name`},
		{"bad type", strings.Replace(testAccHealthCheckConfig("acc-hc-val"), `"http"`, `"udp"`, 1), `"udp" is not a check type`},
		{"interval below 1", testAccHealthCheckConfig("acc-hc-val", "interval_seconds = 0.5", "timeout_seconds = 0.1"), "must be at least 1 (got 0.5)"},
		{"zero timeout", testAccHealthCheckConfig("acc-hc-val", "timeout_seconds = 0"), "0 is not allowed: omit it for the default 2"},
		{"zero rise", testAccHealthCheckConfig("acc-hc-val", "rise = 0"), "0 is not allowed: omit it for the default 2, or set 1 to 100"},
		{"negative rise", testAccHealthCheckConfig("acc-hc-val", "rise = -1"), "must be from 1 to 100"},
		{"bad expected_status", testAccHealthCheckConfig("acc-hc-val", `expected_status = ["200", "2xx"]`), `"2xx" is not a status code`},
		{"empty expected_status", testAccHealthCheckConfig("acc-hc-val", `expected_status = []`), "must list at least one"},
		{"bad regex", testAccHealthCheckConfig("acc-hc-val", `body_match = { mode = "regex", value = "(" }`), "not a valid regular expression"},
		{"bad mode", testAccHealthCheckConfig("acc-hc-val", `body_match = { mode = "prefix", value = "ok" }`), `"prefix" is not a match mode`},
		{"tls on http", testAccHealthCheckConfig("acc-hc-val", `tls = {}`), "applies only to https"},
		{"address with scheme", strings.Replace(testAccHealthCheckConfig("acc-hc-val"), `"127.0.0.1:80"`, `"http://192.0.2.10/"`, 1), "without a scheme"},
		{"bad quorum", testAccHealthCheckConfig("acc-hc-val", `quorum = "most"`), `"most" is not a quorum`},
		{"path on tcp", strings.Replace(testAccHealthCheckConfig("acc-hc-val", `path = "/x"`), `"http"`, `"tcp"`, 1), "applies only to http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      tc.config,
					PlanOnly:    true,
					ExpectError: testAccPhraseRE(tc.err),
				}},
			})
		})
	}
}

// Values known only after apply are not judged at plan time: an interval
// from another resource must not make the default timeout an error.
func TestAccHealthCheckResource_unknownAtPlan(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
resource "terraform_data" "interval" {
  input = 1
}
` + testAccHealthCheckConfig("acc-hc-unknown", "interval_seconds = terraform_data.interval.output", "timeout_seconds = 5"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}

// The model ⇄ API mapping keeps the user's null-vs-empty choices.
func TestHealthCheckFromAPI_keepsPriorRepresentation(t *testing.T) {
	ctx := context.Background()
	c := api.HealthCheck{Name: "web", Site: "dc1", Type: "http", Address: "127.0.0.1:80"}
	c.Normalize()

	fromNull, diags := healthCheckResourceModel{
		HostHeader: types.StringNull(), Headers: types.MapNull(types.StringType), ProbeSites: types.SetNull(types.StringType),
	}.fromAPI(ctx, c)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if !fromNull.HostHeader.IsNull() || !fromNull.Headers.IsNull() || !fromNull.ProbeSites.IsNull() {
		t.Errorf("null prior: got host_header %v, headers %v, probe_sites %v; want nulls", fromNull.HostHeader, fromNull.Headers, fromNull.ProbeSites)
	}

	fromEmpty, diags := healthCheckResourceModel{
		HostHeader: types.StringValue(""),
		Headers:    types.MapValueMust(types.StringType, nil),
		ProbeSites: types.SetValueMust(types.StringType, nil),
	}.fromAPI(ctx, c)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if fromEmpty.HostHeader.IsNull() || fromEmpty.Headers.IsNull() || fromEmpty.ProbeSites.IsNull() {
		t.Errorf("empty prior: got host_header %v, headers %v, probe_sites %v; want empty values", fromEmpty.HostHeader, fromEmpty.Headers, fromEmpty.ProbeSites)
	}

	back, diags := fromEmpty.toAPI(ctx)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if back.Path != "/" || back.Method != "GET" || len(back.ExpectedStatus) != 1 || back.Enabled == nil || !*back.Enabled || back.Rise != 2 {
		t.Errorf("round trip lost defaults: %+v", back)
	}
}

// ModifyPlan hands the planned timing to traffic policies planned in the
// same run, and only when it is known.
func TestHealthCheckResource_modifyPlanRecordsTiming(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		interval types.Float64
		want     *topology.CheckTiming
	}{
		{"known", types.Float64Value(5), &topology.CheckTiming{IntervalSeconds: 5, TimeoutSeconds: 0.5, Fall: 4}},
		{"interval known after apply", types.Float64Unknown(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &healthCheckResource{data: &providerData{plans: newPlanRegistry()}}
			var sresp fwresource.SchemaResponse
			r.Schema(ctx, fwresource.SchemaRequest{}, &sresp)
			m := healthCheckResourceModel{
				ID: types.StringUnknown(), Name: types.StringValue("web"), Site: types.StringValue("dc1"),
				Type: types.StringValue("http"), Address: types.StringValue("127.0.0.1:80"),
				Path: types.StringValue("/"), Method: types.StringValue("GET"), HostHeader: types.StringNull(),
				Headers: types.MapNull(types.StringType), ExpectedStatus: types.ListNull(types.StringType),
				BodyMatch: types.ObjectNull(healthCheckBodyMatchAttrTypes), TLS: types.ObjectNull(healthCheckTLSAttrTypes),
				IntervalSeconds: tc.interval, TimeoutSeconds: types.Float64Value(0.5),
				Rise: types.Int64Value(2), Fall: types.Int64Value(4), ProbeSites: types.SetNull(types.StringType),
				Quorum: types.StringValue("majority"), Enabled: types.BoolValue(true), Version: types.Int64Unknown(),
				Invert: types.BoolValue(false), ChildChecks: types.ListNull(types.StringType), HealthyWhen: types.StringNull(), AtLeast: types.Int64Null(),
				Timeouts: types.ObjectNull(timeoutsAttrTypes),
			}
			plan := tfsdk.Plan{Schema: sresp.Schema}
			if diags := plan.Set(ctx, &m); diags.HasError() {
				t.Fatal(diags)
			}
			resp := &fwresource.ModifyPlanResponse{Plan: plan}
			r.ModifyPlan(ctx, fwresource.ModifyPlanRequest{Plan: plan, Config: tfsdk.Config{Schema: sresp.Schema, Raw: plan.Raw}}, resp)
			if resp.Diagnostics.HasError() {
				t.Fatal(resp.Diagnostics)
			}
			o, planned := r.data.plans.lookup(api.KindHealthCheck, "web")
			if !planned {
				t.Fatal("the check is not recorded as planned")
			}
			switch got := o.timing; {
			case tc.want == nil && got != nil:
				t.Errorf("recorded %+v for an unknown interval", *got)
			case tc.want != nil && (got == nil || *got != *tc.want):
				t.Errorf("recorded %+v, want %+v", got, *tc.want)
			}
		})
	}
}

// A tcp check only connects: the http-only attributes it leaves out stay
// null in the plan and the state (no `method = "GET"`, `path = "/"` or
// `expected_status` noise), import reads them back the same way, and a
// switch to http plans their defaults.
func TestAccHealthCheckResource_tcpNullDefaults(t *testing.T) {
	name := "acc-hc-tcp"
	tcp := strings.Replace(testAccHealthCheckConfig(name), `"http"`, `"tcp"`, 1)
	null := func(attr string) statecheck.StateCheck { return hcAttr(attr, knownvalue.Null()) }
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: tcp,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(testAccHealthCheckAddr, tfjsonpath.New("path"), knownvalue.Null()),
					plancheck.ExpectKnownValue(testAccHealthCheckAddr, tfjsonpath.New("method"), knownvalue.Null()),
					plancheck.ExpectKnownValue(testAccHealthCheckAddr, tfjsonpath.New("expected_status"), knownvalue.Null()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{null("path"), null("method"), null("expected_status")},
			},
			{
				Config:           tcp,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:                         testAccHealthCheckAddr,
				ImportState:                          true,
				ImportStateId:                        name,
				ImportStateVerify:                    true,
				ImportStateVerifyIdentifierAttribute: "name",
			},
			{
				Config: testAccHealthCheckConfig(name),
				ConfigStateChecks: []statecheck.StateCheck{
					hcAttr("path", knownvalue.StringExact("/")),
					hcAttr("method", knownvalue.StringExact("GET")),
					hcAttr("expected_status", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("200-399")})),
				},
			},
		},
	})
}
