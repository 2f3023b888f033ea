package provider

// STUB: replaced by the real implementation.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

func NewReplicaSetResource() resource.Resource { return &replicaSetResource{} }

type replicaSetResource struct{}

func (r *replicaSetResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_replica_set"
}
func (r *replicaSetResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{}
}
func (r *replicaSetResource) Create(context.Context, resource.CreateRequest, *resource.CreateResponse) {
}
func (r *replicaSetResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (r *replicaSetResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {
}
func (r *replicaSetResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}
