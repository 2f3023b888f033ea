package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// tdBackend is a site's endpoint on 127.0.0.1 that can be stopped.
type tdBackend struct {
	srv  *httptest.Server
	once sync.Once
}

func newTDBackend(t *testing.T) *tdBackend {
	t.Helper()
	b := &tdBackend{srv: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))}
	t.Cleanup(b.stop)
	return b
}

func (b *tdBackend) addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }
func (b *tdBackend) stop()        { b.once.Do(b.srv.Close) }

func TestAccTrafficDecisionDataSource_failover(t *testing.T) {
	const ds = "data.failover_traffic_decision.test"
	primary, secondary := newTDBackend(t), newTDBackend(t)
	config := fmt.Sprintf(`
resource "failover_health_check" "primary" {
  name             = "tdd-primary"
  site             = "dc1"
  type             = "http"
  address          = %q
  interval_seconds = 1
  timeout_seconds  = 0.5
  rise             = 1
  fall             = 1
}

resource "failover_health_check" "secondary" {
  name             = "tdd-secondary"
  site             = "dc2"
  type             = "http"
  address          = %q
  interval_seconds = 1
  timeout_seconds  = 0.5
  rise             = 1
  fall             = 1
}

resource "failover_traffic_policy" "test" {
  name          = "tdd"
  mode          = "active-passive"
  ttl_seconds   = 5
  when_all_down = "fallback"
  fallback = {
    cname = "sorry.example.net"
  }
  targets = {
    primary = {
      site          = "dc1"
      addresses     = ["192.0.2.10"]
      health_checks = [failover_health_check.primary.name]
      priority      = 1
    }
    secondary = {
      site          = "dc2"
      addresses     = ["198.51.100.10"]
      health_checks = [failover_health_check.secondary.name]
      priority      = 2
    }
  }
}

data "failover_traffic_decision" "test" {
  name = failover_traffic_policy.test.name
}
`, primary.addr(), secondary.addr())

	serving := func(target, address string) knownvalue.Check {
		return knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectExact(map[string]knownvalue.Check{
			"target":    knownvalue.StringExact(target),
			"addresses": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(address)}),
			"cname":     knownvalue.Null(),
			"weight":    knownvalue.Int64Exact(1),
		})})
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("serving"), serving("primary", "192.0.2.10")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("ttl_seconds"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("override"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("since"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("reason"), knownvalue.NotNull()),
				},
			},
			{
				// The primary site dies; once failoverd has moved traffic,
				// the data source reads the secondary.
				PreConfig: func() {
					primary.stop()
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					for {
						d, err := testFailoverd.client.Decision(ctx, "tdd")
						if err == nil && len(d.Serving) == 1 && d.Serving[0].Target == "secondary" {
							return
						}
						select {
						case <-ctx.Done():
							t.Fatalf("traffic did not move to the secondary within 30s: last decision %+v, error %v", d, err)
						case <-time.After(100 * time.Millisecond):
						}
					}
				},
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("serving"), serving("secondary", "198.51.100.10")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("reason"), knownvalue.StringRegexp(regexp.MustCompile(`primary`))),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("observed_at"), knownvalue.NotNull()),
				},
			},
		},
	})
}

func TestTrafficDecisionFromAPI(t *testing.T) {
	since := time.Date(2025, 11, 28, 4, 0, 0, 500_000_000, time.UTC)
	m := trafficDecisionFromAPI("web", api.Decision{
		Policy: "web",
		Serving: []api.ServingTarget{
			{Target: "dc1", Addresses: []string{"192.0.2.10"}, Weight: 1},
			{Target: "dr", CNAME: "dr.example.net", Weight: 2},
		},
		Reason: "pinned", Since: since, Generation: 7, TTLSeconds: 30,
		Override: &api.Override{Target: "dc1", ExpiresAt: since.Add(time.Hour), Reason: "maintenance", SetBy: "ops"},
	})
	if got := m.Since.ValueString(); got != "2025-11-28T04:00:00.5Z" {
		t.Errorf("since = %q", got)
	}
	if !m.ObservedAt.IsNull() {
		t.Errorf("observed_at = %v, want null for a zero time", m.ObservedAt)
	}
	if len(m.Serving) != 2 || m.Serving[0].Target.ValueString() != "dc1" || !m.Serving[0].CNAME.IsNull() ||
		m.Serving[1].Addresses != nil || m.Serving[1].CNAME.ValueString() != "dr.example.net" || m.Serving[1].Weight.ValueInt64() != 2 {
		t.Errorf("serving = %+v", m.Serving)
	}
	if m.Override == nil || m.Override.ExpiresAt.ValueString() != "2025-11-28T05:00:00.5Z" || m.Override.SetBy.ValueString() != "ops" {
		t.Errorf("override = %+v", m.Override)
	}
	if m.Generation.ValueInt64() != 7 || m.TTLSeconds.ValueInt64() != 30 {
		t.Errorf("generation/ttl = %v/%v", m.Generation, m.TTLSeconds)
	}
	// Nothing serving is an empty list, not null, and no override is null.
	empty := trafficDecisionFromAPI("web", api.Decision{Serving: []api.ServingTarget{}})
	if empty.Serving == nil || len(empty.Serving) != 0 || empty.Override != nil || !empty.Since.IsNull() {
		t.Errorf("empty decision = %+v", empty)
	}
}

// A policy that does not exist (yet) names itself and the way to make the
// read wait for its create.
func TestAccTrafficDecisionDataSource_notFound(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
data "failover_traffic_decision" "test" {
  name = "acc-tdd-missing"
}
`,
			ExpectError: regexp.MustCompile(`Traffic Policy Not Found[\s\S]*"acc-tdd-missing"[\s\S]*depends_on`),
		}, {
			Config: `
data "failover_traffic_decision" "test" {
  name = "Web_1"
}
`,
			ExpectError: testAccPhraseRE(`"Web_1" is not a valid name`),
		}},
	})
}
