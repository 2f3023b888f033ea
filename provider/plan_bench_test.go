package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// BenchmarkNoChangePlan is P4's provider side: what one health check costs
// the provider in a no-change `terraform plan` — the refresh (ReadResource,
// one GET from failoverd) and the plan (PlanResourceChange) — through the
// protocol server Terraform talks to. `make bench` measures the whole CLI
// run; this one shows the provider's CPU and allocations per resource
// without the noise of a shared machine's scheduling.
func BenchmarkNoChangePlan(b *testing.B) {
	ctx := context.Background()
	srv := NewProtocol6Server("bench")()
	sch, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || sch == nil {
		b.Fatalf("schema: %v", err)
	}
	if _, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{
		Config: dynamic(b, nullObject(sch.Provider.ValueType(), nil)),
	}); err != nil {
		b.Fatal(err)
	}
	const typeName = "failover_health_check"
	typ := sch.ResourceSchemas[typeName].ValueType()
	config := nullObject(typ, map[string]tftypes.Value{
		"name":             tftypes.NewValue(tftypes.String, "bench-plan"),
		"site":             tftypes.NewValue(tftypes.String, "dc1"),
		"type":             tftypes.NewValue(tftypes.String, "http"),
		"address":          tftypes.NewValue(tftypes.String, "127.0.0.1:9"),
		"interval_seconds": tftypes.NewValue(tftypes.Number, 60),
	})
	plan, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: typeName, PriorState: dynamic(b, tftypes.NewValue(typ, nil)),
		ProposedNewState: dynamic(b, config), Config: dynamic(b, config),
	})
	if err != nil || diagErrors(plan.Diagnostics) {
		b.Fatalf("plan: %v %+v", err, plan.Diagnostics)
	}
	applied, err := srv.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
		TypeName: typeName, PriorState: dynamic(b, tftypes.NewValue(typ, nil)),
		PlannedState: plan.PlannedState, Config: dynamic(b, config),
	})
	if err != nil || diagErrors(applied.Diagnostics) {
		b.Fatalf("apply: %v %+v", err, applied.Diagnostics)
	}
	b.Cleanup(func() {
		srv.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
			TypeName: typeName, PriorState: applied.NewState,
			PlannedState: dynamic(b, tftypes.NewValue(typ, nil)), Config: dynamic(b, tftypes.NewValue(typ, nil)),
		})
	})
	cfg := dynamic(b, config)
	state := applied.NewState
	b.ReportAllocs()
	for b.Loop() {
		read, err := srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: typeName, CurrentState: state})
		if err != nil || diagErrors(read.Diagnostics) {
			b.Fatalf("read: %v %+v", err, read.Diagnostics)
		}
		// Terraform sends msgpack whatever form the state came in.
		refreshed, err := read.NewState.Unmarshal(typ)
		if err != nil {
			b.Fatal(err)
		}
		prior := dynamic(b, refreshed)
		p, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: typeName, PriorState: prior, ProposedNewState: prior, Config: cfg,
		})
		if err != nil || diagErrors(p.Diagnostics) || len(p.RequiresReplace) > 0 {
			b.Fatalf("plan: %v %+v", err, p.Diagnostics)
		}
	}
}

// nullObject is an object of typ with every attribute null but those given.
func nullObject(typ tftypes.Type, set map[string]tftypes.Value) tftypes.Value {
	obj := typ.(tftypes.Object)
	vals := make(map[string]tftypes.Value, len(obj.AttributeTypes))
	for name, t := range obj.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
			continue
		}
		vals[name] = tftypes.NewValue(t, nil)
	}
	return tftypes.NewValue(typ, vals)
}

func dynamic(b *testing.B, v tftypes.Value) *tfprotov6.DynamicValue {
	dv, err := tfprotov6.NewDynamicValue(v.Type(), v)
	if err != nil {
		b.Fatal(err)
	}
	return &dv
}

func diagErrors(ds []*tfprotov6.Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}
