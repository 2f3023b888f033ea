package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/policy"
)

// tpMatchWords matches s word by word across the line wrapping the CLIs apply
// to diagnostics.
func tpMatchWords(s string) *regexp.Regexp {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(strings.Join(words, `\s+`))
}

// tpMatchDiag matches a diagnostic's summary and, after the source snippet
// the CLIs print in between, its detail.
func tpMatchDiag(summary, detail string) *regexp.Regexp {
	return regexp.MustCompile(tpMatchWords(summary).String() + `[\s\S]*` + tpMatchWords(detail).String())
}

// testAccTrafficPolicyChecks declares two tcp health checks, <prefix>-dc1
// (defaults: fall 3 × interval 10 s + timeout 2 s = 32 s detection) and
// <prefix>-dc2 (3 × 5 s + 1 s = 16 s).
func testAccTrafficPolicyChecks(prefix string) string {
	return fmt.Sprintf(`
resource "failover_health_check" "dc1" {
  name    = "%[1]s-dc1"
  site    = "dc1"
  type    = "tcp"
  address = "127.0.0.1:443"
}

resource "failover_health_check" "dc2" {
  name             = "%[1]s-dc2"
  site             = "dc2"
  type             = "tcp"
  address          = "127.0.0.1:443"
  interval_seconds = 5
  timeout_seconds  = 1
}
`, prefix)
}

// testAccTrafficPolicyActivePassive is an active-passive policy over the
// two checks; reorder writes the targets in the other order.
func testAccTrafficPolicyActivePassive(prefix, name string, ttl int, reorder bool) string {
	dc1 := `    dc1 = {
      site          = "dc1"
      addresses     = ["192.0.2.10", "192.0.2.11"]
      health_checks = [failover_health_check.dc1.name]
      priority      = 1
    }
`
	dc2 := `    dc2 = {
      site          = "dc2"
      addresses     = ["198.51.100.10"]
      health_checks = [failover_health_check.dc2.name]
      priority      = 2
    }
`
	targets := dc1 + dc2
	if reorder {
		targets = dc2 + dc1
	}
	return testAccTrafficPolicyChecks(prefix) + fmt.Sprintf(`
resource "failover_traffic_policy" "test" {
  name          = %q
  mode          = "active-passive"
  ttl_seconds   = %d
  rto_seconds   = 120
  when_all_down = "fallback"
  fallback = {
    addresses = ["203.0.113.10"]
  }
  targets = {
%s  }
}
`, name, ttl, targets)
}

func TestAccTrafficPolicyResource_basic(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckTrafficPolicyDestroyed("tpb", "tpb2"),
		Steps: []resource.TestStep{
			{
				Config: testAccTrafficPolicyActivePassive("tpb", "tpb", 30, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
						// slowest check: 3 × 10 s + 2 s, plus 0 s delay, plus 30 s TTL.
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(62)),
						// the DNS zone is failoverd's: known after the first apply.
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("fqdn")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact("tpb")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("fqdn"), knownvalue.StringExact("tpb.failover.internal")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(62)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("failover_delay_seconds"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("failback_delay_seconds"), knownvalue.Int64Exact(api.DefaultFailbackDelaySeconds)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("failback"), knownvalue.StringExact("auto")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("burst_toggle"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("warnings"), knownvalue.ListExact([]knownvalue.Check{})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("targets").AtMapKey("dc1"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"site":          knownvalue.StringExact("dc1"),
						"addresses":     knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("192.0.2.10"), knownvalue.StringExact("192.0.2.11")}),
						"cname":         knownvalue.Null(),
						"health_checks": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("tpb-dc1")}),
						"priority":      knownvalue.Int64Exact(1),
						"weight":        knownvalue.Int64Exact(1),
						"enabled":       knownvalue.Bool(true),
						"burst_only":    knownvalue.Bool(false),
						"endpoints":     knownvalue.Null(),
						"min_healthy":   knownvalue.Null(),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("fallback"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"addresses": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("203.0.113.10")}),
						"cname":     knownvalue.Null(),
					})),
				},
				Check: testAccCheckTrafficPolicyWorstCase("tpb", 62),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     "tpb",
				ImportStateVerify: true,
			},
			{
				// ttl_seconds changes in place; worst_case_failover_seconds
				// follows at plan time and fqdn stays known.
				Config: testAccTrafficPolicyActivePassive("tpb", "tpb", 10, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(42)),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("fqdn"), knownvalue.StringExact("tpb.failover.internal")),
						// An update that cannot change the warnings plans them
						// known (they went unknown on every update).
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("warnings"), knownvalue.ListExact([]knownvalue.Check{})),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ttl_seconds"), knownvalue.Int64Exact(10)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(42)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.Int64Exact(2)),
				},
				Check: testAccCheckTrafficPolicyWorstCase("tpb", 42),
			},
			{
				// The same targets written in another order: a map, so no diff.
				Config: testAccTrafficPolicyActivePassive("tpb", "tpb", 10, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// A new name is a new object (and a new DNS name).
				Config: testAccTrafficPolicyActivePassive("tpb", "tpb2", 10, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionReplace),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(42)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("fqdn"), knownvalue.StringExact("tpb2.failover.internal")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
				},
			},
		},
	})
}

