package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/webhook"
)

var (
	_ resource.Resource                   = &webhookResource{}
	_ resource.ResourceWithConfigure      = &webhookResource{}
	_ resource.ResourceWithImportState    = &webhookResource{}
	_ resource.ResourceWithValidateConfig = &webhookResource{}
)

const webhookKind = "Webhook"

// NewWebhookResource is the failover_webhook resource.
func NewWebhookResource() resource.Resource { return &webhookResource{} }

type webhookResource struct {
	data *providerData
}

type webhookResourceModel struct {
	ID       types.String `tfsdk:"id"`
	Name     types.String `tfsdk:"name"`
	URL      types.String `tfsdk:"url"`
	Events   types.List   `tfsdk:"events"`
	Enabled  types.Bool   `tfsdk:"enabled"`
	Secret   types.String `tfsdk:"secret"`
	Version  types.Int64  `tfsdk:"version"`
	Timeouts types.Object `tfsdk:"timeouts"`
}

func (m webhookResourceModel) toAPI() api.Webhook {
	return api.Webhook{Name: m.Name.ValueString(), URL: m.URL.ValueString(), Events: stringsOf(m.Events),
		Enabled: boolPtr(m.Enabled), Secret: m.Secret.ValueString()}
}

func (prior webhookResourceModel) fromAPI(w api.Webhook) webhookResourceModel {
	return webhookResourceModel{
		ID: types.StringValue(w.Name), Name: types.StringValue(w.Name), URL: types.StringValue(w.URL),
		Events:   optionalStringList(prior.Events, w.Events),
		Enabled:  types.BoolValue(api.Bool(w.Enabled, api.DefaultWebhookEnabled)),
		Secret:   types.StringValue(w.Secret),
		Version:  types.Int64Value(int64(w.Version)),
		Timeouts: timeoutsOrNull(prior.Timeouts),
	}
}

func (r *webhookResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook"
}

func (r *webhookResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A webhook delivers failoverd's events (health transitions, decisions, burst toggles, replica sets, audit, " +
			"publications) to an HTTP receiver such as PagerDuty, Slack or a ticketing system: one `POST` per event, its body the event's JSON, " +
			"in order, at least once (dedupe on the `" + webhook.EventIDHeader + "` header, the event's `seq`), retried with backoff while the " +
			"receiver is down.\n\nEvery delivery is signed: `" + webhook.SignatureHeader + ": t=<unix seconds>,v1=<hex>` where `v1` is " +
			"HMAC-SHA256(secret, `<t>.<body>`). A receiver recomputes it over the raw body, compares in constant time and rejects a `t` " +
			"older than a few minutes, so a captured request cannot be replayed. The secret stays in failoverd's `--webhook-secrets` file; " +
			"`secret` only names it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Same as `name`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the webhook, unique in failoverd: 1–63 lower-case letters, digits and `-`.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{apiNameValidator{}},
			},
			"url": schema.StringAttribute{
				MarkdownDescription: "The receiver's absolute `http` or `https` URL, without credentials (the signature authenticates failoverd).",
				Required:            true,
			},
			"events": schema.ListAttribute{
				MarkdownDescription: "Event types to deliver: " + "`" + strings.Join(webhook.EventTypes, "`, `") + "`. Omit to deliver every type.",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Deliver events (default `true`). A disabled webhook keeps its place in the event log and resumes from it when enabled again (events that aged out of the log meanwhile are counted as dropped).",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(api.DefaultWebhookEnabled),
			},
			"secret": schema.StringAttribute{
				MarkdownDescription: "Name of the signing secret in failoverd's `--webhook-secrets` file. The secret itself never goes through the API or Terraform state.",
				Required:            true,
			},
			"version": schema.Int64Attribute{
				MarkdownDescription: "failoverd's version of the webhook (its ETag).",
				Computed:            true,
			},
			"timeouts": timeoutsAttribute(),
		},
	}
}

func (r *webhookResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs failoverd's own rules (webhook.Validate) at plan time.
func (r *webhookResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m webhookResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pc, ok := newPlanCheck(req.Config.Raw)
	if !ok {
		return
	}
	pc.report(&resp.Diagnostics, "Invalid Webhook", withoutFields(webhook.Validate(m.toAPI()), "name"))
}

func (r *webhookResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan webhookResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	w := plan.toAPI()
	out, err := client.Create(ctx, r.data.client, api.KindWebhook, w)
	if err != nil {
		addClientError(&resp.Diagnostics, "create", webhookKind, w.Name, err)
		return
	}
	state := plan.fromAPI(out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *webhookResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior webhookResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := client.Get[api.Webhook](ctx, r.data.client, api.KindWebhook, prior.Name.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addClientError(&resp.Diagnostics, "read", webhookKind, prior.Name.ValueString(), err)
		return
	}
	state := prior.fromAPI(out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *webhookResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior webhookResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	w := plan.toAPI()
	out, err := client.Update(ctx, r.data.client, api.KindWebhook, w.Name, w, uint64(prior.Version.ValueInt64()))
	if err != nil {
		addClientError(&resp.Diagnostics, "update", webhookKind, w.Name, err)
		return
	}
	state := plan.fromAPI(out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *webhookResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state webhookResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	deleteObject(ctx, r.data, &resp.Diagnostics, api.KindWebhook, webhookKind, state.Name.ValueString(), state.Version.ValueInt64(), state.Timeouts)
}

func (r *webhookResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("name"), req, resp)
}
