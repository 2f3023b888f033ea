package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

var (
	_ datasource.DataSource              = &healthCheckStatusDataSource{}
	_ datasource.DataSourceWithConfigure = &healthCheckStatusDataSource{}
)

// NewHealthCheckStatusDataSource is the failover_health_check_status data source.
func NewHealthCheckStatusDataSource() datasource.DataSource { return &healthCheckStatusDataSource{} }

type healthCheckStatusDataSource struct {
	data *providerData
}

type healthCheckStatusDataSourceModel struct {
	Name  types.String `tfsdk:"name"`
	State types.String `tfsdk:"state"`
	Since types.String `tfsdk:"since"`
	Sites types.Map    `tfsdk:"sites"`
}

var healthCheckSiteAttrTypes = map[string]attr.Type{
	"state":           types.StringType,
	"last_checked":    types.StringType,
	"last_error":      types.StringType,
	"last_latency_ms": types.Float64Type,
}

func (d *healthCheckStatusDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_health_check_status"
}

func (d *healthCheckStatusDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The live state of a `failover_health_check`, as failoverd sees it at read time: overall and per probing site. " +
			"Read during plan (or after apply when it depends on a resource), so it is a snapshot, not a watch — use it for assertions " +
			"(`check` blocks, `terraform test`) and outputs, never to drive a failover (failoverd does that itself).",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the health check.",
				Required:            true,
				Validators:          []validator.String{apiNameValidator{}},
			},
			"state": schema.StringAttribute{
				MarkdownDescription: "Overall state across the probing sites, following the check's `quorum`: `healthy`, `unhealthy`, or `unknown` (neither `rise` successes nor `fall` failures in a row yet, e.g. just after creation).",
				Computed:            true,
			},
			"since": schema.StringAttribute{
				MarkdownDescription: "When `state` last changed (RFC 3339, UTC); null while the state has never changed.",
				Computed:            true,
			},
			"sites": schema.MapNestedAttribute{
				MarkdownDescription: "Per probing site (the map key), that site's view of the endpoint.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"state": schema.StringAttribute{
							MarkdownDescription: "`healthy`, `unhealthy` or `unknown` as seen from this site.",
							Computed:            true,
						},
						"last_checked": schema.StringAttribute{
							MarkdownDescription: "Time of the site's last probe (RFC 3339, UTC); null before the first one.",
							Computed:            true,
						},
						"last_error": schema.StringAttribute{
							MarkdownDescription: "Why the last probe failed, e.g. `connection refused` or `status 503 not in [200-399]`; empty when it succeeded.",
							Computed:            true,
						},
						"last_latency_ms": schema.Float64Attribute{
							MarkdownDescription: "Duration of the last probe, in milliseconds.",
							Computed:            true,
						},
					},
				},
			},
		},
	}
}

func (d *healthCheckStatusDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *healthCheckStatusDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m healthCheckStatusDataSourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := m.Name.ValueString()
	st, err := d.data.client.HealthStatus(ctx, name)
	if client.IsNotFound(err) {
		addNotFound(&resp.Diagnostics, "failover_health_check", "Health Check", name, err)
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "read", "Health Check Status", name, err)
		return
	}
	out, diags := healthCheckStatusFromAPI(name, st)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, out)...)
}

// healthStatusTime renders a timestamp as RFC 3339 in UTC; the zero time
// ("never") is null.
func healthStatusTime(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339Nano))
}

func healthCheckStatusFromAPI(name string, st api.HealthStatus) (healthCheckStatusDataSourceModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	state := st.State
	if state == "" {
		state = api.StateUnknown
	}
	sites := make(map[string]attr.Value, len(st.Sites))
	for _, site := range api.SortedKeys(st.Sites) {
		o := st.Sites[site]
		siteState := o.State
		if siteState == "" {
			siteState = api.StateUnknown
		}
		v, d := types.ObjectValue(healthCheckSiteAttrTypes, map[string]attr.Value{
			"state":           types.StringValue(siteState),
			"last_checked":    healthStatusTime(o.LastChecked),
			"last_error":      types.StringValue(o.LastError),
			"last_latency_ms": types.Float64Value(o.LastLatencyMS),
		})
		diags.Append(d...)
		sites[site] = v
	}
	m, d := types.MapValue(types.ObjectType{AttrTypes: healthCheckSiteAttrTypes}, sites)
	diags.Append(d...)
	return healthCheckStatusDataSourceModel{
		Name:  types.StringValue(name),
		State: types.StringValue(state),
		Since: healthStatusTime(st.Since),
		Sites: m,
	}, diags
}
