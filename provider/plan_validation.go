package provider

import (
	"context"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Plan-time validation helpers shared by the resources whose ValidateConfig
// runs a domain validator (internal/health, internal/burst, …) over a
// config that may hold values known only after apply.

// unknownConfigRoots returns the top-level attributes of cfg that are not
// fully known yet (an unknown value, or a collection or object holding
// one). ok is false when the config as a whole is unknown, in which case
// nothing can be validated.
func unknownConfigRoots(cfg tfsdk.Config) (unknown map[string]bool, ok bool) {
	if !cfg.Raw.IsKnown() || cfg.Raw.IsNull() {
		return nil, false
	}
	var attrs map[string]tftypes.Value
	if err := cfg.Raw.As(&attrs); err != nil {
		return nil, false
	}
	unknown = map[string]bool{}
	for name, v := range attrs {
		if !v.IsFullyKnown() {
			unknown[name] = true
		}
	}
	return unknown, true
}

// problemRoot is the top-level attribute a field path starts with
// ("schedule" for `schedule[0].end`), or "" when it names none.
func problemRoot(field string) string {
	steps, err := api.ParsePath(field)
	if err != nil || len(steps) == 0 {
		return ""
	}
	return steps[0].Name
}

// dropUnknownProblems removes the problems a domain validator found only
// because part of the config is not known yet: those on an unknown
// attribute, and those on an attribute whose rule also reads an unknown one
// (dependsOn maps an attribute to the others its rules read, e.g.
// timeout_seconds → interval_seconds). Failoverd validates the full object
// again at apply time, so nothing is lost.
func dropUnknownProblems(probs api.Problems, unknown map[string]bool, dependsOn map[string][]string) api.Problems {
	if len(unknown) == 0 {
		return probs
	}
	var out api.Problems
next:
	for _, p := range probs {
		root := problemRoot(p.Field)
		if unknown[root] {
			continue
		}
		for _, dep := range dependsOn[root] {
			if unknown[dep] {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// dropShadowedProblems removes the problems on fields already reported
// another way (a schema validator running the same rule, a timestamp that
// does not parse), so one mistake is reported once, not once per layer.
func dropShadowedProblems(probs api.Problems, shadowed map[string]bool) api.Problems {
	if len(shadowed) == 0 {
		return probs
	}
	var out api.Problems
	for _, p := range probs {
		if !shadowed[p.Field] {
			out = append(out, p)
		}
	}
	return out
}

// configZeros returns the attributes cfg sets to a known zero value (0, ""
// or false), as api field paths, so that NormalizeExplicit refuses an
// explicit `rise = 0` at plan time exactly as failoverd refuses
// `"rise": 0`, instead of reading it as omitted. Elements of sets have no
// path and are skipped; no zero in a set means "the default".
func configZeros(cfg tfsdk.Config) api.ExplicitZeros {
	zeros := api.ExplicitZeros{}
	var walk func(field string, v tftypes.Value)
	walk = func(field string, v tftypes.Value) {
		if v.IsNull() || !v.IsKnown() {
			return
		}
		switch t := v.Type(); {
		case t.Is(tftypes.Object{}):
			var attrs map[string]tftypes.Value
			if v.As(&attrs) == nil {
				for name, e := range attrs {
					if field != "" {
						name = field + "." + name
					}
					walk(name, e)
				}
			}
		case t.Is(tftypes.Map{}):
			var elems map[string]tftypes.Value
			if v.As(&elems) == nil {
				for key, e := range elems {
					walk(api.MapKey(field, key), e)
				}
			}
		case t.Is(tftypes.List{}):
			var elems []tftypes.Value
			if v.As(&elems) == nil {
				for i, e := range elems {
					walk(api.Index(field, i), e)
				}
			}
		case t.Is(tftypes.String):
			var s string
			if v.As(&s) == nil && s == "" {
				zeros.Add(field)
			}
		case t.Is(tftypes.Number):
			var n big.Float
			if v.As(&n) == nil && n.Sign() == 0 {
				zeros.Add(field)
			}
		case t.Is(tftypes.Bool):
			var b bool
			if v.As(&b) == nil && !b {
				zeros.Add(field)
			}
		}
	}
	walk("", cfg.Raw)
	return zeros
}

// keepNullString maps an API string that is empty when omitted back to the
// representation the prior value had: null stays null, "" stays "".
func keepNullString(prior types.String, v string) types.String {
	if v == "" && (prior.IsNull() || prior.IsUnknown()) {
		return types.StringNull()
	}
	return types.StringValue(v)
}

// priorIsEmptyCollection reports whether prior is a known, non-null, empty
// list, set or map: an API that omits empty collections answers nil, and
// the user's `= []` / `= {}` must survive that round trip.
func priorIsEmptyCollection(prior attr.Value) bool {
	if prior == nil || prior.IsNull() || prior.IsUnknown() {
		return false
	}
	switch v := prior.(type) {
	case types.List:
		return len(v.Elements()) == 0
	case types.Set:
		return len(v.Elements()) == 0
	case types.Map:
		return len(v.Elements()) == 0
	}
	return false
}

// knownStrings returns the known string elements of a list or set (nil for
// a null or unknown collection; unknown elements are skipped).
func knownStrings(elems []attr.Value, known bool) []string {
	if !known {
		return nil
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		if s, ok := e.(types.String); ok && !s.IsNull() && !s.IsUnknown() {
			out = append(out, s.ValueString())
		}
	}
	return out
}

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
