package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// The publish block of failover_traffic_policy (DESIGN §8). Plan-time
// validation is policy.Validate's, run on toAPI's result like the rest of
// the policy: one validator for the provider and failoverd.

type publishModel struct {
	Route53 types.Object `tfsdk:"route53"`
	RFC2136 types.Object `tfsdk:"rfc2136"`
}

type publishRoute53Model struct {
	ZoneID        types.String `tfsdk:"zone_id"`
	RecordName    types.String `tfsdk:"record_name"`
	SetIdentifier types.String `tfsdk:"set_identifier"`
}

type publishRFC2136Model struct {
	Server     types.String `tfsdk:"server"`
	Zone       types.String `tfsdk:"zone"`
	RecordName types.String `tfsdk:"record_name"`
	TSIGKey    types.String `tfsdk:"tsig_key"`
}

var (
	publishRoute53AttrTypes = map[string]attr.Type{"zone_id": types.StringType, "record_name": types.StringType, "set_identifier": types.StringType}
	publishRFC2136AttrTypes = map[string]attr.Type{"server": types.StringType, "zone": types.StringType, "record_name": types.StringType, "tsig_key": types.StringType}
	publishAttrTypes        = map[string]attr.Type{
		"route53": types.ObjectType{AttrTypes: publishRoute53AttrTypes},
		"rfc2136": types.ObjectType{AttrTypes: publishRFC2136AttrTypes},
	}
)

func publishSchema() schema.Attribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Mirror every decision into DNS servers failoverd does not run, for names clients resolve without a " +
			"delegation to failoverd. The published record set is exactly what failoverd's own DNS answers: the serving targets' " +
			"addresses (A/AAAA) or CNAME, with `ttl_seconds`; with `when_all_down = \"fail_closed\"` and nothing serving, the record " +
			"is deleted. Publications leave from a durable outbox written with the decision, are retried until the server takes " +
			"them, and are read back and repaired when changed outside failoverd. No secret goes through Terraform: AWS credentials " +
			"come from failoverd's environment (default credential chain), TSIG keys from its `--tsig-keys` file.",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"route53": schema.SingleNestedAttribute{
				MarkdownDescription: "A record set in a Route 53 hosted zone (UPSERT, then wait for INSYNC).",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"zone_id":     schema.StringAttribute{MarkdownDescription: "Hosted zone id, e.g. `Z0123456789ABCDEFGHIJ`.", Required: true},
					"record_name": schema.StringAttribute{MarkdownDescription: "Fully qualified name to publish, e.g. `www.example.com`.", Required: true},
					"set_identifier": schema.StringAttribute{MarkdownDescription: "Set identifier of a routing-policy record (weighted, latency, failover) " +
						"that failoverd updates; create it once with its routing policy, failoverd keeps its values.", Optional: true},
				},
			},
			"rfc2136": schema.SingleNestedAttribute{
				MarkdownDescription: "A name in a zone of a DNS server that accepts RFC 2136 dynamic updates signed with TSIG (BIND, knot, PowerDNS, Infoblox, AD).",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"server":      schema.StringAttribute{MarkdownDescription: "The zone's primary server, `host` or `host:port` (port 53 by default).", Required: true},
					"zone":        schema.StringAttribute{MarkdownDescription: "The zone, e.g. `example.internal`.", Required: true},
					"record_name": schema.StringAttribute{MarkdownDescription: "Fully qualified name inside `zone`, e.g. `www.example.internal`.", Required: true},
					"tsig_key":    schema.StringAttribute{MarkdownDescription: "Name of a key in failoverd's `--tsig-keys` file (the secret stays there).", Required: true},
				},
			},
		},
	}
}

// publishToAPI reads the publish block; unknown values read as unset.
func publishToAPI(ctx context.Context, o types.Object) (*api.Publish, diag.Diagnostics) {
	var diags diag.Diagnostics
	if !known(o) {
		return nil, diags
	}
	var pm publishModel
	diags.Append(o.As(ctx, &pm, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
	p := &api.Publish{}
	if known(pm.Route53) {
		var r publishRoute53Model
		diags.Append(pm.Route53.As(ctx, &r, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		p.Route53 = &api.PublishRoute53{ZoneID: r.ZoneID.ValueString(), RecordName: r.RecordName.ValueString(), SetIdentifier: r.SetIdentifier.ValueString()}
	}
	if known(pm.RFC2136) {
		var r publishRFC2136Model
		diags.Append(pm.RFC2136.As(ctx, &r, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		p.RFC2136 = &api.PublishRFC2136{Server: r.Server.ValueString(), Zone: r.Zone.ValueString(), RecordName: r.RecordName.ValueString(), TSIGKey: r.TSIGKey.ValueString()}
	}
	return p, diags
}

// publishFromAPI maps failoverd's publish block onto the model; prior
// decides null versus empty for the optional set_identifier.
func publishFromAPI(ctx context.Context, prior types.Object, p *api.Publish) (types.Object, diag.Diagnostics) {
	var diags, d diag.Diagnostics
	if p == nil {
		return types.ObjectNull(publishAttrTypes), diags
	}
	var pm publishModel
	if known(prior) {
		diags.Append(prior.As(ctx, &pm, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
	}
	out := publishModel{Route53: types.ObjectNull(publishRoute53AttrTypes), RFC2136: types.ObjectNull(publishRFC2136AttrTypes)}
	if r := p.Route53; r != nil {
		var pr publishRoute53Model
		if known(pm.Route53) {
			diags.Append(pm.Route53.As(ctx, &pr, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		}
		out.Route53, d = types.ObjectValueFrom(ctx, publishRoute53AttrTypes, publishRoute53Model{
			ZoneID: types.StringValue(r.ZoneID), RecordName: types.StringValue(r.RecordName),
			SetIdentifier: optionalString(pr.SetIdentifier, r.SetIdentifier),
		})
		diags.Append(d...)
	}
	if r := p.RFC2136; r != nil {
		out.RFC2136, d = types.ObjectValueFrom(ctx, publishRFC2136AttrTypes, publishRFC2136Model{
			Server: types.StringValue(r.Server), Zone: types.StringValue(r.Zone),
			RecordName: types.StringValue(r.RecordName), TSIGKey: types.StringValue(r.TSIGKey),
		})
		diags.Append(d...)
	}
	o, d := types.ObjectValueFrom(ctx, publishAttrTypes, out)
	diags.Append(d...)
	return o, diags
}
