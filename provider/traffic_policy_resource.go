package provider

// STUB: replaced by the real implementation.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

func NewTrafficPolicyResource() resource.Resource { return &trafficPolicyResource{} }

type trafficPolicyResource struct{}

func (r *trafficPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_traffic_policy"
}
func (r *trafficPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{}
}
func (r *trafficPolicyResource) Create(context.Context, resource.CreateRequest, *resource.CreateResponse) {
}
func (r *trafficPolicyResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *trafficPolicyResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {
}
func (r *trafficPolicyResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}
