package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/policy"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

var (
	_ resource.Resource                   = &trafficPolicyResource{}
	_ resource.ResourceWithConfigure      = &trafficPolicyResource{}
	_ resource.ResourceWithImportState    = &trafficPolicyResource{}
	_ resource.ResourceWithValidateConfig = &trafficPolicyResource{}
	_ resource.ResourceWithModifyPlan     = &trafficPolicyResource{}
)

// trafficPolicyKind names the object in diagnostics.
const trafficPolicyKind = "Traffic Policy"

// NewTrafficPolicyResource is the failover_traffic_policy resource.
func NewTrafficPolicyResource() resource.Resource { return &trafficPolicyResource{} }

type trafficPolicyResource struct {
	data *providerData
}

type trafficPolicyResourceModel struct {
	ID                       types.String  `tfsdk:"id"`
	Name                     types.String  `tfsdk:"name"`
	Mode                     types.String  `tfsdk:"mode"`
	TTLSeconds               types.Int64   `tfsdk:"ttl_seconds"`
	FailoverDelaySeconds     types.Int64   `tfsdk:"failover_delay_seconds"`
	FailbackDelaySeconds     types.Int64   `tfsdk:"failback_delay_seconds"`
	Failback                 types.String  `tfsdk:"failback"`
	Targets                  types.Map     `tfsdk:"targets"` // of trafficPolicyTargetModel
	BurstToggle              types.String  `tfsdk:"burst_toggle"`
	WhenAllDown              types.String  `tfsdk:"when_all_down"`
	Fallback                 types.Object  `tfsdk:"fallback"` // of trafficPolicyFallbackModel
	RTOSeconds               types.Int64   `tfsdk:"rto_seconds"`
	ReplicaSet               types.String  `tfsdk:"replica_set"`
	Version                  types.Int64   `tfsdk:"version"`
	FQDN                     types.String  `tfsdk:"fqdn"`
	WorstCaseFailoverSeconds types.Float64 `tfsdk:"worst_case_failover_seconds"`
	Warnings                 types.List    `tfsdk:"warnings"`
}

type trafficPolicyTargetModel struct {
	Site         types.String `tfsdk:"site"`
	Addresses    types.List   `tfsdk:"addresses"`
	CNAME        types.String `tfsdk:"cname"`
	HealthChecks types.List   `tfsdk:"health_checks"`
	Priority     types.Int64  `tfsdk:"priority"`
	Weight       types.Int64  `tfsdk:"weight"`
	Enabled      types.Bool   `tfsdk:"enabled"`
	BurstOnly    types.Bool   `tfsdk:"burst_only"`
}

type trafficPolicyFallbackModel struct {
	Addresses types.List   `tfsdk:"addresses"`
	CNAME     types.String `tfsdk:"cname"`
}

var (
	trafficPolicyTargetAttrTypes = map[string]attr.Type{
		"site":          types.StringType,
		"addresses":     types.ListType{ElemType: types.StringType},
		"cname":         types.StringType,
		"health_checks": types.ListType{ElemType: types.StringType},
		"priority":      types.Int64Type,
		"weight":        types.Int64Type,
		"enabled":       types.BoolType,
		"burst_only":    types.BoolType,
	}
	trafficPolicyFallbackAttrTypes = map[string]attr.Type{
		"addresses": types.ListType{ElemType: types.StringType},
		"cname":     types.StringType,
	}
)

func (r *trafficPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_traffic_policy"
}

