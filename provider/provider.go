// Package provider is the Terraform/OpenTofu provider for failoverd
// (terraform-plugin-framework, protocol 6). Resources are thin: they map
// their model to the internal/api wire types, validate at plan time with
// the same domain packages failoverd runs on every write, and call
// internal/client, which owns retries and idempotency.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/hatopo/terraform-provider-failover/internal/client"
)

// Environment variables the provider block falls back to.
const (
	envEndpoint = "FAILOVER_ENDPOINT"
	envToken    = "FAILOVER_TOKEN"
)

var (
	_ provider.Provider                   = &failoverProvider{}
	_ provider.ProviderWithFunctions      = &failoverProvider{}
	_ provider.ProviderWithValidateConfig = &failoverProvider{}
)

// New returns the provider factory.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &failoverProvider{version: version, plans: newPlanRegistry()}
	}
}

type failoverProvider struct {
	version string
	// plans carries health-check timings planned in this run to the
	// traffic policies that reference them, so worst_case_failover_seconds
	// is known at plan time even before the checks exist.
	plans *planRegistry
	// data is what Configure gave the resources, for the protocol
	// server's own answers (unchangedPlanner).
	data atomic.Pointer[providerData]
}

type failoverProviderModel struct {
	Endpoint           types.String `tfsdk:"endpoint"`
	Endpoints          types.List   `tfsdk:"endpoints"`
	Token              types.String `tfsdk:"token"`
	CACertPEM          types.String `tfsdk:"ca_cert_pem"`
	InsecureSkipVerify types.Bool   `tfsdk:"insecure_skip_verify"`
	RequestTimeout     types.String `tfsdk:"request_timeout"`
	MaxRetries         types.Int64  `tfsdk:"max_retries"`
}

// providerData is what Configure hands to resources and data sources.
type providerData struct {
	client *client.Client
	plans  *planRegistry
}

func (p *failoverProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "failover"
	resp.Version = p.version
}

func (p *failoverProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The failover provider declares health checks, traffic policies, database replica-set topologies and burst toggles " +
			"in [failoverd](https://github.com/hatopo/terraform-provider-failover), the control plane that enacts them: it probes every endpoint, " +
			"moves traffic between sites when one dies, and proves at plan time that a replica set keeps a voting majority when any one site is lost.\n\n" +
			"Start a local failoverd with `failoverd serve --dev` and export the token it prints as `FAILOVER_TOKEN`.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Base URL of failoverd's API, for a single failoverd. Set this or `endpoints`, not both. " +
					"When neither is set, the `FAILOVER_ENDPOINT` environment variable is used (one URL, or the nodes of a cluster separated by commas), then `" + client.DefaultEndpoint + "`.",
				Optional: true,
			},
			"endpoints": schema.ListAttribute{
				MarkdownDescription: "Base URLs of the failoverd nodes of a cluster (one per site), in the order to try them. " +
					"A request goes to the node that answered last and moves on at once from a node that is unreachable, does not answer within `request_timeout`, " +
					"or answers 503 (a node cut off from the etcd majority), so `terraform apply` keeps working while any one site is down. " +
					"Every attempt of a change carries the same `Idempotency-Key` and failoverd shares its idempotency records across the cluster, " +
					"so a change retried on another node is never applied twice. Set this or `endpoint`, not both; " +
					"`FAILOVER_ENDPOINT=url1,url2,url3` is the same list from the environment.",
				ElementType: types.StringType,
				Optional:    true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "API token (scope `admin` to manage objects, `read` for data sources only). Defaults to the `FAILOVER_TOKEN` environment variable.",
				Optional:            true,
				Sensitive:           true,
			},
			"ca_cert_pem": schema.StringAttribute{
				MarkdownDescription: "PEM bundle of the CA that signed failoverd's certificate, for an `https` endpoint with a private CA.",
				Optional:            true,
			},
			"insecure_skip_verify": schema.BoolAttribute{
				MarkdownDescription: "Skip verification of failoverd's TLS certificate. For tests only.",
				Optional:            true,
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: "Timeout of one API request attempt, as a Go duration such as `30s` (default `30s`).",
				Optional:            true,
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: "Retries of a request that failed with a connection error or 429/502/503/504 (default 4). " +
					"With `endpoints`, a retry is another round over every node after a backoff; moving on to the next node is immediate and not counted, so even with 0 every node is asked once. " +
					"Every mutation carries an `Idempotency-Key`, so a retry never applies twice.",
				Optional: true,
			},
		},
	}
}

