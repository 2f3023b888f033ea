package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// setModel and getModel replace the framework's Set and Get: a model goes
// through a state and back as with the framework's, and a model the
// framework refuses (a zero list carries no element type) is refused too.
func TestModelRoundTrip(t *testing.T) {
	ctx := context.Background()
	var sr resource.SchemaResponse
	(&healthCheckResource{}).Schema(ctx, resource.SchemaRequest{}, &sr)
	empty := func() tfsdk.State {
		return tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(sr.Schema.Type().TerraformType(ctx), nil)}
	}
	full := healthCheckResourceModel{
		Name: types.StringValue("web"), Type: types.StringValue("tcp"), Fall: types.Int64Value(3),
		IntervalSeconds: types.Float64Value(5), ExpectedStatus: stringList([]string{"200"}),
		Headers: types.MapNull(types.StringType), BodyMatch: types.ObjectNull(healthCheckBodyMatchAttrTypes),
		TLS: types.ObjectNull(healthCheckTLSAttrTypes), ProbeSites: types.SetValueMust(types.StringType, nil),
		ChildChecks: types.ListNull(types.StringType),
		Enabled:     types.BoolValue(false), Timeouts: types.ObjectUnknown(timeoutsAttrTypes),
	}
	zeroList := full
	zeroList.ExpectedStatus = types.List{}
	cases := map[string]struct {
		m       healthCheckResourceModel
		refused bool
	}{
		"typed":     {m: full},
		"zero list": {m: zeroList, refused: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m := c.m
			ours, theirs := empty(), empty()
			dOurs, dTheirs := setModel(ctx, &ours, ours.Schema, m), theirs.Set(ctx, &m)
			if dOurs.HasError() != c.refused || dTheirs.HasError() != c.refused {
				t.Fatalf("refused: setModel %v, framework %v, want %v", dOurs, dTheirs, c.refused)
			}
			if c.refused {
				return
			}
			if !ours.Raw.Equal(theirs.Raw) {
				t.Fatalf("setModel wrote\n%s\nthe framework writes\n%s", ours.Raw, theirs.Raw)
			}
			var back healthCheckResourceModel
			if d := getModel(ctx, ours, &back); d.HasError() {
				t.Fatalf("getModel: %v", d)
			}
			var want healthCheckResourceModel
			if d := theirs.Get(ctx, &want); d.HasError() {
				t.Fatalf("framework Get: %v", d)
			}
			if back.Name != want.Name || !back.ExpectedStatus.Equal(want.ExpectedStatus) || !back.Headers.Equal(want.Headers) ||
				!back.BodyMatch.Equal(want.BodyMatch) || !back.Timeouts.Equal(want.Timeouts) || !back.IntervalSeconds.Equal(want.IntervalSeconds) {
				t.Fatalf("getModel read %+v, the framework reads %+v", back, want)
			}
		})
	}
}