func (r *trafficPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A traffic policy decides which site serves a DNS name. failoverd answers `<name>.<zone>` (see `fqdn`) " +
			"with the addresses of the serving targets and re-decides the moment a health check changes state, so at 4 a.m. " +
			"traffic leaves a dead site without anyone being paged first.\n\n" +
			"* `active-passive`: the most preferred healthy target (lowest `priority`) serves alone; the others stand by.\n" +
			"* `active-active`: every healthy target serves, weighted by `weight`.\n\n" +
			"A target is up unless one of its `health_checks` is unhealthy (a check that has not decided yet counts as up, so adding " +
			"a check never moves traffic). When no target is up, `when_all_down` says what DNS answers.\n\n" +
			"The plan shows `worst_case_failover_seconds` — how long clients may keep reaching a dead site — computed from the " +
			"health checks' timings, and fails when it exceeds `rto_seconds`. Every rule is checked at plan time with the same code " +
			"failoverd runs on every write.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The policy's name (failoverd identifies objects by name).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the policy, unique among traffic policies: 1–63 lower-case letters, digits and `-`. " +
					"It is the first label of the DNS name failoverd answers (`fqdn`). Changing it replaces the policy, so the old DNS name stops answering.",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{
					stringvalidator.RegexMatches(regexp.MustCompile(api.NamePattern),
						"must be 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit"),
				},
			},
			"mode": schema.StringAttribute{
				MarkdownDescription: "`active-passive` (the healthy target with the lowest `priority` serves alone, the others stand by) or " +
					"`active-active` (every healthy target serves, DNS answers weighted by `weight`).",
				Required:   true,
				Validators: []validator.String{stringvalidator.OneOf(api.ModeActivePassive, api.ModeActiveActive)},
			},
			"ttl_seconds": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("TTL of the DNS answers, in seconds (0–%d, default `%d`). Resolvers cache an answer this long, "+
					"so it is the last term of `worst_case_failover_seconds`: a failover reaches clients only after the old answer expires.",
					policy.MaxTTLSeconds, api.DefaultTTLSeconds),
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(api.DefaultTTLSeconds),
				Validators: []validator.Int64{int64validator.Between(0, policy.MaxTTLSeconds)},
			},
			"failover_delay_seconds": schema.Int64Attribute{
				MarkdownDescription: "Seconds a serving target must stay down before traffic leaves it (default `0`: at the first unhealthy " +
					"transition of one of its checks). A delay rides out a flap at the cost of that many seconds of errors; it adds to " +
					"`worst_case_failover_seconds`.",
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(0),
				Validators: []validator.Int64{int64validator.Between(0, policy.MaxDelaySeconds)},
			},
			"failback_delay_seconds": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Seconds a recovered, more preferred target must stay up before traffic returns to it "+
					"(default `%d`). A site that flaps at 4 a.m. is not trusted again until it has been healthy this long; with `failback = \"manual\"` "+
					"traffic never returns by itself.", api.DefaultFailbackDelaySeconds),
				Optional:   true,
				Computed:   true,
				Default:    int64default.StaticInt64(api.DefaultFailbackDelaySeconds),
				Validators: []validator.Int64{int64validator.Between(0, policy.MaxDelaySeconds)},
			},
			"failback": schema.StringAttribute{
				MarkdownDescription: "`auto` (default): traffic returns to a recovered preferred target after `failback_delay_seconds`. " +
					"`manual`: it stays where it failed over to until an operator moves it back (`failoverd override set` then `clear`), " +
					"for sites that must be checked by a human before they take traffic again.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(api.DefaultFailback),
				Validators: []validator.String{stringvalidator.OneOf(api.FailbackAuto, api.FailbackManual)},
			},
			"targets": schema.MapNestedAttribute{
				MarkdownDescription: "The sites this policy may send traffic to, keyed by target name (1–63 lower-case letters, digits and `-`; " +
					"`fallback` is reserved). A map, so reordering targets in the configuration is never a change.",
				Required: true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"site": schema.StringAttribute{
							MarkdownDescription: "Site the target lives in (e.g. `dc1`, `aws-eu-west-1`). failoverd compares the preferred " +
								"target's site with the primary site of `replica_set`.",
							Optional: true,
						},
						"addresses": schema.ListAttribute{
							MarkdownDescription: "IPv4 and/or IPv6 addresses DNS answers (A/AAAA) while this target serves, e.g. the site's load " +
								"balancer. Set exactly one of `addresses` and `cname`.",
							ElementType: types.StringType,
							Optional:    true,
						},
						"cname": schema.StringAttribute{
							MarkdownDescription: "Fully qualified host name DNS answers as a CNAME while this target serves (e.g. " +
								"`lb-eu.example.net`). Set exactly one of `addresses` and `cname`.",
							Optional: true,
						},
						"health_checks": schema.ListAttribute{
							MarkdownDescription: "Names of the `failover_health_check`s that decide whether this target is up: it is down as " +
								"soon as one of them is unhealthy. Reference the resources (`failover_health_check.web_dc1.name`) so the checks " +
								"are created first and their timings feed `worst_case_failover_seconds` at plan time. Without checks the " +
								"target is always up and traffic never fails over from it.",
							ElementType: types.StringType,
							Optional:    true,
						},
						"priority": schema.Int64Attribute{
							MarkdownDescription: "Rank in an `active-passive` policy, required there: 1 is preferred, 2 takes over when 1 is down, " +
								"and so on (equal priorities are broken by target name). Ignored in `active-active` policies and for `burst_only` targets.",
							Optional: true,
						},
						"weight": schema.Int64Attribute{
							MarkdownDescription: fmt.Sprintf("Share of `active-active` traffic (0–%d, default `%d`): a target with weight 3 gets three "+
								"times the answers of one with weight 1; 0 drains it without removing it.", policy.MaxWeight, api.DefaultWeight),
							Optional:   true,
							Computed:   true,
							Default:    int64default.StaticInt64(api.DefaultWeight),
							Validators: []validator.Int64{int64validator.Between(0, policy.MaxWeight)},
						},
						"enabled": schema.BoolAttribute{
							MarkdownDescription: "Whether the target may take traffic (default `true`). `false` takes it out of rotation whatever " +
								"its health — for maintenance — and an override can not pin traffic to it.",
							Optional: true,
							Computed: true,
							Default:  booldefault.StaticBool(true),
						},
						"burst_only": schema.BoolAttribute{
							MarkdownDescription: "Serve only while the policy's `burst_toggle` is engaged (default `false`): a warm DR site that " +
								"becomes extra production capacity on demand (\"Prod to Prod+\"). An `active-passive` policy then serves its " +
								"active target plus every healthy burst target. Requires `burst_toggle`.",
							Optional: true,
							Computed: true,
							Default:  booldefault.StaticBool(false),
						},
					},
				},
			},
			"burst_toggle": schema.StringAttribute{
				MarkdownDescription: "Name of the `failover_burst_toggle` that brings the `burst_only` targets into rotation while engaged. " +
					"Required when a target is `burst_only`.",
				Optional: true,
			},
			"when_all_down": schema.StringAttribute{
				MarkdownDescription: "What DNS answers when no target is up: `fallback` (the `fallback` addresses or cname, e.g. a static " +
					"\"sorry\" page), `fail_open` (every enabled target anyway — better a maybe-broken answer than none) or " +
					"`fail_closed` (no answer).",
				Required: true,
				Validators: []validator.String{
					stringvalidator.OneOf(api.AllDownFallback, api.AllDownFailOpen, api.AllDownFailClosed),
				},
			},
			"fallback": schema.SingleNestedAttribute{
				MarkdownDescription: "The answer when every target is down, required when `when_all_down = \"fallback\"` and not allowed otherwise. " +
					"Set exactly one of `addresses` and `cname`.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"addresses": schema.ListAttribute{
						MarkdownDescription: "IPv4 and/or IPv6 addresses to answer, e.g. a static maintenance page.",
						ElementType:         types.StringType,
						Optional:            true,
					},
					"cname": schema.StringAttribute{
						MarkdownDescription: "Fully qualified host name to answer as a CNAME, e.g. `sorry.example.net`.",
						Optional:            true,
					},
				},
			},
			"rto_seconds": schema.Int64Attribute{
				MarkdownDescription: "Recovery time objective in seconds (unset or `0`: none). When set, the plan fails if `worst_case_failover_seconds` exceeds it, " +
					"showing the arithmetic and which term to shrink; failoverd enforces it too, also when one of the policy's health checks " +
					"is later slowed down.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"replica_set": schema.StringAttribute{
				MarkdownDescription: "Name of the `failover_replica_set` whose primary should sit where traffic goes. failoverd compares the " +
					"`site` of the policy's preferred target (the enabled, non-burst target with the lowest priority) with the replica " +
					"set's `preferred_primary_site`; when they differ, every write would cross sites, and the apply reports a warning " +
					"(also listed in `warnings`). It never blocks the apply.",
				Optional: true,
			},
			"version": schema.Int64Attribute{
				MarkdownDescription: "failoverd's version of the policy (its ETag). Every update is conditional on it, so a change made " +
					"outside Terraform (an operator at 4 a.m.) is reported instead of being silently overwritten.",
				Computed: true,
			},
			"fqdn": schema.StringAttribute{
				MarkdownDescription: "The DNS name failoverd answers for this policy: `<name>.<zone>`, where the zone is failoverd's " +
					"`--dns-zone` (default `failover.internal`). Delegate it (or CNAME to it) from your public zone. Known after the first apply.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"worst_case_failover_seconds": schema.Float64Attribute{
				MarkdownDescription: "How long clients may keep reaching a dead target, in seconds: detection by the slowest referenced " +
					"health check (`fall × interval_seconds + timeout_seconds`), plus `failover_delay_seconds`, plus `ttl_seconds`. " +
					"Known at plan time when the checks' timings are (checks in the same configuration or already in failoverd).",
				Computed: true,
			},
			"warnings": schema.ListAttribute{
				MarkdownDescription: "Non-blocking findings of failoverd about this policy, such as traffic preferring a site other than " +
					"the `replica_set`'s primary site. Empty when there are none.",
				ElementType: types.StringType,
				Computed:    true,
			},
		},
	}
}