// A health check slowed down in the same configuration changes the
// policy's worst case at plan time, and a no-change plan stays empty.
// A target with one endpoint per AZ plans (its checks feed the worst case),
// applies, imports and plans empty; a bad min_healthy fails the plan on its
// attribute path.
func TestAccTrafficPolicyResource_endpoints(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	config := func(minHealthy int) string {
		return fmt.Sprintf(`
resource "failover_health_check" "az1" {
  name             = "tpe-az1"
  site             = "onprem"
  type             = "tcp"
  address          = "192.0.2.1:443"
  interval_seconds = 5
}

resource "failover_health_check" "az2" {
  name             = "tpe-az2"
  site             = "onprem"
  type             = "tcp"
  address          = "192.0.2.2:443"
  interval_seconds = 20
}

resource "failover_traffic_policy" "test" {
  name          = "tpe"
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    onprem = {
      site        = "onprem"
      priority    = 1
      min_healthy = %d
      endpoints = {
        az1 = { addresses = ["192.0.2.11"], health_checks = [failover_health_check.az1.name] }
        az2 = { addresses = ["192.0.2.12", "2001:db8::12"], health_checks = [failover_health_check.az2.name] }
      }
    }
    cloud = { site = "aws", priority = 2, addresses = ["198.51.100.1"] }
  }
}
`, minHealthy)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckTrafficPolicyDestroyed("tpe"),
		Steps: []resource.TestStep{
			{
				Config: config(1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						// slowest endpoint check: 3 × 20 s + 2 s, plus the 30 s TTL.
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(92)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("targets").AtMapKey("onprem").AtMapKey("min_healthy"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("targets").AtMapKey("onprem").AtMapKey("addresses"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("targets").AtMapKey("onprem").AtMapKey("endpoints").AtMapKey("az2"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"addresses":     knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("192.0.2.12"), knownvalue.StringExact("2001:db8::12")}),
						"health_checks": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("tpe-az2")}),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("targets").AtMapKey("cloud").AtMapKey("endpoints"), knownvalue.Null()),
				},
			},
			{ResourceName: addr, ImportState: true, ImportStateId: "tpe", ImportStateVerify: true},
			{
				Config:      config(3),
				ExpectError: tpMatchDiag(`Invalid Traffic Policy: targets["onprem"].min_healthy`, `Must be between 1 and the number of endpoints (2), got 3`),
			},
		},
	})
}

func TestAccTrafficPolicyResource_checkTimingChange(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	slower := strings.Replace(testAccTrafficPolicyActivePassive("tpt", "tpt", 30, false),
		"interval_seconds = 5", "interval_seconds = 20", 1)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccTrafficPolicyActivePassive("tpt", "tpt", 30, false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(62)),
				},
			},
			{
				// dc2 becomes the slowest: 3 × 20 s + 1 s + 30 s = 91 s.
				// Only the check is written: failoverd recomputes the
				// policy's worst case itself, so the policy shows no
				// computed-only diff.
				Config: slower,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("failover_health_check.dc2", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionNoop),
					},
				},
				Check: testAccCheckTrafficPolicyWorstCase("tpt", 91),
			},
			{
				// The next refresh reads failoverd's new figure; still no diff.
				Config: slower,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(91)),
				},
			},
		},
	})
}

