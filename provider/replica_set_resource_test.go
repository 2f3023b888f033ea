package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

const testAccReplicaSetAddr = "failover_replica_set.test"

// testAccReplicaSetOrderGroove is the OrderGroove layout: two data members
// in the active site (priority 2), two in the failover site (priority 1),
// an arbiter in a third site. Member _ids in name order: arb 0, chi-1 1,
// chi-2 2, va-1 3, va-2 4.
const testAccReplicaSetOrderGroove = `
    "chi-1" = { host = "db-chi-1.example.org:27017", site = "chicago", zone = "chicago-a", priority = 2 }
    "chi-2" = { host = "db-chi-2.example.org:27017", site = "chicago", zone = "chicago-b", priority = 2 }
    "va-1"  = { host = "db-va-1.example.org:27017", site = "virginia", zone = "virginia-a", priority = 1 }
    "va-2"  = { host = "db-va-2.example.org:27017", site = "virginia", zone = "virginia-b", priority = 1 }
    "arb"   = { host = "arb.example.net:27017", site = "ohio", arbiter = true }
`

func testAccReplicaSetConfig(name, members, extra string) string {
	return fmt.Sprintf(`
resource "failover_replica_set" "test" {
  name = %q
  members = {
%s
  }
%s
}
`, name, members, extra)
}

// The configuration documents, written out by hand (not rendered by the
// code under test).
const (
	testRSDocArb  = `{"_id":%d,"host":"arb.example.net:27017","priority":0,"votes":1,"arbiterOnly":true,"hidden":false,"secondaryDelaySecs":0}`
	testRSDocChi1 = `{"_id":%d,"host":"db-chi-1.example.org:27017","priority":2,"votes":1,"arbiterOnly":false,"hidden":false,"secondaryDelaySecs":0,"tags":{"site":"chicago","zone":"chicago-a"}}`
	testRSDocChi2 = `{"_id":%d,"host":"db-chi-2.example.org:27017","priority":2,"votes":1,"arbiterOnly":false,"hidden":false,"secondaryDelaySecs":0,"tags":{"site":"chicago","zone":"chicago-b"}}`
	testRSDocVa1  = `{"_id":%d,"host":"db-va-1.example.org:27017","priority":1,"votes":1,"arbiterOnly":false,"hidden":false,"secondaryDelaySecs":0,"tags":{"site":"virginia","zone":"virginia-a"}}`
	testRSDocVa2  = `{"_id":%d,"host":"db-va-2.example.org:27017","priority":1,"votes":1,"arbiterOnly":false,"hidden":false,"secondaryDelaySecs":0,"tags":{"site":"virginia","zone":"virginia-b"}}`
	testRSDocAna  = `{"_id":%d,"host":"db-analytics.example.org:27017","priority":0,"votes":0,"arbiterOnly":false,"hidden":true,"secondaryDelaySecs":0,"tags":{"site":"virginia","use":"reporting"}}`
)

func testRSDoc(name string, members ...string) string {
	return `{"_id":"` + name + `","version":1,"members":[` + strings.Join(members, ",") + `]}`
}

// testAccReplicaSetAnalysisChecks are the OrderGroove layout's computed
// values, used both as plan checks (known at plan time) and state checks.
func testAccReplicaSetAnalysisChecks() []struct {
	path  tfjsonpath.Path
	value knownvalue.Check
} {
	return []struct {
		path  tfjsonpath.Path
		value knownvalue.Check
	}{
		{tfjsonpath.New("voting_members"), knownvalue.Int64Exact(5)},
		{tfjsonpath.New("majority"), knownvalue.Int64Exact(3)},
		{tfjsonpath.New("fault_tolerance"), knownvalue.Int64Exact(2)},
		{tfjsonpath.New("preferred_primary_site"), knownvalue.StringExact("chicago")},
		{tfjsonpath.New("site_loss").AtMapKey("chicago"), knownvalue.ObjectExact(map[string]knownvalue.Check{
			"survives": knownvalue.Bool(true), "new_primary": knownvalue.StringExact("va-1"),
			"votes_lost": knownvalue.Int64Exact(2), "votes_left": knownvalue.Int64Exact(3),
			"majority_writes": knownvalue.Bool(false), "data_voters_left": knownvalue.Int64Exact(2),
			"write_concern_before": knownvalue.StringExact("majority"), "write_concern_after": knownvalue.StringExact("1"),
			"critical_members": knownvalue.ListExact([]knownvalue.Check{}),
		})},
		{tfjsonpath.New("site_loss").AtMapKey("virginia"), knownvalue.ObjectExact(map[string]knownvalue.Check{
			"survives": knownvalue.Bool(true), "new_primary": knownvalue.StringExact("chi-1"),
			"votes_lost": knownvalue.Int64Exact(2), "votes_left": knownvalue.Int64Exact(3),
			"majority_writes": knownvalue.Bool(false), "data_voters_left": knownvalue.Int64Exact(2),
			"write_concern_before": knownvalue.StringExact("majority"), "write_concern_after": knownvalue.StringExact("1"),
			"critical_members": knownvalue.ListExact([]knownvalue.Check{}),
		})},
		{tfjsonpath.New("site_loss").AtMapKey("ohio"), knownvalue.ObjectExact(map[string]knownvalue.Check{
			"survives": knownvalue.Bool(true), "new_primary": knownvalue.StringExact("chi-1"),
			"votes_lost": knownvalue.Int64Exact(1), "votes_left": knownvalue.Int64Exact(4),
			"majority_writes": knownvalue.Bool(true), "data_voters_left": knownvalue.Int64Exact(4),
			"write_concern_before": knownvalue.StringExact("majority"), "write_concern_after": knownvalue.StringExact("majority"),
			"critical_members": knownvalue.ListExact([]knownvalue.Check{}),
		})},
		{tfjsonpath.New("default_write_concern"), knownvalue.StringExact("majority")},
		{tfjsonpath.New("write_majority"), knownvalue.Int64Exact(3)},
		// Either data site's loss keeps elections but not majority writes.
		{tfjsonpath.New("warnings"), knownvalue.ListSizeExact(2)},
		{tfjsonpath.New("members").AtMapKey("arb").AtMapKey("priority"), knownvalue.Float64Exact(0)},
		{tfjsonpath.New("members").AtMapKey("arb").AtMapKey("votes"), knownvalue.Int64Exact(1)},
	}
}