func (r *trafficPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs failoverd's own policy validator on the configuration.
// Values not known yet are left out, and only problems that cannot depend on
// them are reported; failoverd judges the rest at apply.
func (r *trafficPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m trafficPolicyResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, unknown, diags := m.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	addProblems(&resp.Diagnostics, "Invalid Traffic Policy", policyPlanProblems(policy.Validate(p), unknown))
}

// ModifyPlan computes worst_case_failover_seconds at plan time from the
// timings of every referenced health check — planned in this run (the
// provider's plan registry) or already in failoverd — and fails the plan
// when it exceeds rto_seconds. When a timing is not known yet the value
// stays unknown and failoverd checks the RTO at apply.
func (r *trafficPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan trafficPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timings, known := r.plannedTimings(ctx, plan, &resp.Diagnostics)
	if !known || plan.FailoverDelaySeconds.IsUnknown() || plan.TTLSeconds.IsUnknown() {
		// Keep what the framework planned: unknown when anything changed,
		// the prior value in an otherwise empty plan.
		return
	}
	delay, ttl := int(plan.FailoverDelaySeconds.ValueInt64()), int(plan.TTLSeconds.ValueInt64())
	worst := types.Float64Value(topology.WorstCaseFailoverSeconds(timings, delay, ttl))
	if !plan.WorstCaseFailoverSeconds.Equal(worst) {
		if !plan.WorstCaseFailoverSeconds.IsUnknown() {
			// Only a health check's timing changed: the policy is updated
			// (a no-op write) to pick the new value up; anything else
			// failoverd computes may move with it.
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("warnings"), types.ListUnknown(types.StringType))...)
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("worst_case_failover_seconds"), worst)...)
	}
	if !plan.RTOSeconds.IsUnknown() {
		addProblems(&resp.Diagnostics, "Recovery Time Objective Exceeded",
			topology.CheckRTO(timings, delay, ttl, int(plan.RTOSeconds.ValueInt64())))
	}
}

