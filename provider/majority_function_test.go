package provider

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

func TestAccMajorityFunction_basic(t *testing.T) {
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		Steps: []tfresource.TestStep{
			{
				Config: `
locals {
  voters = 5
}
output "one" {
  value = provider::failover::majority(1)
}
output "ordergroove" {
  value = provider::failover::majority(local.voters)
}
output "even" {
  value = provider::failover::majority(4)
}
output "max_members" {
  value = provider::failover::majority(50)
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("one", knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownOutputValue("ordergroove", knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownOutputValue("even", knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownOutputValue("max_members", knownvalue.Int64Exact(26)),
				},
			},
			{
				Config:      `output "zero" { value = provider::failover::majority(0) }`,
				ExpectError: regexp.MustCompile(`voters\s+is\s+0,\s+but\s+it\s+must\s+be\s+from\s+1\s+to\s+50`),
			},
			{
				Config:      `output "too_many" { value = provider::failover::majority(51) }`,
				ExpectError: regexp.MustCompile(`voters\s+is\s+51,\s+but\s+it\s+must\s+be\s+from\s+1\s+to\s+50`),
			},
			{
				// A fraction is the caller's mistake, reported on the
				// argument, not an internal conversion error.
				Config:      `output "fraction" { value = provider::failover::majority(2.5) }`,
				ExpectError: regexp.MustCompile(`voters\s+must\s+be\s+a\s+whole\s+number,\s+got\s+2\.5`),
			},
			{
				Config:      `output "null" { value = provider::failover::majority(null) }`,
				ExpectError: regexp.MustCompile(`argument\s+must\s+not\s+be\s+null`),
			},
		},
	})
}

func TestMajorityOf(t *testing.T) {
	tests := []struct {
		voters  int64
		want    int64
		wantErr string
	}{
		{voters: 1, want: 1},
		{voters: 2, want: 2},
		{voters: 3, want: 2},
		{voters: 4, want: 3},
		{voters: 5, want: 3},
		{voters: 7, want: 4},
		{voters: 50, want: 26},
		{voters: 0, wantErr: "voters is 0"},
		{voters: -3, wantErr: "voters is -3"},
		{voters: 51, wantErr: "voters is 51"},
	}
	for _, tt := range tests {
		got, err := majorityOf(tt.voters)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("majorityOf(%d) error = %v, want %q", tt.voters, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("majorityOf(%d) = %d, %v; want %d", tt.voters, got, err, tt.want)
		}
	}
}

// TestMajorityFunctionRun goes through the framework's function plumbing:
// an out-of-range count is an argument error on argument 0.
func TestMajorityFunctionRun(t *testing.T) {
	ctx := context.Background()
	f := NewMajorityFunction()
	var def function.DefinitionResponse
	f.Definition(ctx, function.DefinitionRequest{}, &def)
	var vr function.DefinitionValidateResponse
	def.Definition.ValidateImplementation(ctx, function.DefinitionValidateRequest{FuncName: "majority"}, &vr)
	if vr.Diagnostics.HasError() {
		t.Fatal(vr.Diagnostics)
	}
	run := func(n int64) (types.Int64, *function.FuncError) {
		req := function.RunRequest{Arguments: function.NewArgumentsData([]attr.Value{types.Int64Value(n)})}
		resp := function.RunResponse{Result: function.NewResultData(types.Int64Unknown())}
		f.Run(ctx, req, &resp)
		v, _ := resp.Result.Value().(types.Int64)
		return v, resp.Error
	}
	if v, err := run(7); err != nil || v.ValueInt64() != 4 {
		t.Errorf("majority(7) = %v, %v; want 4", v, err)
	}
	if _, err := run(0); err == nil || err.FunctionArgument == nil || *err.FunctionArgument != 0 {
		t.Errorf("majority(0): error %v, want an error on argument 0", err)
	}
}
