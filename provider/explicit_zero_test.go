package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// failoverdRefusal POSTs body to failoverd's collection of kind and returns
// the detail of its error on field: what failoverd tells a client that
// sends the same value.
func failoverdRefusal(t *testing.T, kind api.Kind, body, field string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, testFailoverd.url+"/v1/"+string(kind), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testFailoverd.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var p api.Problem
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("POST %s: %d (%v), want a 400 problem", body, res.StatusCode, err)
	}
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Detail
		}
	}
	t.Fatalf("POST %s: no error on %s: %v", body, field, p.Errors)
	return ""
}

// An explicit zero where zero means "the default" (rise = 0, path = "",
// engine = "") fails the plan with the very message failoverd answers to a
// body setting it, instead of silently becoming the default (and then a
// "Provider produced inconsistent result" at apply).
func TestAccExplicitZeros(t *testing.T) {
	check := func(attr string) (string, string) {
		return testAccHealthCheckConfig("acc-zero", attr),
			`{"name":"acc-zero","site":"dc1","type":"http","address":"127.0.0.1:80",` + hclToJSON(attr) + `}`
	}
	cases := []struct {
		name, config string
		kind         api.Kind
		body, field  string
	}{
		{name: "interval_seconds", kind: api.KindHealthCheck, field: "interval_seconds"},
		{name: "timeout_seconds", kind: api.KindHealthCheck, field: "timeout_seconds"},
		{name: "rise", kind: api.KindHealthCheck, field: "rise"},
		{name: "fall", kind: api.KindHealthCheck, field: "fall"},
		{name: "path", kind: api.KindHealthCheck, field: "path"},
		{name: "method", kind: api.KindHealthCheck, field: "method"},
		{name: "quorum", kind: api.KindHealthCheck, field: "quorum"},
		{name: "path on a tcp check", kind: api.KindHealthCheck, field: "path",
			config: strings.Replace(testAccHealthCheckConfig("acc-zero", `path = ""`), `"http"`, `"tcp"`, 1),
			body:   `{"name":"acc-zero","site":"dc1","type":"tcp","address":"127.0.0.1:80","path":""}`},
		{name: "body_engaged", kind: api.KindBurstToggle, field: "body_engaged",
			config: testAccBurstToggleConfig("acc-zero", `body_engaged = ""`),
			body:   `{"name":"acc-zero","site":"dr","body_engaged":""}`},
		{name: "body_released", kind: api.KindBurstToggle, field: "body_released",
			config: testAccBurstToggleConfig("acc-zero", `body_released = ""`),
			body:   `{"name":"acc-zero","site":"dr","body_released":""}`},
		{name: "engine", kind: api.KindReplicaSet, field: "engine",
			config: testAccReplicaSetConfig("acc-zero", testAccReplicaSetOrderGroove, `engine = ""`),
			body:   `{"name":"acc-zero","engine":"","members":{"a":{"host":"a.example.org:27017","site":"dc1"}}}`},
	}
	for _, tc := range cases {
		if tc.config == "" {
			zero := `""`
			if strings.HasSuffix(tc.field, "_seconds") || tc.field == "rise" || tc.field == "fall" {
				zero = "0"
			}
			tc.config, tc.body = check(tc.field + " = " + zero)
		}
		t.Run(tc.name, func(t *testing.T) {
			testAccPreCheck(t)
			detail := failoverdRefusal(t, tc.kind, tc.body, tc.field)
			if !strings.Contains(detail, "is not allowed: omit it for the default") {
				t.Fatalf("failoverd answers %q, not the explicit-zero refusal", detail)
			}
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      tc.config,
					PlanOnly:    true,
					ExpectError: testAccPhraseRE(capitalize(detail)),
				}},
			})
		})
	}
}

// hclToJSON turns one `name = value` line into a JSON member.
func hclToJSON(attr string) string {
	name, value, _ := strings.Cut(attr, " = ")
	return fmt.Sprintf("%q:%s", name, value)
}

// Where 0 or false is a value of its own, the provider and failoverd both
// keep it: the apply succeeds and the next plan is empty.
func TestAccExplicitZerosThatAreValues(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	config := testAccTrafficPolicyChecks("acc-zv") + `
resource "failover_traffic_policy" "test" {
  name                   = "acc-zv"
  mode                   = "active-active"
  ttl_seconds            = 0
  failover_delay_seconds = 0
  failback_delay_seconds = 0
  when_all_down          = "fail_open"
  targets = {
    dc1 = {
      site          = "dc1"
      addresses     = ["192.0.2.10"]
      health_checks = [failover_health_check.dc1.name]
    }
    dc2 = {
      site          = "dc2"
      addresses     = ["198.51.100.10"]
      health_checks = [failover_health_check.dc2.name]
      weight        = 0
      enabled       = false
    }
  }
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("ttl_seconds"), knownvalue.Int64Exact(0)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("failback_delay_seconds"), knownvalue.Int64Exact(0)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("targets").AtMapKey("dc2").AtMapKey("weight"), knownvalue.Int64Exact(0)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("targets").AtMapKey("dc2").AtMapKey("enabled"), knownvalue.Bool(false)),
			},
		}},
	})
}

// configZeros finds the zeros a configuration sets, at any depth, and
// nothing that is null, unknown or not zero.
func TestConfigZeros(t *testing.T) {
	obj := func(attrs map[string]tftypes.Value) tftypes.Value {
		types := map[string]tftypes.Type{}
		for k, v := range attrs {
			types[k] = v.Type()
		}
		return tftypes.NewValue(tftypes.Object{AttributeTypes: types}, attrs)
	}
	num := func(n float64) tftypes.Value { return tftypes.NewValue(tftypes.Number, n) }
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	member := func(votes tftypes.Value) tftypes.Value { return obj(map[string]tftypes.Value{"votes": votes}) }
	memberType := member(num(0)).Type()
	raw := obj(map[string]tftypes.Value{
		"rise":      num(0),
		"fall":      num(3),
		"path":      str(""),
		"method":    tftypes.NewValue(tftypes.String, nil),
		"quorum":    tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
		"enabled":   tftypes.NewValue(tftypes.Bool, false),
		"fraction":  num(0.001),
		"addresses": tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, []tftypes.Value{str("192.0.2.1"), str("")}),
		"sites":     tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, []tftypes.Value{str("")}),
		"members": tftypes.NewValue(tftypes.Map{ElementType: memberType}, map[string]tftypes.Value{
			"db.1": member(num(0)), "db-2": member(num(1)),
		}),
	})
	var got []string
	for f := range configZeros(tfsdk.Config{Raw: raw}) {
		got = append(got, f)
	}
	sort.Strings(got)
	want := []string{"addresses[1]", "enabled", `members["db.1"].votes`, "path", "rise"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("configZeros = %q, want %q", got, want)
	}
	if z := configZeros(tfsdk.Config{Raw: tftypes.NewValue(raw.Type(), tftypes.UnknownValue)}); len(z) != 0 {
		t.Errorf("an unknown configuration has zeros %v", z)
	}
}