// plannedTimings returns the detection timing of every health check the
// planned policy references, and whether all of them are known.
func (r *trafficPolicyResource) plannedTimings(ctx context.Context, plan trafficPolicyResourceModel, diags *diag.Diagnostics) ([]topology.CheckTiming, bool) {
	if r.data == nil || plan.Targets.IsUnknown() || plan.Targets.IsNull() {
		return nil, false
	}
	type ref struct {
		name string
		at   path.Path
	}
	var refs []ref
	for _, key := range api.SortedKeys(plan.Targets.Elements()) {
		obj, ok := plan.Targets.Elements()[key].(types.Object)
		if !ok || obj.IsUnknown() || obj.IsNull() {
			return nil, false
		}
		hc, ok := obj.Attributes()["health_checks"].(types.List)
		if !ok || hc.IsUnknown() {
			return nil, false
		}
		for i, e := range hc.Elements() {
			s, ok := e.(types.String)
			if !ok || s.IsUnknown() || s.IsNull() {
				return nil, false
			}
			refs = append(refs, ref{s.ValueString(), path.Root("targets").AtMapKey(key).AtName("health_checks").AtListIndex(i)})
		}
	}
	var (
		timings []topology.CheckTiming
		seen    = map[string]bool{}
		known   = true
	)
	for _, c := range refs {
		if seen[c.name] {
			continue
		}
		seen[c.name] = true
		if t, ok := r.data.plans.get(c.name); ok {
			timings = append(timings, t)
			continue
		}
		if !api.ValidName(c.name) || r.data.client == nil {
			known = false // ValidateConfig reported a bad name
			continue
		}
		hc, err := client.Get[api.HealthCheck](ctx, r.data.client, api.KindHealthCheck, c.name)
		switch {
		case err == nil:
			timings = append(timings, topology.CheckTiming{IntervalSeconds: hc.IntervalSeconds, TimeoutSeconds: hc.TimeoutSeconds, Fall: hc.Fall})
		case client.IsNotFound(err):
			known = false
			diags.AddAttributeWarning(c.at, "Health Check Not Found At Plan Time",
				fmt.Sprintf("No health check named %q exists in failoverd or was planned before this policy, so worst_case_failover_seconds "+
					"is known only after apply, and the apply fails unless the check exists by then. Reference the resource "+
					"(failover_health_check.<name>.name) instead of writing its name, so Terraform creates the check first.", c.name))
		default:
			known = false
			diags.AddAttributeWarning(c.at, "Cannot Compute Worst-Case Failover At Plan Time",
				fmt.Sprintf("Reading the health check %q from failoverd failed, so worst_case_failover_seconds is known only after apply "+
					"and rto_seconds is checked by failoverd at apply.\n\n%s", c.name, err))
		}
	}
	return timings, known
}

