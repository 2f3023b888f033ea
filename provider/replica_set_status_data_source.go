package provider

// STUB: replaced by the real implementation.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
)

func NewReplicaSetStatusDataSource() datasource.DataSource { return &replicaSetStatusDataSource{} }

type replicaSetStatusDataSource struct{}

func (d *replicaSetStatusDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_replica_set_status"
}
func (d *replicaSetStatusDataSource) Schema(context.Context, datasource.SchemaRequest, *datasource.SchemaResponse) {
}
func (d *replicaSetStatusDataSource) Read(context.Context, datasource.ReadRequest, *datasource.ReadResponse) {
}
