package provider

// STUB: replaced by the real implementation.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

func NewBurstToggleResource() resource.Resource { return &burstToggleResource{} }

type burstToggleResource struct{}

func (r *burstToggleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_burst_toggle"
}
func (r *burstToggleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{}
}
func (r *burstToggleResource) Create(context.Context, resource.CreateRequest, *resource.CreateResponse) {
}
func (r *burstToggleResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *burstToggleResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {
}
func (r *burstToggleResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}