func TestAccTrafficPolicyResource_drift(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	ctx := context.Background()
	config := testAccTrafficPolicyActivePassive("tpd", "tpd", 30, false)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckTrafficPolicyDestroyed("tpd"),
		Steps: []resource.TestStep{
			{Config: config},
			{
				// An operator raises the failover delay behind Terraform's back.
				PreConfig: func() {
					p, err := client.Get[api.TrafficPolicy](ctx, testFailoverd.client, api.KindTrafficPolicy, "tpd")
					if err != nil {
						t.Fatalf("read policy: %v", err)
					}
					p.FailoverDelaySeconds = 30
					if _, err := client.Update(ctx, testFailoverd.client, api.KindTrafficPolicy, "tpd", p, 0); err != nil {
						t.Fatalf("edit policy: %v", err)
					}
				},
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Applying the configuration puts it back.
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("failover_delay_seconds"), knownvalue.Int64Exact(0)),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(62)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("failover_delay_seconds"), knownvalue.Int64Exact(0)),
				},
			},
			{
				// Deleted outside Terraform: planned for creation again.
				PreConfig: func() {
					if err := testFailoverd.client.Delete(ctx, api.KindTrafficPolicy, "tpd", 0); err != nil {
						t.Fatalf("delete policy: %v", err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
				},
			},
		},
	})
}

func TestAccTrafficPolicyResource_concurrentEdit(t *testing.T) {
	ctx := context.Background()
	t.Cleanup(func() { testBeforeRequest.Store(nil) })
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: testAccTrafficPolicyActivePassive("tpc", "tpc", 30, false)},
			{
				// Right before the provider's PUT, an operator changes the
				// failback delay: the PUT carries the old version and fails.
				PreConfig: func() {
					var fired atomic.Bool
					hook := func(r *http.Request) {
						if r.Method != http.MethodPut || r.URL.Path != "/v1/traffic-policies/tpc" ||
							!strings.HasPrefix(r.UserAgent(), "terraform-provider-failover/") || !fired.CompareAndSwap(false, true) {
							return
						}
						p, err := client.Get[api.TrafficPolicy](ctx, testFailoverd.client, api.KindTrafficPolicy, "tpc")
						if err != nil {
							t.Errorf("read policy: %v", err)
							return
						}
						p.FailbackDelaySeconds = tpPtr(600)
						if _, err := client.Update(ctx, testFailoverd.client, api.KindTrafficPolicy, "tpc", p, 0); err != nil {
							t.Errorf("concurrent edit: %v", err)
						}
					}
					testBeforeRequest.Store(&hook)
				},
				Config:      testAccTrafficPolicyActivePassive("tpc", "tpc", 10, false),
				ExpectError: tpMatchWords("Traffic Policy Changed Outside Terraform"),
			},
			{
				// The operator's edit survived, and the next plan shows it.
				PreConfig: func() {
					testBeforeRequest.Store(nil)
					p, err := client.Get[api.TrafficPolicy](ctx, testFailoverd.client, api.KindTrafficPolicy, "tpc")
					if err != nil {
						t.Fatalf("read policy: %v", err)
					}
					if got := api.Int(p.FailbackDelaySeconds, 0); got != 600 {
						t.Errorf("failback_delay_seconds = %d after the failed apply, want the concurrent edit's 600", got)
					}
					if got := api.Int(p.TTLSeconds, 0); got != 30 {
						t.Errorf("ttl_seconds = %d after the failed apply, want the untouched 30", got)
					}
				},
				Config:             testAccTrafficPolicyActivePassive("tpc", "tpc", 10, false),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// The test's final destroy does not refresh (terraform
				// destroy does): take in the operator's version first.
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

func tpPtr[T any](v T) *T { return &v }

func TestAccTrafficPolicyResource_activeActive(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	config := testAccTrafficPolicyChecks("tpa") + `
resource "failover_traffic_policy" "test" {
  name          = "tpa"
  mode          = "active-active"
  ttl_seconds   = 20
  when_all_down = "fail_open"
  targets = {
    eu = {
      site          = "dc1"
      cname         = "lb-eu.example.net"
      health_checks = [failover_health_check.dc1.name]
      weight        = 3
    }
    us = {
      site          = "dc2"
      addresses     = ["198.51.100.20", "2001:db8::20"]
      health_checks = [failover_health_check.dc2.name]
    }
  }
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckTrafficPolicyDestroyed("tpa"),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(52)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("targets"), knownvalue.MapExact(map[string]knownvalue.Check{
						"eu": knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"cname":     knownvalue.StringExact("lb-eu.example.net"),
							"addresses": knownvalue.Null(),
							"weight":    knownvalue.Int64Exact(3),
							"priority":  knownvalue.Null(),
						}),
						"us": knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"cname":  knownvalue.Null(),
							"weight": knownvalue.Int64Exact(1),
						}),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("fallback"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("rto_seconds"), knownvalue.Null()),
				},
				Check: resource.ComposeAggregateTestCheckFunc(func(*terraform.State) error {
					d, err := testFailoverd.client.Decision(context.Background(), "tpa")
					if err != nil {
						return err
					}
					got := map[string]int{}
					for _, s := range d.Serving {
						got[s.Target] = s.Weight
					}
					if want := map[string]int{"eu": 3, "us": 1}; !reflect.DeepEqual(got, want) {
						return fmt.Errorf("failoverd serves %v, want %v (%s)", got, want, d.Reason)
					}
					return nil
				}),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     "tpa",
				ImportStateVerify: true,
			},
			{
				// Draining a target is an in-place weight change.
				Config: strings.Replace(config, "weight        = 3", "weight        = 0", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("targets").AtMapKey("eu").AtMapKey("weight"), knownvalue.Int64Exact(0)),
				},
			},
		},
	})
}

// The traffic/data alignment warning: the policy prefers dc1, the replica
// set elects its primary in dc2.
func TestAccTrafficPolicyResource_replicaSetWarning(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if err := testFailoverd.client.Delete(ctx, api.KindReplicaSet, "tpw-rs", 0); err != nil && !client.IsNotFound(err) {
				return err
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					prio := func(v float64) *float64 { return &v }
					_, err := client.Create(ctx, testFailoverd.client, api.KindReplicaSet, api.ReplicaSet{
						Name: "tpw-rs",
						Members: map[string]api.Member{
							"db-1":    {Host: "db-1.example.org:27017", Site: "dc1", Priority: prio(1)},
							"db-2":    {Host: "db-2.example.org:27017", Site: "dc2", Priority: prio(2)},
							"arbiter": {Host: "arb.example.net:27017", Site: "dc3", Arbiter: true},
						},
					})
					if err != nil {
						t.Fatalf("create replica set: %v", err)
					}
				},
				Config: testAccTrafficPolicyChecks("tpw") + `
resource "failover_traffic_policy" "test" {
  name          = "tpw"
  mode          = "active-passive"
  when_all_down = "fail_closed"
  replica_set   = "tpw-rs"
  targets = {
    dc1 = { site = "dc1", addresses = ["192.0.2.10"], health_checks = [failover_health_check.dc1.name], priority = 1 }
    dc2 = { site = "dc2", addresses = ["198.51.100.10"], health_checks = [failover_health_check.dc2.name], priority = 2 }
  }
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("warnings"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringRegexp(regexp.MustCompile(`prefers site "dc1", but replica set "tpw-rs" elects its primary in site "dc2"`)),
					})),
				},
			},
		},
	})
}

