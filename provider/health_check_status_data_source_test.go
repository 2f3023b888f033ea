package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// rfc3339RE matches the UTC timestamps the data source renders.
var rfc3339RE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)

// The data source reports what failoverd's prober sees for a real backend.
func TestAccHealthCheckStatusDataSource_basic(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(backend.Close)

	name := "acc-hcs-basic"
	check := fmt.Sprintf(`
resource "failover_health_check" "test" {
  name             = %q
  site             = "local"
  type             = "http"
  address          = %q
  interval_seconds = 1
  timeout_seconds  = 0.5
  rise             = 1
  body_match       = { mode = "exact", value = "ok" }
}
`, name, backend.Listener.Addr().String())
	const ds = "data.failover_health_check_status.test"

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: check},
			{
				PreConfig: func() { waitHealthState(t, name, api.StateHealthy, 15*time.Second) },
				Config: check + `
data "failover_health_check_status" "test" {
  name = failover_health_check.test.name
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("state"), knownvalue.StringExact(api.StateHealthy)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("since"), knownvalue.StringRegexp(rfc3339RE)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("sites"), knownvalue.MapExact(map[string]knownvalue.Check{
						"local": knownvalue.ObjectExact(map[string]knownvalue.Check{
							"state":           knownvalue.StringExact(api.StateHealthy),
							"last_checked":    knownvalue.StringRegexp(rfc3339RE),
							"last_error":      knownvalue.StringExact(""),
							"last_latency_ms": knownvalue.NotNull(),
						}),
					})),
				},
			},
		},
	})
}

func TestAccHealthCheckStatusDataSource_notFound(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
data "failover_health_check_status" "test" {
  name = "acc-hcs-no-such-check"
}
`,
			ExpectError: regexp.MustCompile(`Health Check Not Found[\s\S]*"acc-hcs-no-such-check"[\s\S]*depends_on`),
		}},
	})
}

// waitHealthState polls failoverd until the check reaches want.
func waitHealthState(t *testing.T, name, want string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := "no answer"
	for {
		st, err := testFailoverd.client.HealthStatus(ctx, name)
		switch {
		case err == nil && st.State == want:
			return
		case err == nil:
			last = fmt.Sprintf("state %q, sites %+v", st.State, st.Sites)
		default:
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("health check %q did not become %s within %s; last: %s", name, want, timeout, last)
		case <-tick.C:
		}
	}
}

func TestHealthCheckStatusFromAPI(t *testing.T) {
	checked := time.Date(2025, 11, 28, 4, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name        string
		in          api.HealthStatus
		state       string
		sinceNull   bool
		lastChecked string
	}{
		{"never probed", api.HealthStatus{Sites: map[string]api.SiteObservation{"local": {}}}, api.StateUnknown, true, ""},
		{"probed", api.HealthStatus{State: api.StateUnhealthy, Since: checked, Sites: map[string]api.SiteObservation{
			"local": {State: api.StateUnhealthy, LastChecked: checked, LastError: "connection refused", LastLatencyMS: 1.5}}},
			api.StateUnhealthy, false, "2025-11-28T03:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, diags := healthCheckStatusFromAPI("web", tc.in)
			if diags.HasError() {
				t.Fatal(diags)
			}
			if got := m.State.ValueString(); got != tc.state {
				t.Errorf("state = %q, want %q", got, tc.state)
			}
			if m.Since.IsNull() != tc.sinceNull {
				t.Errorf("since = %v, want null %v", m.Since, tc.sinceNull)
			}
			site := m.Sites.Elements()["local"]
			if site == nil {
				t.Fatal("no site local")
			}
			lc := site.(types.Object).Attributes()["last_checked"].(types.String)
			if tc.lastChecked == "" && !lc.IsNull() || tc.lastChecked != "" && lc.ValueString() != tc.lastChecked {
				t.Errorf("last_checked = %v, want %q (null when empty)", lc, tc.lastChecked)
			}
		})
	}
}
