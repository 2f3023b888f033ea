package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

var (
	_ resource.ResourceWithConfigure      = &replicaSetResource{}
	_ resource.ResourceWithImportState    = &replicaSetResource{}
	_ resource.ResourceWithValidateConfig = &replicaSetResource{}
	_ resource.ResourceWithModifyPlan     = &replicaSetResource{}
)

// replicaSetConfigDocVersion is the `version` of the document in
// config_json. failoverd's GET /v1/replica-sets/{name}/config carries
// failoverd's object version there, which is only known after apply; the
// provider renders 1 instead — what rs.initiate() expects, and what
// mongosh's rs.reconfig() replaces with the live config version + 1 anyway —
// so config_json is known at plan time and reads back identically.
const replicaSetConfigDocVersion = 1

// replicaSetKind names the object in diagnostics.
const replicaSetKind = "Replica Set"

// NewReplicaSetResource is the failover_replica_set resource.
func NewReplicaSetResource() resource.Resource { return &replicaSetResource{} }

type replicaSetResource struct {
	data *providerData
}

func (r *replicaSetResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_replica_set"
}

func (r *replicaSetResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A database replica-set topology (MongoDB): which members exist, in which site and zone, who votes and who may become primary.\n\n" +
			"Everything that decides whether the database survives the loss of a site is computed **at plan time**, with the very rules failoverd " +
			"applies on every write: the number of voting members, the majority an election needs, how many voters may fail, the site the primary " +
			"is expected in, and what losing each site would do (`site_loss`). A topology that would leave no voting majority after losing any one " +
			"site fails `terraform plan` (unless `require_site_fault_tolerance = false`), so you find out at review time, not at 4 a.m. when a data " +
			"center goes dark and the surviving members cannot elect a primary.\n\n" +
			"failoverd does not reconfigure mongod itself: `config_json` is the `rs.initiate()` / `rs.reconfig()` document to apply with your " +
			"own tooling, and `failover_replica_set_status` reports, from the members' health checks, whether the set holds a majority right now.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Same as `name`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the replica set, unique among replica sets; it is also the `_id` of the MongoDB configuration " +
					"(`replication.replSetName` of every mongod). 1–63 lower-case letters, digits and `-`. Changing it replaces the object.",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				// Checked in ValidateConfig by failoverd's own rule (api.CheckName
				// through topology.ValidateReplicaSet), like every other attribute.
			},
			"engine": schema.StringAttribute{
				MarkdownDescription: "Database engine. Only `" + api.EngineMongoDB + "` today. Default `" + api.DefaultEngine + "`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.DefaultEngine),
			},
			"members": schema.MapNestedAttribute{
				MarkdownDescription: "The members, keyed by member name (1–63 lower-case letters, digits and `-`). A map, so reordering the " +
					"declaration is never a change. At most " + fmt.Sprint(topology.MaxMembers) + " members and " + fmt.Sprint(topology.MaxVotingMembers) +
					" voters (MongoDB's limits). A member keeps its MongoDB `_id` (see `member_ids`) for as long as it exists.",
				Required: true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"host": schema.StringAttribute{
							MarkdownDescription: "The member's mongod as `host:port`, e.g. `db-1.example.org:27017`. Unique within the replica set (case-insensitively): two members on one mongod would be one failure domain counted twice.",
							Required:            true,
						},
						"site": schema.StringAttribute{
							MarkdownDescription: "The site (data center or cloud region) that fails as a unit, e.g. `chicago`. `site_loss` simulates losing each site. Also rendered as the member tag `site`.",
							Required:            true,
						},
						"zone": schema.StringAttribute{
							MarkdownDescription: "Availability zone or rack inside the site, rendered as the member tag `zone` for tag-aware read preferences and write concerns. Optional.",
							Optional:            true,
						},
						"priority": schema.Float64Attribute{
							MarkdownDescription: "Election priority, 0–" + fmt.Sprint(topology.MaxPriority) + " (fractions allowed). The highest-priority electable member that can see a majority becomes primary, " +
								"so give the members of the site that takes the traffic the highest priority. 0 means never primary. " +
								"Default: 1, but 0 for arbiters, hidden, delayed (`secondary_delay_seconds` > 0) and non-voting (`votes = 0`) members, which MongoDB must never elect " +
								"(setting a priority above 0 on them is an error).",
							Optional: true,
							Computed: true,
						},
						"votes": schema.Int64Attribute{
							MarkdownDescription: "1 if the member votes in elections, 0 if not. Default 1. At most " + fmt.Sprint(topology.MaxVotingMembers) + " members may vote; a non-voting member must have priority 0.",
							Optional:            true,
							Computed:            true,
							Default:             int64default.StaticInt64(api.DefaultVotes),
						},
						"arbiter": schema.BoolAttribute{
							MarkdownDescription: "An arbiter holds no data and can never become primary; it only votes, typically in a third site to break the tie between two data sites. It must not share a site with data-bearing members and carries no tags. Default `false`.",
							Optional:            true,
							Computed:            true,
							Default:             booldefault.StaticBool(false),
						},
						"hidden": schema.BoolAttribute{
							MarkdownDescription: "A hidden member replicates and votes but is invisible to clients (backups, analytics); it must have priority 0. Default `false`.",
							Optional:            true,
							Computed:            true,
							Default:             booldefault.StaticBool(false),
						},
						"secondary_delay_seconds": schema.Int64Attribute{
							MarkdownDescription: "Replication delay in seconds for a delayed member (a safety net against a bad write), up to 366 days. A delayed member must be hidden and have priority 0. Default 0 (no delay).",
							Optional:            true,
							Computed:            true,
							Default:             int64default.StaticInt64(0),
						},
						"tags": schema.MapAttribute{
							MarkdownDescription: "MongoDB member tags. `site` and `zone` are added from the member's site and zone (a user tag of that name must agree). Not allowed on arbiters.",
							ElementType:         types.StringType,
							Optional:            true,
						},
						"health_check": schema.StringAttribute{
							MarkdownDescription: "Name of the `failover_health_check` that tells whether this member is up; `failover_replica_set_status` counts a member without one as up. The check must exist when the replica set is applied (reference `failover_health_check.<name>.name` so Terraform orders them).",
							Optional:            true,
						},
					},
				},
			},
			"require_site_fault_tolerance": schema.BoolAttribute{
				MarkdownDescription: "When `true` (the default), plan and apply fail unless losing any single site still leaves a voting majority and an electable member — " +
					"the proof that one data center going dark cannot take the database down with it. Set `false` only for a deliberately single-site replica set.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
			},
			"require_majority_writes_after_site_loss": schema.BoolAttribute{
				MarkdownDescription: "When `true`, plan and apply fail if losing any single site leaves an election possible but not `w: \"majority\"` writes " +
					"(see `site_loss[*].majority_writes`): for example 2 + 2 data members and an arbiter, where a site loss leaves 2 data-bearing voters against a write majority of 3. " +
					"Default `false`: such a layout plans with a warning that explains the arithmetic and the fixes (a data-bearing member instead of the arbiter, or a third data site).",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(api.DefaultRequireMajorityWritesAfterSiteLoss),
			},
			"version": schema.Int64Attribute{
				MarkdownDescription: "failoverd's version of the object (its ETag). Every change increments it; an apply against a version someone else changed in the meantime fails instead of overwriting their change.",
				Computed:            true,
			},
			"member_ids": schema.MapAttribute{
				MarkdownDescription: "The MongoDB `_id` of every member, by member name. A member keeps its `_id` for as long as it exists, whatever else changes; " +
					"new members get the smallest free ids (in name order), so adding or removing a member never renumbers the others. Known at plan time.",
				ElementType: types.Int64Type,
				Computed:    true,
			},
			"voting_members": schema.Int64Attribute{
				MarkdownDescription: "Number of members with `votes = 1`. Known at plan time.",
				Computed:            true,
			},
			"majority": schema.Int64Attribute{
				MarkdownDescription: "Votes an election needs: a strict majority of all voting members, floor(voting_members / 2) + 1. MongoDB never lowers it to the members it can still see. Known at plan time.",
				Computed:            true,
			},
			"fault_tolerance": schema.Int64Attribute{
				MarkdownDescription: "How many voting members may be lost while the rest can still elect a primary (voting_members − majority). An even number of voters adds nothing here: 4 tolerate 1, like 3. Known at plan time.",
				Computed:            true,
			},
			"preferred_primary_site": schema.StringAttribute{
				MarkdownDescription: "The site of the member MongoDB is expected to elect primary when everything is up (highest priority among electable members; ties go to the member name that sorts first). Point the traffic policy's preferred target at this site. Known at plan time.",
				Computed:            true,
			},
			"default_write_concern": schema.StringAttribute{
				MarkdownDescription: "MongoDB's implicit default write concern for this configuration (MongoDB ≥ 5.0): `1` when there is an arbiter and the data-bearing voting members are no more than `majority`, " +
					"`majority` otherwise. 2 data + 1 arbiter → `1`; 4 data + 1 arbiter → `majority`. Known at plan time.",
				Computed: true,
			},
			"write_majority": schema.Int64Attribute{
				MarkdownDescription: "Acknowledgements a `w: \"majority\"` write needs from data-bearing voting members: the smaller of `majority` and the number of data-bearing voters. Known at plan time.",
				Computed:            true,
			},
			"site_loss": schema.MapNestedAttribute{
				MarkdownDescription: "What losing each site would do, by site name: whether a primary can still be elected, and which member is expected to become primary. Known at plan time.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"survives": schema.BoolAttribute{
							MarkdownDescription: "`true` when the members left hold a voting majority and at least one electable member, so a primary is elected within seconds.",
							Computed:            true,
						},
						"new_primary": schema.StringAttribute{
							MarkdownDescription: "The member expected to be primary after the loss (null when the set does not survive).",
							Computed:            true,
						},
						"votes_lost": schema.Int64Attribute{
							MarkdownDescription: "Votes held by the members in this site.",
							Computed:            true,
						},
						"votes_left": schema.Int64Attribute{
							MarkdownDescription: "Votes left in the other sites; the set survives only if this is at least `majority`.",
							Computed:            true,
						},
						"majority_writes": schema.BoolAttribute{
							MarkdownDescription: "`true` when, after the loss, a primary is elected **and** at least `write_majority` data-bearing voting members (arbiters hold no data; delayed members acknowledge late) are left, " +
								"so `w: \"majority\"` writes are acknowledged and the majority commit point keeps advancing. `survives` without `majority_writes` means writes with `w: \"majority\"` block or time out until the site returns.",
							Computed: true,
						},
						"data_voters_left": schema.Int64Attribute{
							MarkdownDescription: "Data-bearing voting members left (without a secondary delay); `majority_writes` needs `write_majority` of them.",
							Computed:            true,
						},
						"write_concern_before": schema.StringAttribute{
							MarkdownDescription: "MongoDB's implicit default write concern (`majority` or `1`) of the configuration. A lost site changes no configuration, so it stays in force during the loss.",
							Computed:            true,
						},
						"write_concern_after": schema.StringAttribute{
							MarkdownDescription: "The implicit default write concern once the lost site's members are removed by a (forced) reconfiguration; null when no voter would be left.",
							Computed:            true,
						},
						"critical_members": schema.ListAttribute{
							MarkdownDescription: "Members left after the loss any one of which, lost too, stops majority-committed writes from advancing (empty when there is a spare, or when `majority_writes` is already `false`).",
							ElementType:         types.StringType,
							Computed:            true,
						},
					},
				},
			},
			"warnings": schema.ListAttribute{
				MarkdownDescription: "Findings that do not block the plan (also shown as plan warnings): an even number of voters, more than one arbiter, a primary-secondary-arbiter layout whose majority writes stall while one data member is down, equal top priorities in several sites. Empty when there are none.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"config_json": schema.StringAttribute{
				MarkdownDescription: "The MongoDB replica-set configuration document (`_id`, `version`, `members` with `_id`, `host`, `priority`, `votes`, `arbiterOnly`, `hidden`, `secondaryDelaySecs`, `tags`) as JSON, " +
					"for `rs.initiate(jsondecode(...))` on a new set or `rs.reconfig(...)` on a running one. Known at plan time, so the plan shows exactly what will change in the database. " +
					"`version` is always " + fmt.Sprint(replicaSetConfigDocVersion) + ": right for `rs.initiate()`, and `rs.reconfig()` in mongosh replaces it with the running configuration's version + 1 " +
					"(when you call `replSetReconfig` directly, set it yourself). MongoDB accepts at most one voting-member change per reconfiguration, so add or remove voters one apply at a time.",
				Computed: true,
			},
			"timeouts": timeoutsAttribute(),
		},
	}
}

