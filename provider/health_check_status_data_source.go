package provider

// STUB: replaced by the real implementation.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
)

func NewHealthCheckStatusDataSource() datasource.DataSource { return &healthCheckStatusDataSource{} }

type healthCheckStatusDataSource struct{}

func (d *healthCheckStatusDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_health_check_status"
}
func (d *healthCheckStatusDataSource) Schema(context.Context, datasource.SchemaRequest, *datasource.SchemaResponse) {
}
func (d *healthCheckStatusDataSource) Read(context.Context, datasource.ReadRequest, *datasource.ReadResponse) {
}