func TestAccTrafficPolicyResource_missingHealthCheck(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Not in this configuration nor in failoverd: worst_case is
				// unknown at plan time and failoverd refuses the policy,
				// naming the attribute.
				Config: `
resource "failover_traffic_policy" "test" {
  name          = "tpm"
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = ["192.0.2.10"], health_checks = ["tpm-nope"], priority = 1 }
  }
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectUnknownValue("failover_traffic_policy.test", tfjsonpath.New("worst_case_failover_seconds")),
					},
				},
				ExpectError: tpMatchDiag(`Invalid Traffic Policy: targets["dc1"].health_checks[0]`, `No health check named "tpm-nope": create it first (failover_health_check) or fix the name`),
			},
		},
	})
}

func TestAccTrafficPolicyResource_validation(t *testing.T) {
	policyWith := func(body string) string {
		return `
resource "failover_traffic_policy" "test" {
  name = "tpv"
` + body + `
}
`
	}
	const targets = `
  targets = {
    dc1 = { addresses = ["192.0.2.10"], priority = 1 }
  }
`
	steps := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{
			name: "rto exceeded",
			config: testAccTrafficPolicyChecks("tpv") + policyWith(`
  mode          = "active-passive"
  when_all_down = "fail_closed"
  rto_seconds   = 60
  targets = {
    dc1 = { addresses = ["192.0.2.10"], health_checks = [failover_health_check.dc1.name], priority = 1 }
    dc2 = { addresses = ["198.51.100.10"], health_checks = [failover_health_check.dc2.name], priority = 2 }
  }`),
			want: tpMatchWords("Worst-case failover is 3 × 10s + 2s detection + 0s failover delay + 30s TTL = 62s, over rto_seconds = 60: lower fall, interval_seconds or ttl_seconds, or raise rto_seconds"),
		},
		{
			name: "bad drill_schedule",
			config: policyWith(`
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = ["192.0.2.10"], priority = 1 }
  }
  drill_schedule = {
    target = "dc2"
    cron   = "0 25 * * *"
  }`),
			want: regexp.MustCompile(`drill_schedule.target[\s\S]*"dc2" is not a target[\s\S]*drill_schedule.cron[\s\S]*(?i)hour: "25"`),
		},
		{
			// publish is validated at plan time by failoverd's validator.
			name: "publish record outside its zone",
			config: policyWith(`mode = "active-passive"` + "\n" + `when_all_down = "fail_closed"` + targets + `
  publish = {
    rfc2136 = { server = "192.0.2.53", zone = "example.internal", record_name = "www.example.com", tsig_key = "failover" }
  }`),
			want: tpMatchDiag(`publish.rfc2136.record_name`, `"www.example.com" is not inside zone "example.internal"`),
		},
		{
			name:   "bad mode",
			config: policyWith(`mode = "active-pasive"` + "\n" + `when_all_down = "fail_closed"` + targets),
			want:   regexp.MustCompile(`Attribute mode value must be one of:(.|\n)*got:\s+"active-pasive"`),
		},
		{
			name:   "fallback missing",
			config: policyWith(`mode = "active-passive"` + "\n" + `when_all_down = "fallback"` + targets),
			// Shown on when_all_down, the attribute that asks for it.
			want: regexp.MustCompile(`Missing fallback[\s\S]*when_all_down = "fallback"[\s\S]*Fallback\s+is\s+required\s+because\s+when_all_down\s+=\s+"fallback"`),
		},
		{
			name: "burst_only without burst_toggle",
			config: policyWith(`
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = ["192.0.2.10"], priority = 1 }
    dr  = { addresses = ["198.51.100.10"], burst_only = true }
  }`),
			want: tpMatchDiag(`Missing burst_toggle`, `burst_toggle is required because target(s) "dr" are burst_only: name the failover_burst_toggle that engages them`),
		},
		{
			name: "priority missing in active-passive",
			config: policyWith(`
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = ["192.0.2.10"] }
  }`),
			want: tpMatchDiag(`Missing priority: targets["dc1"].priority`, `targets["dc1"].priority is required in an active-passive policy: set priority = 1`),
		},
		{
			name: "bad IP",
			config: policyWith(`
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = ["192.0.2.300"], priority = 1 }
  }`),
			want: tpMatchDiag(`Invalid Traffic Policy: targets["dc1"].addresses[0]`, `"192.0.2.300" is not an IP address`),
		},
		{
			// A bad address is reported even while another target's
			// address is not known yet (terraform_data's output).
			name: "bad IP next to an unknown address",
			config: `
