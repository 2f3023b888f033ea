package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

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
	DrillSchedule            types.Object  `tfsdk:"drill_schedule"` // of trafficPolicyDrillScheduleModel
	Publish                  types.Object  `tfsdk:"publish"`        // of publishModel
	Version                  types.Int64   `tfsdk:"version"`
	FQDN                     types.String  `tfsdk:"fqdn"`
	WorstCaseFailoverSeconds types.Float64 `tfsdk:"worst_case_failover_seconds"`
	Warnings                 types.List    `tfsdk:"warnings"`
	Timeouts                 types.Object  `tfsdk:"timeouts"`
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
	Endpoints    types.Map    `tfsdk:"endpoints"` // of trafficPolicyEndpointModel
	MinHealthy   types.Int64  `tfsdk:"min_healthy"`
}

type trafficPolicyEndpointModel struct {
	Addresses    types.List `tfsdk:"addresses"`
	HealthChecks types.List `tfsdk:"health_checks"`
}

type trafficPolicyFallbackModel struct {
	Addresses types.List   `tfsdk:"addresses"`
	CNAME     types.String `tfsdk:"cname"`
}

type trafficPolicyDrillScheduleModel struct {
	Target      types.String `tfsdk:"target"`
	Cron        types.String `tfsdk:"cron"`
	Windows     types.List   `tfsdk:"windows"`
	HoldSeconds types.Int64  `tfsdk:"hold_seconds"`
	Reason      types.String `tfsdk:"reason"`
}

var (
	trafficPolicyDrillScheduleAttrTypes = map[string]attr.Type{
		"target":       types.StringType,
		"cron":         types.StringType,
		"windows":      types.ListType{ElemType: types.StringType},
		"hold_seconds": types.Int64Type,
		"reason":       types.StringType,
	}
	trafficPolicyTargetAttrTypes = map[string]attr.Type{
		"site":          types.StringType,
		"addresses":     types.ListType{ElemType: types.StringType},
		"cname":         types.StringType,
		"health_checks": types.ListType{ElemType: types.StringType},
		"priority":      types.Int64Type,
		"weight":        types.Int64Type,
		"enabled":       types.BoolType,
		"burst_only":    types.BoolType,
		"endpoints":     types.MapType{ElemType: types.ObjectType{AttrTypes: trafficPolicyEndpointAttrTypes}},
		"min_healthy":   types.Int64Type,
	}
	trafficPolicyEndpointAttrTypes = map[string]attr.Type{
		"addresses":     types.ListType{ElemType: types.StringType},
		"health_checks": types.ListType{ElemType: types.StringType},
	}
	trafficPolicyFallbackAttrTypes = map[string]attr.Type{
		"addresses": types.ListType{ElemType: types.StringType},
		"cname":     types.StringType,
	}
)