func (r *trafficPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan trafficPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	p, _, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := client.Create(ctx, r.data.client, api.KindTrafficPolicy, p)
	if err != nil {
		addClientError(&resp.Diagnostics, "create", trafficPolicyKind, p.Name, err)
		return
	}
	state, diags := plan.fromAPI(ctx, out)
	resp.Diagnostics.Append(diags...)
	keepPlannedWorstCase(ctx, plan, &state)
	addPolicyWarnings(&resp.Diagnostics, out)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *trafficPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior trafficPolicyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	out, err := client.Get[api.TrafficPolicy](ctx, r.data.client, api.KindTrafficPolicy, prior.Name.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "read", trafficPolicyKind, prior.Name.ValueString(), err)
		return
	}
	state, diags := prior.fromAPI(ctx, out)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *trafficPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior trafficPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	p, _, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := client.Update(ctx, r.data.client, api.KindTrafficPolicy, p.Name, p, uint64(prior.Version.ValueInt64()))
	if err != nil {
		addClientError(&resp.Diagnostics, "update", trafficPolicyKind, p.Name, err)
		return
	}
	state, diags := plan.fromAPI(ctx, out)
	resp.Diagnostics.Append(diags...)
	keepPlannedWorstCase(ctx, plan, &state)
	addPolicyWarnings(&resp.Diagnostics, out)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *trafficPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var prior trafficPolicyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	name := prior.Name.ValueString()
	err := r.data.client.Delete(ctx, api.KindTrafficPolicy, name, uint64(prior.Version.ValueInt64()))
	if err != nil && !client.IsNotFound(err) {
		addClientError(&resp.Diagnostics, "delete", trafficPolicyKind, name, err)
	}
}

func (r *trafficPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}

// configured reports whether the provider handed over its client; CRUD
// cannot run without it.
func (r *trafficPolicyResource) configured(diags *diag.Diagnostics) bool {
	if r.data != nil && r.data.client != nil {
		return true
	}
	diags.AddError("Provider Not Configured",
		"The failover provider has no failoverd client, so the traffic policy cannot be managed. Check the provider block's endpoint and token (or FAILOVER_ENDPOINT and FAILOVER_TOKEN).")
	return false
}

// keepPlannedWorstCase keeps a worst_case_failover_seconds that was known
// at plan time. It comes from the timings the health checks have once this
// apply is done; failoverd's answer differs only while a check that the
// configuration names without referencing the resource is still to be
// updated later in the same apply, and the next refresh reads the settled
// value. Returning the planned value avoids Terraform's "inconsistent result
// after apply" error in that case.
func keepPlannedWorstCase(ctx context.Context, plan trafficPolicyResourceModel, state *trafficPolicyResourceModel) {
	if plan.WorstCaseFailoverSeconds.IsUnknown() || plan.WorstCaseFailoverSeconds.Equal(state.WorstCaseFailoverSeconds) {
		return
	}
	tflog.Warn(ctx, "failoverd's worst_case_failover_seconds differs from the planned value; keeping the planned value until the next refresh", map[string]any{
		"planned": plan.WorstCaseFailoverSeconds.ValueFloat64(), "failoverd": state.WorstCaseFailoverSeconds.ValueFloat64(),
	})
	state.WorstCaseFailoverSeconds = plan.WorstCaseFailoverSeconds
}

// addPolicyWarnings surfaces failoverd's non-blocking findings, e.g. the
// traffic/data alignment with replica_set.
func addPolicyWarnings(diags *diag.Diagnostics, p api.TrafficPolicy) {
	for _, w := range p.Warnings {
		at := path.Root("targets")
		if p.ReplicaSet != "" {
			at = path.Root("replica_set")
		}
		diags.AddAttributeWarning(at, "Traffic Policy Warning", capitalize(w)+".")
	}
}

