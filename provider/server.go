package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sync/atomic"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// NewProtocol6Server is the provider's protocol 6 server: the framework's,
// with refreshed state returned in the protocol's JSON form, and its own
// answers where the framework's generic work is most of the cost of a
// large no-change plan: the plan of an unchanged resource
// (unchangedPlanner) and the upgrade of state already at the schema's
// version (UpgradeResourceState).
//
// Why: Terraform 1.10 and 1.11 decide whether a refresh-only plan has
// changes by comparing the refreshed state with the prior one structure by
// structure, including each value's in-memory number representation. A
// number read from the state file carries 512 bits of precision; the same
// number decoded from msgpack (how providers normally answer) carries 64.
// Every resource with a number attribute then "changed", and
// `terraform plan -refresh-only -detailed-exitcode` exits 2 while printing
// "No changes" (hashicorp/terraform#36403) — a false alarm for every drift
// check. Terraform decodes a JSON answer exactly as it decodes the state
// file, so equal values compare equal again. Real drift still differs and
// still exits 2. OpenTofu and older Terraform accept either form, and
// there the state stays in msgpack: a JSON number decodes with 512 bits,
// and Terraform compares numbers by formatting them, so JSON refreshes
// cost Terraform about a second of CPU per thousand resources in every
// plan (P4 in docs/benchmarks.md). Which CLI is talking is read from
// ConfigureProvider; before that, and for any version it cannot parse,
// the answer is JSON.
func NewProtocol6Server(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		p := New(version)().(*failoverProvider)
		return wrapServer(&protocolServer{
			ProviderServer: providerserver.NewProtocol6(p)(),
			unchanged:      newUnchangedPlanner(p),
		})
	}
}

// wrapServer is the identity, except in a build with the p4floor tag
// (floor_p4.go), which only the P4 benchmark makes.
var wrapServer = func(s *protocolServer) tfprotov6.ProviderServer { return s }

type protocolServer struct {
	tfprotov6.ProviderServer
	unchanged *unchangedPlanner
	// msgpackRefresh: the CLI is older than Terraform 1.10 (or OpenTofu
	// of a version before 1.10), which needs no JSON refresh.
	msgpackRefresh atomic.Bool
}

func (s *protocolServer) ConfigureProvider(ctx context.Context, req *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	s.msgpackRefresh.Store(refreshInMsgpack(req.TerraformVersion))
	return s.ProviderServer.ConfigureProvider(ctx, req)
}

// refreshInMsgpack reports whether a CLI of this version compares
// refreshed state without the 1.10/1.11 precision trouble.
func refreshInMsgpack(cliVersion string) bool {
	v, err := version.NewVersion(cliVersion)
	return err == nil && v.LessThan(jsonRefreshSince)
}

var jsonRefreshSince = version.Must(version.NewVersion("1.10.0"))

func (s *protocolServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if resp, ok := s.unchanged.plan(ctx, req); ok {
		return resp, nil
	}
	return s.ProviderServer.PlanResourceChange(ctx, req)
}

// UpgradeResourceState answers for state already at the schema's version
// as the framework does (the stored JSON decoded with the schema's type,
// attributes the schema no longer has ignored), without its per-call
// request conversions: Terraform asks once per resource in every plan.
// Anything else — an older version, state that does not decode — goes to
// the framework, for its upgraders and its error messages.
func (s *protocolServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if r, ok := s.unchanged.lookup(ctx, req.TypeName); ok && req.RawState != nil && req.Version == r.schema.Version {
		typ := r.typ
		v, err := req.RawState.UnmarshalWithOpts(typ, tfprotov6.UnmarshalOpts{
			ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true},
		})
		if err == nil {
			if dv, err := tfprotov6.NewDynamicValue(typ, v); err == nil {
				return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &dv}, nil
			}
		}
	}
	return s.ProviderServer.UpgradeResourceState(ctx, req)
}

func (s *protocolServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp, err := s.ProviderServer.ReadResource(ctx, req)
	if s.msgpackRefresh.Load() || err != nil || resp == nil || resp.NewState == nil || len(resp.NewState.MsgPack) == 0 {
		return resp, err
	}
	r, ok := s.unchanged.lookup(ctx, req.TypeName)
	if !ok {
		return resp, nil
	}
	if js, err := dynamicValueJSON(resp.NewState, r.typ); err == nil {
		resp.NewState = &tfprotov6.DynamicValue{JSON: js}
	}
	return resp, nil
}

// dynamicValueJSON re-encodes a msgpack DynamicValue as JSON.
func dynamicValueJSON(dv *tfprotov6.DynamicValue, typ tftypes.Type) ([]byte, error) {
	v, err := dv.Unmarshal(typ)
	if err != nil {
		return nil, err
	}
	j, err := tfValueJSON(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// tfValueJSON converts a wholly known value to what encoding/json writes
// as Terraform's JSON value encoding.
func tfValueJSON(v tftypes.Value) (any, error) {
	if !v.IsKnown() {
		return nil, fmt.Errorf("unknown value in state")
	}
	if v.IsNull() {
		return nil, nil
	}
	typ := v.Type()
	switch {
	case typ.Is(tftypes.String):
		var s string
		err := v.As(&s)
		return s, err
	case typ.Is(tftypes.Bool):
		var b bool
		err := v.As(&b)
		return b, err
	case typ.Is(tftypes.Number):
		var f big.Float
		if err := v.As(&f); err != nil {
			return nil, err
		}
		return json.Number(f.Text('f', -1)), nil
	case typ.Is(tftypes.Object{}):
		var attrs map[string]tftypes.Value
		if err := v.As(&attrs); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(attrs))
		for k, a := range attrs {
			j, err := tfValueJSON(a)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	case typ.Is(tftypes.Map{}):
		var elems map[string]tftypes.Value
		if err := v.As(&elems); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(elems))
		for k, e := range elems {
			j, err := tfValueJSON(e)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	case typ.Is(tftypes.List{}), typ.Is(tftypes.Set{}), typ.Is(tftypes.Tuple{}):
		var elems []tftypes.Value
		if err := v.As(&elems); err != nil {
			return nil, err
		}
		out := make([]any, len(elems))
		for i, e := range elems {
			j, err := tfValueJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported type %s", typ)
}