resource "terraform_data" "ip" {
  input = "198.51.100.10"
}
` + policyWith(`
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = ["192.0.2.300"], priority = 1 }
    dc2 = { addresses = [terraform_data.ip.output], priority = 2 }
  }`),
			want: tpMatchDiag(`Invalid Traffic Policy: targets["dc1"].addresses[0]`, `"192.0.2.300" is not an IP address`),
		},
	}
	var ts []resource.TestStep
	for _, s := range steps {
		ts = append(ts, resource.TestStep{Config: s.config, PlanOnly: true, ExpectError: s.want})
	}
	// An unknown address is not mistaken for a missing one.
	ts = append(ts, resource.TestStep{
		Config: `
resource "terraform_data" "ip" {
  input = "198.51.100.10"
}
` + policyWith(`
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = [terraform_data.ip.output], priority = 1 }
  }`),
		PlanOnly:           true,
		ExpectNonEmptyPlan: true,
	})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    ts,
	})
}

// testAccCheckTrafficPolicyWorstCase verifies failoverd's own figure, so a
// planned value that failoverd does not compute cannot go unnoticed.
func testAccCheckTrafficPolicyWorstCase(name string, want float64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		p, err := client.Get[api.TrafficPolicy](context.Background(), testFailoverd.client, api.KindTrafficPolicy, name)
		if err != nil {
			return err
		}
		if p.WorstCaseFailoverSeconds != want {
			return fmt.Errorf("failoverd computes worst_case_failover_seconds = %g for %q, want %g", p.WorstCaseFailoverSeconds, name, want)
		}
		return nil
	}
}

// testAccCheckTrafficPolicyDestroyed verifies that failoverd no longer
// has the named policies.
func testAccCheckTrafficPolicyDestroyed(names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, n := range names {
			_, err := client.Get[api.TrafficPolicy](context.Background(), testFailoverd.client, api.KindTrafficPolicy, n)
			if err == nil {
				return fmt.Errorf("traffic policy %q still exists after destroy", n)
			}
			if !client.IsNotFound(err) {
				return err
			}
		}
		return nil
	}
}

// Unit tests (no TF_ACC).

func TestTrafficPolicyRoundTrip(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		in   api.TrafficPolicy
	}{
		{"active-passive with fallback", api.TrafficPolicy{
			Name: "web", Mode: api.ModeActivePassive, WhenAllDown: api.AllDownFallback, RTOSeconds: 90, ReplicaSet: "db",
			Fallback: &api.Fallback{CNAME: "sorry.example.net"},
			Targets: map[string]api.PolicyTarget{
				"dc1": {Site: "dc1", Addresses: []string{"192.0.2.10"}, HealthChecks: []string{"a", "b"}, Priority: 1},
				"dc2": {Site: "dc2", CNAME: "lb.example.net", Priority: 2, Enabled: tpPtr(false)},
			},
		}},
		{"drill schedule", api.TrafficPolicy{
			Name: "pay", Mode: api.ModeActivePassive, WhenAllDown: api.AllDownFailClosed, RTOSeconds: 60,
			DrillSchedule: &api.DrillSchedule{Target: "dc2", Cron: "0 3 * * 2", HoldSeconds: 900, Reason: "game day"},
			Targets: map[string]api.PolicyTarget{
				"dc1": {Addresses: []string{"192.0.2.10"}, Priority: 1},
				"dc2": {Addresses: []string{"198.51.100.10"}, Priority: 2},
			},
		}},
		{"active-active with burst", api.TrafficPolicy{
			Name: "api", Mode: api.ModeActiveActive, WhenAllDown: api.AllDownFailOpen, TTLSeconds: tpPtr(0), FailoverDelaySeconds: 5,
			FailbackDelaySeconds: tpPtr(0), Failback: api.FailbackManual, BurstToggle: "bf",
			Targets: map[string]api.PolicyTarget{
				"eu": {Addresses: []string{"192.0.2.1", "2001:db8::1"}, Weight: tpPtr(0)},
				"dr": {Addresses: []string{"203.0.113.1"}, BurstOnly: true, Weight: tpPtr(1000)},
			},
		}},
		{"a target with endpoints per AZ", api.TrafficPolicy{
			Name: "hybrid", Mode: api.ModeActivePassive, WhenAllDown: api.AllDownFailClosed,
			Targets: map[string]api.PolicyTarget{
				"onprem": {Site: "onprem", Priority: 1, HealthChecks: []string{"maintenance"}, MinHealthy: tpPtr(1), Endpoints: map[string]api.TargetEndpoint{
					"az1": {Addresses: []string{"192.0.2.11"}, HealthChecks: []string{"web-az1"}},
					"az2": {Addresses: []string{"192.0.2.12", "2001:db8::12"}, HealthChecks: []string{"web-az2", "db-az2"}},
				}},
				"cloud": {Site: "aws", Priority: 2, Endpoints: map[string]api.TargetEndpoint{"use1-a": {Addresses: []string{"198.51.100.1"}}}},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tpNormalized(tt.in)
			// From failoverd with no prior state (import), then back.
			m, diags := trafficPolicyResourceModel{}.fromAPI(ctx, want)
			if diags.HasError() {
				t.Fatalf("fromAPI: %v", diags)
			}
			got, diags := m.toAPI(ctx)
			if diags.HasError() {
				t.Fatalf("toAPI: %v", diags)
			}
			if !reflect.DeepEqual(tpNormalized(got), want) {
				t.Errorf("round trip changed the policy:\n got %+v\nwant %+v", tpNormalized(got), want)
			}
			// And from the resulting model as prior: identical model.
			again, _ := m.fromAPI(ctx, want)
			if !reflect.DeepEqual(again, m) {
				t.Errorf("fromAPI is not stable:\n got %+v\nwant %+v", again, m)
			}
		})
	}
}

// tpNormalized is p as failoverd stores it, for comparison.
func tpNormalized(p api.TrafficPolicy) api.TrafficPolicy {
	b, _ := json.Marshal(p)
	var out api.TrafficPolicy
	_ = json.Unmarshal(b, &out)
	out.Normalize()
	if len(out.Targets) == 0 {
		out.Targets = nil // null and {} are the same to failoverd
	}
	out.FQDN, out.WorstCaseFailoverSeconds, out.Warnings, out.Version = "", 0, nil, 0
	return out
}

// fromAPI keeps the configuration's empty-vs-null choice, so an apply is
// never followed by a diff.
func TestTrafficPolicyFromAPIKeepsEmpty(t *testing.T) {
	ctx := context.Background()
	empty := types.ListValueMust(types.StringType, []attr.Value{})
	target, _ := types.ObjectValue(trafficPolicyTargetAttrTypes, map[string]attr.Value{
		"site": types.StringValue(""), "addresses": types.ListValueMust(types.StringType, []attr.Value{types.StringValue("192.0.2.1")}),
		"cname": types.StringValue(""), "health_checks": empty, "priority": types.Int64Value(0),
		"weight": types.Int64Value(1), "enabled": types.BoolValue(true), "burst_only": types.BoolValue(false),
		"endpoints": types.MapNull(types.ObjectType{AttrTypes: trafficPolicyEndpointAttrTypes}), "min_healthy": types.Int64Null(),
	})
	prior := trafficPolicyResourceModel{
		Targets:     types.MapValueMust(types.ObjectType{AttrTypes: trafficPolicyTargetAttrTypes}, map[string]attr.Value{"dc1": target}),
		BurstToggle: types.StringValue(""),
		RTOSeconds:  types.Int64Value(0),
	}
	m, diags := prior.fromAPI(ctx, tpNormalized(api.TrafficPolicy{
		Name: "x", Mode: api.ModeActiveActive, WhenAllDown: api.AllDownFailClosed,
		Targets: map[string]api.PolicyTarget{"dc1": {Addresses: []string{"192.0.2.1"}}},
	}))
	if diags.HasError() {
		t.Fatal(diags)
	}
	if !m.Targets.Elements()["dc1"].Equal(target) {
		t.Errorf("target = %v, want %v", m.Targets.Elements()["dc1"], target)
	}
	if !m.BurstToggle.Equal(types.StringValue("")) || !m.RTOSeconds.Equal(types.Int64Value(0)) {
		t.Errorf("burst_toggle = %v, rto_seconds = %v, want \"\" and 0 as configured", m.BurstToggle, m.RTOSeconds)
	}
}

// Every problem policy.Validate reports on a fully known configuration
// reaches the user, except those a schema validator already reports.
func TestTrafficPolicyValidateConfigReportsAll(t *testing.T) {
	bad := api.TrafficPolicy{
		Name: "x", Mode: api.ModeActivePassive, WhenAllDown: api.AllDownFallback, BurstToggle: "",
		Targets: map[string]api.PolicyTarget{
			"a":  {Addresses: []string{"192.0.2.300"}},
			"dr": {CNAME: "not-qualified", BurstOnly: true},
		},
	}
	probs := policy.Validate(bad)
	if got := withoutFields(probs, trafficPolicySchemaChecked...); len(got) != len(probs) {
		t.Errorf("reported %d of %d problems: %v", len(got), len(probs), got)
	}
}

func FuzzTrafficPolicyRoundTrip(f *testing.F) {
	f.Add([]byte(`{"name":"web","mode":"active-passive","when_all_down":"fallback","fallback":{"addresses":["203.0.113.1"]},` +
		`"targets":{"dc1":{"site":"dc1","addresses":["192.0.2.1"],"health_checks":["a"],"priority":1}}}`))
	f.Add([]byte(`{"name":"api","mode":"active-active","ttl_seconds":0,"failback":"manual","burst_toggle":"b","rto_seconds":5,` +
		`"targets":{"x":{"cname":"lb.example.net","weight":0,"enabled":false,"burst_only":true}}}`))
	f.Add([]byte(`{"targets":{"":{}}}`))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, b []byte) {
		var in api.TrafficPolicy
		if json.Unmarshal(b, &in) != nil {
			return
		}
		want := tpNormalized(in)
		m, diags := trafficPolicyResourceModel{}.fromAPI(ctx, want)
		if diags.HasError() {
			t.Fatalf("fromAPI: %v", diags)
		}
		got, diags := m.toAPI(ctx)
		if diags.HasError() {
			t.Fatalf("toAPI: %v", diags)
		}
		if g := tpNormalized(got); !reflect.DeepEqual(g, want) {
			t.Fatalf("round trip changed the policy:\n got %+v\nwant %+v", g, want)
		}
		// The plan-time filter never panics and never invents problems.
		probs := policy.Validate(want)
		pc := planCheck{unknown: []string{"targets", "fallback.cname"}}
		if n := len(pc.known(probs)); n > len(probs) {
			t.Fatalf("filter returned %d problems out of %d", n, len(probs))
		}
	})
}

// drill_schedule: created, imported and read back without a diff; then
// switched from cron to windows in place.
func TestAccTrafficPolicyResource_drillSchedule(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	config := func(schedule string) string {
		return testAccTrafficPolicyChecks("tpd") + `