func (p *failoverProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m failoverProviderModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for attr, v := range map[string]interface{ IsUnknown() bool }{"endpoint": m.Endpoint, "token": m.Token, "ca_cert_pem": m.CACertPEM} {
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(attr), "Unknown Provider Configuration",
				"The provider's "+attr+" depends on a value known only after apply. Set it from a variable or the environment instead.")
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	endpoints, known := configEndpoints(ctx, m, &resp.Diagnostics)
	if !known {
		resp.Diagnostics.AddAttributeError(path.Root("endpoints"), "Unknown Provider Configuration",
			"The provider's endpoints depend on a value known only after apply. Set them from a variable or the environment instead.")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if endpoints == nil {
		if env := os.Getenv(envEndpoint); env != "" {
			var err error
			if endpoints, err = client.SplitEndpoints(env); err != nil {
				resp.Diagnostics.AddError("Invalid FAILOVER_ENDPOINT",
					fmt.Sprintf("The FAILOVER_ENDPOINT environment variable is not a failoverd URL or a comma-separated list of them: %v. Fix or unset it, or set the provider's endpoint or endpoints.", err))
				return
			}
		}
	}
	cfg := client.Config{
		Endpoints: endpoints,
		Token:     firstNonEmpty(m.Token.ValueString(), os.Getenv(envToken)),
		CACertPEM: m.CACertPEM.ValueString(),
		UserAgent: "terraform-provider-failover/" + p.version,
		Logger: func(ctx context.Context, msg string, fields map[string]any) {
			tflog.Debug(ctx, msg, fields)
		},
		InsecureSkipVerify: m.InsecureSkipVerify.ValueBool(),
	}
	if !m.MaxRetries.IsNull() {
		cfg.MaxRetries = int(m.MaxRetries.ValueInt64())
		if cfg.MaxRetries == 0 {
			cfg.MaxRetries = -1 // 0 means "no retries" here, not "the default"
		}
	}
	if s := m.RequestTimeout.ValueString(); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			resp.Diagnostics.AddAttributeError(path.Root("request_timeout"), "Invalid Request Timeout",
				fmt.Sprintf("%q is not a positive Go duration: use a value such as \"30s\" or \"2m\".", s))
			return
		}
		cfg.Timeout = d
	}
	c, err := client.New(cfg)
	if err != nil {
		// The endpoints are valid by now: what is left is the CA.
		resp.Diagnostics.AddAttributeError(path.Root("ca_cert_pem"), "Invalid CA Certificate", err.Error())
		return
	}
	data := &providerData{client: c, plans: p.plans}
	p.data.Store(data)
	resp.ResourceData = data
	resp.DataSourceData = data
	tflog.Info(ctx, "configured failover provider", map[string]any{"endpoints": strings.Join(c.Endpoints(), ","), "max_retries": strconv.Itoa(cfg.MaxRetries)})
}

// ValidateConfig checks endpoint / endpoints at plan time, with the same
// rules the client applies, each problem on its attribute.
func (p *failoverProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var m failoverProviderModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	configEndpoints(ctx, m, &resp.Diagnostics)
}

// configEndpoints is the provider block's endpoint list: endpoints, or
// endpoint as a list of one; nil when neither is set (the environment
// decides). Setting both is refused rather than merged: a configuration
// with both is usually half-way through a move from one to the other, and
// guessing which one was meant could point terraform at the wrong
// failoverd. known is false while a value is unknown (nothing is checked).
func configEndpoints(ctx context.Context, m failoverProviderModel, diags *diag.Diagnostics) (endpoints []string, known bool) {
	if m.Endpoint.IsUnknown() || m.Endpoints.IsUnknown() {
		return nil, false
	}
	var list []types.String
	if !m.Endpoints.IsNull() {
		if d := m.Endpoints.ElementsAs(ctx, &list, false); d.HasError() {
			diags.Append(d...)
			return nil, true
		}
	}
	for _, e := range list {
		if e.IsUnknown() {
			return nil, false
		}
	}
	one := m.Endpoint.ValueString()
	switch {
	case one != "" && !m.Endpoints.IsNull():
		diags.AddAttributeError(path.Root("endpoints"), "Conflicting Endpoints",
			"Both endpoint and endpoints are set. Use endpoint for a single failoverd, or endpoints for the nodes of a cluster: "+
				"move the endpoint URL into the endpoints list and remove endpoint.")
		return nil, true
	case one != "":
		u, err := client.ParseEndpoint(one)
		if err != nil {
			diags.AddAttributeError(path.Root("endpoint"), "Invalid failoverd Endpoint", err.Error())
			return nil, true
		}
		return []string{u}, true
	case m.Endpoints.IsNull():
		return nil, true
	}
	raw := make([]string, len(list))
	for i, e := range list {
		if e.IsNull() {
			diags.AddAttributeError(path.Root("endpoints").AtListIndex(i), "Invalid failoverd Endpoint",
				"An entry of endpoints is null: remove it, or give the failoverd node's URL, such as \"http://127.0.0.1:8080\".")
			return nil, true
		}
		raw[i] = e.ValueString()
	}
	out, err := client.ParseEndpoints(raw)
	var ee *client.EndpointError
	switch {
	case errors.As(err, &ee):
		diags.AddAttributeError(path.Root("endpoints").AtListIndex(ee.Index), "Invalid failoverd Endpoint", ee.Err.Error())
		return nil, true
	case err != nil:
		diags.AddAttributeError(path.Root("endpoints"), "Invalid failoverd Endpoints", err.Error())
		return nil, true
	}
	return out, true
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (p *failoverProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewHealthCheckResource,
		NewTrafficPolicyResource,
		NewReplicaSetResource,
		NewBurstToggleResource,
		NewWebhookResource,
	}
}

func (p *failoverProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewTrafficDecisionDataSource,
		NewHealthCheckStatusDataSource,
		NewReplicaSetStatusDataSource,
	}
}

func (p *failoverProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{
		NewMajorityFunction,
		NewWorstCaseFailoverSecondsFunction,
	}
}

// providerDataFrom is every resource's and data source's Configure: the
// framework calls it once before the provider is configured (nil data).
func providerDataFrom(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	d, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", data))
	}
	return d
}
