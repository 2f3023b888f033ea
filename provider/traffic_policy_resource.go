package provider

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
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
						"endpoints": schema.MapNestedAttribute{
							MarkdownDescription: "The parts of this target that fail independently — typically one load balancer per availability zone — keyed by " +
								"endpoint name (e.g. `az1`), each with its `addresses` and the `health_checks` that cover it. Used instead of the target's `addresses`. " +
								"While at least `min_healthy` endpoints are up, DNS answers only the addresses of the up endpoints and the site keeps serving " +
								"(losing one AZ does not move the whole site); below that the target is down and traffic fails over as usual. " +
								"The target's own `health_checks`, if any, still take the whole target down.",
							Optional: true,
							NestedObject: schema.NestedAttributeObject{
								Attributes: map[string]schema.Attribute{
									"addresses": schema.ListAttribute{
										MarkdownDescription: "IPv4 and/or IPv6 addresses this endpoint answers while it is up. An address belongs to one endpoint.",
										ElementType:         types.StringType,
										Required:            true,
									},
									"health_checks": schema.ListAttribute{
										MarkdownDescription: "Names of the `failover_health_check`s that cover this endpoint: it is down as soon as one of them is unhealthy.",
										ElementType:         types.StringType,
										Optional:            true,
									},
								},
							},
						},
						"min_healthy": schema.Int64Attribute{
							MarkdownDescription: fmt.Sprintf("How many `endpoints` must be up for the target to serve (1 to the number of endpoints; default `%d`). "+
								"Only with `endpoints`.", api.DefaultMinHealthy),
							Optional:   true,
							Validators: []validator.Int64{int64validator.AtLeast(1)},
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
			"publish": publishSchema(),
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
			"drill_schedule": schema.SingleNestedAttribute{
				MarkdownDescription: "Recurring game days: failoverd fails the policy over to `target` on purpose (through an override), " +
					"measures the decision, DNS and every publisher's switch, holds, fails back, and records a report against `rto_seconds` " +
					"(`failoverd drill list`, `failoverd status`). Set `cron` (five fields, UTC, e.g. `\"0 3 * * 2\"`: Tuesdays at 03:00) " +
					"with `hold_seconds`, or `windows` (RFC 3339 `START/END`: the drill starts at START and fails back at END). " +
					"A time failoverd was down for is skipped, never run late.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"target": schema.StringAttribute{
						MarkdownDescription: "The target (a key of `targets`) the drill fails over to.",
						Required:            true,
					},
					"cron": schema.StringAttribute{
						MarkdownDescription: "When drills start: `minute hour day-of-month month day-of-week`, in UTC; `*`, numbers, ranges `a-b`, steps `*/n` and lists.",
						Optional:            true,
					},
					"windows": schema.ListAttribute{
						MarkdownDescription: "Game-day windows, each `START/END` in RFC 3339, e.g. `2026-12-12T03:00:00Z/2026-12-12T03:30:00Z` (at most 24 h).",
						ElementType:         types.StringType,
						Optional:            true,
					},
					"hold_seconds": schema.Int64Attribute{
						MarkdownDescription: "With `cron`: how long each drill stays failed over (default 600, at most 86400).",
						Optional:            true,
					},
					"reason": schema.StringAttribute{
						MarkdownDescription: "Recorded with every scheduled drill (e.g. the game-day runbook).",
						Optional:            true,
					},
				},
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
			"timeouts": timeoutsAttribute(),
		},
	}
}

func (r *trafficPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// trafficPolicySchemaChecked are the fields whose every policy.Validate
// problem a schema validator reports too: reported once, by the schema.
var trafficPolicySchemaChecked = []string{"name", "mode", "failback", "when_all_down", "ttl_seconds",
	"failover_delay_seconds", "failback_delay_seconds", "rto_seconds", "targets[*].weight"}

// ValidateConfig runs failoverd's own policy validator on the configuration;
// verdicts that read a value not known yet wait for apply.
func (r *trafficPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m trafficPolicyResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &m)...)
	pc, ok := newPlanCheck(req.Config.Raw)
	if resp.Diagnostics.HasError() || !ok {
		return
	}
	p, diags := m.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	pc.report(&resp.Diagnostics, "Invalid Traffic Policy", withoutFields(policy.Validate(p), trafficPolicySchemaChecked...))
}

