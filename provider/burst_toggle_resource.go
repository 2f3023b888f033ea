package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
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
)

// burstToggleKind names the object in diagnostics.
const burstToggleKind = "Burst Toggle"

// NewBurstToggleResource is the failover_burst_toggle resource.
func NewBurstToggleResource() resource.Resource { return &burstToggleResource{} }

type burstToggleResource struct {
	data *providerData
}

type burstToggleResourceModel struct {
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	Site         types.String `tfsdk:"site"`
	Engaged      types.Bool   `tfsdk:"engaged"`
	Schedule     types.List   `tfsdk:"schedule"`
	ExpiresAt    types.String `tfsdk:"expires_at"`
	BodyEngaged  types.String `tfsdk:"body_engaged"`
	BodyReleased types.String `tfsdk:"body_released"`
	URL          types.String `tfsdk:"url"`
	Effective    types.Bool   `tfsdk:"effective"`
	Version      types.Int64  `tfsdk:"version"`
}

var burstWindowAttrTypes = map[string]attr.Type{
	"start": types.StringType,
	"end":   types.StringType,
}

// burstToggleDependsOn: the attributes burst.Validate reads to judge
// another one (see dropUnknownProblems).
var burstToggleDependsOn = map[string][]string{
	"body_released": {"body_engaged"},
	"body_engaged":  {"body_released"},
	"schedule":      {"expires_at"},
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
		},
	}
}

func (r *burstToggleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs failoverd's own rules (burst.Validate) at plan time.
func (r *burstToggleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m burstToggleResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	unknown, ok := unknownConfigRoots(req.Config)
	if !ok {
		return
	}
	t, unparsed := m.toAPI()
	// A timestamp that does not parse is reported by rfc3339Validator; the
	// zero time it leaves must not read as "missing" too. name is checked
	// by its schema validator with the same pattern.
	unparsed["name"] = true
	// An explicit body_engaged = "" is refused as failoverd refuses it.
	probs := t.NormalizeExplicit(configZeros(req.Config))
	probs = dropUnknownProblems(append(probs, burst.Validate(t)...), unknown, burstToggleDependsOn)
	probs = dropShadowedProblems(probs, unparsed)
	addProblems(&resp.Diagnostics, "Invalid Burst Toggle", probs)
}

func (r *burstToggleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan burstToggleResourceModel
	var engaged types.Bool
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("engaged"), &engaged)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t, _ := plan.toAPI()
	t.Engaged = configuredBool(engaged)
	out, err := client.Create(ctx, r.data.client, api.KindBurstToggle, t)
	if err != nil {
		addClientError(&resp.Diagnostics, "create", burstToggleKind, t.Name, err)
		return
	}
	state, diags := burstToggleFromAPI(plan, out)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *burstToggleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior burstToggleResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
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
	state, diags := burstToggleFromAPI(prior, out)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *burstToggleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior burstToggleResourceModel
	var engaged types.Bool
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("engaged"), &engaged)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t, _ := plan.toAPI()
	// Omitted in the configuration → omitted on the wire: failoverd then
	// keeps the operator's current state instead of Terraform's last one.
	t.Engaged = configuredBool(engaged)
	out, err := client.Update(ctx, r.data.client, api.KindBurstToggle, t.Name, t, uint64(prior.Version.ValueInt64()))
	if err != nil {
		addClientError(&resp.Diagnostics, "update", burstToggleKind, t.Name, err)
		return
	}
	state, diags := burstToggleFromAPI(plan, out)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *burstToggleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state burstToggleResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.data.client.Delete(ctx, api.KindBurstToggle, state.Name.ValueString(), uint64(state.Version.ValueInt64()))
	if err != nil && !client.IsNotFound(err) {
		addClientError(&resp.Diagnostics, "delete", burstToggleKind, state.Name.ValueString(), err)
	}
}

func (r *burstToggleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}

// configuredBool is nil for a null (or unknown) value: "not set".
func configuredBool(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	b := v.ValueBool()
	return &b
}