// toAPI converts the model to failoverd's wire type. Values not known yet
// are left out and listed, as api field paths, in unknown; at apply every
// value is known and unknown is empty.
func (m trafficPolicyResourceModel) toAPI(ctx context.Context) (api.TrafficPolicy, []string, diag.Diagnostics) {
	c := &policyConv{}
	p := api.TrafficPolicy{
		Name:                 c.str(m.Name, "name"),
		Mode:                 c.str(m.Mode, "mode"),
		TTLSeconds:           c.numPtr(m.TTLSeconds, "ttl_seconds"),
		FailoverDelaySeconds: c.num(m.FailoverDelaySeconds, "failover_delay_seconds"),
		FailbackDelaySeconds: c.numPtr(m.FailbackDelaySeconds, "failback_delay_seconds"),
		Failback:             c.str(m.Failback, "failback"),
		BurstToggle:          c.str(m.BurstToggle, "burst_toggle"),
		WhenAllDown:          c.str(m.WhenAllDown, "when_all_down"),
		RTOSeconds:           c.num(m.RTOSeconds, "rto_seconds"),
		ReplicaSet:           c.str(m.ReplicaSet, "replica_set"),
		Targets:              map[string]api.PolicyTarget{},
	}
	switch {
	case m.Targets.IsUnknown(), m.Targets.IsNull():
		c.unknown = append(c.unknown, "targets") // a missing targets is Terraform's "required" error
	default:
		for key, v := range m.Targets.Elements() {
			f := api.MapKey("targets", key)
			obj, ok := v.(types.Object)
			if !ok || obj.IsUnknown() || obj.IsNull() {
				c.unknown = append(c.unknown, f)
				continue
			}
			var t trafficPolicyTargetModel
			c.diags.Append(obj.As(ctx, &t, basetypes.ObjectAsOptions{})...)
			p.Targets[key] = api.PolicyTarget{
				Site:         c.str(t.Site, f+".site"),
				Addresses:    c.list(t.Addresses, f+".addresses"),
				CNAME:        c.str(t.CNAME, f+".cname"),
				HealthChecks: c.list(t.HealthChecks, f+".health_checks"),
				Priority:     c.num(t.Priority, f+".priority"),
				Weight:       c.numPtr(t.Weight, f+".weight"),
				Enabled:      c.flagPtr(t.Enabled, f+".enabled"),
				BurstOnly:    c.flag(t.BurstOnly, f+".burst_only"),
			}
		}
	}
	switch {
	case m.Fallback.IsUnknown():
		c.unknown = append(c.unknown, "fallback")
	case m.Fallback.IsNull():
	default:
		var fb trafficPolicyFallbackModel
		c.diags.Append(m.Fallback.As(ctx, &fb, basetypes.ObjectAsOptions{})...)
		p.Fallback = &api.Fallback{Addresses: c.list(fb.Addresses, "fallback.addresses"), CNAME: c.str(fb.CNAME, "fallback.cname")}
	}
	return p, c.unknown, c.diags
}

// policyConv reads framework values into Go values, recording the api field
// path of every value that is not known yet.
type policyConv struct {
	unknown []string
	diags   diag.Diagnostics
}

func (c *policyConv) str(v types.String, field string) string {
	if v.IsUnknown() {
		c.unknown = append(c.unknown, field)
	}
	return v.ValueString()
}

func (c *policyConv) num(v types.Int64, field string) int {
	if v.IsUnknown() {
		c.unknown = append(c.unknown, field)
	}
	return int(v.ValueInt64())
}

func (c *policyConv) numPtr(v types.Int64, field string) *int {
	if v.IsUnknown() {
		c.unknown = append(c.unknown, field)
	}
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	i := int(v.ValueInt64())
	return &i
}

func (c *policyConv) flag(v types.Bool, field string) bool {
	if v.IsUnknown() {
		c.unknown = append(c.unknown, field)
	}
	return v.ValueBool()
}

func (c *policyConv) flagPtr(v types.Bool, field string) *bool {
	if v.IsUnknown() {
		c.unknown = append(c.unknown, field)
	}
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	b := v.ValueBool()
	return &b
}

// list reads a list of strings; a list with any unknown element counts as
// unknown as a whole, so problem indexes never shift.
func (c *policyConv) list(v types.List, field string) []string {
	if v.IsNull() {
		return nil
	}
	if v.IsUnknown() {
		c.unknown = append(c.unknown, field)
		return nil
	}
	out := make([]string, 0, len(v.Elements()))
	for _, e := range v.Elements() {
		s, ok := e.(types.String)
		if !ok || s.IsUnknown() {
			c.unknown = append(c.unknown, field)
			return nil
		}
		out = append(out, s.ValueString())
	}
	return out
}

