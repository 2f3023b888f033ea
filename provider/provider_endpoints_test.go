package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

// testAccDeadEndpoint is a URL on 127.0.0.1 where nothing listens: a
// failoverd node whose site is down.
func testAccDeadEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// testAccEndpointsConfig is a health check managed through a provider
// block with the given endpoint settings.
func testAccEndpointsConfig(providerLines, name string, interval int) string {
	return fmt.Sprintf(`
provider "failover" {
%s
}

resource "failover_health_check" "test" {
  name             = %q
  site             = "dc1"
  type             = "tcp"
  address          = "127.0.0.1:80"
  interval_seconds = %d
}
`, providerLines, name, interval)
}

func testAccCheckHealthCheckInFailoverd(name string, wantVersion uint64) resource.TestCheckFunc {
	return func(*terraform.State) error {
		hc, err := client.Get[api.HealthCheck](context.Background(), testFailoverd.client, api.KindHealthCheck, name)
		if err != nil {
			return err
		}
		if hc.Version != wantVersion {
			return fmt.Errorf("failoverd holds %q at version %d, want %d", name, hc.Version, wantVersion)
		}
		return nil
	}
}

func testAccCheckHealthCheckGone(name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := client.Get[api.HealthCheck](context.Background(), testFailoverd.client, api.KindHealthCheck, name)
		if err == nil {
			return fmt.Errorf("health check %q still exists after destroy", name)
		}
		if !client.IsNotFound(err) {
			return err
		}
		return nil
	}
}

// TestAccProvider_endpointsFirstDown: the first node of endpoints is down
// (its site is lost); create, read, update and delete all go to the
// second node. FAILOVER_ENDPOINT points at a dead node too, so only the
// endpoints list can reach failoverd.
func TestAccProvider_endpointsFirstDown(t *testing.T) {
	dead := testAccDeadEndpoint(t)
	t.Setenv(envEndpoint, testAccDeadEndpoint(t))
	name := "acc-endpoints-first-down"
	lines := fmt.Sprintf("  endpoints = [%q, %q]\n  max_retries = 1", dead, testFailoverd.url)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckHealthCheckGone(name),
		Steps: []resource.TestStep{
			{
				Config: testAccEndpointsConfig(lines, name, 10),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccHealthCheckAddr, tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
				},
				Check: testAccCheckHealthCheckInFailoverd(name, 1),
			},
			{
				Config: testAccEndpointsConfig(lines, name, 20),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccHealthCheckAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccHealthCheckAddr, tfjsonpath.New("interval_seconds"), knownvalue.Float64Exact(20)),
					statecheck.ExpectKnownValue(testAccHealthCheckAddr, tfjsonpath.New("version"), knownvalue.Int64Exact(2)),
				},
				Check: testAccCheckHealthCheckInFailoverd(name, 2),
			},
			{
				// Read (refresh) through the list: no drift, nothing to do.
				Config: testAccEndpointsConfig(lines, name, 20),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}

// TestAccProvider_endpointsFromEnvironment: FAILOVER_ENDPOINT holds the
// same list, comma-separated.
func TestAccProvider_endpointsFromEnvironment(t *testing.T) {
	t.Setenv(envEndpoint, testAccDeadEndpoint(t)+", "+testFailoverd.url)
	name := "acc-endpoints-env"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckHealthCheckGone(name),
		Steps: []resource.TestStep{{
			Config: testAccEndpointsConfig("", name, 10),
			Check:  testAccCheckHealthCheckInFailoverd(name, 1),
		}},
	})
}

// TestAccProvider_endpointsInvalid: bad endpoint settings fail the plan
// with a message that says what to change.
func TestAccProvider_endpointsInvalid(t *testing.T) {
	step := func(lines string, want ...string) resource.TestStep {
		return resource.TestStep{
			Config:      testAccEndpointsConfig(lines, "acc-endpoints-invalid", 10),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(strings.Join(phrasePatterns(want), `[\s\S]*`)),
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			step(fmt.Sprintf("endpoint = %q\nendpoints = [%q]", testFailoverd.url, testFailoverd.url), "Conflicting Endpoints", "move the endpoint URL"),
			step(fmt.Sprintf("endpoints = [%q, \"127.0.0.1:8080\"]", testFailoverd.url), "Invalid failoverd Endpoint", `did you mean`),
			step("endpoints = []", "Invalid failoverd Endpoints", "the endpoint list is empty"),
			step(fmt.Sprintf("endpoints = [%q, %q]", testFailoverd.url, testFailoverd.url+"/"), "Invalid failoverd Endpoint", "list each failoverd node once"),
			step(`endpoint = "ftp://failover.example.org"`, "Invalid failoverd Endpoint", "http:// or https://"),
		},
	})
}

