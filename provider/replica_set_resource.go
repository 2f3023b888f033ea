package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

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

type replicaSetResourceModel struct {
	ID                        types.String `tfsdk:"id"`
	Name                      types.String `tfsdk:"name"`
	Engine                    types.String `tfsdk:"engine"`
	Members                   types.Map    `tfsdk:"members"`
	RequireSiteFaultTolerance types.Bool   `tfsdk:"require_site_fault_tolerance"`
	Version                   types.Int64  `tfsdk:"version"`
	MemberIDs                 types.Map    `tfsdk:"member_ids"`
	VotingMembers             types.Int64  `tfsdk:"voting_members"`
	Majority                  types.Int64  `tfsdk:"majority"`
	FaultTolerance            types.Int64  `tfsdk:"fault_tolerance"`
	PreferredPrimarySite      types.String `tfsdk:"preferred_primary_site"`
	SiteLoss                  types.Map    `tfsdk:"site_loss"`
	Warnings                  types.List   `tfsdk:"warnings"`
	ConfigJSON                types.String `tfsdk:"config_json"`
}

type replicaSetMemberModel struct {
	Host                  types.String  `tfsdk:"host"`
	Site                  types.String  `tfsdk:"site"`
	Zone                  types.String  `tfsdk:"zone"`
	Priority              types.Float64 `tfsdk:"priority"`
	Votes                 types.Int64   `tfsdk:"votes"`
	Arbiter               types.Bool    `tfsdk:"arbiter"`
	Hidden                types.Bool    `tfsdk:"hidden"`
	SecondaryDelaySeconds types.Int64   `tfsdk:"secondary_delay_seconds"`
	Tags                  types.Map     `tfsdk:"tags"`
	HealthCheck           types.String  `tfsdk:"health_check"`
}

type replicaSetSiteLossModel struct {
	Survives   types.Bool   `tfsdk:"survives"`
	NewPrimary types.String `tfsdk:"new_primary"`
	VotesLost  types.Int64  `tfsdk:"votes_lost"`
	VotesLeft  types.Int64  `tfsdk:"votes_left"`
}

var replicaSetMemberAttrTypes = map[string]attr.Type{
	"host":                    types.StringType,
	"site":                    types.StringType,
	"zone":                    types.StringType,
	"priority":                types.Float64Type,
	"votes":                   types.Int64Type,
	"arbiter":                 types.BoolType,
	"hidden":                  types.BoolType,
	"secondary_delay_seconds": types.Int64Type,
	"tags":                    types.MapType{ElemType: types.StringType},
	"health_check":            types.StringType,
}

