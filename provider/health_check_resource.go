package provider

// STUB: replaced by the real implementation.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

func NewHealthCheckResource() resource.Resource { return &healthCheckResource{} }

type healthCheckResource struct{}

func (r *healthCheckResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_health_check"
}
func (r *healthCheckResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{}
}
func (r *healthCheckResource) Create(context.Context, resource.CreateRequest, *resource.CreateResponse) {
}
func (r *healthCheckResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *healthCheckResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {
}
func (r *healthCheckResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}
