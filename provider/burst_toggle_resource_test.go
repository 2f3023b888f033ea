package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
)

const testAccBurstToggleAddr = "failover_burst_toggle.test"

func testAccBurstToggleConfig(name string, extra ...string) string {
	return fmt.Sprintf(`
resource "failover_burst_toggle" "test" {
  name = %q
  site = "dr"
%s
}
`, name, strings.Join(extra, "\n"))
}

func btAttr(name string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(testAccBurstToggleAddr, tfjsonpath.New(name), v)
}

// testAccCheckBurstURL GETs the toggle's url attribute, as a load balancer
// would, until it answers status and exactly body (a change is visible
// within 50 ms; two seconds leave room for a loaded CI machine).
func testAccCheckBurstURL(status int, body string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[testAccBurstToggleAddr]
		if !ok {
			return fmt.Errorf("%s not in state", testAccBurstToggleAddr)
		}
		url := rs.Primary.Attributes["url"]
		deadline := time.Now().Add(2 * time.Second)
		for {
			gotStatus, gotBody, err := httpGet(url)
			if err == nil && gotStatus == status && gotBody == body {
				return nil
			}
			if time.Now().After(deadline) {
				if err != nil {
					return fmt.Errorf("GET %s: %w", url, err)
				}
				return fmt.Errorf("GET %s = %d %q, want %d %q", url, gotStatus, gotBody, status, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func httpGet(url string) (int, string, error) {
	resp, err := http.Get(url) //nolint:noctx // a test against 127.0.0.1
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestAccBurstToggleResource_basic(t *testing.T) {
	name := "acc-bt-basic"
	now := time.Now().UTC().Truncate(time.Second)
	// A window around now, written with "+00:00" offsets: failoverd
	// answers "Z", which must not be a diff.
	window := fmt.Sprintf(`schedule = [{ start = %q, end = %q }]`,
		now.Add(-time.Hour).Format("2006-01-02T15:04:05+00:00"), now.Add(time.Hour).Format("2006-01-02T15:04:05+00:00"))
	expires := fmt.Sprintf(`expires_at = %q`, now.Add(24*time.Hour).Format("2006-01-02T15:04:05+00:00"))

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccBurstToggleConfig(name),
				ConfigStateChecks: []statecheck.StateCheck{
					btAttr("id", knownvalue.StringExact(name)),
					btAttr("site", knownvalue.StringExact("dr")),
					btAttr("engaged", knownvalue.Bool(false)),
					btAttr("effective", knownvalue.Bool(false)),
					btAttr("schedule", knownvalue.Null()),
					btAttr("expires_at", knownvalue.Null()),
					btAttr("body_engaged", knownvalue.StringExact(api.DefaultBodyEngaged)),
					btAttr("body_released", knownvalue.StringExact(api.DefaultBodyReleased)),
					btAttr("url", knownvalue.StringExact(testFailoverd.url+"/burst/"+name)),
					btAttr("version", knownvalue.Int64Exact(1)),
				},
				Check: testAccCheckBurstURL(http.StatusServiceUnavailable, api.DefaultBodyReleased),
			},
			{
				ResourceName:      testAccBurstToggleAddr,
				ImportState:       true,
				ImportStateId:     name,
				ImportStateVerify: true,
			},
			{
				Config: testAccBurstToggleConfig(name, "engaged = true"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccBurstToggleAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					btAttr("engaged", knownvalue.Bool(true)),
					btAttr("effective", knownvalue.Bool(true)),
					btAttr("url", knownvalue.StringExact(testFailoverd.url+"/burst/"+name)),
					btAttr("version", knownvalue.Int64Exact(2)),
				},
				Check: testAccCheckBurstURL(http.StatusOK, api.DefaultBodyEngaged),
			},
			{
				// Released, but inside a schedule window: effective, with
				// custom bodies; the "+00:00" spellings are kept.
				Config: testAccBurstToggleConfig(name, "engaged = false", window, expires, `body_engaged = "up"`, `body_released = "down"`),
				ConfigStateChecks: []statecheck.StateCheck{
					btAttr("engaged", knownvalue.Bool(false)),
					btAttr("effective", knownvalue.Bool(true)),
					btAttr("schedule", knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectExact(map[string]knownvalue.Check{
						"start": knownvalue.StringExact(now.Add(-time.Hour).Format("2006-01-02T15:04:05+00:00")),
						"end":   knownvalue.StringExact(now.Add(time.Hour).Format("2006-01-02T15:04:05+00:00")),
					})})),
					btAttr("expires_at", knownvalue.StringExact(now.Add(24*time.Hour).Format("2006-01-02T15:04:05+00:00"))),
				},
				Check: testAccCheckBurstURL(http.StatusOK, "up"),
			},
			{
				// Refreshed state keeps the user's spelling too.
				RefreshState: true,
				Check: resource.TestCheckResourceAttr(testAccBurstToggleAddr, "expires_at",
					now.Add(24*time.Hour).Format("2006-01-02T15:04:05+00:00")),
			},
			{
				// Expired: released whatever the window says.
				Config: testAccBurstToggleConfig(name, "engaged = true", window, `body_engaged = "up"`, `body_released = "down"`,
					fmt.Sprintf(`expires_at = %q`, now.Add(-time.Minute).Format(time.RFC3339))),
				ConfigStateChecks: []statecheck.StateCheck{btAttr("effective", knownvalue.Bool(false))},
				Check:             testAccCheckBurstURL(http.StatusServiceUnavailable, "down"),
			},
		},
	})
}

