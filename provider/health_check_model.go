package provider

import (
	"context"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

type healthCheckResourceModel struct {
	ID              types.String  `tfsdk:"id"`
	Name            types.String  `tfsdk:"name"`
	Site            types.String  `tfsdk:"site"`
	Type            types.String  `tfsdk:"type"`
	Address         types.String  `tfsdk:"address"`
	Path            types.String  `tfsdk:"path"`
	Method          types.String  `tfsdk:"method"`
	HostHeader      types.String  `tfsdk:"host_header"`
	Headers         types.Map     `tfsdk:"headers"`
	ExpectedStatus  types.List    `tfsdk:"expected_status"`
	BodyMatch       types.Object  `tfsdk:"body_match"`
	TLS             types.Object  `tfsdk:"tls"`
	IntervalSeconds types.Float64 `tfsdk:"interval_seconds"`
	TimeoutSeconds  types.Float64 `tfsdk:"timeout_seconds"`
	Rise            types.Int64   `tfsdk:"rise"`
	Fall            types.Int64   `tfsdk:"fall"`
	ProbeSites      types.Set     `tfsdk:"probe_sites"`
	Quorum          types.String  `tfsdk:"quorum"`
	Enabled         types.Bool    `tfsdk:"enabled"`
	Invert          types.Bool    `tfsdk:"invert"`
	ChildChecks     types.List    `tfsdk:"child_checks"`
	HealthyWhen     types.String  `tfsdk:"healthy_when"`
	AtLeast         types.Int64   `tfsdk:"at_least"`
	Version         types.Int64   `tfsdk:"version"`
	Timeouts        types.Object  `tfsdk:"timeouts"`
}

// Object types of the nested attributes, shared by Schema and the model
// conversions.
var (
	healthCheckBodyMatchAttrTypes = map[string]attr.Type{
		"mode":  types.StringType,
		"value": types.StringType,
	}
	healthCheckTLSAttrTypes = map[string]attr.Type{
		"server_name":          types.StringType,
		"ca_cert_pem":          types.StringType,
		"insecure_skip_verify": types.BoolType,
	}
)

type healthCheckBodyMatchModel struct {
	Mode  types.String `tfsdk:"mode"`
	Value types.String `tfsdk:"value"`
}

type healthCheckTLSModel struct {
	ServerName         types.String `tfsdk:"server_name"`
	CACertPEM          types.String `tfsdk:"ca_cert_pem"`
	InsecureSkipVerify types.Bool   `tfsdk:"insecure_skip_verify"`
}

// toAPI maps the model to the wire type. Null and unknown values become
// the zero value, which the API reads as "omitted" (the default).
func (m healthCheckResourceModel) toAPI(ctx context.Context) (api.HealthCheck, diag.Diagnostics) {
	var diags diag.Diagnostics
	c := api.HealthCheck{
		Name:            m.Name.ValueString(),
		Site:            m.Site.ValueString(),
		Type:            m.Type.ValueString(),
		Address:         m.Address.ValueString(),
		Path:            m.Path.ValueString(),
		Method:          m.Method.ValueString(),
		HostHeader:      m.HostHeader.ValueString(),
		Headers:         stringMapOf(m.Headers),
		ExpectedStatus:  stringsOf(m.ExpectedStatus),
		IntervalSeconds: m.IntervalSeconds.ValueFloat64(),
		TimeoutSeconds:  m.TimeoutSeconds.ValueFloat64(),
		Rise:            int(m.Rise.ValueInt64()),
		Fall:            int(m.Fall.ValueInt64()),
		// A set has no order; sorted, the same sites always produce the
		// same object, so re-applying never bumps the version.
		ProbeSites: stringsOf(m.ProbeSites),
		Quorum:     m.Quorum.ValueString(),
		Enabled:    boolPtr(m.Enabled),
		Invert:     m.Invert.ValueBool(),
		// Children are kept in the configured order: the calculated
		// state's explanation lists them so.
		ChildChecks: stringsOf(m.ChildChecks),
		HealthyWhen: m.HealthyWhen.ValueString(),
		AtLeast:     int(m.AtLeast.ValueInt64()),
	}
	sort.Strings(c.ProbeSites)
	if known(m.BodyMatch) {
		var bm healthCheckBodyMatchModel
		diags.Append(m.BodyMatch.As(ctx, &bm, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		c.BodyMatch = &api.BodyMatch{Mode: bm.Mode.ValueString(), Value: bm.Value.ValueString()}
	}
	if known(m.TLS) {
		var t healthCheckTLSModel
		diags.Append(m.TLS.As(ctx, &t, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		c.TLS = &api.TLSConfig{ServerName: t.ServerName.ValueString(), CACertPEM: t.CACertPEM.ValueString(),
			InsecureSkipVerify: t.InsecureSkipVerify.ValueBool()}
	}
	return c, diags
}

// fromAPI maps the stored check onto the model. The receiver (the plan or
// the state) decides how values the API omits when empty are shown, so an
// apply is always followed by an empty plan. A tcp check only connects: its
// http attributes, which failoverd fills with their defaults, read as null.
func (prior healthCheckResourceModel) fromAPI(ctx context.Context, c api.HealthCheck) (healthCheckResourceModel, diag.Diagnostics) {
	var diags, d diag.Diagnostics
	m := healthCheckResourceModel{
		ID:              types.StringValue(c.Name),
		Name:            types.StringValue(c.Name),
		Site:            types.StringValue(c.Site),
		Type:            types.StringValue(c.Type),
		Address:         optionalString(prior.Address, c.Address),
		Path:            types.StringValue(c.Path),
		Method:          types.StringValue(c.Method),
		HostHeader:      optionalString(prior.HostHeader, c.HostHeader),
		Headers:         optionalStringMap(prior.Headers, c.Headers),
		IntervalSeconds: types.Float64Value(c.IntervalSeconds),
		TimeoutSeconds:  types.Float64Value(c.TimeoutSeconds),
		Rise:            types.Int64Value(int64(c.Rise)),
		Fall:            types.Int64Value(int64(c.Fall)),
		ProbeSites:      optionalStringSet(prior.ProbeSites, c.ProbeSites),
		Quorum:          types.StringValue(c.Quorum),
		Enabled:         types.BoolValue(api.Bool(c.Enabled, true)),
		Invert:          types.BoolValue(c.Invert),
		ChildChecks:     optionalStringList(prior.ChildChecks, c.ChildChecks),
		HealthyWhen:     optionalString(prior.HealthyWhen, c.HealthyWhen),
		AtLeast:         optionalInt64(prior.AtLeast, c.AtLeast),
		Version:         types.Int64Value(int64(c.Version)),
		Timeouts:        timeoutsOrNull(prior.Timeouts),
	}
	status := c.ExpectedStatus
	if status == nil {
		status = []string{api.DefaultExpectedStatus}
	}
	m.ExpectedStatus = stringList(status)
	if c.Type == api.CheckTCP || c.Type == api.CheckCalculated {
		m.Path, m.Method = tcpHTTPOnly(c.Path, api.DefaultPath), tcpHTTPOnly(c.Method, api.DefaultMethod)
		if len(status) == 1 && status[0] == api.DefaultExpectedStatus {
			m.ExpectedStatus = types.ListNull(types.StringType)
		}
	}

	m.BodyMatch = types.ObjectNull(healthCheckBodyMatchAttrTypes)
	if bm := c.BodyMatch; bm != nil {
		m.BodyMatch, d = types.ObjectValueFrom(ctx, healthCheckBodyMatchAttrTypes, healthCheckBodyMatchModel{
			Mode: types.StringValue(bm.Mode), Value: types.StringValue(bm.Value),
		})
		diags.Append(d...)
	}

	m.TLS = types.ObjectNull(healthCheckTLSAttrTypes)
	if t := c.TLS; t != nil {
		var pt healthCheckTLSModel
		if known(prior.TLS) {
			diags.Append(prior.TLS.As(ctx, &pt, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		}
		m.TLS, d = types.ObjectValueFrom(ctx, healthCheckTLSAttrTypes, healthCheckTLSModel{
			ServerName:         optionalString(pt.ServerName, t.ServerName),
			CACertPEM:          optionalString(pt.CACertPEM, t.CACertPEM),
			InsecureSkipVerify: types.BoolValue(t.InsecureSkipVerify),
		})
		diags.Append(d...)
	}
	return m, diags
}

// tcpHTTPOnly reads an http attribute of a tcp check: null when it holds
// the default failoverd fills in.
func tcpHTTPOnly(v, def string) types.String {
	if v == "" || v == def {
		return types.StringNull()
	}
	return types.StringValue(v)
}
