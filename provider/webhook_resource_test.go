package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

const testAccWebhookAddr = "failover_webhook.test"

func testAccWebhookConfig(name, url, extra string) string {
	return fmt.Sprintf(`
resource "failover_webhook" "test" {
  name   = %q
  url    = %q
  secret = "pagerduty"
%s
}
`, name, url, extra)
}

// TestAccWebhookResource: create → import → update → drift → destroy,
// and failoverd's validator at plan time.
func TestAccWebhookResource(t *testing.T) {
	const name = "acc-hook"
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := client.Get[api.Webhook](ctx, testFailoverd.client, api.KindWebhook, name); !client.IsNotFound(err) {
				return fmt.Errorf("webhook %s after destroy: %v", name, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      testAccWebhookConfig(name, "ftp://hooks.example.net/x", `  events = ["decision", "decisions"]`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)has scheme "ftp".*"decisions" is not an event type`),
			},
			{
				Config: testAccWebhookConfig(name, "https://hooks.example.net/failover", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccWebhookAddr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(testAccWebhookAddr, tfjsonpath.New("events"), knownvalue.Null()),
					statecheck.ExpectKnownValue(testAccWebhookAddr, tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
				},
			},
			{ResourceName: testAccWebhookAddr, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts"}},
			{
				Config: testAccWebhookConfig(name, "https://hooks.example.net/failover", `  events  = ["decision", "publish"]
  enabled = false`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccWebhookAddr, tfjsonpath.New("events"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("decision"), knownvalue.StringExact("publish")})),
					statecheck.ExpectKnownValue(testAccWebhookAddr, tfjsonpath.New("enabled"), knownvalue.Bool(false)),
				},
			},
			{
				// Changed outside Terraform: the plan shows it.
				PreConfig: func() {
					w, err := client.Get[api.Webhook](ctx, testFailoverd.client, api.KindWebhook, name)
					if err != nil {
						t.Fatal(err)
					}
					w.URL = "https://elsewhere.example.net/"
					if _, err := client.Update(ctx, testFailoverd.client, api.KindWebhook, name, w, w.Version); err != nil {
						t.Fatal(err)
					}
				},
				Config: testAccWebhookConfig(name, "https://hooks.example.net/failover", `  events  = ["decision", "publish"]
  enabled = false`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccWebhookAddr, plancheck.ResourceActionUpdate),
				}},
			},
		},
	})
}
