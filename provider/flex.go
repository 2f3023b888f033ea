package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The null-versus-empty conversions every model uses, written once.
// failoverd omits empty optional values, so its answer cannot tell "not
// set" from "set to empty"; the prior value (plan or state) can, and
// keeping its form means an apply is never followed by a diff.

// stringOrNull maps "" (failoverd's "none") to null.
func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// optionalString maps an optional string: "" stays "" only when prior was "".
func optionalString(prior types.String, v string) types.String {
	if v == "" && !(known(prior) && prior.ValueString() == "") {
		return types.StringNull()
	}
	return types.StringValue(v)
}

// optionalInt64 maps an optional number failoverd omits when 0: 0 stays 0
// only when prior was 0.
func optionalInt64(prior types.Int64, v int) types.Int64 {
	if v == 0 && !(known(prior) && prior.ValueInt64() == 0) {
		return types.Int64Null()
	}
	return types.Int64Value(int64(v))
}

// optionalStringList maps an optional list: empty stays [] only when prior was [].
func optionalStringList(prior types.List, v []string) types.List {
	if len(v) == 0 && !(known(prior) && len(prior.Elements()) == 0) {
		return types.ListNull(types.StringType)
	}
	return types.ListValueMust(types.StringType, stringValues(v))
}

// optionalStringSet maps an optional set: empty stays [] only when prior was [].
func optionalStringSet(prior types.Set, v []string) types.Set {
	if len(v) == 0 && !(known(prior) && len(prior.Elements()) == 0) {
		return types.SetNull(types.StringType)
	}
	return types.SetValueMust(types.StringType, stringValues(v))
}

// optionalStringMap maps an optional map: empty stays {} only when prior was {}.
func optionalStringMap(prior types.Map, v map[string]string) types.Map {
	if len(v) == 0 && !(known(prior) && len(prior.Elements()) == 0) {
		return types.MapNull(types.StringType)
	}
	elems := make(map[string]attr.Value, len(v))
	for k, s := range v {
		elems[k] = types.StringValue(s)
	}
	return types.MapValueMust(types.StringType, elems)
}

// stringList is a known list of strings ([] for none).
func stringList(v []string) types.List {
	return types.ListValueMust(types.StringType, stringValues(v))
}

func stringValues(v []string) []attr.Value {
	out := make([]attr.Value, len(v))
	for i, s := range v {
		out[i] = types.StringValue(s)
	}
	return out
}

// known reports whether v is neither null nor unknown.
func known(v attr.Value) bool { return v != nil && !v.IsNull() && !v.IsUnknown() }

// Reading the model into wire values: null and unknown both read as "not
// set" (nil or the zero value); plan-time validation knows which values
// were unknown (planCheck) and waits for them.

func boolPtr(v types.Bool) *bool {
	if !known(v) {
		return nil
	}
	b := v.ValueBool()
	return &b
}

func intPtr(v types.Int64) *int {
	if !known(v) {
		return nil
	}
	i := int(v.ValueInt64())
	return &i
}

func float64Ptr(v types.Float64) *float64 {
	if !known(v) {
		return nil
	}
	f := v.ValueFloat64()
	return &f
}

// stringsOf returns the elements of a list or set of strings (nil for a
// null or unknown collection; an unknown element reads as "").
func stringsOf(v interface {
	attr.Value
	Elements() []attr.Value
}) []string {
	if !known(v) {
		return nil
	}
	out := make([]string, 0, len(v.Elements()))
	for _, e := range v.Elements() {
		s, _ := e.(types.String)
		out = append(out, s.ValueString())
	}
	return out
}

// stringMapOf returns the elements of a map of strings (nil for a null or
// unknown map).
func stringMapOf(v types.Map) map[string]string {
	if !known(v) {
		return nil
	}
	out := make(map[string]string, len(v.Elements()))
	for k, e := range v.Elements() {
		s, _ := e.(types.String)
		out[k] = s.ValueString()
	}
	return out
}
