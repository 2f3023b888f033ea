package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

type replicaSetResourceModel struct {
	ID                        types.String `tfsdk:"id"`
	Name                      types.String `tfsdk:"name"`
	Engine                    types.String `tfsdk:"engine"`
	Members                   types.Map    `tfsdk:"members"`
	RequireSiteFaultTolerance types.Bool   `tfsdk:"require_site_fault_tolerance"`
	RequireMajorityWrites     types.Bool   `tfsdk:"require_majority_writes_after_site_loss"`
	Version                   types.Int64  `tfsdk:"version"`
	MemberIDs                 types.Map    `tfsdk:"member_ids"`
	VotingMembers             types.Int64  `tfsdk:"voting_members"`
	Majority                  types.Int64  `tfsdk:"majority"`
	FaultTolerance            types.Int64  `tfsdk:"fault_tolerance"`
	PreferredPrimarySite      types.String `tfsdk:"preferred_primary_site"`
	SiteLoss                  types.Map    `tfsdk:"site_loss"`
	DefaultWriteConcern       types.String `tfsdk:"default_write_concern"`
	WriteMajority             types.Int64  `tfsdk:"write_majority"`
	Warnings                  types.List   `tfsdk:"warnings"`
	ConfigJSON                types.String `tfsdk:"config_json"`
	Timeouts                  types.Object `tfsdk:"timeouts"`
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

	MajorityWrites     types.Bool   `tfsdk:"majority_writes"`
	DataVotersLeft     types.Int64  `tfsdk:"data_voters_left"`
	WriteConcernBefore types.String `tfsdk:"write_concern_before"`
	WriteConcernAfter  types.String `tfsdk:"write_concern_after"`
	CriticalMembers    types.List   `tfsdk:"critical_members"`
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

	"majority_writes":      types.BoolType,
	"data_voters_left":     types.Int64Type,
	"write_concern_before": types.StringType,
	"write_concern_after":  types.StringType,
	"critical_members":     types.ListType{ElemType: types.StringType},
}

// toAPI maps the model to the wire type. A value not known yet reads as
// not set; plan-time validation (planCheck) knows which values those were.
func (m replicaSetResourceModel) toAPI(ctx context.Context) (api.ReplicaSet, diag.Diagnostics) {
	var diags diag.Diagnostics
	rs := api.ReplicaSet{
		Name:                               m.Name.ValueString(),
		Engine:                             m.Engine.ValueString(),
		RequireSiteFaultTolerance:          boolPtr(m.RequireSiteFaultTolerance),
		RequireMajorityWritesAfterSiteLoss: boolPtr(m.RequireMajorityWrites),
	}
	if !known(m.Members) {
		return rs, diags
	}
	rs.Members = make(map[string]api.Member, len(m.Members.Elements()))
	for name, v := range m.Members.Elements() {
		obj, ok := v.(basetypes.ObjectValue)
		if !ok || !known(obj) {
			rs.Members[name] = api.Member{}
			continue
		}
		var mm replicaSetMemberModel
		diags.Append(obj.As(ctx, &mm, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		votes := intPtr(mm.Votes)
		rs.Members[name] = api.Member{
			Host:                  mm.Host.ValueString(),
			Site:                  mm.Site.ValueString(),
			Zone:                  mm.Zone.ValueString(),
			Priority:              float64Ptr(mm.Priority),
			Votes:                 votes,
			Arbiter:               mm.Arbiter.ValueBool(),
			Hidden:                mm.Hidden.ValueBool(),
			SecondaryDelaySeconds: int(mm.SecondaryDelaySeconds.ValueInt64()),
			Tags:                  stringMapOf(mm.Tags),
			HealthCheck:           mm.HealthCheck.ValueString(),
		}
	}
	return rs, diags
}

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
	m.PreferredPrimarySite = stringOrNull(a.PreferredPrimarySite)
	m.DefaultWriteConcern = stringOrNull(a.DefaultWriteConcern)
	m.WriteMajority = types.Int64Value(int64(a.WriteMajority))

	objType := types.ObjectType{AttrTypes: replicaSetSiteLossAttrTypes}
	losses := make(map[string]attr.Value, len(a.SiteLoss))
	for _, site := range api.SortedKeys(a.SiteLoss) {
		l := a.SiteLoss[site]
		critical := make([]attr.Value, 0, len(l.CriticalMembers))
		for _, name := range l.CriticalMembers {
			critical = append(critical, types.StringValue(name))
		}
		cv, d := types.ListValue(types.StringType, critical)
		diags.Append(d...)
		v, d := types.ObjectValue(replicaSetSiteLossAttrTypes, map[string]attr.Value{
			"survives":             types.BoolValue(l.Survives),
			"new_primary":          stringOrNull(l.NewPrimary),
			"votes_lost":           types.Int64Value(int64(l.VotesLost)),
			"votes_left":           types.Int64Value(int64(l.VotesLeft)),
			"majority_writes":      types.BoolValue(l.MajorityWrites),
			"data_voters_left":     types.Int64Value(int64(l.DataVotersLeft)),
			"write_concern_before": stringOrNull(l.WriteConcernBefore),
			"write_concern_after":  stringOrNull(l.WriteConcernAfter),
			"critical_members":     cv,
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

// fromAPI maps what failoverd returned (the object and its
// configuration document) to the model. prior (plan or state, may be
// empty) decides the null-versus-empty form of optional values that
// failoverd does not distinguish, and the exact form of equal priorities,
// so an apply followed by a plan is always empty.
func (prior replicaSetResourceModel) fromAPI(ctx context.Context, rs api.ReplicaSet, doc json.RawMessage) (replicaSetResourceModel, diag.Diagnostics) {
	var diags diag.Diagnostics
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
		RequireMajorityWrites:     types.BoolValue(api.Bool(rs.RequireMajorityWritesAfterSiteLoss, api.DefaultRequireMajorityWritesAfterSiteLoss)),
		Version:                   types.Int64Value(int64(rs.Version)),
		Timeouts:                  timeoutsOrNull(prior.Timeouts),
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
			Zone:                  optionalString(pm.Zone, am.Zone),
			Priority:              priority,
			Votes:                 types.Int64Value(int64(api.Int(am.Votes, api.DefaultVotes))),
			Arbiter:               types.BoolValue(am.Arbiter),
			Hidden:                types.BoolValue(am.Hidden),
			SecondaryDelaySeconds: types.Int64Value(int64(am.SecondaryDelaySeconds)),
			Tags:                  optionalStringMap(pm.Tags, am.Tags),
			HealthCheck:           optionalString(pm.HealthCheck, am.HealthCheck),
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
