package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/health"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

var (
	_ resource.Resource                   = &healthCheckResource{}
	_ resource.ResourceWithConfigure      = &healthCheckResource{}
	_ resource.ResourceWithImportState    = &healthCheckResource{}
	_ resource.ResourceWithValidateConfig = &healthCheckResource{}
	_ resource.ResourceWithModifyPlan     = &healthCheckResource{}
)

// healthCheckKind names the object in diagnostics.
const healthCheckKind = "Health Check"

// NewHealthCheckResource is the failover_health_check resource.
func NewHealthCheckResource() resource.Resource { return &healthCheckResource{} }

type healthCheckResource struct {
	data *providerData
}

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
	Version         types.Int64   `tfsdk:"version"`
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

// healthCheckDependsOn lists, per attribute, the other attributes that
// health.Validate reads when judging it: with one of those unknown at plan
// time, the judgement waits for apply.
var healthCheckDependsOn = map[string][]string{
	"timeout_seconds": {"interval_seconds"},
	"body_match":      {"method", "type"},
	"tls":             {"type"},
	"path":            {"type"},
	"method":          {"type"},
	"host_header":     {"type"},
	"headers":         {"type"},
	"expected_status": {"type"},
}

func (r *healthCheckResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_health_check"
}

func (r *healthCheckResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A health check probes one endpoint (`http`, `https` or `tcp`) continuously from every probing site. " +
			"It turns `healthy` after `rise` consecutive successes and `unhealthy` after `fall` consecutive failures; " +
			"traffic policies and replica sets that reference it react to those transitions at once, at 4 a.m. without a human.\n\n" +
			"Worst-case detection time is `fall × interval_seconds + timeout_seconds` (30 + 2 = 32 s with the defaults); " +
			"`failover_traffic_policy` adds it to its failover delay and DNS TTL to compute `worst_case_failover_seconds`.\n\n" +
			"Every rule is checked at plan time with the same code failoverd runs on every write, so `terraform plan` fails where failoverd would.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Same as `name`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the check, unique in failoverd: 1–63 lower-case letters, digits and `-`. Traffic policies and replica-set members reference the check by this name. Changing it replaces the check (its history starts again as `unknown`).",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{apiNameValidator{}},
			},
			"site": schema.StringAttribute{
				MarkdownDescription: "Site the probed endpoint lives in (a label such as `onprem-dc1` or `aws-eu-west-1`; same rules as `name`).",
				Required:            true,
			},
			"type": schema.StringAttribute{
				MarkdownDescription: "Probe type: `http`, `https` (an HTTP request; the response status and optionally the body decide) or `tcp` (a connection that opens is a success).",
				Required:            true,
			},
			"address": schema.StringAttribute{
				MarkdownDescription: "Endpoint as `host:port`, without scheme or path, e.g. `192.0.2.10:443`, `web1.example.org:8080` or `[2001:db8::10]:443`.",
				Required:            true,
			},
			"path": schema.StringAttribute{
				MarkdownDescription: "Request path of `http`/`https` probes, with the query string if any. Default `" + api.DefaultPath + "`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.DefaultPath),
			},
			"method": schema.StringAttribute{
				MarkdownDescription: "HTTP method of `http`/`https` probes (case-sensitive). Default `" + api.DefaultMethod + "`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.DefaultMethod),
			},
			"host_header": schema.StringAttribute{
				MarkdownDescription: "`Host` header of `http`/`https` probes, when the endpoint serves a virtual host its address does not name, e.g. `www.example.org`. Default: the host of `address`.",
				Optional:            true,
			},
			"headers": schema.MapAttribute{
				MarkdownDescription: "Extra request headers of `http`/`https` probes, name → value. Set `Host` with `host_header`; connection-level headers are managed by the prober.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"expected_status": schema.ListAttribute{
				MarkdownDescription: "HTTP status codes or inclusive ranges that count as success, e.g. `[\"200\", \"204\"]` or `[\"200-299\"]`. Default `[\"" + api.DefaultExpectedStatus + "\"]`.",
				Optional:            true,
				Computed:            true,
				ElementType:         types.StringType,
				Default: listdefault.StaticValue(types.ListValueMust(types.StringType,
					[]attr.Value{types.StringValue(api.DefaultExpectedStatus)})),
			},
			"body_match": schema.SingleNestedAttribute{
				MarkdownDescription: "Also require the response body (its first 64 KiB) to match. Omit to judge by status only.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"mode": schema.StringAttribute{
						MarkdownDescription: "`exact` (the whole body, so `burst` does not match `no-burst`), `contains` (a substring — `no-burst` contains `burst`!) or `regex` (RE2 syntax).",
						Required:            true,
					},
					"value": schema.StringAttribute{
						MarkdownDescription: "Text or regular expression to match.",
						Required:            true,
					},
				},
			},
			"tls": schema.SingleNestedAttribute{
				MarkdownDescription: "Certificate verification of `https` probes. Omit to verify against the system roots with the host of `address` (or `host_header`).",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"server_name": schema.StringAttribute{
						MarkdownDescription: "Name the certificate must be issued for (SNI), when it differs from the host of `address`, e.g. `www.example.org`.",
						Optional:            true,
					},
					"ca_cert_pem": schema.StringAttribute{
						MarkdownDescription: "PEM bundle of the CA(s) to trust instead of the system roots, for endpoints with a private CA.",
						Optional:            true,
					},
					"insecure_skip_verify": schema.BoolAttribute{
						MarkdownDescription: "Accept any certificate. Default `false`. A probe that skips verification cannot tell your endpoint from an impostor; prefer `ca_cert_pem`.",
						Optional:            true,
						Computed:            true,
						Default:             booldefault.StaticBool(false),
					},
				},
			},
			"interval_seconds": schema.Float64Attribute{
				MarkdownDescription: fmt.Sprintf("Seconds between two probes from each site; at least 1. Default `%g`.", api.DefaultIntervalSeconds),
				Optional:            true,
				Computed:            true,
				Default:             float64default.StaticFloat64(api.DefaultIntervalSeconds),
			},
			"timeout_seconds": schema.Float64Attribute{
				MarkdownDescription: fmt.Sprintf("Seconds one probe may take before it counts as a failure; fractions allowed (e.g. `0.5`); must be less than `interval_seconds`. Default `%g`.", api.DefaultTimeoutSeconds),
				Optional:            true,
				Computed:            true,
				Default:             float64default.StaticFloat64(api.DefaultTimeoutSeconds),
			},
			"rise": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Consecutive successes that mark the endpoint healthy (1–100). Default `%d`.", api.DefaultRise),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(api.DefaultRise),
			},
			"fall": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Consecutive failures that mark the endpoint unhealthy (1–100). Default `%d`. One flaky probe never fails over; `fall × interval_seconds` is most of the detection time.", api.DefaultFall),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(api.DefaultFall),
			},
			"probe_sites": schema.SetAttribute{
				MarkdownDescription: "Sites that probe this endpoint. Default: every site running failoverd (one site in standalone mode).",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"quorum": schema.StringAttribute{
				MarkdownDescription: "How the probing sites' views combine: `majority` (down only when more than half of the reporting sites see it down), `all` (up only when every reporting site sees it up) or `any` (up when one site does). A site whose observations are older than 3 intervals does not vote. Default `" + api.DefaultQuorum + "`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.DefaultQuorum),
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether the check is probed. A disabled check is not probed and its state becomes `unknown`, which counts as up: disabling a check never moves traffic. Default `true`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
			},
			"version": schema.Int64Attribute{
				MarkdownDescription: "failoverd's version of the check (its ETag). Terraform updates only the version it last read, so a change made outside Terraform is never overwritten silently.",
				Computed:            true,
			},
		},
	}
}