func testAccReplicaSetPlanChecks(extra ...plancheck.PlanCheck) []plancheck.PlanCheck {
	var out []plancheck.PlanCheck
	for _, c := range testAccReplicaSetAnalysisChecks() {
		out = append(out, plancheck.ExpectKnownValue(testAccReplicaSetAddr, c.path, c.value))
	}
	return append(out, extra...)
}

func testAccReplicaSetStateChecks(extra ...statecheck.StateCheck) []statecheck.StateCheck {
	var out []statecheck.StateCheck
	for _, c := range testAccReplicaSetAnalysisChecks() {
		out = append(out, statecheck.ExpectKnownValue(testAccReplicaSetAddr, c.path, c.value))
	}
	return append(out, extra...)
}

func TestAccReplicaSetResource_basic(t *testing.T) {
	name, renamed := "acc-rs-basic", "acc-rs-basic-renamed"
	withAnalytics := testAccReplicaSetOrderGroove + `
    "analytics" = { host = "db-analytics.example.org:27017", site = "virginia", hidden = true, votes = 0, tags = { use = "reporting" } }
`
	// The same members, declared in another order.
	reordered := `
    "analytics" = { host = "db-analytics.example.org:27017", site = "virginia", hidden = true, votes = 0, tags = { use = "reporting" } }
    "va-2"  = { host = "db-va-2.example.org:27017", site = "virginia", zone = "virginia-b", priority = 1 }
    "arb"   = { host = "arb.example.net:27017", site = "ohio", arbiter = true }
    "chi-2" = { host = "db-chi-2.example.org:27017", site = "chicago", zone = "chicago-b", priority = 2 }
    "va-1"  = { host = "db-va-1.example.org:27017", site = "virginia", zone = "virginia-a", priority = 1 }
    "chi-1" = { host = "db-chi-1.example.org:27017", site = "chicago", zone = "chicago-a", priority = 2 }
`
	doc := testRSDoc(name, fmt.Sprintf(testRSDocArb, 0), fmt.Sprintf(testRSDocChi1, 1), fmt.Sprintf(testRSDocChi2, 2),
		fmt.Sprintf(testRSDocVa1, 3), fmt.Sprintf(testRSDocVa2, 4))
	// analytics sorts first but joins later: it gets the next free _id
	// (5) and nobody else is renumbered.
	docAnalytics := testRSDoc(name, fmt.Sprintf(testRSDocArb, 0), fmt.Sprintf(testRSDocChi1, 1), fmt.Sprintf(testRSDocChi2, 2),
		fmt.Sprintf(testRSDocVa1, 3), fmt.Sprintf(testRSDocVa2, 4), fmt.Sprintf(testRSDocAna, 5))
	// A new replica set (new name) starts with fresh ids in name order.
	docRenamed := testRSDoc(renamed, fmt.Sprintf(testRSDocAna, 0), fmt.Sprintf(testRSDocArb, 1), fmt.Sprintf(testRSDocChi1, 2),
		fmt.Sprintf(testRSDocChi2, 3), fmt.Sprintf(testRSDocVa1, 4), fmt.Sprintf(testRSDocVa2, 5))

	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: testAccReplicaSetConfig(name, testAccReplicaSetOrderGroove, ""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: testAccReplicaSetPlanChecks(
						plancheck.ExpectResourceAction(testAccReplicaSetAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("config_json"), knownvalue.StringExact(doc)),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("member_ids"), knownvalue.MapExact(map[string]knownvalue.Check{
							"arb": knownvalue.Int64Exact(0), "chi-1": knownvalue.Int64Exact(1), "chi-2": knownvalue.Int64Exact(2),
							"va-1": knownvalue.Int64Exact(3), "va-2": knownvalue.Int64Exact(4),
						})),
						plancheck.ExpectUnknownValue(testAccReplicaSetAddr, tfjsonpath.New("version")),
					),
				},
				ConfigStateChecks: testAccReplicaSetStateChecks(
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("engine"), knownvalue.StringExact("mongodb")),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("require_site_fault_tolerance"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("config_json"), knownvalue.StringExact(doc)),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("arb").AtMapKey("zone"), knownvalue.Null()),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("arb").AtMapKey("tags"), knownvalue.Null()),
					testRSCheckAPI(name, func(rs api.ReplicaSet, doc topology.ReplSetConfig) error {
						if rs.Analysis == nil || rs.Analysis.Majority != 3 || rs.Analysis.SiteLoss["chicago"].NewPrimary != "va-1" {
							return fmt.Errorf("failoverd's analysis differs from the plan: %+v", rs.Analysis)
						}
						if doc.Version != 1 || len(doc.Members) != 5 {
							return fmt.Errorf("failoverd's document: %+v", doc)
						}
						return nil
					}),
				),
			},
			{
				ResourceName:      testAccReplicaSetAddr,
				ImportState:       true,
				ImportStateId:     name,
				ImportStateVerify: true,
			},
			{
				// A new member: update in place; existing members keep their _id.
				Config: testAccReplicaSetConfig(name, withAnalytics, ""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testAccReplicaSetAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("config_json"), knownvalue.StringExact(docAnalytics)),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("member_ids").AtMapKey("analytics"), knownvalue.Int64Exact(5)),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("member_ids").AtMapKey("arb"), knownvalue.Int64Exact(0)),
						// votes = 0 and hidden: never electable, so the default priority is 0.
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("analytics").AtMapKey("priority"), knownvalue.Float64Exact(0)),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("voting_members"), knownvalue.Int64Exact(5)),
						plancheck.ExpectUnknownValue(testAccReplicaSetAddr, tfjsonpath.New("version")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("version"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("config_json"), knownvalue.StringExact(docAnalytics)),
				},
			},
			{
				// Reordering the map is no change at all.
				Config: testAccReplicaSetConfig(name, reordered, ""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				ResourceName:      testAccReplicaSetAddr,
				ImportState:       true,
				ImportStateId:     name,
				ImportStateVerify: true,
			},
			{
				// A new name is a new replica set: replace, fresh ids.
				Config: testAccReplicaSetConfig(renamed, reordered, ""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testAccReplicaSetAddr, plancheck.ResourceActionReplace),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("config_json"), knownvalue.StringExact(docRenamed)),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("member_ids").AtMapKey("analytics"), knownvalue.Int64Exact(0)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("id"), knownvalue.StringExact(renamed)),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("config_json"), knownvalue.StringExact(docRenamed)),
					testRSCheckGone(name),
				},
			},
		},
	})
}