// Without engaged in the configuration, an operator's flip is not drift.
// With it, Terraform reverts the flip.
func TestAccBurstToggleResource_operatorFlip(t *testing.T) {
	name := "acc-bt-operator"
	ctx := context.Background()
	patch := func(engaged bool) func() {
		return func() {
			if _, err := testFailoverd.client.PatchBurst(ctx, name, engaged); err != nil {
				t.Fatal(err)
			}
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: testAccBurstToggleConfig(name)},
			{
				// 4 a.m.: an operator engages it. Terraform does not care.
				PreConfig: patch(true),
				Config:    testAccBurstToggleConfig(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					btAttr("engaged", knownvalue.Bool(true)),
					btAttr("effective", knownvalue.Bool(true)),
				},
				Check: testAccCheckBurstURL(http.StatusOK, api.DefaultBodyEngaged),
			},
			{
				// Changing something else keeps the operator's state.
				Config: testAccBurstToggleConfig(name, `body_engaged = "go"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccBurstToggleAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{btAttr("engaged", knownvalue.Bool(true))},
				Check:             testAccCheckBurstURL(http.StatusOK, "go"),
			},
			{
				// Terraform takes ownership: released.
				Config: testAccBurstToggleConfig(name, `body_engaged = "go"`, "engaged = false"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccBurstToggleAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					btAttr("engaged", knownvalue.Bool(false)),
					btAttr("effective", knownvalue.Bool(false)),
				},
				Check: testAccCheckBurstURL(http.StatusServiceUnavailable, api.DefaultBodyReleased),
			},
			{
				// An operator engages it again: now that is drift...
				PreConfig:          patch(true),
				Config:             testAccBurstToggleConfig(name, `body_engaged = "go"`, "engaged = false"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// ...and the apply reverts it.
				Config: testAccBurstToggleConfig(name, `body_engaged = "go"`, "engaged = false"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccBurstToggleAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{btAttr("engaged", knownvalue.Bool(false))},
				Check: resource.ComposeTestCheckFunc(
					testAccCheckBurstURL(http.StatusServiceUnavailable, api.DefaultBodyReleased),
					func(*terraform.State) error {
						bt, err := client.Get[api.BurstToggle](ctx, testFailoverd.client, api.KindBurstToggle, name)
						if err != nil {
							return err
						}
						if api.Bool(bt.Engaged, false) {
							return fmt.Errorf("failoverd still has %s engaged after the apply", name)
						}
						return nil
					}),
			},
		},
	})
}

func TestAccBurstToggleResource_drift(t *testing.T) {
	name := "acc-bt-drift"
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: testAccBurstToggleConfig(name)},
			{
				// Someone changes a body behind Terraform's back.
				PreConfig: func() {
					bt, err := client.Get[api.BurstToggle](ctx, testFailoverd.client, api.KindBurstToggle, name)
					if err != nil {
						t.Fatal(err)
					}
					bt.BodyEngaged = "yes"
					if _, err := client.Update(ctx, testFailoverd.client, api.KindBurstToggle, name, bt, bt.Version); err != nil {
						t.Fatal(err)
					}
				},
				Config:             testAccBurstToggleConfig(name),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					if err := testFailoverd.client.Delete(ctx, api.KindBurstToggle, name, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: testAccBurstToggleConfig(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccBurstToggleAddr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					btAttr("body_engaged", knownvalue.StringExact(api.DefaultBodyEngaged)),
					btAttr("version", knownvalue.Int64Exact(1)),
				},
			},
		},
	})
}

func TestAccBurstToggleResource_validation(t *testing.T) {
	cases := []struct {
		name, config, err string
	}{
		{"window ends before it starts", testAccBurstToggleConfig("acc-bt-val",
			`schedule = [{ start = "2030-11-28T00:00:00Z", end = "2030-11-27T00:00:00Z" }]`), "is not after start"},
		{"empty window", testAccBurstToggleConfig("acc-bt-val",
			`schedule = [{ start = "2030-11-28T01:00:00+01:00", end = "2030-11-28T00:00:00Z" }]`), "is not after start"},
		{"bodies equal", testAccBurstToggleConfig("acc-bt-val", `body_released = "burst"`), "equals body_engaged"},
		{"blank body", testAccBurstToggleConfig("acc-bt-val", `body_engaged = " "`), "must not be blank"},
		{"not a timestamp", testAccBurstToggleConfig("acc-bt-val", `expires_at = "tomorrow"`), "Invalid RFC 3339 Timestamp"},
		{"window without offset", testAccBurstToggleConfig("acc-bt-val",
			`schedule = [{ start = "2030-11-28T00:00:00", end = "2030-11-29T00:00:00Z" }]`), "Invalid RFC 3339 Timestamp"},
		{"bad name", testAccBurstToggleConfig("Black_Friday"), `"Black_Friday" is not a valid name`},
		{"bad site", strings.Replace(testAccBurstToggleConfig("acc-bt-val"), `"dr"`, `"DR site"`, 1), "is not a valid name"},
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

func TestBurstToggleFromAPI_keepsTimestampSpelling(t *testing.T) {
	start := time.Date(2030, 11, 28, 0, 0, 0, 0, time.UTC)
	end := start.Add(72 * time.Hour)
	window := func(s, e string) attr.Value {
		return types.ObjectValueMust(burstWindowAttrTypes, map[string]attr.Value{"start": types.StringValue(s), "end": types.StringValue(e)})
	}
	windowType := types.ObjectType{AttrTypes: burstWindowAttrTypes}
	tests := []struct {
		name               string
		prior              types.List
		wantStart, wantEnd string
	}{
		{"no prior", types.ListNull(windowType), "2030-11-28T00:00:00Z", "2030-12-01T00:00:00Z"},
		{"same instant, other spelling", types.ListValueMust(windowType, []attr.Value{
			window("2030-11-28T01:00:00+01:00", "2030-12-01T00:00:00.000+00:00")}),
			"2030-11-28T01:00:00+01:00", "2030-12-01T00:00:00.000+00:00"},
		{"another instant", types.ListValueMust(windowType, []attr.Value{
			window("2030-11-28T00:00:01Z", "garbage")}),
			"2030-11-28T00:00:00Z", "2030-12-01T00:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, diags := burstToggleResourceModel{Schedule: tc.prior, ExpiresAt: types.StringNull()}.fromAPI(
				api.BurstToggle{Name: "bf", Site: "dr", Schedule: []api.Window{{Start: start, End: end}}})
			if diags.HasError() {
				t.Fatal(diags)
			}
			w := m.Schedule.Elements()[0].(types.Object).Attributes()
			if got := w["start"].(types.String).ValueString(); got != tc.wantStart {
				t.Errorf("start = %q, want %q", got, tc.wantStart)
			}
			if got := w["end"].(types.String).ValueString(); got != tc.wantEnd {
				t.Errorf("end = %q, want %q", got, tc.wantEnd)
			}
			if m.BodyEngaged.ValueString() != api.DefaultBodyEngaged || m.Engaged.ValueBool() {
				t.Errorf("defaults: body_engaged %v, engaged %v", m.BodyEngaged, m.Engaged)
			}
		})
	}
}

func FuzzParseRFC3339(f *testing.F) {
	for _, s := range []string{"2030-11-28T00:00:00Z", "2030-11-28T01:00:00+01:00", "2030-11-28T00:00:00.123456789-00:00", "tomorrow", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := parseRFC3339(s)
		if err != nil {
			return
		}
		// Whatever parses must keep its spelling against its own
		// rendering, and survive the JSON round trip to failoverd.
		if got := keepTimestamp(types.StringValue(s), ts); got.ValueString() != s {
			t.Fatalf("keepTimestamp(%q) = %q", s, got.ValueString())
		}
		back, err := parseRFC3339(ts.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(ts) {
			t.Fatalf("%q: rendering %q does not parse back to the same instant (%v)", s, ts.Format(time.RFC3339Nano), err)
		}
	})
}
