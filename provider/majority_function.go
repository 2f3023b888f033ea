package provider

import (
	"context"
	"fmt"
	"math"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

var _ function.Function = &majorityFunction{}

// NewMajorityFunction is provider::failover::majority.
func NewMajorityFunction() function.Function { return &majorityFunction{} }

type majorityFunction struct{}

func (f *majorityFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "majority"
}

func (f *majorityFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Votes a MongoDB election needs out of a number of voting members",
		MarkdownDescription: "Returns the strict majority of `voters` voting members, `floor(voters / 2) + 1`: the votes a replica set must still " +
			"reach to elect (or keep) a primary. MongoDB counts all configured voters, never only the reachable ones, so losing a site that " +
			"holds `voters - majority + 1` or more votes leaves the survivors read-only. Same rule as `failover_replica_set`'s `majority`. " +
			fmt.Sprintf("Fails for fewer than 1 or more than %d voters (a replica set has at most %d members, %d of them voting).", topology.MaxMembers, topology.MaxMembers, topology.MaxVotingMembers),
		Parameters: []function.Parameter{
			function.NumberParameter{
				Name:                "voters",
				MarkdownDescription: fmt.Sprintf("Number of voting members, 1–%d.", topology.MaxMembers),
			},
		},
		Return: function.Int64Return{},
	}
}

func (f *majorityFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var arg *big.Float
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &arg))
	if resp.Error != nil {
		return
	}
	voters, ferr := wholeArgument(0, "voters", arg)
	if ferr != nil {
		resp.Error = ferr
		return
	}
	n, err := majorityOf(voters)
	if err != nil {
		resp.Error = function.ConcatFuncErrors(resp.Error, function.NewArgumentFuncError(0, err.Error()))
		return
	}
	resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, n))
}

// majorityOf checks the voter count and applies topology.Majority.
func majorityOf(voters int64) (int64, error) {
	if voters < 1 || voters > topology.MaxMembers {
		return 0, fmt.Errorf("voters is %d, but it must be from 1 to %d (a replica set has at most %d members, and MongoDB lets at most %d of them vote): pass the number of members with votes = 1",
			voters, topology.MaxMembers, topology.MaxMembers, topology.MaxVotingMembers)
	}
	return int64(topology.Majority(int(voters))), nil
}

// wholeArgument reads a parameter that must be a whole number. Terraform
// numbers may be fractional; a typed Int64Parameter would turn 2.5 into an
// internal "report this to the provider developer" conversion error, so the
// functions take numbers and say what is wrong with the argument instead.
func wholeArgument(pos int64, name string, v *big.Float) (int64, *function.FuncError) {
	if v == nil {
		return 0, function.NewArgumentFuncError(pos, name+" must be a whole number, got null")
	}
	if !v.IsInt() {
		return 0, function.NewArgumentFuncError(pos, fmt.Sprintf("%s must be a whole number, got %s: pass an integer such as %s", name, v.Text('g', -1), floorText(v)))
	}
	n, acc := v.Int64()
	if acc != big.Exact || n > math.MaxInt32 || n < math.MinInt32 {
		return 0, function.NewArgumentFuncError(pos, fmt.Sprintf("%s is %s, far outside the range it can take", name, v.Text('g', -1)))
	}
	return n, nil
}

func floorText(v *big.Float) string {
	f, _ := v.Float64()
	return fmt.Sprintf("%d", int64(math.Floor(f)))
}