resource "failover_traffic_policy" "test" {
  name          = "tpd"
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = ["192.0.2.10"], health_checks = [failover_health_check.dc1.name], priority = 1 }
    dc2 = { addresses = ["198.51.100.10"], health_checks = [failover_health_check.dc2.name], priority = 2 }
  }
  drill_schedule = {
    target = "dc2"
` + schedule + `
  }
}
`
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckTrafficPolicyDestroyed("tpd"),
		Steps: []resource.TestStep{
			{
				Config: config(`    cron = "0 3 * * 2"
    hold_seconds = 900
    reason = "monthly game day"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("drill_schedule"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"target":       knownvalue.StringExact("dc2"),
						"cron":         knownvalue.StringExact("0 3 * * 2"),
						"windows":      knownvalue.Null(),
						"hold_seconds": knownvalue.Int64Exact(900),
						"reason":       knownvalue.StringExact("monthly game day"),
					})),
				},
				Check: func(*terraform.State) error {
					p, err := client.Get[api.TrafficPolicy](context.Background(), testFailoverd.client, api.KindTrafficPolicy, "tpd")
					if err != nil {
						return err
					}
					if s := p.DrillSchedule; s == nil || s.Cron != "0 3 * * 2" || s.HoldSeconds != 900 {
						return fmt.Errorf("failoverd holds drill_schedule %+v", s)
					}
					return nil
				},
			},
			{ResourceName: addr, ImportState: true, ImportStateId: "tpd", ImportStateVerify: true},
			{
				Config: config(`    windows = ["2026-12-12T03:00:00Z/2026-12-12T03:30:00Z"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("drill_schedule").AtMapKey("windows"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("2026-12-12T03:00:00Z/2026-12-12T03:30:00Z")})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("drill_schedule").AtMapKey("cron"), knownvalue.Null()),
				},
			},
		},
	})
}

// A check changed outside Terraform shows as the check's own drift; the
// policies that use it plan no change (failoverd recomputed their worst
// case when the check changed), and after the apply that reverts the check
// the next plan is empty.
func TestAccTrafficPolicyResource_checkChangedOutside(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	ctx := context.Background()
	config := testAccTrafficPolicyActivePassive("tpo", "tpo", 30, false)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(62)),
				},
			},
			{
				// An operator slows dc2's check down: 3 × 20 + 1 + 30 = 91 s.
				PreConfig: func() {
					c, err := client.Get[api.HealthCheck](ctx, testFailoverd.client, api.KindHealthCheck, "tpo-dc2")
					if err != nil {
						t.Fatal(err)
					}
					c.IntervalSeconds = 20
					if _, err := client.Update(ctx, testFailoverd.client, api.KindHealthCheck, c.Name, c, c.Version); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("failover_health_check.dc2", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionNoop),
				}},
			},
			{
				Config:            config,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(addr, tfjsonpath.New("worst_case_failover_seconds"), knownvalue.Float64Exact(62))},
			},
		},
	})
}
