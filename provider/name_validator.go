package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// apiNameValidator checks an object name with failoverd's own rule
// (api.CheckName), on the attribute, with failoverd's message.
type apiNameValidator struct{}

var _ validator.String = apiNameValidator{}

func (apiNameValidator) Description(context.Context) string {
	return "must be 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit"
}

func (v apiNameValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (apiNameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	var probs api.Problems
	api.CheckName(&probs, req.Path.String(), req.ConfigValue.ValueString())
	for _, p := range probs {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Name", capitalize(p.Detail)+".")
	}
}
