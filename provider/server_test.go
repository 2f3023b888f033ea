package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

// TestUpgradeStateMatchesFramework: state already at the schema's version
// upgrades to what the framework gives (attributes the schema no longer
// has dropped); anything else is the framework's own answer.
func TestUpgradeStateMatchesFramework(t *testing.T) {
	h := newPlanHarness(t)
	ctx := context.Background()
	for _, typeName := range h.typeNames() {
		typ := h.schemas[typeName].ValueType().(tftypes.Object)
		for seed := uint64(0); seed < 50; seed++ {
			r := rand.New(rand.NewPCG(seed, 11))
			g := valueGen{choose: func(n int) int { return r.IntN(n) }}
			state := g.fillUnknowns(g.config(h.fw[typeName].Attributes, typ))
			j, err := tfValueJSON(state)
			if err != nil {
				t.Fatal(err)
			}
			obj := j.(map[string]any)
			obj["removed_in_a_later_version"] = "x"
			raw, _ := json.Marshal(obj)
			for _, req := range []*tfprotov6.UpgradeResourceStateRequest{
				{TypeName: typeName, Version: 0, RawState: &tfprotov6.RawState{JSON: raw}},
				{TypeName: typeName, Version: 0, RawState: &tfprotov6.RawState{JSON: []byte(`{"name": 3`)}},
				{TypeName: typeName, Version: 7, RawState: &tfprotov6.RawState{JSON: raw}},
			} {
				got, err := h.srv.UpgradeResourceState(ctx, req)
				want, werr := h.srv.ProviderServer.UpgradeResourceState(ctx, req)
				if err != nil || werr != nil {
					t.Fatalf("%s: %v / %v", typeName, err, werr)
				}
				if diagText(got.Diagnostics) != diagText(want.Diagnostics) {
					t.Fatalf("%s v%d: diagnostics %s, framework %s", typeName, req.Version, diagText(got.Diagnostics), diagText(want.Diagnostics))
				}
				if want.UpgradedState == nil {
					if got.UpgradedState != nil {
						t.Fatalf("%s v%d: upgraded state where the framework has none", typeName, req.Version)
					}
					continue
				}
				gv, err1 := got.UpgradedState.Unmarshal(typ)
				wv, err2 := want.UpgradedState.Unmarshal(typ)
				if err1 != nil || err2 != nil || !gv.Equal(wv) {
					t.Fatalf("%s: upgraded %s (%v), framework %s (%v)", typeName, gv, err1, wv, err2)
				}
			}
		}
	}
}

// TestRefreshFormByCLI: refreshed state is JSON for the CLIs whose
// refresh-only plans need it (Terraform 1.10 and later, or a version that
// does not parse) and msgpack, cheaper for Terraform to compare, for the
// others (TestRefreshOnlyDetailedExitCode runs the real CLIs).
func TestRefreshFormByCLI(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		cli      string
		wantJSON bool
	}{
		{"1.5.7", false},
		{"1.8.8", false}, // OpenTofu sends its own version
		{"1.9.99", false},
		{"1.10.0", true},
		{"1.11.4", true},
		{"1.14.0-alpha20251001", true},
		{"", true},
		{"not a version", true},
	} {
		t.Run(tt.cli, func(t *testing.T) {
			name := fmt.Sprintf("refresh-form-%d", len(tt.cli)) + strings.NewReplacer(".", "-", " ", "-").Replace(tt.cli)
			srv := NewProtocol6Server("test")().(*protocolServer)
			sch, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{
				TerraformVersion: tt.cli, Config: dv(t, nullObject(sch.Provider.ValueType(), nil)),
			}); err != nil {
				t.Fatal(err)
			}
			const typeName = "failover_health_check"
			typ := sch.ResourceSchemas[typeName].ValueType()
			if _, err := client.Create(ctx, testFailoverd.client, api.KindHealthCheck, api.HealthCheck{Name: name, Site: "dc1", Type: api.CheckTCP, Address: "127.0.0.1:9"}); err != nil {
				t.Fatalf("creating the check: %v", err)
			}
			state := nullObject(typ, map[string]tftypes.Value{"name": tftypes.NewValue(tftypes.String, name)})
			resp, err := srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: typeName, CurrentState: dv(t, state)})
			if err != nil || diagErrors(resp.Diagnostics) || resp.NewState == nil {
				t.Fatalf("read: %v %s", err, diagText(resp.Diagnostics))
			}
			if gotJSON := len(resp.NewState.JSON) > 0; gotJSON != tt.wantJSON {
				t.Fatalf("CLI %q: refreshed state in JSON = %v, want %v", tt.cli, gotJSON, tt.wantJSON)
			}
		})
	}
}