// ModifyPlan computes worst_case_failover_seconds at plan time from the
// timings of every referenced health check — planned in this run (the
// provider's plan registry) or already in failoverd — and fails the plan
// when it exceeds rto_seconds. When a timing is not known yet the value
// stays unknown and failoverd checks the RTO at apply.
//
// A policy whose own configuration did not change is not updated: failoverd
// recomputes its worst case and warnings whenever a check or the replica
// set changes, and the next refresh reads them, so a check edited here or
// outside Terraform never shows as a computed-only diff of the policy.
func (r *trafficPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.data != nil && r.data.plans != nil {
		r.data.plans.touch()
	}
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan trafficPolicyResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	unchanged := !req.State.Raw.IsNull() && req.Plan.Raw.Equal(req.State.Raw)
	if !unchanged && r.data != nil && r.data.plans != nil && known(plan.Name) {
		r.data.plans.plan(api.KindTrafficPolicy, plan.Name.ValueString(), plannedObject{})
	}
	timings, timingsKnown := r.plannedTimings(ctx, plan, unchanged, &resp.Diagnostics)
	delayKnown := !plan.FailoverDelaySeconds.IsUnknown() && !plan.TTLSeconds.IsUnknown()
	if timingsKnown && delayKnown && !plan.RTOSeconds.IsUnknown() {
		addProblems(&resp.Diagnostics, "Recovery Time Objective Exceeded",
			topology.CheckRTO(timings, int(plan.FailoverDelaySeconds.ValueInt64()), int(plan.TTLSeconds.ValueInt64()), int(plan.RTOSeconds.ValueInt64())))
	}
	if unchanged {
		return // nothing to write: the state's figures stand until the next refresh
	}
	if timingsKnown && delayKnown {
		plan.WorstCaseFailoverSeconds = types.Float64Value(topology.WorstCaseFailoverSeconds(timings,
			int(plan.FailoverDelaySeconds.ValueInt64()), int(plan.TTLSeconds.ValueInt64())))
	} else {
		plan.WorstCaseFailoverSeconds = types.Float64Unknown()
	}
	plan.Warnings = r.plannedWarnings(req, plan)
	resp.Diagnostics.Append(setModel(ctx, &resp.Plan, resp.Plan.Schema, plan)...)
}

// plannedWarnings: without replica_set there is nothing to warn about;
// otherwise the warnings stay what they were while nothing they depend on
// (the policy's name, mode, targets and replica_set) changes, and are
// known after apply when something does.
func (r *trafficPolicyResource) plannedWarnings(req resource.ModifyPlanRequest, plan trafficPolicyResourceModel) types.List {
	switch {
	case plan.ReplicaSet.IsNull() || (known(plan.ReplicaSet) && plan.ReplicaSet.ValueString() == ""):
		return stringList(nil)
	case req.State.Raw.IsNull():
		return types.ListUnknown(types.StringType)
	}
	var prior trafficPolicyResourceModel
	if d := req.State.Get(context.Background(), &prior); d.HasError() {
		return types.ListUnknown(types.StringType)
	}
	same := prior.Name.Equal(plan.Name) && prior.Mode.Equal(plan.Mode) && prior.ReplicaSet.Equal(plan.ReplicaSet) && prior.Targets.Equal(plan.Targets)
	if same && known(prior.Warnings) {
		if r.data != nil && r.data.plans != nil {
			if _, changing := r.data.plans.lookup(api.KindReplicaSet, plan.ReplicaSet.ValueString()); changing {
				return types.ListUnknown(types.StringType)
			}
		}
		return prior.Warnings
	}
	return types.ListUnknown(types.StringType)
}

// planWait bounds how long a policy's plan waits for a health check it
// names to be planned in the same run (see planRegistry).
const planWait = 30 * time.Second