// policyPlanProblems drops what must not be reported at plan time:
//
//   - problems an attribute validator of the schema already reports (enums,
//     ranges, the name pattern), so each mistake is reported once;
//   - problems that may depend on a value not known yet: those on an unknown
//     value, inside it or above it, and — while a value the cross-attribute
//     rules read is unknown — those of the cross-attribute rules (priorities
//     against mode, burst targets against burst_toggle, fallback against
//     when_all_down, the target set as a whole).
//
// An unknown address list or health check list (typical during terraform
// validate, and with addresses from another resource) therefore never hides
// a wrong priority or a missing fallback.
func policyPlanProblems(probs api.Problems, unknown []string) api.Problems {
	crossUnknown := slices.ContainsFunc(unknown, policyFieldFeedsCrossRules)
	var out api.Problems
	for _, pr := range probs {
		steps, err := api.ParsePath(pr.Field)
		if err != nil || len(steps) == 0 {
			out = append(out, pr)
			continue
		}
		if policyFieldHasSchemaValidator(steps) || policyFieldTouchesUnknown(pr.Field, unknown) || (crossUnknown && !policyFieldSelfContained(steps)) {
			continue
		}
		out = append(out, pr)
	}
	return out
}

// policyFieldFeedsCrossRules reports whether a value is read by a rule that
// reports on another attribute: mode, burst_toggle, when_all_down, the
// fallback as a whole, the targets and their priority, weight, enabled and
// burst_only.
func policyFieldFeedsCrossRules(field string) bool {
	steps, err := api.ParsePath(field)
	if err != nil || len(steps) == 0 {
		return true
	}
	switch steps[0].Name {
	case "mode", "burst_toggle", "when_all_down":
		return true
	case "fallback":
		return len(steps) == 1
	case "targets":
		if len(steps) <= 2 {
			return true
		}
		switch steps[2].Name {
		case "priority", "weight", "enabled", "burst_only":
			return true
		}
	}
	return false
}

// policyFieldHasSchemaValidator reports the fields whose every policy.Validate
// problem a schema validator reports too.
func policyFieldHasSchemaValidator(steps []api.PathStep) bool {
	switch {
	case len(steps) == 1:
		switch steps[0].Name {
		case "name", "mode", "failback", "when_all_down", "ttl_seconds", "failover_delay_seconds", "failback_delay_seconds", "rto_seconds":
			return true
		}
	case len(steps) == 3:
		return steps[0].Name == "targets" && steps[1].Key != nil && steps[2].Name == "weight"
	}
	return false
}

// policyFieldTouchesUnknown reports whether field is an unknown value, lies inside
// one, or contains one.
func policyFieldTouchesUnknown(field string, unknown []string) bool {
	for _, u := range unknown {
		if policyFieldWithin(field, u) || policyFieldWithin(u, field) {
			return true
		}
	}
	return false
}