// toAPI maps the model to failoverd's wire type. A value not known yet
// reads as not set; plan-time validation (planCheck) knows which values
// those were and drops the verdicts that read them.
func (m trafficPolicyResourceModel) toAPI(ctx context.Context) (api.TrafficPolicy, diag.Diagnostics) {
	var diags diag.Diagnostics
	p := api.TrafficPolicy{
		Name:                 m.Name.ValueString(),
		Mode:                 m.Mode.ValueString(),
		TTLSeconds:           intPtr(m.TTLSeconds),
		FailoverDelaySeconds: int(m.FailoverDelaySeconds.ValueInt64()),
		FailbackDelaySeconds: intPtr(m.FailbackDelaySeconds),
		Failback:             m.Failback.ValueString(),
		BurstToggle:          m.BurstToggle.ValueString(),
		WhenAllDown:          m.WhenAllDown.ValueString(),
		RTOSeconds:           int(m.RTOSeconds.ValueInt64()),
		ReplicaSet:           m.ReplicaSet.ValueString(),
		Targets:              map[string]api.PolicyTarget{},
	}
	if known(m.Targets) {
		for key, v := range m.Targets.Elements() {
			obj, ok := v.(types.Object)
			if !ok || !known(obj) {
				p.Targets[key] = api.PolicyTarget{}
				continue
			}
			var t trafficPolicyTargetModel
			diags.Append(obj.As(ctx, &t, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
			p.Targets[key] = api.PolicyTarget{
				Site:         t.Site.ValueString(),
				Addresses:    stringsOf(t.Addresses),
				CNAME:        t.CNAME.ValueString(),
				HealthChecks: stringsOf(t.HealthChecks),
				Priority:     int(t.Priority.ValueInt64()),
				Weight:       intPtr(t.Weight),
				Enabled:      boolPtr(t.Enabled),
				BurstOnly:    t.BurstOnly.ValueBool(),
				MinHealthy:   intPtr(t.MinHealthy),
			}
			if known(t.Endpoints) {
				tg := p.Targets[key]
				tg.Endpoints = map[string]api.TargetEndpoint{}
				for en, ev := range t.Endpoints.Elements() {
					var em trafficPolicyEndpointModel
					if eo, ok := ev.(types.Object); ok && known(eo) {
						diags.Append(eo.As(ctx, &em, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
					}
					tg.Endpoints[en] = api.TargetEndpoint{Addresses: stringsOf(em.Addresses), HealthChecks: stringsOf(em.HealthChecks)}
				}
				p.Targets[key] = tg
			}
		}
	}
	if known(m.Fallback) {
		var fb trafficPolicyFallbackModel
		diags.Append(m.Fallback.As(ctx, &fb, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		p.Fallback = &api.Fallback{Addresses: stringsOf(fb.Addresses), CNAME: fb.CNAME.ValueString()}
	}
	if known(m.DrillSchedule) {
		var ds trafficPolicyDrillScheduleModel
		diags.Append(m.DrillSchedule.As(ctx, &ds, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		p.DrillSchedule = &api.DrillSchedule{Target: ds.Target.ValueString(), Cron: ds.Cron.ValueString(),
			Windows: stringsOf(ds.Windows), HoldSeconds: int(ds.HoldSeconds.ValueInt64()), Reason: ds.Reason.ValueString()}
	}
	pub, d := publishToAPI(ctx, m.Publish)
	diags.Append(d...)
	p.Publish = pub
	return p, diags
}

// fromAPI maps failoverd's policy onto the model. The receiver, the plan
// or the last state, decides between null and empty where both mean the
// same to failoverd, so an apply followed by a plan is always empty.
func (prior trafficPolicyResourceModel) fromAPI(ctx context.Context, p api.TrafficPolicy) (trafficPolicyResourceModel, diag.Diagnostics) {
	var diags, d diag.Diagnostics
	m := trafficPolicyResourceModel{
		ID:                       types.StringValue(p.Name),
		Name:                     types.StringValue(p.Name),
		Mode:                     types.StringValue(p.Mode),
		TTLSeconds:               types.Int64Value(int64(api.Int(p.TTLSeconds, api.DefaultTTLSeconds))),
		FailoverDelaySeconds:     types.Int64Value(int64(p.FailoverDelaySeconds)),
		FailbackDelaySeconds:     types.Int64Value(int64(api.Int(p.FailbackDelaySeconds, api.DefaultFailbackDelaySeconds))),
		Failback:                 types.StringValue(p.Failback),
		BurstToggle:              optionalString(prior.BurstToggle, p.BurstToggle),
		WhenAllDown:              types.StringValue(p.WhenAllDown),
		RTOSeconds:               optionalInt64(prior.RTOSeconds, p.RTOSeconds),
		ReplicaSet:               optionalString(prior.ReplicaSet, p.ReplicaSet),
		Version:                  types.Int64Value(int64(p.Version)),
		FQDN:                     types.StringValue(p.FQDN),
		WorstCaseFailoverSeconds: types.Float64Value(p.WorstCaseFailoverSeconds),
		Warnings:                 stringList(p.Warnings),
		Timeouts:                 timeoutsOrNull(prior.Timeouts),
	}
	if p.Failback == "" {
		m.Failback = types.StringValue(api.DefaultFailback)
	}

	priorTargets := map[string]attr.Value{}
	if known(prior.Targets) {
		priorTargets = prior.Targets.Elements()
	}
	targets := make(map[string]attr.Value, len(p.Targets))
	for key, t := range p.Targets {
		var pt trafficPolicyTargetModel
		if o, ok := priorTargets[key].(types.Object); ok && known(o) {
			diags.Append(o.As(ctx, &pt, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		}
		targets[key], d = types.ObjectValueFrom(ctx, trafficPolicyTargetAttrTypes, trafficPolicyTargetModel{
			Site:         optionalString(pt.Site, t.Site),
			Addresses:    optionalStringList(pt.Addresses, t.Addresses),
			CNAME:        optionalString(pt.CNAME, t.CNAME),
			HealthChecks: optionalStringList(pt.HealthChecks, t.HealthChecks),
			Priority:     optionalInt64(pt.Priority, t.Priority),
			Weight:       types.Int64Value(int64(api.Int(t.Weight, api.DefaultWeight))),
			Enabled:      types.BoolValue(api.Bool(t.Enabled, true)),
			BurstOnly:    types.BoolValue(t.BurstOnly),
			Endpoints:    endpointsValue(ctx, pt.Endpoints, t.Endpoints, &diags),
			MinHealthy:   types.Int64PointerValue(int64Ptr(t.MinHealthy)),
		})
		diags.Append(d...)
	}
	m.Targets, d = types.MapValue(types.ObjectType{AttrTypes: trafficPolicyTargetAttrTypes}, targets)
	diags.Append(d...)

	m.Fallback = types.ObjectNull(trafficPolicyFallbackAttrTypes)
	if p.Fallback != nil {
		var pf trafficPolicyFallbackModel
		if known(prior.Fallback) {
			diags.Append(prior.Fallback.As(ctx, &pf, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		}
		m.Fallback, d = types.ObjectValueFrom(ctx, trafficPolicyFallbackAttrTypes, trafficPolicyFallbackModel{
			Addresses: optionalStringList(pf.Addresses, p.Fallback.Addresses),
			CNAME:     optionalString(pf.CNAME, p.Fallback.CNAME),
		})
		diags.Append(d...)
	}

	m.DrillSchedule = types.ObjectNull(trafficPolicyDrillScheduleAttrTypes)
	if s := p.DrillSchedule; s != nil {
		var ps trafficPolicyDrillScheduleModel
		if known(prior.DrillSchedule) {
			diags.Append(prior.DrillSchedule.As(ctx, &ps, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		}
		m.DrillSchedule, d = types.ObjectValueFrom(ctx, trafficPolicyDrillScheduleAttrTypes, trafficPolicyDrillScheduleModel{
			Target:      types.StringValue(s.Target),
			Cron:        optionalString(ps.Cron, s.Cron),
			Windows:     optionalStringList(ps.Windows, s.Windows),
			HoldSeconds: optionalInt64(ps.HoldSeconds, s.HoldSeconds),
			Reason:      optionalString(ps.Reason, s.Reason),
		})
		diags.Append(d...)
	}
	m.Publish, d = publishFromAPI(ctx, prior.Publish, p.Publish)
	diags.Append(d...)
	return m, diags
}

// endpointsValue maps a target's endpoints; prior (plan or state) decides
// the null-versus-empty form of each endpoint's health_checks.
func endpointsValue(ctx context.Context, prior types.Map, eps map[string]api.TargetEndpoint, diags *diag.Diagnostics) types.Map {
	objType := types.ObjectType{AttrTypes: trafficPolicyEndpointAttrTypes}
	if len(eps) == 0 {
		return types.MapNull(objType)
	}
	priorEps := map[string]attr.Value{}
	if known(prior) {
		priorEps = prior.Elements()
	}
	elems := make(map[string]attr.Value, len(eps))
	for en, ep := range eps {
		var pe trafficPolicyEndpointModel
		if o, ok := priorEps[en].(types.Object); ok && known(o) {
			diags.Append(o.As(ctx, &pe, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		}
		v, d := types.ObjectValueFrom(ctx, trafficPolicyEndpointAttrTypes, trafficPolicyEndpointModel{
			Addresses:    optionalStringList(pe.Addresses, ep.Addresses),
			HealthChecks: optionalStringList(pe.HealthChecks, ep.HealthChecks),
		})
		diags.Append(d...)
		elems[en] = v
	}
	m, d := types.MapValue(objType, elems)
	diags.Append(d...)
	return m
}

// int64Ptr widens an optional int.
func int64Ptr(v *int) *int64 {
	if v == nil {
		return nil
	}
	w := int64(*v)
	return &w
}