// TestAccReplicaSetResource_optionalForms keeps explicitly empty optional
// values (zone = "", tags = {}) and fractional priorities stable: apply
// followed by plan is empty.
func TestAccReplicaSetResource_optionalForms(t *testing.T) {
	name := "acc-rs-forms"
	members := `
    "a-1" = { host = "a-1.example.org:27017", site = "east", zone = "", tags = {}, priority = 0.1 }
    "b-1" = { host = "b-1.example.org:27017", site = "west", priority = 0.7, health_check = null }
    "arb" = { host = "arb.example.net:27017", site = "north", arbiter = true, priority = 0 }
`
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: testAccReplicaSetConfig(name, members, "  require_site_fault_tolerance = true\n  engine = \"mongodb\""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("a-1").AtMapKey("zone"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("a-1").AtMapKey("tags"), knownvalue.MapExact(map[string]knownvalue.Check{})),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("b-1").AtMapKey("priority"), knownvalue.Float64Exact(0.7)),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("preferred_primary_site"), knownvalue.StringExact("west")),
				},
			},
		},
	})
}

// TestAccReplicaSetResource_unknownHost: a host known only after apply
// (here from terraform_data; in real life an instance's address) leaves
// the document unknown at plan time, but the quorum analysis and the ids
// are still planned and checked.
func TestAccReplicaSetResource_unknownHost(t *testing.T) {
	name := "acc-rs-unknown"
	members := strings.Replace(testAccReplicaSetOrderGroove, `host = "db-va-2.example.org:27017"`, `host = terraform_data.va2.output`, 1)
	config := `
resource "terraform_data" "va2" {
  input = "db-va-2.example.org:27017"
}
` + testAccReplicaSetConfig(name, members, "")
	doc := testRSDoc(name, fmt.Sprintf(testRSDocArb, 0), fmt.Sprintf(testRSDocChi1, 1), fmt.Sprintf(testRSDocChi2, 2),
		fmt.Sprintf(testRSDocVa1, 3), fmt.Sprintf(testRSDocVa2, 4))
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: testAccReplicaSetPlanChecks(
						plancheck.ExpectUnknownValue(testAccReplicaSetAddr, tfjsonpath.New("config_json")),
						plancheck.ExpectUnknownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("va-2").AtMapKey("host")),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("member_ids").AtMapKey("va-2"), knownvalue.Int64Exact(4)),
					),
				},
				ConfigStateChecks: testAccReplicaSetStateChecks(
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("config_json"), knownvalue.StringExact(doc)),
				),
			},
		},
	})
}

func TestAccReplicaSetResource_drift(t *testing.T) {
	name := "acc-rs-drift"
	// Virginia's priorities are omitted: the default (1) is planned, so a
	// priority changed behind Terraform's back still shows as drift.
	members := strings.NewReplacer(`zone = "virginia-a", priority = 1`, `zone = "virginia-a"`,
		`zone = "virginia-b", priority = 1`, `zone = "virginia-b"`).Replace(testAccReplicaSetOrderGroove)
	setPriority := func(member string, prio float64) func() {
		return func() {
			ctx := context.Background()
			rs, err := client.Get[api.ReplicaSet](ctx, testFailoverd.client, api.KindReplicaSet, name)
			if err != nil {
				t.Fatalf("reading %s: %v", name, err)
			}
			m := rs.Members[member]
			m.Priority = &prio
			rs.Members[member] = m
			if _, err := client.Update(ctx, testFailoverd.client, api.KindReplicaSet, name, rs, rs.Version); err != nil {
				t.Fatalf("changing %s behind Terraform's back: %v", name, err)
			}
		}
	}
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				Config: testAccReplicaSetConfig(name, members, ""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: testAccReplicaSetPlanChecks(
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("va-1").AtMapKey("priority"), knownvalue.Float64Exact(1)),
					),
				},
				ConfigStateChecks: testAccReplicaSetStateChecks(),
			},
			{
				// An explicitly configured priority changed outside Terraform.
				PreConfig:          setPriority("chi-1", 5),
				Config:             testAccReplicaSetConfig(name, members, ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Apply puts it back.
				Config: testAccReplicaSetConfig(name, members, ""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testAccReplicaSetAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("chi-1").AtMapKey("priority"), knownvalue.Float64Exact(2)),
					},
				},
				ConfigStateChecks: testAccReplicaSetStateChecks(),
			},
			{
				// A defaulted priority changed outside Terraform: moving the
				// primary to virginia is drift too.
				PreConfig: setPriority("va-1", 3),
				Config:    testAccReplicaSetConfig(name, members, ""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectNonEmptyPlan(),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("va-1").AtMapKey("priority"), knownvalue.Float64Exact(1)),
						plancheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("preferred_primary_site"), knownvalue.StringExact("chicago")),
					},
				},
				ConfigStateChecks: testAccReplicaSetStateChecks(),
			},
			{
				// Deleted outside Terraform: planned for creation again.
				PreConfig: func() {
					if err := testFailoverd.client.Delete(context.Background(), api.KindReplicaSet, name, 0); err != nil {
						t.Fatalf("deleting %s behind Terraform's back: %v", name, err)
					}
				},
				Config: testAccReplicaSetConfig(name, members, ""),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testAccReplicaSetAddr, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: testAccReplicaSetStateChecks(),
			},
		},
	})
}