// toAPI maps the model to the wire type, without engaged (which comes from
// the configuration, see Update). Timestamps that do not parse (reported
// by rfc3339Validator) are left zero and their field paths returned.
func (m burstToggleResourceModel) toAPI() (api.BurstToggle, map[string]bool) {
	unparsed := map[string]bool{}
	parse := func(field string, v types.String) time.Time {
		if v.IsNull() || v.IsUnknown() {
			return time.Time{}
		}
		t, err := parseRFC3339(v.ValueString())
		if err != nil {
			unparsed[field] = true
		}
		return t
	}
	t := api.BurstToggle{
		Name:         m.Name.ValueString(),
		Site:         m.Site.ValueString(),
		BodyEngaged:  m.BodyEngaged.ValueString(),
		BodyReleased: m.BodyReleased.ValueString(),
	}
	if !m.ExpiresAt.IsNull() && !m.ExpiresAt.IsUnknown() {
		exp := parse("expires_at", m.ExpiresAt)
		t.ExpiresAt = &exp
	}
	if !m.Schedule.IsNull() && !m.Schedule.IsUnknown() {
		t.Schedule = make([]api.Window, 0, len(m.Schedule.Elements()))
		for i, e := range m.Schedule.Elements() {
			w, ok := e.(types.Object)
			if !ok || w.IsNull() || w.IsUnknown() {
				t.Schedule = append(t.Schedule, api.Window{})
				continue
			}
			a := w.Attributes()
			start, _ := a["start"].(types.String)
			end, _ := a["end"].(types.String)
			f := api.Index("schedule", i)
			t.Schedule = append(t.Schedule, api.Window{Start: parse(f+".start", start), End: parse(f+".end", end)})
		}
	}
	return t, unparsed
}

// burstToggleFromAPI maps the stored toggle to the model. Timestamps keep
// the prior spelling when they name the same instant ("+00:00" and "Z"),
// so how failoverd renders a time is never a diff.
func burstToggleFromAPI(prior burstToggleResourceModel, t api.BurstToggle) (burstToggleResourceModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	m := burstToggleResourceModel{
		ID:           types.StringValue(t.Name),
		Name:         types.StringValue(t.Name),
		Site:         types.StringValue(t.Site),
		Engaged:      types.BoolValue(api.Bool(t.Engaged, false)),
		ExpiresAt:    types.StringNull(),
		BodyEngaged:  types.StringValue(t.BodyEngaged),
		BodyReleased: types.StringValue(t.BodyReleased),
		URL:          types.StringValue(t.URL),
		Effective:    types.BoolValue(api.Bool(t.Effective, false)),
		Version:      types.Int64Value(int64(t.Version)),
	}
	if m.BodyEngaged.ValueString() == "" {
		m.BodyEngaged = types.StringValue(api.DefaultBodyEngaged)
	}
	if m.BodyReleased.ValueString() == "" {
		m.BodyReleased = types.StringValue(api.DefaultBodyReleased)
	}
	if t.ExpiresAt != nil {
		m.ExpiresAt = keepTimestamp(prior.ExpiresAt, *t.ExpiresAt)
	}

	windowType := types.ObjectType{AttrTypes: burstWindowAttrTypes}
	switch {
	case len(t.Schedule) > 0:
		var priorWindows []attr.Value
		if !prior.Schedule.IsNull() && !prior.Schedule.IsUnknown() {
			priorWindows = prior.Schedule.Elements()
		}
		windows := make([]attr.Value, 0, len(t.Schedule))
		for i, w := range t.Schedule {
			priorStart, priorEnd := types.StringNull(), types.StringNull()
			if i < len(priorWindows) {
				if o, ok := priorWindows[i].(types.Object); ok && !o.IsNull() && !o.IsUnknown() {
					priorStart, _ = o.Attributes()["start"].(types.String)
					priorEnd, _ = o.Attributes()["end"].(types.String)
				}
			}
			v, d := types.ObjectValue(burstWindowAttrTypes, map[string]attr.Value{
				"start": keepTimestamp(priorStart, w.Start),
				"end":   keepTimestamp(priorEnd, w.End),
			})
			diags.Append(d...)
			windows = append(windows, v)
		}
		var d diag.Diagnostics
		m.Schedule, d = types.ListValue(windowType, windows)
		diags.Append(d...)
	case priorIsEmptyCollection(prior.Schedule):
		m.Schedule = types.ListValueMust(windowType, []attr.Value{})
	default:
		m.Schedule = types.ListNull(windowType)
	}
	return m, diags
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