// plannedTimings returns the detection timing of every health check the
// planned policy references, and whether all of them are known.
func (r *trafficPolicyResource) plannedTimings(ctx context.Context, plan trafficPolicyResourceModel, unchanged bool, diags *diag.Diagnostics) ([]topology.CheckTiming, bool) {
	if r.data == nil || !known(plan.Targets) {
		return nil, false
	}
	type ref struct {
		name string
		at   path.Path
	}
	var refs []ref
	for _, key := range api.SortedKeys(plan.Targets.Elements()) {
		obj, ok := plan.Targets.Elements()[key].(types.Object)
		if !ok || !known(obj) {
			return nil, false
		}
		hc, ok := obj.Attributes()["health_checks"].(types.List)
		if !ok || hc.IsUnknown() {
			return nil, false
		}
		for i, e := range hc.Elements() {
			s, ok := e.(types.String)
			if !ok || !known(s) {
				return nil, false
			}
			refs = append(refs, ref{s.ValueString(), path.Root("targets").AtMapKey(key).AtName("health_checks").AtListIndex(i)})
		}
		// The endpoints' checks detect failures too.
		eps, ok := obj.Attributes()["endpoints"].(types.Map)
		if !ok || eps.IsUnknown() {
			return nil, false
		}
		for _, en := range api.SortedKeys(eps.Elements()) {
			eo, ok := eps.Elements()[en].(types.Object)
			if !ok || !known(eo) {
				return nil, false
			}
			ehc, ok := eo.Attributes()["health_checks"].(types.List)
			if !ok || ehc.IsUnknown() {
				return nil, false
			}
			for i, e := range ehc.Elements() {
				s, ok := e.(types.String)
				if !ok || !known(s) {
					return nil, false
				}
				refs = append(refs, ref{s.ValueString(), path.Root("targets").AtMapKey(key).AtName("endpoints").AtMapKey(en).AtName("health_checks").AtListIndex(i)})
			}
		}
	}
	var (
		timings  []topology.CheckTiming
		seen     = map[string]bool{}
		allKnown = true
	)
	for _, c := range refs {
		if seen[c.name] {
			continue
		}
		seen[c.name] = true
		t, ok := r.checkTiming(ctx, c.name, c.at, unchanged, diags)
		if !ok {
			allKnown = false
			continue
		}
		timings = append(timings, t)
	}
	return timings, allKnown
}

// checkTiming finds one named check's timing: planned in this run, stored
// in failoverd, or — for a name planned later in this run, which happens
// only when the policy names the check as a plain string — after waiting
// for its plan, so the result does not depend on which resource Terraform
// happened to plan first.
func (r *trafficPolicyResource) checkTiming(ctx context.Context, name string, at path.Path, unchanged bool, diags *diag.Diagnostics) (topology.CheckTiming, bool) {
	if o, ok := r.data.plans.lookup(api.KindHealthCheck, name); ok {
		return timingOf(o)
	}
	if !api.ValidName(name) || r.data.client == nil {
		return topology.CheckTiming{}, false // ValidateConfig reported a bad name
	}
	hc, err := client.Get[api.HealthCheck](ctx, r.data.client, api.KindHealthCheck, name)
	switch {
	case err == nil:
		return topology.CheckTiming{IntervalSeconds: hc.IntervalSeconds, TimeoutSeconds: hc.TimeoutSeconds, Fall: hc.Fall}, true
	case !client.IsNotFound(err):
		diags.AddAttributeWarning(at, "Cannot Compute Worst-Case Failover At Plan Time",
			fmt.Sprintf("Reading the health check %q from failoverd failed, so worst_case_failover_seconds is known only after apply "+
				"and rto_seconds is checked by failoverd at apply.\n\n%s", name, err))
		return topology.CheckTiming{}, false
	case unchanged:
		return topology.CheckTiming{}, false
	}
	if o, ok := r.data.plans.awaitPlanned(ctx, api.KindHealthCheck, name, planWait); ok {
		diags.AddAttributeWarning(at, "Health Check Named But Not Referenced",
			fmt.Sprintf("The health check %q is declared in this configuration, but this policy names it as a plain string, which orders "+
				"nothing: Terraform may create the policy before the check and destroy the check before the policy, and the apply "+
				"then waits for the other (see timeouts). Reference the resource instead, e.g. failover_health_check.<name>.name, "+
				"so Terraform orders them.", name))
		return timingOf(o)
	}
	diags.AddAttributeWarning(at, "Health Check Not Found At Plan Time",
		fmt.Sprintf("No health check named %q exists in failoverd or is planned in this run, so worst_case_failover_seconds "+
			"is known only after apply, and the apply fails unless the check exists by then. Declare it (failover_health_check) "+
			"and reference it (failover_health_check.<name>.name), or fix the name.", name))
	return topology.CheckTiming{}, false
}