func TestAccReplicaSetResource_validation(t *testing.T) {
	name := "acc-rs-invalid"
	step := func(members, extra, pattern string) tfresource.TestStep {
		return tfresource.TestStep{
			Config:      testAccReplicaSetConfig(name, members, extra),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?i)` + pattern),
		}
	}
	// sp matches the spaces (or line breaks) between words of a message.
	sp := func(words ...string) string { return strings.Join(words, `\s+`) }
	eightVoters := testAccReplicaSetOrderGroove + `
    "chi-3" = { host = "db-chi-3.example.org:27017", site = "chicago", priority = 2 }
    "va-3"  = { host = "db-va-3.example.org:27017", site = "virginia" }
    "arb-2" = { host = "arb-2.example.net:27017", site = "dallas", arbiter = true }
`
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			step(strings.Replace(testAccReplicaSetOrderGroove, `arbiter = true`, `arbiter = true, priority = 1`, 1), "",
				`Invalid Replica Set: members\["arb"\]\.priority[\s\S]*`+sp(`member`, `"arb"`, `is`, `an`, `arbiter,`, `so`, `its`, `priority`, `must`, `be`, `0`)),
			step(`
    "chi-1" = { host = "db-chi-1.example.org:27017", site = "chicago", priority = 2 }
    "chi-2" = { host = "db-chi-2.example.org:27017", site = "chicago", priority = 2 }
    "va-1"  = { host = "db-va-1.example.org:27017", site = "virginia" }
`, "", `Invalid Replica Set\s[\s\S]*`+sp(`losing`, `site`, `"chicago"`, `removes`, `2`, `of`, `3`, `votes;`, `1`, `left,`, `2`, `needed`)),
			step(strings.Replace(testAccReplicaSetOrderGroove, `db-va-2.example.org`, `DB-CHI-1.example.org`, 1), "",
				`members\["va-2"\]\.host[\s\S]*`+sp(`is`, `also`, `the`, `host`, `of`, `member`, `"chi-1"`)),
			step(eightVoters, "", sp(`8`, `voting`, `members,`, `but`, `MongoDB`, `allows`, `at`, `most`, `7`)),
			step(strings.Replace(testAccReplicaSetOrderGroove, `zone = "virginia-b", priority = 1`, `zone = "virginia-b", priority = 1, votes = 2`, 1), "",
				`members\["va-2"\]\.votes[\s\S]*`+sp(`is`, `2,`, `but`, `MongoDB`, `gives`, `a`, `member`, `0`, `or`, `1`, `vote`)),
			step(strings.Replace(testAccReplicaSetOrderGroove, `site = "ohio"`, `site = "virginia"`, 1), "",
				`members\["arb"\]\.site[\s\S]*`+sp(`arbiter`, `"arb"`, `is`, `in`, `site`, `"virginia"`, `with`, `data-bearing`, `member\(s\)`)),
			step(strings.Replace(testAccReplicaSetOrderGroove, `zone = "virginia-b", priority = 1`, `zone = "virginia-b", hidden = true, priority = 1`, 1), "",
				`members\["va-2"\]\.priority[\s\S]*`+sp(`member`, `"va-2"`, `is`, `hidden,`, `so`, `its`, `priority`, `must`, `be`, `0`)),
			step(testAccReplicaSetOrderGroove, `  engine = "postgres"`, sp(`"postgres"`, `is`, `not`, `a`, `supported`, `engine`)),
			{
				Config:      testAccReplicaSetConfig("Acc_RS", testAccReplicaSetOrderGroove, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Invalid Replica Set\s[\s\S]*` + sp(`"Acc_RS"`, `is`, `not`, `a`, `valid`, `name`)),
			},
			step(testAccReplicaSetOrderGroove+`    "Bad_Name" = { host = "x.example.org:27017", site = "ohio", arbiter = true }`, "",
				sp(`"Bad_Name"`, `is`, `not`, `a`, `valid`, `name`)),
			{
				// Only failoverd knows which health checks exist: an apply-time
				// error, reported on its attribute like the plan-time ones.
				Config: testAccReplicaSetConfig(name, strings.Replace(testAccReplicaSetOrderGroove,
					`zone = "virginia-a"`, `zone = "virginia-a", health_check = "acc-rs-no-such-check"`, 1), ""),
				ExpectError: regexp.MustCompile(`Invalid Replica Set: members\["va-1"\]\.health_check[\s\S]*(?i)` +
					sp(`no`, `health`, `check`, `named`, `"acc-rs-no-such-check"`)),
			},
		},
	})
}

// TestAccReplicaSetResource_concurrentEdit proves that an edit landing
// between plan and apply is never overwritten.
func TestAccReplicaSetResource_concurrentEdit(t *testing.T) {
	name := "acc-rs-concurrent"
	var fired atomic.Bool
	hook := func(r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != api.ObjectPath(api.KindReplicaSet, name) ||
			!strings.HasPrefix(r.UserAgent(), "terraform-provider-failover/") || !fired.CompareAndSwap(false, true) {
			return
		}
		ctx := context.Background()
		rs, err := client.Get[api.ReplicaSet](ctx, testFailoverd.client, api.KindReplicaSet, name)
		if err != nil {
			t.Errorf("concurrent edit: %v", err)
			return
		}
		m := rs.Members["va-2"]
		m.Tags = map[string]string{"edited": "by-operator"}
		rs.Members["va-2"] = m
		if _, err := client.Update(ctx, testFailoverd.client, api.KindReplicaSet, name, rs, rs.Version); err != nil {
			t.Errorf("concurrent edit: %v", err)
		}
	}
	t.Cleanup(func() { testBeforeRequest.Store(nil) })
	changed := strings.Replace(testAccReplicaSetOrderGroove, `zone = "virginia-a", priority = 1`, `zone = "virginia-a", priority = 1.5`, 1)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{Config: testAccReplicaSetConfig(name, testAccReplicaSetOrderGroove, "")},
			{
				PreConfig:   func() { testBeforeRequest.Store(&hook) },
				Config:      testAccReplicaSetConfig(name, changed, ""),
				ExpectError: regexp.MustCompile(`Replica Set Changed Outside Terraform`),
			},
			{
				// The operator's edit survived, the change was not applied,
				// and the next plan shows both.
				PreConfig: func() {
					testBeforeRequest.Store(nil)
					if !fired.Load() {
						t.Fatal("the concurrent edit never ran: the provider sent no PUT")
					}
					rs, err := client.Get[api.ReplicaSet](context.Background(), testFailoverd.client, api.KindReplicaSet, name)
					if err != nil {
						t.Fatal(err)
					}
					if got := rs.Members["va-2"].Tags["edited"]; got != "by-operator" {
						t.Fatalf("the concurrent edit was lost: va-2 tags = %v", rs.Members["va-2"].Tags)
					}
					if got := *rs.Members["va-1"].Priority; got != 1 {
						t.Fatalf("va-1 priority = %v, want 1 (the failed apply must not write)", got)
					}
				},
				Config:             testAccReplicaSetConfig(name, changed, ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: testAccReplicaSetConfig(name, changed, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("va-1").AtMapKey("priority"), knownvalue.Float64Exact(1.5)),
					statecheck.ExpectKnownValue(testAccReplicaSetAddr, tfjsonpath.New("members").AtMapKey("va-2").AtMapKey("tags"), knownvalue.Null()),
				},
			},
		},
	})
}

