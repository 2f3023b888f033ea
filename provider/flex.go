package provider

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
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

// getModel and setModel move a whole plan, state or config into and out of
// a model struct, as the framework's Get and Set do, without their per-call
// reflection: the framework validates every struct tag of every call by
// compiling a regular expression, a tenth of the provider's CPU in a
// no-change plan (BenchmarkNoChangePlan). The field layout of each model
// type is read once; the values still go through the framework's typed
// object, so its type checks stay.
func getModel[M any](ctx context.Context, from interface {
	Get(context.Context, any) diag.Diagnostics
}, m *M) diag.Diagnostics {
	if !modelFieldsOf(reflect.TypeFor[M]()).plain {
		return from.Get(ctx, m)
	}
	var obj types.Object
	diags := from.Get(ctx, &obj)
	if diags.HasError() {
		return diags
	}
	fields := modelFieldsOf(reflect.TypeFor[M]())
	v := reflect.ValueOf(m).Elem()
	for name, a := range obj.Attributes() {
		i, ok := fields.index[name]
		if !ok {
			diags.AddError("Provider Model Mismatch", fmt.Sprintf("%s has no field for the attribute %q: report this to the provider developers.", v.Type(), name))
			return diags
		}
		f := v.Field(i)
		av := reflect.ValueOf(a)
		if !av.Type().AssignableTo(f.Type()) {
			diags.AddError("Provider Model Mismatch", fmt.Sprintf("%s.%s is %s, the attribute %q is %s: report this to the provider developers.", v.Type(), v.Type().Field(i).Name, f.Type(), name, av.Type()))
			return diags
		}
		f.Set(av)
	}
	return diags
}

// setModel is getModel's reverse. schema is the plan's or state's (its
// object type is read once per model type).
func setModel[M any](ctx context.Context, to interface {
	Set(context.Context, any) diag.Diagnostics
}, schema interface{ Type() attr.Type }, m M) diag.Diagnostics {
	fields := modelFieldsOf(reflect.TypeFor[M]())
	if !fields.plain {
		return to.Set(ctx, m)
	}
	ot := fields.objectType(schema)
	if len(ot.AttrTypes) != len(fields.index) {
		return to.Set(ctx, m) // not this model's schema: the framework's way
	}
	v := reflect.ValueOf(m)
	attrs := make(map[string]attr.Value, len(fields.index))
	for name, i := range fields.index {
		a, _ := v.Field(i).Interface().(attr.Value)
		at, known := ot.AttrTypes[name]
		if a == nil || !known {
			return to.Set(ctx, m)
		}
		if !a.Type(ctx).Equal(at) {
			return to.Set(ctx, m) // the framework's own error names the attribute
		}
		attrs[name] = a
	}
	obj, diags := types.ObjectValue(ot.AttrTypes, attrs)
	if diags.HasError() {
		return diags
	}
	return to.Set(ctx, obj)
}

type modelFields struct {
	// plain: a struct whose tagged fields are all attr.Values (types.String
	// and the like); other models (Go slices, pointers to nested structs)
	// go through the framework's Get and Set.
	plain bool
	index map[string]int // attribute name → field index
	typ   *atomic.Pointer[basetypes.ObjectType]
}

// objectType is the schema's object type, computed on first use (a
// schema's Type walks every attribute).
func (f modelFields) objectType(schema interface{ Type() attr.Type }) basetypes.ObjectType {
	if t := f.typ.Load(); t != nil {
		return *t
	}
	t, _ := schema.Type().(basetypes.ObjectType)
	f.typ.Store(&t)
	return t
}

var modelFieldCache sync.Map // reflect.Type → modelFields

func modelFieldsOf(t reflect.Type) modelFields {
	if f, ok := modelFieldCache.Load(t); ok {
		return f.(modelFields)
	}
	f := modelFields{plain: t.Kind() == reflect.Struct, index: map[string]int{}, typ: new(atomic.Pointer[basetypes.ObjectType])}
	attrValue := reflect.TypeFor[attr.Value]()
	for i := 0; f.plain && i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("tfsdk"); tag != "" && tag != "-" {
			f.index[tag] = i
			f.plain = t.Field(i).Type.Implements(attrValue)
		}
	}
	g, _ := modelFieldCache.LoadOrStore(t, f)
	return g.(modelFields)
}
