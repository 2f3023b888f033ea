package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

var (
	_ datasource.DataSource              = &replicaSetStatusDataSource{}
	_ datasource.DataSourceWithConfigure = &replicaSetStatusDataSource{}
)

// NewReplicaSetStatusDataSource is the failover_replica_set_status data source.
func NewReplicaSetStatusDataSource() datasource.DataSource { return &replicaSetStatusDataSource{} }

type replicaSetStatusDataSource struct {
	data *providerData
}

type replicaSetStatusDataSourceModel struct {
	Name            types.String `tfsdk:"name"`
	MembersUp       types.Int64  `tfsdk:"members_up"`
	VotesUp         types.Int64  `tfsdk:"votes_up"`
	HasMajority     types.Bool   `tfsdk:"has_majority"`
	ExpectedPrimary types.String `tfsdk:"expected_primary"`
	AtRisk          types.Bool   `tfsdk:"at_risk"`
	Members         types.Map    `tfsdk:"members"`
	Since           types.String `tfsdk:"since"`
}

func (d *replicaSetStatusDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_replica_set_status"
}

func (d *replicaSetStatusDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The live state of a `failover_replica_set`, as failoverd derives it from the members' health checks at the moment Terraform reads it: " +
			"how many members and votes are up, whether they still hold a voting majority (without one MongoDB has no primary and refuses writes), " +
			"which member is expected to be primary, and whether the set is one site failure away from losing its primary (`at_risk`).\n\n" +
			"A member without a `health_check` counts as up. A member whose check has not reported yet also counts as up; only a check that is " +
			"`unhealthy` takes a member down. Use it in `check` blocks or preconditions, e.g. to refuse a maintenance apply while `at_risk` is true.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the replica set, e.g. `failover_replica_set.orders.name` or a module's `replica_set_name`.",
				Required:            true,
				Validators:          []validator.String{apiNameValidator{}},
			},
			"members_up": schema.Int64Attribute{
				MarkdownDescription: "Number of members that are up (health check not unhealthy, or no health check).",
				Computed:            true,
			},
			"votes_up": schema.Int64Attribute{
				MarkdownDescription: "Votes held by the members that are up.",
				Computed:            true,
			},
			"has_majority": schema.BoolAttribute{
				MarkdownDescription: "`true` when the voting members up hold a majority of all configured votes — the condition for MongoDB to elect, or keep, a primary. `false` means the database is read-only until members come back.",
				Computed:            true,
			},
			"expected_primary": schema.StringAttribute{
				MarkdownDescription: "The member expected to be primary now: the highest-priority electable member that is up (ties: the name that sorts first). Null without a majority.",
				Computed:            true,
			},
			"at_risk": schema.BoolAttribute{
				MarkdownDescription: "`true` when the set has no primary now, or when losing any one site that still has members up would take the majority or the last electable member with it. " +
					"After a site is lost, the set is typically still writable but at risk: the next failure stops it.",
				Computed: true,
			},
			"members": schema.MapAttribute{
				MarkdownDescription: "State of every member, by member name: `healthy` or `unhealthy`.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"since": schema.StringAttribute{
				MarkdownDescription: "When majority, risk, expected primary or members up last changed (RFC 3339).",
				Computed:            true,
			},
		},
	}
}

func (d *replicaSetStatusDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *replicaSetStatusDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m replicaSetStatusDataSourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := m.Name.ValueString()
	st, err := d.data.client.ReplicaSetStatus(ctx, name)
	if err != nil {
		if client.IsNotFound(err) {
			addNotFound(&resp.Diagnostics, "failover_replica_set", "Replica Set", name, err)
			return
		}
		addClientError(&resp.Diagnostics, "read the status of", replicaSetKind, name, err)
		return
	}
	resp.Diagnostics.Append(m.fromAPI(ctx, st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, m)...)
}

// fromAPI fills the computed attributes from failoverd's status.
func (m *replicaSetStatusDataSourceModel) fromAPI(ctx context.Context, st api.ReplicaSetStatus) (diags diag.Diagnostics) {
	m.MembersUp = types.Int64Value(int64(st.MembersUp))
	m.VotesUp = types.Int64Value(int64(st.VotesUp))
	m.HasMajority = types.BoolValue(st.HasMajority)
	m.ExpectedPrimary = stringOrNull(st.ExpectedPrimary)
	m.AtRisk = types.BoolValue(st.AtRisk)
	members := st.Members
	if members == nil {
		members = map[string]string{}
	}
	m.Members, diags = types.MapValueFrom(ctx, types.StringType, members)
	m.Since = types.StringNull()
	if !st.Since.IsZero() {
		m.Since = types.StringValue(st.Since.UTC().Format(time.RFC3339Nano))
	}
	return diags
}