// testRSCheckAPI asserts on the object and configuration document
// as failoverd serves them.
func testRSCheckAPI(name string, check func(api.ReplicaSet, topology.ReplSetConfig) error) statecheck.StateCheck {
	return testRSAPICheck(func() error {
		ctx := context.Background()
		rs, err := client.Get[api.ReplicaSet](ctx, testFailoverd.client, api.KindReplicaSet, name)
		if err != nil {
			return err
		}
		raw, err := testFailoverd.client.ReplicaSetConfig(ctx, name)
		if err != nil {
			return err
		}
		var doc topology.ReplSetConfig
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			return fmt.Errorf("failoverd's configuration document: %w", err)
		}
		return check(rs, doc)
	})
}

// testRSAPICheck is a state check that asserts on failoverd itself.
type testRSAPICheck func() error

func (f testRSAPICheck) CheckState(_ context.Context, _ statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = f()
}

func testRSCheckGone(name string) statecheck.StateCheck {
	return testRSAPICheck(func() error {
		_, err := client.Get[api.ReplicaSet](context.Background(), testFailoverd.client, api.KindReplicaSet, name)
		if !client.IsNotFound(err) {
			return fmt.Errorf("replica set %q should be gone after the replacement, got err = %v", name, err)
		}
		return nil
	})
}

// ---- unit tests (no TF_ACC) ----

func testRSSchema(t *testing.T) (r *replicaSetResource, s resource.SchemaResponse) {
	t.Helper()
	r = &replicaSetResource{}
	r.Schema(context.Background(), resource.SchemaRequest{}, &s)
	if s.Diagnostics.HasError() {
		t.Fatalf("schema: %v", s.Diagnostics)
	}
	if d := s.Schema.ValidateImplementation(context.Background()); d.HasError() {
		t.Fatalf("schema implementation: %v", d)
	}
	return r, s
}

// testRSMember builds a member object value; unknown lists attributes to
// leave unknown.
func testRSMember(t *testing.T, host, site string, prio *float64, arbiter bool, unknown ...string) attr.Value {
	t.Helper()
	mm := replicaSetMemberModel{
		Host: types.StringValue(host), Site: types.StringValue(site), Zone: types.StringNull(),
		Priority: types.Float64Null(), Votes: types.Int64Value(1), Arbiter: types.BoolValue(arbiter),
		Hidden: types.BoolValue(false), SecondaryDelaySeconds: types.Int64Value(0),
		Tags: types.MapNull(types.StringType), HealthCheck: types.StringNull(),
	}
	if prio != nil {
		mm.Priority = types.Float64Value(*prio)
	}
	for _, u := range unknown {
		switch u {
		case "host":
			mm.Host = types.StringUnknown()
		case "site":
			mm.Site = types.StringUnknown()
		case "priority":
			mm.Priority = types.Float64Unknown()
		default:
			t.Fatalf("testRSMember: unsupported unknown %q", u)
		}
	}
	v, d := types.ObjectValueFrom(context.Background(), replicaSetMemberAttrTypes, mm)
	if d.HasError() {
		t.Fatal(d)
	}
	return v
}

func testRSModel(t *testing.T, name string, members map[string]attr.Value) replicaSetResourceModel {
	t.Helper()
	mv, d := types.MapValue(types.ObjectType{AttrTypes: replicaSetMemberAttrTypes}, members)
	if d.HasError() {
		t.Fatal(d)
	}
	return replicaSetResourceModel{
		ID: types.StringUnknown(), Name: types.StringValue(name), Engine: types.StringValue("mongodb"), Members: mv,
		RequireSiteFaultTolerance: types.BoolValue(true), RequireMajorityWrites: types.BoolValue(false),
		Version: types.Int64Unknown(), MemberIDs: types.MapUnknown(types.Int64Type),
		VotingMembers: types.Int64Unknown(), Majority: types.Int64Unknown(), FaultTolerance: types.Int64Unknown(),
		DefaultWriteConcern: types.StringUnknown(), WriteMajority: types.Int64Unknown(),
		PreferredPrimarySite: types.StringUnknown(), SiteLoss: types.MapUnknown(types.ObjectType{AttrTypes: replicaSetSiteLossAttrTypes}),
		Warnings: types.ListUnknown(types.StringType), ConfigJSON: types.StringUnknown(),
		Timeouts: types.ObjectNull(timeoutsAttrTypes),
	}
}

func testRSRaw(t *testing.T, s resource.SchemaResponse, m *replicaSetResourceModel) tftypes.Value {
	t.Helper()
	st := tfsdk.State{Schema: s.Schema, Raw: tftypes.NewValue(s.Schema.Type().TerraformType(context.Background()), nil)}
	if d := st.Set(context.Background(), m); d.HasError() {
		t.Fatal(d)
	}
	return st.Raw
}