func (r *healthCheckResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs failoverd's own rules (health.Validate) over the
// config, so a plan fails exactly where an apply would.
func (r *healthCheckResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m healthCheckResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	unknown, ok := unknownConfigRoots(req.Config)
	if !ok {
		return
	}
	c, diags := m.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// An explicit zero (rise = 0) is refused as failoverd refuses it, not
	// read as omitted.
	probs := c.NormalizeExplicit(configZeros(req.Config))
	probs = dropUnknownProblems(append(probs, health.Validate(c)...), unknown, healthCheckDependsOn)
	// name has its own schema validator (the same rule): report it once.
	probs = dropShadowedProblems(probs, map[string]bool{"name": true})
	addProblems(&resp.Diagnostics, "Invalid Health Check", probs)
}

// ModifyPlan records the planned detection timing so that traffic policies
// planned in the same run compute worst_case_failover_seconds (and check
// rto_seconds) from the values being applied, not the stored ones.
func (r *healthCheckResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil || r.data.plans == nil {
		return // destroy, or not configured yet
	}
	var (
		name              types.String
		interval, timeout types.Float64
		fall              types.Int64
	)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("interval_seconds"), &interval)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("timeout_seconds"), &timeout)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("fall"), &fall)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, v := range []attr.Value{name, interval, timeout, fall} {
		if v.IsNull() || v.IsUnknown() {
			return
		}
	}
	r.data.plans.set(name.ValueString(), topology.CheckTiming{
		IntervalSeconds: interval.ValueFloat64(),
		TimeoutSeconds:  timeout.ValueFloat64(),
		Fall:            int(fall.ValueInt64()),
	})
}