func (r *replicaSetResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs failoverd's own replica-set rules
// (topology.ValidateReplicaSet) on the configuration, so every error and
// warning shows up at plan time on the attribute at fault. Parts of the
// configuration not known yet are skipped, and so is every rule that
// depends on them; failoverd checks them again on apply.
func (r *replicaSetResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m replicaSetResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Config, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pc, ok := newPlanCheck(req.Config.Raw)
	if !ok {
		return
	}
	rs, diags := m.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// An explicit engine = "" is refused as failoverd refuses it.
	probs := append(rs.NormalizeExplicit(configZeros(req.Config)), topology.ValidateReplicaSet(rs)...)
	pc.report(&resp.Diagnostics, "Invalid "+replicaSetKind, probs.Errors())
	pc.report(&resp.Diagnostics, replicaSetKind+" Topology Warning", probs.Warnings())
}

// replicaSetAnalysisInputs are the inputs of topology.Analyze;
// replicaSetDocInputs those of the configuration document.
var (
	replicaSetRoleInputs = []string{"members[*].site", "members[*].priority", "members[*].votes", "members[*].arbiter",
		"members[*].hidden", "members[*].secondary_delay_seconds"}
	// The write findings are warnings unless required, so the warnings
	// read the flag too.
	replicaSetAnalysisInputs = append([]string{"require_majority_writes_after_site_loss"}, replicaSetRoleInputs...)
	replicaSetDocInputs      = append([]string{"name", "members[*].host", "members[*].zone", "members[*].tags"}, replicaSetRoleInputs...)
)

// replicaSetAddProblems reports problems through addProblems, each on its
// attribute. Warnings get a summary of their own: they are not invalid.
func replicaSetAddProblems(diags *diag.Diagnostics, probs api.Problems) {
	addProblems(diags, "Invalid "+replicaSetKind, probs.Errors())
	addProblems(diags, replicaSetKind+" Topology Warning", probs.Warnings())
}

// replicaSetClientError is addClientError, with failoverd's field problems
// (rules that need the stored objects, such as a missing health check, or
// values unknown at plan time) reported like the plan-time ones.
func replicaSetClientError(diags *diag.Diagnostics, action, kind, name string, err error) {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Problem != nil && len(ce.Problem.Errors) > 0 {
		replicaSetAddProblems(diags, ce.Problem.Errors)
		return
	}
	addClientError(diags, action, kind, name, err)
}

// ModifyPlan computes, at plan time and with the functions failoverd runs,
// everything failoverd will compute on apply: default priorities, member
// _ids, the quorum analysis and the configuration document.
func (r *replicaSetResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, config replicaSetResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getModel(ctx, req.Config, &config)...)
	var prior *replicaSetResourceModel
	if !req.State.Raw.IsNull() {
		var state replicaSetResourceModel
		resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
		// A new name replaces the object: the new one starts with fresh ids.
		if state.Name.Equal(plan.Name) {
			prior = &state
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(plan.planDefaultPriorities(ctx, config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// What is still unknown once the default priorities are planned.
	resp.Diagnostics.Append(setModel(ctx, &resp.Plan, resp.Plan.Schema, plan)...)
	pc, _ := newPlanCheck(resp.Plan.Raw)
	rs, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	rs.Normalize()
	if r.data != nil && r.data.plans != nil && known(plan.Name) {
		r.data.plans.plan(api.KindReplicaSet, plan.Name.ValueString(), plannedObject{})
	}

	var ids map[string]int
	plan.MemberIDs = types.MapUnknown(types.Int64Type)
	if known(plan.Members) {
		var prev map[string]int
		if prior != nil {
			prev, diags = replicaSetMemberIDsFromState(ctx, prior.MemberIDs)
			resp.Diagnostics.Append(diags...)
		}
		ids = topology.AssignMemberIDs(prev, rs.Members)
		plan.MemberIDs, diags = replicaSetMemberIDsValue(ids)
		resp.Diagnostics.Append(diags...)
	}

	// One voter change per reconfiguration, judged against the state (the
	// last applied configuration), at plan time as failoverd does on apply.
	if prior != nil && known(prior.Members) && !pc.anyUnknown("members[*].votes", "members[*].arbiter") {
		if before, d := prior.toAPI(ctx); !d.HasError() {
			before.Normalize()
			replicaSetAddProblems(&resp.Diagnostics, topology.CheckReconfig(before, rs))
		}
	}

	if !pc.anyUnknown(replicaSetAnalysisInputs...) {
		resp.Diagnostics.Append(plan.setAnalysis(topology.Analyze(rs))...)
	} else {
		plan.VotingMembers = types.Int64Unknown()
		plan.Majority = types.Int64Unknown()
		plan.FaultTolerance = types.Int64Unknown()
		plan.PreferredPrimarySite = types.StringUnknown()
		plan.SiteLoss = types.MapUnknown(types.ObjectType{AttrTypes: replicaSetSiteLossAttrTypes})
		plan.DefaultWriteConcern = types.StringUnknown()
		plan.WriteMajority = types.Int64Unknown()
		plan.Warnings = types.ListUnknown(types.StringType)
	}

	plan.ConfigJSON = types.StringUnknown()
	if !pc.anyUnknown(replicaSetDocInputs...) && ids != nil {
		s, err := replicaSetConfigJSON(topology.RenderConfig(rs, ids, replicaSetConfigDocVersion))
		if err != nil {
			resp.Diagnostics.AddError("Cannot Render Replica Set Configuration", err.Error())
			return
		}
		plan.ConfigJSON = types.StringValue(s)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setModel(ctx, &resp.Plan, resp.Plan.Schema, plan)...)
	// The framework plans version as "known after apply" only when the
	// configuration changed. A planned default priority also changes the
	// object (a defaulted priority edited outside Terraform is put back),
	// and failoverd then increments the version.
	if prior != nil && !plan.Version.IsUnknown() && !resp.Diagnostics.HasError() && !resp.Plan.Raw.Equal(req.State.Raw) {
		plan.Version = types.Int64Unknown()
		resp.Diagnostics.Append(setModel(ctx, &resp.Plan, resp.Plan.Schema, plan)...)
	}
}

func (r *replicaSetResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan replicaSetResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rs, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := writeWaitingForReferences(ctx, r.data, timeout(ctx, plan.Timeouts, true, defaultCreateTimeout), func() (api.ReplicaSet, error) {
		return client.Create(ctx, r.data.client, api.KindReplicaSet, rs)
	})
	if err != nil {
		replicaSetClientError(&resp.Diagnostics, "create", replicaSetKind, rs.Name, err)
		return
	}
	if r.readBack(ctx, out, &plan, &resp.State, &resp.Diagnostics) {
		replicaSetVanished(&resp.Diagnostics, rs.Name)
	}
}

func (r *replicaSetResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state replicaSetResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	out, err := client.Get[api.ReplicaSet](ctx, r.data.client, api.KindReplicaSet, name)
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "read", replicaSetKind, name, err)
		return
	}
	if r.readBack(ctx, out, &state, &resp.State, &resp.Diagnostics) {
		resp.State.RemoveResource(ctx)
	}
}

func (r *replicaSetResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state replicaSetResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rs, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := writeWaitingForReferences(ctx, r.data, timeout(ctx, plan.Timeouts, true, defaultCreateTimeout), func() (api.ReplicaSet, error) {
		return client.Update(ctx, r.data.client, api.KindReplicaSet, rs.Name, rs, uint64(state.Version.ValueInt64()))
	})
	if err != nil {
		replicaSetClientError(&resp.Diagnostics, "update", replicaSetKind, rs.Name, err)
		// Nothing was written: keep the prior state, so the next plan
		// still shows the whole change.
		resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
		return
	}
	if r.readBack(ctx, out, &plan, &resp.State, &resp.Diagnostics) {
		replicaSetVanished(&resp.Diagnostics, rs.Name)
	}
}

func (r *replicaSetResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state replicaSetResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	deleteObject(ctx, r.data, &resp.Diagnostics, api.KindReplicaSet, replicaSetKind, state.Name.ValueString(), state.Version.ValueInt64(), state.Timeouts)
}

func (r *replicaSetResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}

// readBack completes an object failoverd returned with its configuration
// document (GET /v1/replica-sets/{name}/config) and stores both in state.
// It reports gone when the object vanished in between. prior decides the
// null-versus-empty form of optional values. When the
// document cannot be read, the object is still stored (with a null
// config_json) next to the error, so a created object is never lost from
// state; the next refresh completes it.
func (r *replicaSetResource) readBack(ctx context.Context, out api.ReplicaSet, prior *replicaSetResourceModel, st *tfsdk.State, diags *diag.Diagnostics) (gone bool) {
	doc, err := r.data.client.ReplicaSetConfig(ctx, out.Name)
	if client.IsNotFound(err) {
		return true
	}
	if err != nil {
		addClientError(diags, "read the configuration document of", replicaSetKind, out.Name, err)
		doc = nil
	}
	m, d := prior.fromAPI(ctx, out, doc)
	diags.Append(d...)
	diags.Append(st.Set(ctx, &m)...)
	return false
}

func replicaSetVanished(diags *diag.Diagnostics, name string) {
	diags.AddError(replicaSetKind+" Deleted Outside Terraform",
		fmt.Sprintf("The replica set %q was deleted by someone else right after this apply wrote it. Run terraform apply again to recreate it.", name))
}