func testRSFloat(f float64) *float64 { return &f }

func TestReplicaSetValidateConfig(t *testing.T) {
	r, s := testRSSchema(t)
	two, one := testRSFloat(2), testRSFloat(1)
	members := func(extra map[string]attr.Value) map[string]attr.Value {
		ms := map[string]attr.Value{
			"chi-1": testRSMember(t, "db-chi-1.example.org:27017", "chicago", two, false),
			"chi-2": testRSMember(t, "db-chi-2.example.org:27017", "chicago", two, false),
			"va-1":  testRSMember(t, "db-va-1.example.org:27017", "virginia", one, false),
			"va-2":  testRSMember(t, "db-va-2.example.org:27017", "virginia", one, false),
			"arb":   testRSMember(t, "arb.example.net:27017", "ohio", nil, true),
		}
		for k, v := range extra {
			if v == nil {
				delete(ms, k)
			} else {
				ms[k] = v
			}
		}
		return ms
	}
	type want struct {
		path    path.Path
		warning bool
		detail  string
		summary string
	}
	// OrderGroove survives either data site's loss for elections, not for
	// w:"majority" writes (issue 14).
	writeWarnings := []want{
		{path: path.Root("members"), warning: true, detail: `Losing site "chicago" leaves an election possible (3 of 5 votes, 3 needed) but not w:"majority" writes: they need 3 acknowledgement(s)`, summary: "Replica Set Topology Warning"},
		{path: path.Root("members"), warning: true, detail: `Losing site "virginia" leaves an election possible`, summary: "Replica Set Topology Warning"},
	}
	tests := []struct {
		name          string
		members       map[string]attr.Value
		requireWrites bool
		want          []want
	}{
		{name: "ordergroove", members: members(nil), want: writeWarnings},
		{name: "ordergroove requiring majority writes", members: members(nil), requireWrites: true, want: []want{
			{path: path.Root("members"), detail: `Losing site "chicago" leaves an election possible (3 of 5 votes, 3 needed) but not w:"majority" writes`},
			{path: path.Root("members"), detail: `Losing site "virginia" leaves an election possible`},
		}},
		{
			name:          "ordergroove with a data member in ohio instead of the arbiter, requiring majority writes",
			members:       members(map[string]attr.Value{"arb": testRSMember(t, "db-oh-1.example.org:27017", "ohio", one, false)}),
			requireWrites: true,
		},
		{
			name:    "arbiter with priority",
			members: members(map[string]attr.Value{"arb": testRSMember(t, "arb.example.net:27017", "ohio", one, true)}),
			want: append([]want{{path: path.Root("members").AtMapKey("arb").AtName("priority"), detail: `Member "arb" is an arbiter, so its priority must be 0`,
				summary: `Invalid Replica Set: members["arb"].priority`}}, writeWarnings...),
		},
		{
			name:    "two sites",
			members: members(map[string]attr.Value{"arb": nil, "va-2": nil}),
			want: []want{
				{path: path.Root("members"), detail: `Losing site "chicago" removes 2 of 3 votes; 1 left, 2 needed`},
			},
		},
		{
			name:    "even voters warn",
			members: members(map[string]attr.Value{"arb": nil, "oh-1": testRSMember(t, "db-oh-1.example.org:27017", "ohio", one, false), "oh-2": testRSMember(t, "db-oh-2.example.org:27017", "ohio", one, false)}),
			want:    []want{{path: path.Root("members"), warning: true, detail: "6 voting members is an even number", summary: "Replica Set Topology Warning"}},
		},
		{
			// The hosts are not known yet: nothing is judged on them, and
			// the set-wide rules still run.
			name: "unknown host",
			members: members(map[string]attr.Value{
				"va-2": testRSMember(t, "", "virginia", one, false, "host"),
				"va-1": testRSMember(t, "", "virginia", one, false, "host"),
			}),
		},
		{
			// The sites are not known yet: no site-loss verdict, but
			// member-level rules still run.
			name: "unknown site",
			members: members(map[string]attr.Value{
				"va-2": testRSMember(t, "db-va-2.example.org:27017", "", one, false, "site"),
				"arb":  testRSMember(t, "arb.example.net:27017", "ohio", two, true),
			}),
			want: []want{{path: path.Root("members").AtMapKey("arb").AtName("priority"), detail: `Member "arb" is an arbiter`}},
		},
		{
			name:    "unknown priority",
			members: members(map[string]attr.Value{"arb": testRSMember(t, "arb.example.net:27017", "ohio", nil, true, "priority")}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testRSModel(t, "rs", tt.members)
			m.RequireMajorityWrites = types.BoolValue(tt.requireWrites)
			req := resource.ValidateConfigRequest{Config: tfsdk.Config{Schema: s.Schema, Raw: testRSRaw(t, s, &m)}}
			var resp resource.ValidateConfigResponse
			r.ValidateConfig(context.Background(), req, &resp)
			if len(resp.Diagnostics) != len(tt.want) {
				t.Fatalf("got %d diagnostics, want %d: %v", len(resp.Diagnostics), len(tt.want), resp.Diagnostics)
			}
			for i, w := range tt.want {
				got := resp.Diagnostics[i]
				wp, ok := got.(diag.DiagnosticWithPath)
				if !ok || !wp.Path().Equal(w.path) {
					t.Errorf("diagnostic %d: path %v, want %v (%s)", i, testRSPathOf(got), w.path, got.Detail())
				}
				if (got.Severity() == diag.SeverityWarning) != w.warning {
					t.Errorf("diagnostic %d: severity %v, want warning=%v", i, got.Severity(), w.warning)
				}
				if w.summary != "" && got.Summary() != w.summary {
					t.Errorf("diagnostic %d: summary %q, want %q", i, got.Summary(), w.summary)
				}
				if !strings.Contains(got.Detail(), w.detail) {
					t.Errorf("diagnostic %d: detail %q, want it to contain %q", i, got.Detail(), w.detail)
				}
			}
		})
	}
}

