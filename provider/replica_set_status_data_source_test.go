package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

const testAccReplicaSetStatusAddr = "data.failover_replica_set_status.test"

// TestAccReplicaSetStatusDataSource_basic runs the OrderGroove layout
// against real backends on 127.0.0.1, one per member, probed by failoverd
// every second: all up, the set holds its majority and is not at risk;
// chicago's backends stopped, the set still has a majority (virginia plus
// the arbiter), the primary moves to virginia, and it is at risk — the
// next site failure would take the majority.
func TestAccReplicaSetStatusDataSource_basic(t *testing.T) {
	testAccPreCheck(t)
	ctx := context.Background()
	const rsName = "acc-rss-basic"
	sites := map[string]string{"chi-1": "chicago", "chi-2": "chicago", "va-1": "virginia", "va-2": "virginia", "arb": "ohio"}
	backends := map[string]*httptest.Server{}
	for member, site := range sites {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "ok")
		}))
		t.Cleanup(srv.Close)
		backends[member] = srv
		check := api.HealthCheck{
			Name: "acc-rss-" + member, Site: site, Type: api.CheckHTTP,
			Address:         strings.TrimPrefix(srv.URL, "http://"),
			IntervalSeconds: 1, TimeoutSeconds: 0.5, Rise: 1, Fall: 1,
		}
		if _, err := client.Create(ctx, testFailoverd.client, api.KindHealthCheck, check); err != nil {
			t.Fatalf("creating health check %s: %v", check.Name, err)
		}
		t.Cleanup(func() {
			// After the test's destroy: the replica set no longer refers to it.
			if err := testFailoverd.client.Delete(context.Background(), api.KindHealthCheck, check.Name, 0); err != nil && !client.IsNotFound(err) {
				t.Errorf("deleting health check %s: %v", check.Name, err)
			}
		})
	}

	members := testAccReplicaSetOrderGroove
	for member := range sites {
		members = strings.Replace(members, `"`+member+`"`+strings.Repeat(" ", 5-len(member))+` = { `,
			`"`+member+`" = { health_check = "acc-rss-`+member+`", `, 1)
	}
	if strings.Count(members, "health_check") != len(sites) {
		t.Fatalf("fixture: health checks not attached to every member:\n%s", members)
	}
	config := testAccReplicaSetConfig(rsName, members, "") + `
data "failover_replica_set_status" "test" {
  name = failover_replica_set.test.name
}
`
	memberStates := func(down ...string) knownvalue.Check {
		m := map[string]knownvalue.Check{}
		for member := range sites {
			m[member] = knownvalue.StringExact(api.StateHealthy)
		}
		for _, member := range down {
			m[member] = knownvalue.StringExact(api.StateUnhealthy)
		}
		return knownvalue.MapExact(m)
	}

	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{
				PreConfig: func() {
					// Every check healthy first, so the status is not a guess.
					testRSSWaitFor(t, "all health checks healthy", func() (bool, string) {
						for member := range sites {
							st, err := testFailoverd.client.HealthStatus(ctx, "acc-rss-"+member)
							if err != nil || st.State != api.StateHealthy {
								return false, fmt.Sprintf("%s: %+v %v", member, st.State, err)
							}
						}
						return true, ""
					})
				},
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("has_majority"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("at_risk"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("members_up"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("votes_up"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("expected_primary"), knownvalue.StringExact("chi-1")),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("members"), memberStates()),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("since"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
				},
			},
			{
				PreConfig: func() {
					backends["chi-1"].Close()
					backends["chi-2"].Close()
					testRSSWaitFor(t, "failoverd to see chicago down", func() (bool, string) {
						st, err := testFailoverd.client.ReplicaSetStatus(ctx, rsName)
						return err == nil && st.AtRisk && st.ExpectedPrimary == "va-1", fmt.Sprintf("%+v %v", st, err)
					})
				},
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("has_majority"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("at_risk"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("members_up"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("votes_up"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("expected_primary"), knownvalue.StringExact("va-1")),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("members"), memberStates("chi-1", "chi-2")),
				},
			},
			{
				PreConfig: func() {
					backends["va-1"].Close()
					testRSSWaitFor(t, "failoverd to see the majority lost", func() (bool, string) {
						st, err := testFailoverd.client.ReplicaSetStatus(ctx, rsName)
						return err == nil && !st.HasMajority, fmt.Sprintf("%+v %v", st, err)
					})
				},
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("has_majority"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("at_risk"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("votes_up"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(testAccReplicaSetStatusAddr, tfjsonpath.New("expected_primary"), knownvalue.Null()),
				},
			},
		},
	})
}

func TestAccReplicaSetStatusDataSource_notFound(t *testing.T) {
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{{
			Config: `
data "failover_replica_set_status" "test" {
  name = "acc-rss-missing"
}
`,
			ExpectError: regexp.MustCompile(`Replica Set Not Found[\s\S]*"acc-rss-missing"[\s\S]*depends_on`),
		}, {
			Config: `
data "failover_replica_set_status" "test" {
  name = "Not A Name"
}
`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`Invalid Name[\s\S]*"Not\s+A\s+Name"\s+is\s+not\s+a\s+valid\s+name`),
		}},
	})
}

// testRSSWaitFor polls cond until it holds, failing the test after 30 s
// with cond's last explanation.
func testRSSWaitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReplicaSetStatusFromAPI(t *testing.T) {
	since := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   api.ReplicaSetStatus
		want replicaSetStatusDataSourceModel
	}{
		{
			name: "at risk",
			in: api.ReplicaSetStatus{MembersUp: 3, VotesUp: 3, HasMajority: true, ExpectedPrimary: "va-1", AtRisk: true,
				Members: map[string]string{"chi-1": "unhealthy", "va-1": "healthy"}, Since: since},
			want: replicaSetStatusDataSourceModel{
				MembersUp: types.Int64Value(3), VotesUp: types.Int64Value(3), HasMajority: types.BoolValue(true),
				ExpectedPrimary: types.StringValue("va-1"), AtRisk: types.BoolValue(true),
				Members: types.MapValueMust(types.StringType, map[string]attr.Value{
					"chi-1": types.StringValue("unhealthy"), "va-1": types.StringValue("healthy"),
				}),
				Since: types.StringValue("2026-11-22T04:00:00Z"),
			},
		},
		{
			name: "no majority, nothing known yet",
			in:   api.ReplicaSetStatus{AtRisk: true},
			want: replicaSetStatusDataSourceModel{
				MembersUp: types.Int64Value(0), VotesUp: types.Int64Value(0), HasMajority: types.BoolValue(false),
				ExpectedPrimary: types.StringNull(), AtRisk: types.BoolValue(true),
				Members: types.MapValueMust(types.StringType, map[string]attr.Value{}),
				Since:   types.StringNull(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got replicaSetStatusDataSourceModel
			if d := got.fromAPI(context.Background(), tt.in); d.HasError() {
				t.Fatal(d)
			}
			if fmt.Sprintf("%v", got) != fmt.Sprintf("%v", tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestReplicaSetStatusDataSourceSchema(t *testing.T) {
	var resp datasource.SchemaResponse
	(&replicaSetStatusDataSource{}).Schema(context.Background(), datasource.SchemaRequest{}, &resp)
	if d := resp.Schema.ValidateImplementation(context.Background()); d.HasError() {
		t.Fatal(d)
	}
	for name, a := range resp.Schema.Attributes {
		if a.GetMarkdownDescription() == "" {
			t.Errorf("attribute %s has no description", name)
		}
	}
}