func (r *healthCheckResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan healthCheckResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := client.Create(ctx, r.data.client, api.KindHealthCheck, c)
	if err != nil {
		addClientError(&resp.Diagnostics, "create", healthCheckKind, c.Name, err)
		return
	}
	state, diags := healthCheckFromAPI(ctx, plan, out)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *healthCheckResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior healthCheckResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := client.Get[api.HealthCheck](ctx, r.data.client, api.KindHealthCheck, prior.Name.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "read", healthCheckKind, prior.Name.ValueString(), err)
		return
	}
	state, diags := healthCheckFromAPI(ctx, prior, out)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *healthCheckResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior healthCheckResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, diags := plan.toAPI(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := client.Update(ctx, r.data.client, api.KindHealthCheck, c.Name, c, uint64(prior.Version.ValueInt64()))
	if err != nil {
		addClientError(&resp.Diagnostics, "update", healthCheckKind, c.Name, err)
		return
	}
	state, diags := healthCheckFromAPI(ctx, plan, out)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *healthCheckResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state healthCheckResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.data.client.Delete(ctx, api.KindHealthCheck, state.Name.ValueString(), uint64(state.Version.ValueInt64()))
	if err != nil && !client.IsNotFound(err) {
		addClientError(&resp.Diagnostics, "delete", healthCheckKind, state.Name.ValueString(), err)
	}
}

func (r *healthCheckResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
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
		IntervalSeconds: m.IntervalSeconds.ValueFloat64(),
		TimeoutSeconds:  m.TimeoutSeconds.ValueFloat64(),
		Rise:            int(m.Rise.ValueInt64()),
		Fall:            int(m.Fall.ValueInt64()),
		Quorum:          m.Quorum.ValueString(),
	}
	if !m.Headers.IsNull() && !m.Headers.IsUnknown() {
		c.Headers = make(map[string]string, len(m.Headers.Elements()))
		for k, v := range m.Headers.Elements() {
			if s, ok := v.(types.String); ok && !s.IsNull() && !s.IsUnknown() {
				c.Headers[k] = s.ValueString()
			}
		}
	}
	c.ExpectedStatus = knownStrings(m.ExpectedStatus.Elements(), !m.ExpectedStatus.IsNull() && !m.ExpectedStatus.IsUnknown())
	// A set has no order; sorted, the same sites always produce the same
	// object, so re-applying never bumps the version.
	c.ProbeSites = knownStrings(m.ProbeSites.Elements(), !m.ProbeSites.IsNull() && !m.ProbeSites.IsUnknown())
	sort.Strings(c.ProbeSites)
	if !m.Enabled.IsNull() && !m.Enabled.IsUnknown() {
		enabled := m.Enabled.ValueBool()
		c.Enabled = &enabled
	}
	if !m.BodyMatch.IsNull() && !m.BodyMatch.IsUnknown() {
		var bm struct {
			Mode  types.String `tfsdk:"mode"`
			Value types.String `tfsdk:"value"`
		}
		diags.Append(m.BodyMatch.As(ctx, &bm, basetypes.ObjectAsOptions{})...)
		c.BodyMatch = &api.BodyMatch{Mode: bm.Mode.ValueString(), Value: bm.Value.ValueString()}
	}
	if !m.TLS.IsNull() && !m.TLS.IsUnknown() {
		var t struct {
			ServerName         types.String `tfsdk:"server_name"`
			CACertPEM          types.String `tfsdk:"ca_cert_pem"`
			InsecureSkipVerify types.Bool   `tfsdk:"insecure_skip_verify"`
		}
		diags.Append(m.TLS.As(ctx, &t, basetypes.ObjectAsOptions{})...)
		c.TLS = &api.TLSConfig{ServerName: t.ServerName.ValueString(), CACertPEM: t.CACertPEM.ValueString(),
			InsecureSkipVerify: t.InsecureSkipVerify.ValueBool()}
	}
	return c, diags
}