func testRSPathOf(d diag.Diagnostic) any {
	if wp, ok := d.(diag.DiagnosticWithPath); ok {
		return wp.Path()
	}
	return "(none)"
}

// TestReplicaSetModifyPlan checks that ModifyPlan computes what failoverd
// computes: default priorities, ids kept from the prior state, analysis
// and document, and leaves values unknown that depend on unknowns.
func TestReplicaSetModifyPlan(t *testing.T) {
	r, s := testRSSchema(t)
	ctx := context.Background()
	one := testRSFloat(1)
	plan := testRSModel(t, "rs", map[string]attr.Value{
		"b":   testRSMember(t, "b.example.org:27017", "east", nil, false),
		"c":   testRSMember(t, "c.example.org:27017", "west", one, false),
		"arb": testRSMember(t, "arb.example.net:27017", "north", nil, true),
		"new": testRSMember(t, "new.example.org:27017", "west", nil, false),
	})
	prior := testRSModel(t, "rs", nil)
	prior.MemberIDs = types.MapValueMust(types.Int64Type, map[string]attr.Value{
		"b": types.Int64Value(7), "c": types.Int64Value(0), "arb": types.Int64Value(1), "gone": types.Int64Value(2),
	})
	run := func(plan, prior replicaSetResourceModel, priorNull bool) replicaSetResourceModel {
		t.Helper()
		raw := testRSRaw(t, s, &plan)
		state := tfsdk.State{Schema: s.Schema, Raw: testRSRaw(t, s, &prior)}
		if priorNull {
			state.Raw = tftypes.NewValue(s.Schema.Type().TerraformType(ctx), nil)
		}
		req := resource.ModifyPlanRequest{Config: tfsdk.Config{Schema: s.Schema, Raw: raw}, Plan: tfsdk.Plan{Schema: s.Schema, Raw: raw}, State: state}
		resp := resource.ModifyPlanResponse{Plan: req.Plan}
		r.ModifyPlan(ctx, req, &resp)
		if resp.Diagnostics.HasError() {
			t.Fatal(resp.Diagnostics)
		}
		var out replicaSetResourceModel
		if d := resp.Plan.Get(ctx, &out); d.HasError() {
			t.Fatal(d)
		}
		return out
	}

	got := run(plan, prior, false)
	ids, _ := replicaSetMemberIDsFromState(ctx, got.MemberIDs)
	if want := map[string]int{"arb": 1, "b": 7, "c": 0, "new": 2}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("member_ids = %v, want %v (kept ids, the freed id 2 reused)", ids, want)
	}
	prios := map[string]float64{}
	for name, v := range got.Members.Elements() {
		var mm replicaSetMemberModel
		v.(types.Object).As(ctx, &mm, basetypes.ObjectAsOptions{})
		prios[name] = mm.Priority.ValueFloat64()
	}
	if want := map[string]float64{"arb": 0, "b": 1, "c": 1, "new": 1}; fmt.Sprint(prios) != fmt.Sprint(want) {
		t.Errorf("planned priorities = %v, want %v", prios, want)
	}
	if got.Majority.ValueInt64() != 3 || got.VotingMembers.ValueInt64() != 4 || got.Warnings.IsUnknown() {
		t.Errorf("analysis: voting %v majority %v warnings %v", got.VotingMembers, got.Majority, got.Warnings)
	}
	if !strings.Contains(got.ConfigJSON.ValueString(), `{"_id":7,"host":"b.example.org:27017"`) {
		t.Errorf("config_json does not keep b's _id 7: %s", got.ConfigJSON.ValueString())
	}

	// Create: fresh ids in name order, whatever the "prior" says.
	got = run(plan, prior, true)
	ids, _ = replicaSetMemberIDsFromState(ctx, got.MemberIDs)
	if want := map[string]int{"arb": 0, "b": 1, "c": 2, "new": 3}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("create: member_ids = %v, want %v", ids, want)
	}

	// Unknown host: analysis known, document unknown.
	plan2 := testRSModel(t, "rs", map[string]attr.Value{
		"b":   testRSMember(t, "", "east", nil, false, "host"),
		"c":   testRSMember(t, "c.example.org:27017", "west", one, false),
		"arb": testRSMember(t, "arb.example.net:27017", "north", nil, true),
	})
	got = run(plan2, prior, true)
	if got.Majority.IsUnknown() || !got.ConfigJSON.IsUnknown() || got.MemberIDs.IsUnknown() {
		t.Errorf("unknown host: majority %v config_json %v member_ids %v", got.Majority, got.ConfigJSON, got.MemberIDs)
	}
	// Unknown site: analysis unknown too.
	plan3 := testRSModel(t, "rs", map[string]attr.Value{
		"b":   testRSMember(t, "b.example.org:27017", "", nil, false, "site"),
		"c":   testRSMember(t, "c.example.org:27017", "west", one, false),
		"arb": testRSMember(t, "arb.example.net:27017", "north", nil, true),
	})
	got = run(plan3, prior, true)
	if !got.Majority.IsUnknown() || !got.SiteLoss.IsUnknown() || !got.ConfigJSON.IsUnknown() {
		t.Errorf("unknown site: majority %v site_loss %v config_json %v", got.Majority, got.SiteLoss, got.ConfigJSON)
	}
}

