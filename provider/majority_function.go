package provider

// STUB: replaced by the real implementation.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/function"
)

func NewMajorityFunction() function.Function { return &majorityFunction{} }

type majorityFunction struct{}

func (f *majorityFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "majority"
}
func (f *majorityFunction) Definition(context.Context, function.DefinitionRequest, *function.DefinitionResponse) {
}
func (f *majorityFunction) Run(context.Context, function.RunRequest, *function.RunResponse) {}