// healthCheckFromAPI maps the stored check to the model. prior (the plan
// or the state) decides how values the API omits when empty are shown:
// null stays null and an explicit empty value stays empty, so an apply is
// always followed by an empty plan.
func healthCheckFromAPI(ctx context.Context, prior healthCheckResourceModel, c api.HealthCheck) (healthCheckResourceModel, diag.Diagnostics) {
	var diags, d diag.Diagnostics
	m := healthCheckResourceModel{
		ID:              types.StringValue(c.Name),
		Name:            types.StringValue(c.Name),
		Site:            types.StringValue(c.Site),
		Type:            types.StringValue(c.Type),
		Address:         types.StringValue(c.Address),
		Path:            types.StringValue(c.Path),
		Method:          types.StringValue(c.Method),
		HostHeader:      keepNullString(prior.HostHeader, c.HostHeader),
		IntervalSeconds: types.Float64Value(c.IntervalSeconds),
		TimeoutSeconds:  types.Float64Value(c.TimeoutSeconds),
		Rise:            types.Int64Value(int64(c.Rise)),
		Fall:            types.Int64Value(int64(c.Fall)),
		Quorum:          types.StringValue(c.Quorum),
		Enabled:         types.BoolValue(api.Bool(c.Enabled, true)),
		Version:         types.Int64Value(int64(c.Version)),
	}

	switch {
	case len(c.Headers) > 0:
		m.Headers, d = types.MapValueFrom(ctx, types.StringType, c.Headers)
		diags.Append(d...)
	case priorIsEmptyCollection(prior.Headers):
		m.Headers = types.MapValueMust(types.StringType, map[string]attr.Value{})
	default:
		m.Headers = types.MapNull(types.StringType)
	}

	status := c.ExpectedStatus
	if status == nil {
		status = []string{api.DefaultExpectedStatus}
	}
	m.ExpectedStatus, d = types.ListValueFrom(ctx, types.StringType, status)
	diags.Append(d...)

	switch {
	case len(c.ProbeSites) > 0:
		m.ProbeSites, d = types.SetValueFrom(ctx, types.StringType, c.ProbeSites)
		diags.Append(d...)
	case priorIsEmptyCollection(prior.ProbeSites):
		m.ProbeSites = types.SetValueMust(types.StringType, []attr.Value{})
	default:
		m.ProbeSites = types.SetNull(types.StringType)
	}

	m.BodyMatch = types.ObjectNull(healthCheckBodyMatchAttrTypes)
	if bm := c.BodyMatch; bm != nil {
		m.BodyMatch = types.ObjectValueMust(healthCheckBodyMatchAttrTypes, map[string]attr.Value{
			"mode":  types.StringValue(bm.Mode),
			"value": types.StringValue(bm.Value),
		})
	}

	m.TLS = types.ObjectNull(healthCheckTLSAttrTypes)
	if t := c.TLS; t != nil {
		priorServerName, priorCA := types.StringNull(), types.StringNull()
		if !prior.TLS.IsNull() && !prior.TLS.IsUnknown() {
			a := prior.TLS.Attributes()
			if v, ok := a["server_name"].(types.String); ok {
				priorServerName = v
			}
			if v, ok := a["ca_cert_pem"].(types.String); ok {
				priorCA = v
			}
		}
		m.TLS = types.ObjectValueMust(healthCheckTLSAttrTypes, map[string]attr.Value{
			"server_name":          keepNullString(priorServerName, t.ServerName),
			"ca_cert_pem":          keepNullString(priorCA, t.CACertPEM),
			"insecure_skip_verify": types.BoolValue(t.InsecureSkipVerify),
		})
	}
	return m, diags
}
