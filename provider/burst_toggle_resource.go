package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/burst"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

var (
	_ resource.Resource                   = &burstToggleResource{}
	_ resource.ResourceWithConfigure      = &burstToggleResource{}
	_ resource.ResourceWithImportState    = &burstToggleResource{}
	_ resource.ResourceWithValidateConfig = &burstToggleResource{}
	_ resource.ResourceWithModifyPlan     = &burstToggleResource{}
)

// burstToggleKind names the object in diagnostics.
const burstToggleKind = "Burst Toggle"

// NewBurstToggleResource is the failover_burst_toggle resource.
func NewBurstToggleResource() resource.Resource { return &burstToggleResource{} }

type burstToggleResource struct {
	data *providerData
}

func (r *burstToggleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_burst_toggle"
}

func (r *burstToggleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	rfc3339 := []validator.String{rfc3339Validator{}}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A burst toggle is the switch of a \"burstable DR\" site: the DR site's load balancer health-checks the toggle's `url`, " +
			"which answers `503 " + api.DefaultBodyReleased + "` (pool down) or `200 " + api.DefaultBodyEngaged + "` (pool up). Engaging it turns the warm DR site " +
			"into extra production capacity in minutes (Black Friday), and traffic policies serve their `burst_only` targets while it is engaged.\n\n" +
			"The toggle is engaged when `engaged` is true or now is inside a `schedule` window, and never after `expires_at`.\n\n" +
			"Operators flip it with `failoverd burst engage|release NAME` (or `PATCH /v1/burst-toggles/{name}`). " +
			"Leave `engaged` out of the configuration and Terraform never fights that 4 a.m. flip; set it and Terraform enforces it on the next apply.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Same as `name`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the toggle, unique in failoverd: 1–63 lower-case letters, digits and `-`. It is the last segment of `url`, so changing it replaces the toggle and the URL your load balancer checks.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{apiNameValidator{}},
			},
			"site": schema.StringAttribute{
				MarkdownDescription: "Site whose capacity the toggle releases, usually the DR site (a label such as `aws-eu-west-1`; same rules as `name`).",
				Required:            true,
			},
			"engaged": schema.BoolAttribute{
				MarkdownDescription: "The operator's switch. **Omit it** to let operators own it: Terraform then records whatever failoverd holds and never reverts a flip made with `failoverd burst engage` (a new toggle starts released). " +
					"**Set it** to make Terraform own it: a flip made outside Terraform shows up as a change in the next plan and the apply reverts it. " +
					"Removing it from the configuration later hands the switch back to operators and leaves the toggle as it is.",
				Optional: true,
				Computed: true,
			},
			"schedule": schema.ListNestedAttribute{
				MarkdownDescription: "Windows during which the toggle is engaged even when `engaged` is false, e.g. Black Friday. A window engages at `start` and releases at `end`; windows may overlap (the toggle is engaged over their union).",
				Optional:            true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"start": schema.StringAttribute{
							MarkdownDescription: "RFC 3339 time the window engages, e.g. `2025-11-28T00:00:00Z` or `2025-11-28T01:00:00+01:00`.",
							Required:            true,
							Validators:          rfc3339,
						},
						"end": schema.StringAttribute{
							MarkdownDescription: "RFC 3339 time the window releases; must be after `start`.",
							Required:            true,
							Validators:          rfc3339,
						},
					},
				},
			},
			"expires_at": schema.StringAttribute{
				MarkdownDescription: "RFC 3339 time after which the toggle is released whatever `engaged` and `schedule` say: the \"release no later than\" of a burst someone might forget. Omit for no expiry.",
				Optional:            true,
				Validators:          rfc3339,
			},
			"body_engaged": schema.StringAttribute{
				MarkdownDescription: "Body `url` answers (with status 200, exactly this text) while engaged; match it exactly in the load balancer's health check. Default `" + api.DefaultBodyEngaged + "`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.DefaultBodyEngaged),
			},
			"body_released": schema.StringAttribute{
				MarkdownDescription: "Body `url` answers (with status 503, exactly this text) while released; must differ from `body_engaged`. Default `" + api.DefaultBodyReleased + "`. Note that `no-burst` *contains* `burst`: make the load balancer match the whole body.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.DefaultBodyReleased),
			},
			"url": schema.StringAttribute{
				MarkdownDescription: "The `/burst/{name}` URL to configure as the DR pool's load-balancer health check. It needs no token.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"effective": schema.BoolAttribute{
				MarkdownDescription: "Whether `url` answers engaged right now (engaged or inside a window, and not expired), as of the last refresh. It changes on its own as windows open and close; that is never a diff.",
				Computed:            true,
			},
			"version": schema.Int64Attribute{
				MarkdownDescription: "failoverd's version of the toggle (its ETag); an operator's flip bumps it too. Terraform updates only the version it last read, so a flip between plan and apply stops the apply instead of being overwritten.",
				Computed:            true,
			},
			"timeouts": timeoutsAttribute(),
		},
	}
}