var replicaSetSiteLossAttrTypes = map[string]attr.Type{
	"survives":    types.BoolType,
	"new_primary": types.StringType,
	"votes_lost":  types.Int64Type,
	"votes_left":  types.Int64Type,
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
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	d, diags := m.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	rs := d.rs
	// An explicit engine = "" is refused as failoverd refuses it.
	probs := rs.NormalizeExplicit(configZeros(req.Config))
	replicaSetAddProblems(&resp.Diagnostics, d.known(append(probs, topology.ValidateReplicaSet(rs)...)))
}

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
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	var prior *replicaSetResourceModel
	if !req.State.Raw.IsNull() {
		var state replicaSetResourceModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
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
	d, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	rs := d.rs
	rs.Normalize()

	var ids map[string]int
	plan.MemberIDs = types.MapUnknown(types.Int64Type)
	if d.membersKnown {
		var prev map[string]int
		if prior != nil {
			prev, diags = replicaSetMemberIDsFromState(ctx, prior.MemberIDs)
			resp.Diagnostics.Append(diags...)
		}
		ids = topology.AssignMemberIDs(prev, rs.Members)
		plan.MemberIDs, diags = replicaSetMemberIDsValue(ids)
		resp.Diagnostics.Append(diags...)
	}

	if d.analysisKnown {
		resp.Diagnostics.Append(plan.setAnalysis(topology.Analyze(rs))...)
	} else {
		plan.VotingMembers = types.Int64Unknown()
		plan.Majority = types.Int64Unknown()
		plan.FaultTolerance = types.Int64Unknown()
		plan.PreferredPrimarySite = types.StringUnknown()
		plan.SiteLoss = types.MapUnknown(types.ObjectType{AttrTypes: replicaSetSiteLossAttrTypes})
		plan.Warnings = types.ListUnknown(types.StringType)
	}

	plan.ConfigJSON = types.StringUnknown()
	if d.configKnown && ids != nil {
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
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	// The framework plans version as "known after apply" only when the
	// configuration changed. A planned default priority also changes the
	// object (a defaulted priority edited outside Terraform is put back),
	// and failoverd then increments the version.
	if prior != nil && !plan.Version.IsUnknown() && !resp.Diagnostics.HasError() && !resp.Plan.Raw.Equal(req.State.Raw) {
		plan.Version = types.Int64Unknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	}
}

func (r *replicaSetResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan replicaSetResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rs, diags := plan.toAPIKnown(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := client.Create(ctx, r.data.client, api.KindReplicaSet, rs)
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
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
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
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rs, diags := plan.toAPIKnown(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := client.Update(ctx, r.data.client, api.KindReplicaSet, rs.Name, rs, uint64(state.Version.ValueInt64()))
	if err != nil {
		replicaSetClientError(&resp.Diagnostics, "update", replicaSetKind, rs.Name, err)
		// Nothing was written: keep the prior state, so the next plan
		// still shows the whole change.
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	if r.readBack(ctx, out, &plan, &resp.State, &resp.Diagnostics) {
		replicaSetVanished(&resp.Diagnostics, rs.Name)
	}
}

func (r *replicaSetResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state replicaSetResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	err := r.data.client.Delete(ctx, api.KindReplicaSet, name, uint64(state.Version.ValueInt64()))
	if err != nil && !client.IsNotFound(err) {
		addClientError(&resp.Diagnostics, "delete", replicaSetKind, name, err)
	}
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
	m, d := replicaSetFromAPI(ctx, out, doc, prior)
	diags.Append(d...)
	diags.Append(st.Set(ctx, &m)...)
	return false
}

func replicaSetVanished(diags *diag.Diagnostics, name string) {
	diags.AddError(replicaSetKind+" Deleted Outside Terraform",
		fmt.Sprintf("The replica set %q was deleted by someone else right after this apply wrote it. Run terraform apply again to recreate it.", name))
}

// replicaSetDraft is the api object built from a configuration or plan
// that may still hold unknown values ("known after apply"), with the
// field paths (api notation) that are not known yet.
type replicaSetDraft struct {
	rs      api.ReplicaSet
	unknown []string
	// membersKnown: the member map itself (its keys) is known.
	membersKnown bool
	// analysisKnown: every input of topology.Analyze and of the set-wide
	// rules (site, priority, votes, arbiter, hidden, delay of every
	// member, require_site_fault_tolerance) is known.
	analysisKnown bool
	// configKnown: every input of topology.RenderConfig is known.
	configKnown bool
	// rulesUnknown: require_site_fault_tolerance is unknown, so the
	// set-wide rules cannot be judged yet.
	rulesUnknown bool
}

func (d *replicaSetDraft) markUnknown(field string, analysis bool) {
	d.unknown = append(d.unknown, field)
	d.configKnown = false
	if analysis {
		d.analysisKnown = false
	}
}

// known drops the problems that depend on values not known yet: those on
// (or below) an unknown attribute, and the set-wide ones on "members" while
// an input of the set-wide rules is unknown.
func (d replicaSetDraft) known(probs api.Problems) api.Problems {
	var out api.Problems
next:
	for _, p := range probs {
		if p.Field == "members" && (!d.analysisKnown || d.rulesUnknown) {
			continue
		}
		for _, u := range d.unknown {
			if p.Field == u || strings.HasPrefix(p.Field, u+".") || strings.HasPrefix(p.Field, u+"[") {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// toAPI maps the model to the wire type, tolerating unknown values.
func (m replicaSetResourceModel) toAPI(ctx context.Context) (replicaSetDraft, diag.Diagnostics) {
	var diags diag.Diagnostics
	d := replicaSetDraft{membersKnown: true, analysisKnown: true, configKnown: true}
	d.rs.Name = m.Name.ValueString()
	if m.Name.IsUnknown() {
		d.markUnknown("name", false)
	}
	d.rs.Engine = m.Engine.ValueString()
	if m.Engine.IsUnknown() {
		d.unknown = append(d.unknown, "engine") // not part of the analysis nor of the document
	}
	switch {
	case m.RequireSiteFaultTolerance.IsUnknown():
		// Decides only whether the site-loss rule applies.
		d.unknown = append(d.unknown, "require_site_fault_tolerance")
		d.rulesUnknown = true
	case !m.RequireSiteFaultTolerance.IsNull():
		v := m.RequireSiteFaultTolerance.ValueBool()
		d.rs.RequireSiteFaultTolerance = &v
	}
	if m.Members.IsUnknown() {
		d.membersKnown = false
		d.markUnknown("members", true)
		return d, diags
	}
	d.rs.Members = make(map[string]api.Member, len(m.Members.Elements()))
	for name, v := range m.Members.Elements() {
		base := api.MapKey("members", name)
		obj, ok := v.(basetypes.ObjectValue)
		if !ok {
			diags.AddError("Unexpected Member Value", fmt.Sprintf("Member %q has type %T. This is a bug in the provider; please report it.", name, v))
			continue
		}
		if obj.IsUnknown() || obj.IsNull() {
			d.rs.Members[name] = api.Member{}
			d.markUnknown(base, true)
			continue
		}
		var mm replicaSetMemberModel
		diags.Append(obj.As(ctx, &mm, basetypes.ObjectAsOptions{})...)
		if diags.HasError() {
			return d, diags
		}
		d.rs.Members[name] = mm.toAPI(ctx, base, &d, &diags)
	}
	return d, diags
}

// toAPI maps one member; unknown values are left at their zero value and
// recorded in d.
func (mm replicaSetMemberModel) toAPI(ctx context.Context, base string, d *replicaSetDraft, diags *diag.Diagnostics) api.Member {
	var am api.Member
	str := func(v types.String, field string, analysis bool) string {
		if v.IsUnknown() {
			d.markUnknown(base+"."+field, analysis)
		}
		return v.ValueString()
	}
	am.Host = str(mm.Host, "host", false)
	am.Site = str(mm.Site, "site", true)
	am.Zone = str(mm.Zone, "zone", false)
	am.HealthCheck = mm.HealthCheck.ValueString()
	if mm.HealthCheck.IsUnknown() {
		// Not part of the analysis nor of the document.
		d.unknown = append(d.unknown, base+".health_check")
	}
	switch {
	case mm.Priority.IsUnknown():
		d.markUnknown(base+".priority", true)
	case !mm.Priority.IsNull():
		v := mm.Priority.ValueFloat64()
		am.Priority = &v
	}
	switch {
	case mm.Votes.IsUnknown():
		d.markUnknown(base+".votes", true)
	case !mm.Votes.IsNull():
		v := int(mm.Votes.ValueInt64())
		am.Votes = &v
	}
	if mm.Arbiter.IsUnknown() {
		d.markUnknown(base+".arbiter", true)
	}
	am.Arbiter = mm.Arbiter.ValueBool()
	if mm.Hidden.IsUnknown() {
		d.markUnknown(base+".hidden", true)
	}
	am.Hidden = mm.Hidden.ValueBool()
	if mm.SecondaryDelaySeconds.IsUnknown() {
		d.markUnknown(base+".secondary_delay_seconds", true)
	}
	am.SecondaryDelaySeconds = int(mm.SecondaryDelaySeconds.ValueInt64())
	switch {
	case mm.Tags.IsUnknown():
		d.markUnknown(base+".tags", false)
	case !mm.Tags.IsNull():
		am.Tags = make(map[string]string, len(mm.Tags.Elements()))
		for k, tv := range mm.Tags.Elements() {
			s, ok := tv.(types.String)
			if !ok {
				diags.AddError("Unexpected Tag Value", fmt.Sprintf("Tag %q of member %s has type %T. This is a bug in the provider; please report it.", k, base, tv))
				continue
			}
			if s.IsUnknown() {
				d.markUnknown(api.MapKey(base+".tags", k), false)
			}
			am.Tags[k] = s.ValueString()
		}
	}
	return am
}

// toAPIKnown maps a plan that must be wholly known (Create, Update).
func (m replicaSetResourceModel) toAPIKnown(ctx context.Context) (api.ReplicaSet, diag.Diagnostics) {
	d, diags := m.toAPI(ctx)
	if !diags.HasError() && len(d.unknown) > 0 {
		diags.AddError("Unknown Replica Set Values at Apply",
			fmt.Sprintf("Values of %s are still unknown at apply time. This is a bug in the provider or in Terraform; please report it.", strings.Join(d.unknown, ", ")))
	}
	return d.rs, diags
}

// planDefaultPriorities sets the planned priority of every member whose
// configuration omits it to api.Member.DefaultPriority — 0 for arbiters,
// hidden, delayed and non-voting members, 1 otherwise — exactly what
// failoverd fills in. Without it, an omitted priority would keep its prior
// value when a member becomes an arbiter, and a priority changed outside
// Terraform would never show up as drift.
func (m *replicaSetResourceModel) planDefaultPriorities(ctx context.Context, config replicaSetResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	if m.Members.IsUnknown() || m.Members.IsNull() || config.Members.IsUnknown() || config.Members.IsNull() {
		return diags
	}
	cfgMembers := config.Members.Elements()
	elems := make(map[string]attr.Value, len(m.Members.Elements()))
	for name, v := range m.Members.Elements() {
		elems[name] = v
		obj, ok := v.(basetypes.ObjectValue)
		cfgObj, cok := cfgMembers[name].(basetypes.ObjectValue)
		if !ok || !cok || obj.IsUnknown() || obj.IsNull() || cfgObj.IsUnknown() || cfgObj.IsNull() {
			continue
		}
		var mm, cm replicaSetMemberModel
		diags.Append(obj.As(ctx, &mm, basetypes.ObjectAsOptions{})...)
		diags.Append(cfgObj.As(ctx, &cm, basetypes.ObjectAsOptions{})...)
		if diags.HasError() {
			return diags
		}
		if !cm.Priority.IsNull() {
			continue // set in the configuration
		}
		if mm.Arbiter.IsUnknown() || mm.Hidden.IsUnknown() || mm.SecondaryDelaySeconds.IsUnknown() || mm.Votes.IsUnknown() {
			mm.Priority = types.Float64Unknown()
		} else {
			am := api.Member{
				Arbiter:               mm.Arbiter.ValueBool(),
				Hidden:                mm.Hidden.ValueBool(),
				SecondaryDelaySeconds: int(mm.SecondaryDelaySeconds.ValueInt64()),
			}
			if !mm.Votes.IsNull() {
				v := int(mm.Votes.ValueInt64())
				am.Votes = &v
			}
			mm.Priority = types.Float64Value(am.DefaultPriority())
		}
		nv, d := types.ObjectValueFrom(ctx, replicaSetMemberAttrTypes, mm)
		diags.Append(d...)
		elems[name] = nv
	}
	if diags.HasError() {
		return diags
	}
	nm, d := types.MapValue(types.ObjectType{AttrTypes: replicaSetMemberAttrTypes}, elems)
	diags.Append(d...)
	if !diags.HasError() {
		m.Members = nm
	}
	return diags
}

// setAnalysis stores a quorum analysis in the computed attributes; plan
// (ModifyPlan) and state (after apply and on read) go through here, so
// both use one representation.
func (m *replicaSetResourceModel) setAnalysis(a api.ReplicaAnalysis) diag.Diagnostics {
	var diags diag.Diagnostics
	m.VotingMembers = types.Int64Value(int64(a.VotingMembers))
	m.Majority = types.Int64Value(int64(a.Majority))
	m.FaultTolerance = types.Int64Value(int64(a.FaultTolerance))
	m.PreferredPrimarySite = rsNullIfEmpty(a.PreferredPrimarySite)

	objType := types.ObjectType{AttrTypes: replicaSetSiteLossAttrTypes}
	losses := make(map[string]attr.Value, len(a.SiteLoss))
	for _, site := range api.SortedKeys(a.SiteLoss) {
		l := a.SiteLoss[site]
		v, d := types.ObjectValue(replicaSetSiteLossAttrTypes, map[string]attr.Value{
			"survives":    types.BoolValue(l.Survives),
			"new_primary": rsNullIfEmpty(l.NewPrimary),
			"votes_lost":  types.Int64Value(int64(l.VotesLost)),
			"votes_left":  types.Int64Value(int64(l.VotesLeft)),
		})
		diags.Append(d...)
		losses[site] = v
	}
	var d diag.Diagnostics
	m.SiteLoss, d = types.MapValue(objType, losses)
	diags.Append(d...)

	warnings := make([]attr.Value, 0, len(a.Warnings))
	for _, w := range a.Warnings {
		warnings = append(warnings, types.StringValue(w))
	}
	m.Warnings, d = types.ListValue(types.StringType, warnings)
	diags.Append(d...)
	return diags
}

// replicaSetFromAPI maps what failoverd returned (the object and its
// configuration document) to the model. prior (plan or state, may be
// empty) decides the null-versus-empty form of optional values that
// failoverd does not distinguish, and the exact form of equal priorities,
// so an apply followed by a plan is always empty.
func replicaSetFromAPI(ctx context.Context, rs api.ReplicaSet, doc json.RawMessage, prior *replicaSetResourceModel) (replicaSetResourceModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	if prior == nil {
		prior = &replicaSetResourceModel{}
	}
	priorMembers := map[string]replicaSetMemberModel{}
	if !prior.Members.IsNull() && !prior.Members.IsUnknown() {
		for name, v := range prior.Members.Elements() {
			if obj, ok := v.(basetypes.ObjectValue); ok && !obj.IsNull() && !obj.IsUnknown() {
				var mm replicaSetMemberModel
				if d := obj.As(ctx, &mm, basetypes.ObjectAsOptions{}); !d.HasError() {
					priorMembers[name] = mm
				}
			}
		}
	}

	engine := rs.Engine
	if engine == "" {
		engine = api.DefaultEngine
	}
	m := replicaSetResourceModel{
		ID:                        types.StringValue(rs.Name),
		Name:                      types.StringValue(rs.Name),
		Engine:                    types.StringValue(engine),
		RequireSiteFaultTolerance: types.BoolValue(api.Bool(rs.RequireSiteFaultTolerance, true)),
		Version:                   types.Int64Value(int64(rs.Version)),
	}

	objType := types.ObjectType{AttrTypes: replicaSetMemberAttrTypes}
	members := make(map[string]attr.Value, len(rs.Members))
	for _, name := range api.SortedKeys(rs.Members) {
		am := rs.Members[name]
		pm := priorMembers[name]
		prio := am.DefaultPriority()
		if am.Priority != nil {
			prio = *am.Priority
		}
		priority := types.Float64Value(prio)
		if !pm.Priority.IsNull() && !pm.Priority.IsUnknown() && pm.Priority.ValueFloat64() == prio {
			priority = pm.Priority // same number; keep the configuration's exact form
		}
		mm := replicaSetMemberModel{
			Host:                  types.StringValue(am.Host),
			Site:                  types.StringValue(am.Site),
			Zone:                  rsOptionalString(am.Zone, pm.Zone),
			Priority:              priority,
			Votes:                 types.Int64Value(int64(api.Int(am.Votes, api.DefaultVotes))),
			Arbiter:               types.BoolValue(am.Arbiter),
			Hidden:                types.BoolValue(am.Hidden),
			SecondaryDelaySeconds: types.Int64Value(int64(am.SecondaryDelaySeconds)),
			Tags:                  rsOptionalStringMap(am.Tags, pm.Tags),
			HealthCheck:           rsOptionalString(am.HealthCheck, pm.HealthCheck),
		}
		v, d := types.ObjectValueFrom(ctx, replicaSetMemberAttrTypes, mm)
		diags.Append(d...)
		members[name] = v
	}
	var d diag.Diagnostics
	m.Members, d = types.MapValue(objType, members)
	diags.Append(d...)

	// failoverd's ids; AssignMemberIDs only completes them should a
	// member lack one, exactly as RenderConfig does for the document.
	m.MemberIDs, d = replicaSetMemberIDsValue(topology.AssignMemberIDs(rs.MemberIDs, rs.Members))
	diags.Append(d...)

	a := topology.Analyze(rs)
	if rs.Analysis != nil {
		a = *rs.Analysis
	}
	diags.Append(m.setAnalysis(a)...)

	m.ConfigJSON = types.StringNull()
	if doc == nil {
		return m, diags
	}
	var cfg topology.ReplSetConfig
	if err := json.Unmarshal(doc, &cfg); err != nil {
		diags.AddError("Invalid Replica Set Configuration Document",
			fmt.Sprintf("failoverd returned a configuration document for replica set %q that is not a replSetReconfig document: %s", rs.Name, err))
		return m, diags
	}
	s, err := replicaSetConfigJSON(cfg)
	if err != nil {
		diags.AddError("Cannot Render Replica Set Configuration", err.Error())
		return m, diags
	}
	m.ConfigJSON = types.StringValue(s)
	return m, diags
}

// replicaSetConfigJSON renders the configuration document as config_json,
// with version replicaSetConfigDocVersion.
func replicaSetConfigJSON(cfg topology.ReplSetConfig) (string, error) {
	cfg.Version = replicaSetConfigDocVersion
	if cfg.Members == nil {
		cfg.Members = []topology.ReplSetMember{}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encoding the configuration document of replica set %q: %w", cfg.ID, err)
	}
	return string(b), nil
}

func replicaSetMemberIDsValue(ids map[string]int) (types.Map, diag.Diagnostics) {
	elems := make(map[string]attr.Value, len(ids))
	for name, id := range ids {
		elems[name] = types.Int64Value(int64(id))
	}
	return types.MapValue(types.Int64Type, elems)
}

func replicaSetMemberIDsFromState(ctx context.Context, v types.Map) (map[string]int, diag.Diagnostics) {
	if v.IsNull() || v.IsUnknown() {
		return nil, nil
	}
	var raw map[string]int64
	diags := v.ElementsAs(ctx, &raw, false)
	ids := make(map[string]int, len(raw))
	for k, id := range raw {
		ids[k] = int(id)
	}
	return ids, diags
}

// rsNullIfEmpty maps "" (failoverd's "none") to null.
func rsNullIfEmpty(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// rsOptionalString maps an optional string failoverd omits when empty:
// "" stays "" only when the prior value was "" (set explicitly).
func rsOptionalString(s string, prior types.String) types.String {
	if s == "" && (prior.IsNull() || prior.IsUnknown() || prior.ValueString() != "") {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// rsOptionalStringMap maps an optional map failoverd omits when empty:
// empty stays {} only when the prior value was {}.
func rsOptionalStringMap(m map[string]string, prior types.Map) types.Map {
	if len(m) == 0 && (prior.IsNull() || prior.IsUnknown() || len(prior.Elements()) != 0) {
		return types.MapNull(types.StringType)
	}
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}