func timingOf(o plannedObject) (topology.CheckTiming, bool) {
	if o.timing == nil {
		return topology.CheckTiming{}, false
	}
	return *o.timing, true
}

func (r *trafficPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan trafficPolicyResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	p, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := writeWaitingForReferences(ctx, r.data, timeout(ctx, plan.Timeouts, true, defaultCreateTimeout), func() (api.TrafficPolicy, error) {
		return client.Create(ctx, r.data.client, api.KindTrafficPolicy, p)
	})
	if err != nil {
		addClientError(&resp.Diagnostics, "create", trafficPolicyKind, p.Name, err)
		return
	}
	state, diags := plan.fromAPI(ctx, out)
	resp.Diagnostics.Append(diags...)
	keepPlannedComputed(ctx, plan, &state)
	addPolicyWarnings(&resp.Diagnostics, out)
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
}

func (r *trafficPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior trafficPolicyResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &prior)...)
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
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
}

func (r *trafficPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior trafficPolicyResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getModel(ctx, req.State, &prior)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	p, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := writeWaitingForReferences(ctx, r.data, timeout(ctx, plan.Timeouts, true, defaultCreateTimeout), func() (api.TrafficPolicy, error) {
		return client.Update(ctx, r.data.client, api.KindTrafficPolicy, p.Name, p, uint64(prior.Version.ValueInt64()))
	})
	if err != nil {
		addClientError(&resp.Diagnostics, "update", trafficPolicyKind, p.Name, err)
		return
	}
	state, diags := plan.fromAPI(ctx, out)
	resp.Diagnostics.Append(diags...)
	keepPlannedComputed(ctx, plan, &state)
	addPolicyWarnings(&resp.Diagnostics, out)
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
}

func (r *trafficPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var prior trafficPolicyResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &prior)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	deleteObject(ctx, r.data, &resp.Diagnostics, api.KindTrafficPolicy, trafficPolicyKind, prior.Name.ValueString(), prior.Version.ValueInt64(), prior.Timeouts)
}

func (r *trafficPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}

// configured reports whether the provider handed over its client; CRUD
// cannot run without it.
func (r *trafficPolicyResource) configured(diags *diag.Diagnostics) bool {
	if r.data != nil && r.data.client != nil {
		if r.data.plans != nil {
			r.data.plans.touch()
		}
		return true
	}
	diags.AddError("Provider Not Configured",
		"The failover provider has no failoverd client, so the traffic policy cannot be managed. Check the provider block's endpoint and token (or FAILOVER_ENDPOINT and FAILOVER_TOKEN).")
	return false
}

// keepPlannedComputed keeps a worst_case_failover_seconds and warnings that
// were known at plan time. They come from the objects as they are once this
// apply is done; failoverd's answer differs only while an object the
// configuration names without referencing it is still to be changed later
// in the same apply, and the next refresh reads the settled value.
// Returning the planned value avoids Terraform's "inconsistent result after
// apply" error in that case.
func keepPlannedComputed(ctx context.Context, plan trafficPolicyResourceModel, state *trafficPolicyResourceModel) {
	if known(plan.WorstCaseFailoverSeconds) && !plan.WorstCaseFailoverSeconds.Equal(state.WorstCaseFailoverSeconds) {
		tflog.Warn(ctx, "failoverd's worst_case_failover_seconds differs from the planned value; keeping the planned value until the next refresh", map[string]any{
			"planned": plan.WorstCaseFailoverSeconds.ValueFloat64(), "failoverd": state.WorstCaseFailoverSeconds.ValueFloat64(),
		})
		state.WorstCaseFailoverSeconds = plan.WorstCaseFailoverSeconds
	}
	if known(plan.Warnings) && !plan.Warnings.Equal(state.Warnings) {
		tflog.Warn(ctx, "failoverd's warnings differ from the planned ones; keeping the planned ones until the next refresh")
		state.Warnings = plan.Warnings
	}
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
