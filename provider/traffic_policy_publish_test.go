package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func testAccPolicyPublish(publish string) string {
	return testAccTrafficPolicyChecks("tpp") + fmt.Sprintf(`
resource "failover_traffic_policy" "test" {
  name          = "tpp"
  mode          = "active-passive"
  when_all_down = "fail_closed"
  targets = {
    dc1 = { addresses = ["192.0.2.10"], health_checks = [failover_health_check.dc1.name], priority = 1 }
  }
%s
}
`, publish)
}

// TestAccTrafficPolicyResource_publish: the publish block round-trips
// (create, import, update to both destinations, removal) with no diff.
func TestAccTrafficPolicyResource_publish(t *testing.T) {
	const addr = "failover_traffic_policy.test"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckTrafficPolicyDestroyed("tpp"),
		Steps: []resource.TestStep{
			{
				Config: testAccPolicyPublish(`  publish = {
    rfc2136 = { server = "127.0.0.1:5353", zone = "example.internal", record_name = "www.example.internal", tsig_key = "failover" }
  }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("publish").AtMapKey("rfc2136").AtMapKey("tsig_key"), knownvalue.StringExact("failover")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("publish").AtMapKey("route53"), knownvalue.Null()),
				},
			},
			{ResourceName: addr, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts"}},
			{
				Config: testAccPolicyPublish(`  publish = {
    rfc2136 = { server = "127.0.0.1:5353", zone = "example.internal", record_name = "www.example.internal", tsig_key = "failover" }
    route53 = { zone_id = "Z0123456789ABCDEFGHIJ", record_name = "www.example.com" }
  }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("publish").AtMapKey("route53").AtMapKey("zone_id"), knownvalue.StringExact("Z0123456789ABCDEFGHIJ")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("publish").AtMapKey("route53").AtMapKey("set_identifier"), knownvalue.Null()),
				},
			},
			{
				Config: testAccPolicyPublish(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("publish"), knownvalue.Null()),
				},
			},
		},
	})
}