// TestReplicaSetFromAPI checks the read-back mapping: failoverd's object
// and document in, the model out, keeping the prior null-versus-empty forms.
func TestReplicaSetFromAPI(t *testing.T) {
	ctx := context.Background()
	rs := api.ReplicaSet{
		Name: "rs", Engine: "mongodb", Version: 4,
		Members: map[string]api.Member{
			"a":   {Host: "a.example.org:27017", Site: "east", Priority: testRSFloat(2), Votes: new(int)},
			"b":   {Host: "b.example.org:27017", Site: "west", Zone: "w1"},
			"arb": {Host: "arb.example.net:27017", Site: "north", Arbiter: true},
		},
		MemberIDs: map[string]int{"a": 3, "b": 0, "arb": 1},
	}
	*rs.Members["a"].Votes = 1
	rs.Normalize()
	a := topology.Analyze(rs)
	rs.Analysis = &a
	doc := []byte(`{"_id":"rs","version":4,"members":[]}`)

	priorA := replicaSetMemberModel{Zone: types.StringValue(""), Tags: types.MapValueMust(types.StringType, map[string]attr.Value{}), HealthCheck: types.StringNull(), Priority: types.Float64Value(2)}
	pv, _ := types.ObjectValueFrom(ctx, replicaSetMemberAttrTypes, priorA)
	prior := replicaSetResourceModel{Members: types.MapValueMust(types.ObjectType{AttrTypes: replicaSetMemberAttrTypes}, map[string]attr.Value{"a": pv})}

	m, d := prior.fromAPI(ctx, rs, doc)
	if d.HasError() {
		t.Fatal(d)
	}
	var members map[string]replicaSetMemberModel
	m.Members.ElementsAs(ctx, &members, false)
	if z := members["a"].Zone; z.IsNull() || z.ValueString() != "" {
		t.Errorf(`a.zone = %v, want "" (kept from prior)`, z)
	}
	if tg := members["a"].Tags; tg.IsNull() || len(tg.Elements()) != 0 {
		t.Errorf("a.tags = %v, want {} (kept from prior)", tg)
	}
	if z := members["arb"].Zone; !z.IsNull() {
		t.Errorf("arb.zone = %v, want null", z)
	}
	if p := members["arb"].Priority.ValueFloat64(); p != 0 {
		t.Errorf("arb.priority = %v, want 0", p)
	}
	if m.ConfigJSON.ValueString() != `{"_id":"rs","version":1,"members":[]}` {
		t.Errorf("config_json = %s, want version 1", m.ConfigJSON.ValueString())
	}
	if m.Version.ValueInt64() != 4 || m.PreferredPrimarySite.ValueString() != "east" {
		t.Errorf("version %v preferred %v", m.Version, m.PreferredPrimarySite)
	}
	ids, _ := replicaSetMemberIDsFromState(ctx, m.MemberIDs)
	if fmt.Sprint(ids) != fmt.Sprint(rs.MemberIDs) {
		t.Errorf("member_ids = %v, want %v", ids, rs.MemberIDs)
	}
	// No document (failoverd did not answer): config_json is null, the rest is there.
	m, d = replicaSetResourceModel{}.fromAPI(ctx, rs, nil)
	if d.HasError() || !m.ConfigJSON.IsNull() || m.Majority.ValueInt64() != 2 {
		t.Errorf("without document: %v config_json %v majority %v", d, m.ConfigJSON, m.Majority)
	}
	// A document that is not one.
	if _, d = (replicaSetResourceModel{}).fromAPI(ctx, rs, []byte(`[1]`)); !d.HasError() {
		t.Error("a non-document answer was accepted")
	}
}

// FuzzReplicaSetFromAPIDocument feeds arbitrary answers to GET
// /v1/replica-sets/{name}/config through the read-back: an error or a
// version-1 document, never a panic.
func FuzzReplicaSetFromAPIDocument(f *testing.F) {
	f.Add([]byte(`{"_id":"rs","version":7,"members":[{"_id":0,"host":"a.example.org:27017","priority":1,"votes":1}]}`))
	f.Add([]byte(`{"_id":"rs","version":1,"members":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"version":1e400}`))
	rs := api.ReplicaSet{Name: "rs", Members: map[string]api.Member{"a": {Host: "a.example.org:27017", Site: "east"}}}
	rs.Normalize()
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, d := replicaSetResourceModel{}.fromAPI(context.Background(), rs, doc)
		if d.HasError() {
			return
		}
		var cfg topology.ReplSetConfig
		if err := json.Unmarshal([]byte(m.ConfigJSON.ValueString()), &cfg); err != nil || cfg.Version != replicaSetConfigDocVersion {
			t.Errorf("config_json %q: version %d, err %v", m.ConfigJSON.ValueString(), cfg.Version, err)
		}
	})
}

// TestReplicaSetResourceSchema: every attribute, nested ones included,
// carries the description the generated docs are made of.
func TestReplicaSetResourceSchema(t *testing.T) {
	_, s := testRSSchema(t)
	var walk func(prefix string, attrs map[string]rschema.Attribute)
	walk = func(prefix string, attrs map[string]rschema.Attribute) {
		for name, a := range attrs {
			if a.GetMarkdownDescription() == "" {
				t.Errorf("attribute %s%s has no description", prefix, name)
			}
			if n, ok := a.(rschema.MapNestedAttribute); ok {
				walk(prefix+name+".", n.NestedObject.Attributes)
			}
		}
	}
	if s.Schema.MarkdownDescription == "" {
		t.Error("the resource has no description")
	}
	walk("", s.Schema.Attributes)
}

// Replacing the arbiter by a data member in one apply changes two voters:
// the plan fails with the safe sequence; one voter per apply goes through.
func TestAccReplicaSetResource_oneVoterPerReconfig(t *testing.T) {
	name := "acc-rs-reconfig"
	withData := testAccReplicaSetOrderGroove + `
    "oh-1" = { host = "db-oh-1.example.org:27017", site = "ohio-data", priority = 1 }
`
	swapped := strings.Replace(withData, `"arb"   = { host = "arb.example.net:27017", site = "ohio", arbiter = true }`, "", 1)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{Config: testAccReplicaSetConfig(name, testAccReplicaSetOrderGroove, "")},
			{
				Config:      testAccReplicaSetConfig(name, swapped, "  require_site_fault_tolerance = false"),
				ExpectError: tpMatchWords(`apply it in 2 steps, one apply each, waiting for each reconfiguration to commit: 1. add the vote of "oh-1"; 2. remove the vote of "arb".`),
			},
			// Step 1: the new data member joins (6 voters: an even number, warned).
			{Config: testAccReplicaSetConfig(name, withData, "  require_site_fault_tolerance = false")},
			// Step 2: the arbiter leaves.
			{Config: testAccReplicaSetConfig(name, swapped, "  require_site_fault_tolerance = false")},
		},
	})
}