// policyFieldWithin reports whether field is base or a step below it.
func policyFieldWithin(field, base string) bool {
	if !strings.HasPrefix(field, base) {
		return false
	}
	rest := field[len(base):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// policyFieldSelfContained reports whether a problem on this field depends only on
// the values at or below it (which policyFieldTouchesUnknown already checks).
func policyFieldSelfContained(steps []api.PathStep) bool {
	last := steps[len(steps)-1]
	switch {
	case len(steps) == 1:
		switch last.Name {
		case "name", "ttl_seconds", "failover_delay_seconds", "failback_delay_seconds", "failback", "rto_seconds", "replica_set", "mode", "when_all_down":
			return true
		}
		return false
	case last.Index >= 0 && last.Name == "" && last.Key == nil:
		return true // an element of addresses or health_checks
	case steps[0].Name == "targets" && len(steps) == 2:
		return true // the target's answer (addresses/cname) and its key
	case steps[0].Name == "targets" && len(steps) == 3:
		switch last.Name {
		case "site", "cname", "weight", "health_checks":
			return true
		}
	case steps[0].Name == "fallback" && len(steps) == 2:
		return last.Name == "cname"
	}
	return false
}

// fromAPI maps failoverd's policy onto the model. The receiver, the plan
// or the last state, decides between null and empty where both mean the same to
// failoverd, so an apply followed by a plan is always empty.
func (prior trafficPolicyResourceModel) fromAPI(ctx context.Context, p api.TrafficPolicy) (trafficPolicyResourceModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	m := trafficPolicyResourceModel{
		ID:                       types.StringValue(p.Name),
		Name:                     types.StringValue(p.Name),
		Mode:                     types.StringValue(p.Mode),
		TTLSeconds:               types.Int64Value(int64(api.Int(p.TTLSeconds, api.DefaultTTLSeconds))),
		FailoverDelaySeconds:     types.Int64Value(int64(p.FailoverDelaySeconds)),
		FailbackDelaySeconds:     types.Int64Value(int64(api.Int(p.FailbackDelaySeconds, api.DefaultFailbackDelaySeconds))),
		Failback:                 types.StringValue(p.Failback),
		BurstToggle:              keepNullString(prior.BurstToggle, p.BurstToggle),
		WhenAllDown:              types.StringValue(p.WhenAllDown),
		RTOSeconds:               policyNullInt64(prior.RTOSeconds, p.RTOSeconds),
		ReplicaSet:               keepNullString(prior.ReplicaSet, p.ReplicaSet),
		Version:                  types.Int64Value(int64(p.Version)),
		FQDN:                     types.StringValue(p.FQDN),
		WorstCaseFailoverSeconds: types.Float64Value(p.WorstCaseFailoverSeconds),
	}
	if p.Failback == "" {
		m.Failback = types.StringValue(api.DefaultFailback)
	}

	priorTargets := map[string]attr.Value{}
	if !prior.Targets.IsNull() && !prior.Targets.IsUnknown() {
		priorTargets = prior.Targets.Elements()
	}
	targets := make(map[string]attr.Value, len(p.Targets))
	for key, t := range p.Targets {
		var pt trafficPolicyTargetModel
		if o, ok := priorTargets[key].(types.Object); ok && !o.IsNull() && !o.IsUnknown() {
			diags.Append(o.As(ctx, &pt, basetypes.ObjectAsOptions{})...)
		}
		obj, d := types.ObjectValue(trafficPolicyTargetAttrTypes, map[string]attr.Value{
			"site":          keepNullString(pt.Site, t.Site),
			"addresses":     policyNullList(pt.Addresses, t.Addresses),
			"cname":         keepNullString(pt.CNAME, t.CNAME),
			"health_checks": policyNullList(pt.HealthChecks, t.HealthChecks),
			"priority":      policyNullInt64(pt.Priority, t.Priority),
			"weight":        types.Int64Value(int64(api.Int(t.Weight, api.DefaultWeight))),
			"enabled":       types.BoolValue(api.Bool(t.Enabled, true)),
			"burst_only":    types.BoolValue(t.BurstOnly),
		})
		diags.Append(d...)
		targets[key] = obj
	}
	var d diag.Diagnostics
	m.Targets, d = types.MapValue(types.ObjectType{AttrTypes: trafficPolicyTargetAttrTypes}, targets)
	diags.Append(d...)

	m.Fallback = types.ObjectNull(trafficPolicyFallbackAttrTypes)
	if p.Fallback != nil {
		var pf trafficPolicyFallbackModel
		if !prior.Fallback.IsNull() && !prior.Fallback.IsUnknown() {
			diags.Append(prior.Fallback.As(ctx, &pf, basetypes.ObjectAsOptions{})...)
		}
		m.Fallback, d = types.ObjectValue(trafficPolicyFallbackAttrTypes, map[string]attr.Value{
			"addresses": policyNullList(pf.Addresses, p.Fallback.Addresses),
			"cname":     keepNullString(pf.CNAME, p.Fallback.CNAME),
		})
		diags.Append(d...)
	}

	warnings := make([]attr.Value, 0, len(p.Warnings))
	for _, w := range p.Warnings {
		warnings = append(warnings, types.StringValue(w))
	}
	m.Warnings, d = types.ListValue(types.StringType, warnings)
	diags.Append(d...)
	return m, diags
}

// policyNullInt64 maps an optional number failoverd omits when 0: 0 is null
// unless prior said 0.
func policyNullInt64(prior types.Int64, v int) types.Int64 {
	if v == 0 && (prior.IsNull() || prior.IsUnknown() || prior.ValueInt64() != 0) {
		return types.Int64Null()
	}
	return types.Int64Value(int64(v))
}

// policyNullList maps an optional list failoverd omits when empty: empty is null
// unless prior was an empty list.
func policyNullList(prior types.List, v []string) types.List {
	if len(v) == 0 {
		if !prior.IsNull() && !prior.IsUnknown() && len(prior.Elements()) == 0 {
			return types.ListValueMust(types.StringType, []attr.Value{})
		}
		return types.ListNull(types.StringType)
	}
	elems := make([]attr.Value, len(v))
	for i, s := range v {
		elems[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, elems)
}
