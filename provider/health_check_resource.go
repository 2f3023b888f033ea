package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

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
				MarkdownDescription: "Probe type: `http`, `https` (an HTTP request; the response status and optionally the body decide), `tcp` (a connection that opens is a success) " +
					"or `calculated` (nothing is probed: the state is computed from `child_checks` by `healthy_when`).",
				Required: true,
			},
			"address": schema.StringAttribute{
				MarkdownDescription: "Endpoint as `host:port`, without scheme or path, e.g. `192.0.2.10:443`, `web1.example.org:8080` or `[2001:db8::10]:443`. Required for probed checks; a `calculated` check has none.",
				Optional:            true,
			},
			"invert": schema.BoolAttribute{
				MarkdownDescription: "Healthy when the probe fails and unhealthy when it succeeds — e.g. a maintenance flag URL that answers 200 while maintenance is on. " +
					"A failure of failoverd itself (no file descriptors, …) is never inverted. On a `calculated` check it swaps the computed healthy and unhealthy. Default `false`.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"child_checks": schema.ListAttribute{
				MarkdownDescription: "`calculated` checks only: the names of the checks it combines (which may be calculated too; a cycle is refused). Reference the resources so they are created first.",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"healthy_when": schema.StringAttribute{
				MarkdownDescription: "`calculated` checks only: `all` (healthy when every child is; the default), `any` (one healthy child is enough) or `at_least` (with `at_least`). " +
					"A child whose state is unknown never decides alone: the result is unknown until the known children decide it.",
				Optional: true,
				Computed: true,
			},
			"at_least": schema.Int64Attribute{
				MarkdownDescription: "With `healthy_when = \"at_least\"`: how many children must be healthy (1 to the number of `child_checks`).",
				Optional:            true,
			},
			"path": schema.StringAttribute{
				MarkdownDescription: "Request path of `http`/`https` probes, with the query string if any. Default `" + api.DefaultPath + "`; null on `tcp` checks.",
				Optional:            true,
				Computed:            true,
			},
			"method": schema.StringAttribute{
				MarkdownDescription: "HTTP method of `http`/`https` probes (case-sensitive). Default `" + api.DefaultMethod + "`; null on `tcp` checks.",
				Optional:            true,
				Computed:            true,
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
				MarkdownDescription: "HTTP status codes or inclusive ranges that count as success, e.g. `[\"200\", \"204\"]` or `[\"200-299\"]`. Default `[\"" + api.DefaultExpectedStatus + "\"]`; null on `tcp` checks.",
				Optional:            true,
				Computed:            true,
				ElementType:         types.StringType,
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
			"timeouts": timeoutsAttribute(),
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
	resp.Diagnostics.Append(getModel(ctx, req.Config, &m)...)
	pc, ok := newPlanCheck(req.Config.Raw)
	if resp.Diagnostics.HasError() || !ok {
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
	// name has its own schema validator (the same rule): report it once.
	pc.report(&resp.Diagnostics, "Invalid Health Check", withoutFields(append(probs, health.Validate(c)...), "name"))
}

// ModifyPlan plans the http defaults only where they mean something (a tcp
// check only connects, so its path, method and expected_status are null),
// and records the planned detection timing so that traffic policies
// planned in the same run compute worst_case_failover_seconds (and check
// rto_seconds) from the values being applied, not the stored ones.
func (r *healthCheckResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, config healthCheckResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getModel(ctx, req.Config, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	http := plan.Type.ValueString() != api.CheckTCP && plan.Type.ValueString() != api.CheckCalculated
	switch {
	case plan.Type.IsUnknown():
		plan.HealthyWhen = unknownUnlessSet(config.HealthyWhen)
	case plan.Type.ValueString() == api.CheckCalculated:
		plan.HealthyWhen = stringDefault(config.HealthyWhen, api.DefaultHealthyWhen)
	default:
		plan.HealthyWhen = config.HealthyWhen
	}
	switch {
	case plan.Type.IsUnknown():
		plan.Path, plan.Method, plan.ExpectedStatus = unknownUnlessSet(config.Path), unknownUnlessSet(config.Method), unknownListUnlessSet(config.ExpectedStatus)
	case http:
		plan.Path = stringDefault(config.Path, api.DefaultPath)
		plan.Method = stringDefault(config.Method, api.DefaultMethod)
		if config.ExpectedStatus.IsNull() {
			plan.ExpectedStatus = stringList([]string{api.DefaultExpectedStatus})
		}
	default:
		plan.Path, plan.Method, plan.ExpectedStatus = config.Path, config.Method, config.ExpectedStatus
	}
	resp.Diagnostics.Append(setModel(ctx, &resp.Plan, resp.Plan.Schema, plan)...)
	if r.data == nil || r.data.plans == nil || plan.Name.IsUnknown() {
		return // not configured yet
	}
	var o plannedObject
	if known(plan.IntervalSeconds) && known(plan.TimeoutSeconds) && known(plan.Fall) {
		o.timing = &topology.CheckTiming{
			IntervalSeconds: plan.IntervalSeconds.ValueFloat64(),
			TimeoutSeconds:  plan.TimeoutSeconds.ValueFloat64(),
			Fall:            int(plan.Fall.ValueInt64()),
		}
	}
	r.data.plans.plan(api.KindHealthCheck, plan.Name.ValueString(), o)
}

// stringDefault is the planned value of an optional string with a default.
func stringDefault(config types.String, def string) types.String {
	if config.IsNull() {
		return types.StringValue(def)
	}
	return config
}

func unknownUnlessSet(config types.String) types.String {
	if config.IsNull() {
		return types.StringUnknown()
	}
	return config
}

func unknownListUnlessSet(config types.List) types.List {
	if config.IsNull() {
		return types.ListUnknown(types.StringType)
	}
	return config
}

func (r *healthCheckResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan healthCheckResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
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
	state, diags := plan.fromAPI(ctx, out)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
}

func (r *healthCheckResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior healthCheckResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &prior)...)
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
	state, diags := prior.fromAPI(ctx, out)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
}

func (r *healthCheckResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior healthCheckResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getModel(ctx, req.State, &prior)...)
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
	state, diags := plan.fromAPI(ctx, out)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(setModel(ctx, &resp.State, resp.State.Schema, state)...)
}

func (r *healthCheckResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var prior healthCheckResourceModel
	resp.Diagnostics.Append(getModel(ctx, req.State, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	deleteObject(ctx, r.data, &resp.Diagnostics, api.KindHealthCheck, healthCheckKind, prior.Name.ValueString(), prior.Version.ValueInt64(), prior.Timeouts)
}

func (r *healthCheckResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}