// phrasePatterns are testAccPhraseRE's patterns, to match several phrases
// in order.
func phrasePatterns(phrases []string) []string {
	out := make([]string, len(phrases))
	for i, p := range phrases {
		out[i] = testAccPhraseRE(p).String()
	}
	return out
}

// TestConfigEndpoints: each problem lands on the attribute (and list
// entry) at fault; a valid setting yields the normalised list.
func TestConfigEndpoints(t *testing.T) {
	list := func(vs ...attr.Value) types.List { return types.ListValueMust(types.StringType, vs) }
	str := types.StringValue
	tests := []struct {
		name      string
		endpoint  types.String
		endpoints types.List
		want      []string
		unknown   bool
		errPath   path.Path
		errHas    string
	}{
		{name: "neither: the environment decides", endpoint: types.StringNull(), endpoints: types.ListNull(types.StringType)},
		{name: "empty endpoint is unset", endpoint: str(""), endpoints: types.ListNull(types.StringType)},
		{name: "endpoint", endpoint: str("http://127.0.0.1:8080/"), endpoints: types.ListNull(types.StringType), want: []string{"http://127.0.0.1:8080"}},
		{name: "endpoints", endpoint: types.StringNull(), endpoints: list(str("https://a.example.org/"), str("https://b.example.org")),
			want: []string{"https://a.example.org", "https://b.example.org"}},
		{name: "both", endpoint: str("http://127.0.0.1:8080"), endpoints: list(str("http://127.0.0.1:8081")),
			errPath: path.Root("endpoints"), errHas: "Both endpoint and endpoints are set"},
		{name: "bad endpoint", endpoint: str("127.0.0.1:8080"), endpoints: types.ListNull(types.StringType),
			errPath: path.Root("endpoint"), errHas: `did you mean "http://127.0.0.1:8080"`},
		{name: "bad second entry", endpoint: types.StringNull(), endpoints: list(str("http://a.example.org"), str("a.example.org:8080")),
			errPath: path.Root("endpoints").AtListIndex(1), errHas: "did you mean"},
		{name: "duplicate", endpoint: types.StringNull(), endpoints: list(str("http://a.example.org"), str("http://b.example.org"), str("http://a.example.org/")),
			errPath: path.Root("endpoints").AtListIndex(2), errHas: "already endpoint 1"},
		{name: "null entry", endpoint: types.StringNull(), endpoints: list(str("http://a.example.org"), types.StringNull()),
			errPath: path.Root("endpoints").AtListIndex(1), errHas: "null"},
		{name: "empty list", endpoint: types.StringNull(), endpoints: list(),
			errPath: path.Root("endpoints"), errHas: "empty"},
		{name: "unknown entry", endpoint: types.StringNull(), endpoints: list(str("http://a.example.org"), types.StringUnknown()), unknown: true},
		{name: "unknown list", endpoint: types.StringNull(), endpoints: types.ListUnknown(types.StringType), unknown: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var diags diag.Diagnostics
			got, known := configEndpoints(context.Background(), failoverProviderModel{Endpoint: tc.endpoint, Endpoints: tc.endpoints}, &diags)
			if known == tc.unknown {
				t.Errorf("known = %v, want %v", known, !tc.unknown)
			}
			if tc.errHas == "" {
				if diags.HasError() || fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Fatalf("got %q, %v; want %q", got, diags, tc.want)
				}
				return
			}
			if diags.ErrorsCount() != 1 {
				t.Fatalf("diagnostics %v, want one error", diags)
			}
			d, ok := diags.Errors()[0].(diag.DiagnosticWithPath)
			if !ok || !d.Path().Equal(tc.errPath) {
				t.Errorf("error %v is not on %s", diags.Errors()[0], tc.errPath)
			}
			if !strings.Contains(diags.Errors()[0].Detail(), tc.errHas) {
				t.Errorf("error detail %q lacks %q", diags.Errors()[0].Detail(), tc.errHas)
			}
		})
	}
}
