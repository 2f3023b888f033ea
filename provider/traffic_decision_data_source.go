package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

var (
	_ datasource.DataSource              = &trafficDecisionDataSource{}
	_ datasource.DataSourceWithConfigure = &trafficDecisionDataSource{}
)

// NewTrafficDecisionDataSource is the failover_traffic_decision data source.
func NewTrafficDecisionDataSource() datasource.DataSource { return &trafficDecisionDataSource{} }

type trafficDecisionDataSource struct {
	data *providerData
}

type trafficDecisionDataSourceModel struct {
	Name       types.String                  `tfsdk:"name"`
	Serving    []trafficDecisionServingModel `tfsdk:"serving"`
	Reason     types.String                  `tfsdk:"reason"`
	Since      types.String                  `tfsdk:"since"`
	ObservedAt types.String                  `tfsdk:"observed_at"`
	Generation types.Int64                   `tfsdk:"generation"`
	TTLSeconds types.Int64                   `tfsdk:"ttl_seconds"`
	Override   *trafficDecisionOverrideModel `tfsdk:"override"`
}

type trafficDecisionServingModel struct {
	Target    types.String `tfsdk:"target"`
	Addresses []string     `tfsdk:"addresses"`
	CNAME     types.String `tfsdk:"cname"`
	Weight    types.Int64  `tfsdk:"weight"`
}

type trafficDecisionOverrideModel struct {
	Target    types.String `tfsdk:"target"`
	ExpiresAt types.String `tfsdk:"expires_at"`
	Reason    types.String `tfsdk:"reason"`
	SetBy     types.String `tfsdk:"set_by"`
}

func (d *trafficDecisionDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_traffic_decision"
}

func (d *trafficDecisionDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "What a `failover_traffic_policy` serves right now, as failoverd decided it from live health: the serving " +
			"targets in answer order, why, and since when. Read at plan time (or at apply when the policy is being changed), so " +
			"it is a snapshot: use it in outputs, `check` blocks and tests, not to drive other resources.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the traffic policy, e.g. `failover_traffic_policy.web.name` or an active-passive / active-active module's `policy_name`.",
				Required:            true,
				Validators:          []validator.String{apiNameValidator{}},
			},
			"serving": schema.ListNestedAttribute{
				MarkdownDescription: "The targets DNS answers with, in serving order: in an `active-passive` policy the active target " +
					"first, then any burst targets. Empty when nothing serves (`when_all_down = \"fail_closed\"`). When every target is " +
					"down and `when_all_down = \"fallback\"`, the single entry is the target `fallback`.",
				Computed: true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"target": schema.StringAttribute{
							MarkdownDescription: "Target name, a key of the policy's `targets` (or `fallback`).",
							Computed:            true,
						},
						"addresses": schema.ListAttribute{
							MarkdownDescription: "Addresses answered for this target; null for a `cname` target.",
							ElementType:         types.StringType,
							Computed:            true,
						},
						"cname": schema.StringAttribute{
							MarkdownDescription: "Host name answered as a CNAME for this target; null for an `addresses` target.",
							Computed:            true,
						},
						"weight": schema.Int64Attribute{
							MarkdownDescription: "The target's weight in the answer (meaningful in `active-active` policies).",
							Computed:            true,
						},
					},
				},
			},
			"reason": schema.StringAttribute{
				MarkdownDescription: "Why failoverd serves this, in words (e.g. which target went down, or an operator override).",
				Computed:            true,
			},
			"since": schema.StringAttribute{
				MarkdownDescription: "When this decision was made (RFC 3339); null before the first evaluation.",
				Computed:            true,
			},
			"observed_at": schema.StringAttribute{
				MarkdownDescription: "When the health observation that triggered this decision was made (RFC 3339): `since` minus " +
					"`observed_at` is the detection-to-decision latency. Null when no observation triggered it.",
				Computed: true,
			},
			"generation": schema.Int64Attribute{
				MarkdownDescription: "Increases by one with every decision change of this policy.",
				Computed:            true,
			},
			"ttl_seconds": schema.Int64Attribute{
				MarkdownDescription: "TTL of the DNS answer, in seconds.",
				Computed:            true,
			},
			"override": schema.SingleNestedAttribute{
				MarkdownDescription: "The operator override pinning the policy to one target (`failoverd override set`), or null.",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"target": schema.StringAttribute{
						MarkdownDescription: "The pinned target.",
						Computed:            true,
					},
					"expires_at": schema.StringAttribute{
						MarkdownDescription: "When the override ends and health decides again (RFC 3339).",
						Computed:            true,
					},
					"reason": schema.StringAttribute{
						MarkdownDescription: "Why the operator set it.",
						Computed:            true,
					},
					"set_by": schema.StringAttribute{
						MarkdownDescription: "Name of the token that set it.",
						Computed:            true,
					},
				},
			},
		},
	}
}

func (d *trafficDecisionDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *trafficDecisionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m trafficDecisionDataSourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if d.data == nil || d.data.client == nil {
		resp.Diagnostics.AddError("Provider Not Configured",
			"The failover provider has no failoverd client, so the decision cannot be read. Check the provider block's endpoint and token (or FAILOVER_ENDPOINT and FAILOVER_TOKEN).")
		return
	}
	name := m.Name.ValueString()
	dec, err := d.data.client.Decision(ctx, name)
	if err != nil {
		if client.IsNotFound(err) {
			addNotFound(&resp.Diagnostics, "failover_traffic_policy", "Traffic Policy", name, err)
			return
		}
		addClientError(&resp.Diagnostics, "read", "Traffic Decision", name, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, trafficDecisionFromAPI(name, dec))...)
}

// trafficDecisionFromAPI maps a decision onto the model.
func trafficDecisionFromAPI(name string, dec api.Decision) trafficDecisionDataSourceModel {
	m := trafficDecisionDataSourceModel{
		Name:       types.StringValue(name),
		Serving:    make([]trafficDecisionServingModel, 0, len(dec.Serving)),
		Reason:     types.StringValue(dec.Reason),
		Since:      decisionTime(dec.Since),
		ObservedAt: decisionTime(dec.ObservedAt),
		Generation: types.Int64Value(int64(dec.Generation)),
		TTLSeconds: types.Int64Value(int64(dec.TTLSeconds)),
	}
	for _, s := range dec.Serving {
		st := trafficDecisionServingModel{
			Target:    types.StringValue(s.Target),
			Addresses: s.Addresses,
			CNAME:     types.StringNull(),
			Weight:    types.Int64Value(int64(s.Weight)),
		}
		if len(st.Addresses) == 0 {
			st.Addresses = nil
		}
		if s.CNAME != "" {
			st.CNAME = types.StringValue(s.CNAME)
		}
		m.Serving = append(m.Serving, st)
	}
	if o := dec.Override; o != nil {
		m.Override = &trafficDecisionOverrideModel{
			Target:    types.StringValue(o.Target),
			ExpiresAt: decisionTime(o.ExpiresAt),
			Reason:    types.StringValue(o.Reason),
			SetBy:     types.StringValue(o.SetBy),
		}
	}
	return m
}

// decisionTime renders a timestamp as RFC 3339 (UTC, with the sub-second
// part failoverd recorded), or null when it is not set.
func decisionTime(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339Nano))
}
