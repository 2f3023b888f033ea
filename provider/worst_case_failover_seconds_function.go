package provider

import (
	"context"
	"fmt"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

var _ function.Function = &worstCaseFailoverSecondsFunction{}

// NewWorstCaseFailoverSecondsFunction is
// provider::failover::worst_case_failover_seconds.
func NewWorstCaseFailoverSecondsFunction() function.Function {
	return &worstCaseFailoverSecondsFunction{}
}

type worstCaseFailoverSecondsFunction struct{}

func (f *worstCaseFailoverSecondsFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "worst_case_failover_seconds"
}

func (f *worstCaseFailoverSecondsFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Worst-case seconds clients keep reaching a dead site",
		MarkdownDescription: "Returns how long, in seconds, clients may keep reaching a target after it dies, with one health check " +
			"of the given timing: detection (`fall × interval_seconds + timeout_seconds`: `fall` consecutive failed probes, one per " +
			"interval, the last of which may take the whole timeout), plus `failover_delay_seconds` before the policy moves traffic, " +
			"plus `ttl_seconds` for resolvers to drop the cached answer.\n\n" +
			"It is the arithmetic behind `failover_traffic_policy`'s `worst_case_failover_seconds` (which takes the slowest of the " +
			"policy's checks) and its `rto_seconds` check, computed by the same code failoverd runs, so a module can derive or " +
			"validate timings before any resource exists — e.g. in a variable `validation` block. " +
			"`provider::failover::worst_case_failover_seconds(3, 10, 2, 0, 30)` is `62`.\n\n" +
			"Requires Terraform 1.8 or later, or OpenTofu 1.7 or later.",
		Parameters: []function.Parameter{
			function.NumberParameter{
				Name:                "fall",
				MarkdownDescription: "Consecutive failed probes before the check declares the target down (the health check's `fall`, at least 1).",
			},
			function.Float64Parameter{
				Name:                "interval_seconds",
				MarkdownDescription: "Seconds between probes (the health check's `interval_seconds`, not negative).",
			},
			function.Float64Parameter{
				Name:                "timeout_seconds",
				MarkdownDescription: "Seconds one probe may take before it counts as failed (the health check's `timeout_seconds`, fractions allowed, not negative).",
			},
			function.NumberParameter{
				Name:                "failover_delay_seconds",
				MarkdownDescription: "Seconds a target must stay down before traffic leaves it (the policy's `failover_delay_seconds`, not negative).",
			},
			function.NumberParameter{
				Name:                "ttl_seconds",
				MarkdownDescription: "TTL of the DNS answers in seconds (the policy's `ttl_seconds`, not negative).",
			},
		},
		Return: function.Float64Return{},
	}
}

func (f *worstCaseFailoverSecondsFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var (
		fallArg, delayArg, ttlArg *big.Float
		interval, timeout         float64
	)
	resp.Error = req.Arguments.Get(ctx, &fallArg, &interval, &timeout, &delayArg, &ttlArg)
	if resp.Error != nil {
		return
	}
	var errs []*function.FuncError
	fall, ferr := wholeArgument(0, "fall", fallArg)
	delay, derr := wholeArgument(3, "failover_delay_seconds", delayArg)
	ttl, terr := wholeArgument(4, "ttl_seconds", ttlArg)
	for _, e := range []*function.FuncError{ferr, derr, terr} {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		resp.Error = function.ConcatFuncErrors(errs...)
		return
	}
	if fall < 1 {
		errs = append(errs, function.NewArgumentFuncError(0, fmt.Sprintf("fall must be at least 1, got %d: it is the number of consecutive failed probes that declare a target down", fall)))
	}
	for _, a := range []struct {
		pos   int64
		name  string
		value float64
	}{
		{1, "interval_seconds", interval},
		{2, "timeout_seconds", timeout},
		{3, "failover_delay_seconds", float64(delay)},
		{4, "ttl_seconds", float64(ttl)},
	} {
		if a.value < 0 {
			errs = append(errs, function.NewArgumentFuncError(a.pos, fmt.Sprintf("%s must not be negative, got %g", a.name, a.value)))
		}
	}
	if len(errs) > 0 {
		resp.Error = function.ConcatFuncErrors(errs...)
		return
	}
	worst := topology.WorstCaseFailoverSeconds(
		[]topology.CheckTiming{{IntervalSeconds: interval, TimeoutSeconds: timeout, Fall: int(fall)}},
		int(delay), int(ttl))
	resp.Error = resp.Result.Set(ctx, worst)
}
