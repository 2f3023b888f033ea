package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

func TestAccWorstCaseFailoverSecondsFunction(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// Provider functions: Terraform >= 1.8, OpenTofu >= 1.7.
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		Steps: []resource.TestStep{
			{
				Config: `
output "defaults" {
  value = provider::failover::worst_case_failover_seconds(3, 10, 2, 0, 30)
}

output "fast" {
  value = provider::failover::worst_case_failover_seconds(2, 1, 0.5, 5, 10)
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("defaults", knownvalue.Float64Exact(62)),
					statecheck.ExpectKnownOutputValue("fast", knownvalue.Float64Exact(17.5)),
				},
			},
			{
				Config: `
output "bad" {
  value = provider::failover::worst_case_failover_seconds(0, 10, 2, 0, 30)
}
`,
				ExpectError: tpMatchWords("fall must be at least 1, got 0"),
			},
			{
				Config: `
output "bad" {
  value = provider::failover::worst_case_failover_seconds(3, 10, 2, 0, -1)
}
`,
				ExpectError: tpMatchWords("ttl_seconds must not be negative, got -1"),
			},
		},
	})
}

func TestWorstCaseFailoverSecondsFunction_Run(t *testing.T) {
	args := func(fall int64, interval, timeout float64, delay, ttl int64) function.ArgumentsData {
		return function.NewArgumentsData([]attr.Value{
			types.Int64Value(fall), types.Float64Value(interval), types.Float64Value(timeout),
			types.Int64Value(delay), types.Int64Value(ttl),
		})
	}
	tests := []struct {
		name    string
		args    function.ArgumentsData
		want    float64
		wantErr *function.FuncError
	}{
		{name: "defaults", args: args(3, 10, 2, 0, 30), want: 62},
		{name: "fractional timeout", args: args(2, 1, 0.5, 5, 10), want: 17.5},
		{name: "no delay no ttl", args: args(1, 1, 0.001, 0, 0), want: 1.001},
		{name: "fall 0", args: args(0, 10, 2, 0, 30),
			wantErr: function.NewArgumentFuncError(0, "fall must be at least 1, got 0: it is the number of consecutive failed probes that declare a target down")},
		{name: "negative interval", args: args(3, -1, 2, 0, 30),
			wantErr: function.NewArgumentFuncError(1, "interval_seconds must not be negative, got -1")},
		{name: "negative timeout", args: args(3, 10, -0.5, 0, 30),
			wantErr: function.NewArgumentFuncError(2, "timeout_seconds must not be negative, got -0.5")},
		{name: "negative delay", args: args(3, 10, 2, -5, 30),
			wantErr: function.NewArgumentFuncError(3, "failover_delay_seconds must not be negative, got -5")},
		{name: "every problem at once, on the first argument", args: args(0, 10, 2, 0, -1),
			wantErr: function.ConcatFuncErrors(
				function.NewArgumentFuncError(0, "fall must be at least 1, got 0: it is the number of consecutive failed probes that declare a target down"),
				function.NewArgumentFuncError(4, "ttl_seconds must not be negative, got -1"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := function.RunResponse{Result: function.NewResultData(types.Float64Unknown())}
			NewWorstCaseFailoverSecondsFunction().Run(context.Background(), function.RunRequest{Arguments: tt.args}, &resp)
			if !resp.Error.Equal(tt.wantErr) {
				t.Fatalf("error = %v, want %v", resp.Error, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if want := function.NewResultData(types.Float64Value(tt.want)); !resp.Result.Equal(want) {
				t.Errorf("result = %v, want %v", resp.Result.Value(), tt.want)
			}
		})
	}
}

// The definition documents the function and every parameter.
func TestWorstCaseFailoverSecondsFunction_Definition(t *testing.T) {
	var resp function.DefinitionResponse
	NewWorstCaseFailoverSecondsFunction().Definition(context.Background(), function.DefinitionRequest{}, &resp)
	d := resp.Definition
	if d.Summary == "" || d.MarkdownDescription == "" {
		t.Error("function has no summary or description")
	}
	if len(d.Parameters) != 5 {
		t.Fatalf("%d parameters, want 5", len(d.Parameters))
	}
	for _, p := range d.Parameters {
		if p.GetMarkdownDescription() == "" {
			t.Errorf("parameter %q is undocumented", p.GetName())
		}
	}
}
