package provider

// STUB: replaced by the real implementation.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/function"
)

func NewWorstCaseFailoverSecondsFunction() function.Function {
	return &worstCaseFailoverSecondsFunction{}
}

type worstCaseFailoverSecondsFunction struct{}

func (f *worstCaseFailoverSecondsFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "worst_case_failover_seconds"
}
func (f *worstCaseFailoverSecondsFunction) Definition(context.Context, function.DefinitionRequest, *function.DefinitionResponse) {
}
func (f *worstCaseFailoverSecondsFunction) Run(context.Context, function.RunRequest, *function.RunResponse) {
}