func (r *burstToggleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs failoverd's own rules (burst.Validate) at plan time.
func (r *burstToggleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m burstToggleResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pc, ok := newPlanCheck(req.Config.Raw)
	if !ok {
		return
	}
	t, unparsed := m.toAPI()
	// A timestamp that does not parse is reported by rfc3339Validator; the
	// zero time it leaves must not read as "missing" too. name is checked
	// by its schema validator with the same pattern. Windows that already
	// ended are reported here (ValidateAt), not by failoverd.
	// An explicit body_engaged = "" is refused as failoverd refuses it.
	probs := append(t.NormalizeExplicit(configZeros(req.Config)), burst.ValidateAt(t, time.Now())...)
	pc.report(&resp.Diagnostics, "Invalid Burst Toggle", withoutFields(probs, append(unparsed, "name")...))
}

// ModifyPlan records the toggle as planned in this run, so a policy that
// names it as a plain string waits for its create instead of failing.
func (r *burstToggleResource) ModifyPlan(_ context.Context, req resource.ModifyPlanRequest, _ *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil || r.data.plans == nil {
		return
	}
	var name types.String
	if req.Plan.GetAttribute(context.Background(), path.Root("name"), &name).HasError() || !known(name) {
		return
	}
	r.data.plans.plan(api.KindBurstToggle, name.ValueString(), plannedObject{})
}

func (r *burstToggleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan burstToggleResourceModel
	var engaged types.Bool
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("engaged"), &engaged)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t, _ := plan.toAPI()
	t.Engaged = boolPtr(engaged)
	out, err := client.Create(ctx, r.data.client, api.KindBurstToggle, t)
	if err != nil {
		addClientError(&resp.Diagnostics, "create", burstToggleKind, t.Name, err)
		return
	}
	state, diags := plan.fromAPI(out)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
}

func (r *burstToggleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior burstToggleResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := client.Get[api.BurstToggle](ctx, r.data.client, api.KindBurstToggle, prior.Name.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "read", burstToggleKind, prior.Name.ValueString(), err)
		return
	}
	state, diags := prior.fromAPI(out)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
}

func (r *burstToggleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior burstToggleResourceModel
	var engaged types.Bool
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getModel(ctx, req.State, &prior)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("engaged"), &engaged)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t, _ := plan.toAPI()
	// Omitted in the configuration → omitted on the wire: failoverd then
	// keeps the operator's current state instead of Terraform's last one.
	t.Engaged = boolPtr(engaged)
	out, err := client.Update(ctx, r.data.client, api.KindBurstToggle, t.Name, t, uint64(prior.Version.ValueInt64()))
	if err != nil {
		addClientError(&resp.Diagnostics, "update", burstToggleKind, t.Name, err)
		return
	}
	state, diags := plan.fromAPI(out)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
}

func (r *burstToggleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state burstToggleResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	deleteObject(ctx, r.data, &resp.Diagnostics, api.KindBurstToggle, burstToggleKind, state.Name.ValueString(), state.Version.ValueInt64(), state.Timeouts)
}

func (r *burstToggleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}

// parseRFC3339 reads an RFC 3339 timestamp, fractional seconds allowed.
func parseRFC3339(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// keepTimestamp renders t, keeping the prior string when it names the same
// instant.
func keepTimestamp(prior types.String, t time.Time) types.String {
	if !prior.IsNull() && !prior.IsUnknown() {
		if p, err := parseRFC3339(prior.ValueString()); err == nil && p.Equal(t) {
			return prior
		}
	}
	return types.StringValue(t.Format(time.RFC3339Nano))
}

// rfc3339Validator rejects strings that are not RFC 3339 timestamps.
type rfc3339Validator struct{}

var _ validator.String = rfc3339Validator{}

func (rfc3339Validator) Description(context.Context) string {
	return "must be an RFC 3339 timestamp such as 2025-11-28T00:00:00Z"
}

func (v rfc3339Validator) MarkdownDescription(ctx context.Context) string {
	return "must be an RFC 3339 timestamp such as `2025-11-28T00:00:00Z`"
}

func (rfc3339Validator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if _, err := parseRFC3339(s); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid RFC 3339 Timestamp",
			fmt.Sprintf("%q is not an RFC 3339 timestamp. Write a date, a time and a UTC offset, e.g. \"2025-11-28T00:00:00Z\" or \"2025-11-28T01:00:00+01:00\" (Terraform's timestamp() and timeadd() produce this format).\n\n%s", s, err))
	}
}
