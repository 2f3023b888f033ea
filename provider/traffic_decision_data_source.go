package provider

// STUB: replaced by the real implementation.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
)

func NewTrafficDecisionDataSource() datasource.DataSource { return &trafficDecisionDataSource{} }

type trafficDecisionDataSource struct{}

func (d *trafficDecisionDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_traffic_decision"
}
func (d *trafficDecisionDataSource) Schema(context.Context, datasource.SchemaRequest, *datasource.SchemaResponse) {
}
func (d *trafficDecisionDataSource) Read(context.Context, datasource.ReadRequest, *datasource.ReadResponse) {
}
