//go:build p4floor

package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// A provider that does no work of its own in a no-change plan: the floor
// of P4 (docs/benchmarks.md). Built only by scripts/bench (go build -tags
// p4floor), never released. It answers the four calls Terraform makes per
// resource in a plan with what it was given — the stored state decoded
// with the schema, the current state as refreshed, the prior state as
// planned, no validation — so the time left is Terraform's own work for a
// resource of this schema plus the protocol. A no-change plan cannot be
// faster than this with any provider for the same schema.
func init() {
	wrapServer = func(s *protocolServer) tfprotov6.ProviderServer { return floorServer{s} }
}

type floorServer struct{ *protocolServer }

func (s floorServer) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (s floorServer) ReadResource(_ context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

func (s floorServer) PlanResourceChange(_ context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.PriorState, PlannedPrivate: req.PriorPrivate}, nil
}
