package provider

import (
	"context"
	"reflect"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// unchangedPlanner answers PlanResourceChange for a resource whose
// configuration has not changed — the plan of every resource in a
// no-change `terraform plan` — without the framework's plan walk.
//
// Why: the framework plans an update by walking the whole schema several
// times per resource (defaults, every attribute's plan modifiers, each
// step of each path looked up by copying the schema's attribute map), so
// a resource with twenty attributes costs about a millisecond and a
// megabyte of garbage per plan however little changed. With a thousand
// health checks that was 40 % of the provider's CPU in a no-change plan
// (P4 in docs/benchmarks.md).
//
// When it answers: Terraform's proposed new state equals the prior state
// (so the framework would not mark anything unknown), every default the
// framework would apply already holds, every attribute plan modifier is
// one that does nothing to an unchanged value (UseStateForUnknown,
// RequiresReplace), and the resource's own ModifyPlan — called here
// exactly as the framework calls it — leaves the plan as it is with no
// diagnostics. The answer is then the prior state, which is what the
// framework returns in that case. In every other case (create, destroy,
// any change, any unknown, a warning to show) the framework plans as
// usual; a resource whose ModifyPlan warns then runs it twice (a policy
// that warns reads the checks it names from failoverd twice). TestUnchangedPlanMatchesFramework and FuzzUnchangedPlan hold the
// two paths to the same answers.
type unchangedPlanner struct {
	provider *failoverProvider

	once      sync.Once
	resources map[string]*unchangedResource // resource type name → what planning it needs
}

type unchangedResource struct {
	resource resource.Resource // configured on first use (after ConfigureProvider)
	schema   schema.Schema
	typ      tftypes.Type
	// plannable: every plan modifier in the schema leaves an unchanged
	// value alone, and no attribute type is one planUnchanged does not
	// know how to check defaults for.
	plannable bool

	configureOnce sync.Once
}

func newUnchangedPlanner(p *failoverProvider) *unchangedPlanner {
	return &unchangedPlanner{provider: p}
}

func (u *unchangedPlanner) load(ctx context.Context) {
	u.once.Do(func() {
		u.resources = map[string]*unchangedResource{}
		for _, factory := range u.provider.Resources(ctx) {
			r := factory()
			var meta resource.MetadataResponse
			r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "failover"}, &meta)
			var sch resource.SchemaResponse
			r.Schema(ctx, resource.SchemaRequest{}, &sch)
			if sch.Diagnostics.HasError() {
				continue
			}
			u.resources[meta.TypeName] = &unchangedResource{
				resource:  r,
				schema:    sch.Schema,
				typ:       sch.Schema.Type().TerraformType(ctx),
				plannable: attributesPlannable(sch.Schema.Attributes),
			}
		}
	})
}

// lookup returns what the protocol server knows of a resource type (its
// schema and state type, read once from the resource itself).
func (u *unchangedPlanner) lookup(ctx context.Context, typeName string) (*unchangedResource, bool) {
	u.load(ctx)
	r, ok := u.resources[typeName]
	return r, ok
}

// plan returns the framework's answer to req when the resource has not
// changed, and false when the framework must plan it.
func (u *unchangedPlanner) plan(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, bool) {
	ur, ok := u.lookup(ctx, req.TypeName)
	if !ok || !ur.plannable || req.PriorState == nil || req.ProposedNewState == nil || req.Config == nil ||
		len(req.PriorPrivate) != 0 || req.ProviderMeta != nil && len(req.ProviderMeta.MsgPack)+len(req.ProviderMeta.JSON) != 0 ||
		req.PriorIdentity != nil {
		return nil, false
	}
	prior, err := req.PriorState.Unmarshal(ur.typ)
	if err != nil || prior.IsNull() || !prior.IsFullyKnown() {
		return nil, false
	}
	proposed, err := req.ProposedNewState.Unmarshal(ur.typ)
	if err != nil || !proposed.Equal(prior) {
		return nil, false
	}
	config, err := req.Config.Unmarshal(ur.typ)
	if err != nil || config.IsNull() || !config.IsFullyKnown() {
		return nil, false
	}
	if !defaultsHold(ctx, ur.schema.Attributes, path.Empty(), prior, config) {
		return nil, false
	}
	if mp, ok := ur.resource.(resource.ResourceWithModifyPlan); ok {
		// Configured once the provider is: before that (unknown provider
		// configuration) the framework too gives resources no data.
		if data := u.provider.data.Load(); data != nil {
			ur.configureOnce.Do(func() {
				if c, ok := ur.resource.(resource.ResourceWithConfigure); ok {
					c.Configure(ctx, resource.ConfigureRequest{ProviderData: data}, &resource.ConfigureResponse{})
				}
			})
		}
		state := tfsdk.State{Schema: ur.schema, Raw: prior}
		mreq := resource.ModifyPlanRequest{
			Config: tfsdk.Config{Schema: ur.schema, Raw: config},
			State:  state,
			Plan:   tfsdk.Plan{Schema: ur.schema, Raw: prior},
		}
		mresp := resource.ModifyPlanResponse{Plan: mreq.Plan}
		mp.ModifyPlan(ctx, mreq, &mresp)
		if len(mresp.Diagnostics) != 0 || len(mresp.RequiresReplace) != 0 || mresp.Deferred != nil ||
			!mresp.Plan.Raw.Equal(prior) {
			return nil, false
		}
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.PriorState}, true
}

// noChangeModifiers are the plan modifiers that do nothing when the
// planned value equals the prior one: UseStateForUnknown acts only on an
// unknown plan; RequiresReplace, RequiresReplaceIf and
// RequiresReplaceIfConfigured (one type) only on a changed value.
var noChangeModifiers = map[reflect.Type]bool{
	reflect.TypeOf(stringplanmodifier.UseStateForUnknown()): true,
	reflect.TypeOf(stringplanmodifier.RequiresReplace()):    true,
}

// attributesPlannable reports whether every plan modifier under attrs is
// one of noChangeModifiers and every attribute is of a kind whose defaults
// defaultsHold checks.
func attributesPlannable(attrs map[string]schema.Attribute) bool {
	for _, a := range attrs {
		switch a.(type) {
		case schema.StringAttribute, schema.BoolAttribute, schema.Int64Attribute, schema.Float64Attribute,
			schema.ListAttribute, schema.SetAttribute, schema.MapAttribute, schema.SingleNestedAttribute,
			schema.ListNestedAttribute, schema.SetNestedAttribute, schema.MapNestedAttribute:
		default:
			return false // a kind this planner was not written for
		}
		// Each kind keeps its modifiers in a PlanModifiers slice of its
		// own element type, and its nested attributes in Attributes (a
		// single object) or NestedObject (each element of a collection).
		v := reflect.ValueOf(a)
		if !modifiersNoChange(v.FieldByName("PlanModifiers")) {
			return false
		}
		if n, ok := a.(schema.SingleNestedAttribute); ok && !attributesPlannable(n.Attributes) {
			return false
		}
		if obj := v.FieldByName("NestedObject"); obj.IsValid() {
			nested, _ := obj.FieldByName("Attributes").Interface().(map[string]schema.Attribute)
			if !modifiersNoChange(obj.FieldByName("PlanModifiers")) || !attributesPlannable(nested) {
				return false
			}
		}
	}
	return true
}

func modifiersNoChange(mods reflect.Value) bool {
	for i := 0; i < mods.Len(); i++ {
		if !noChangeModifiers[reflect.TypeOf(mods.Index(i).Interface())] {
			return false
		}
	}
	return true
}

// defaultsHold reports whether the framework's defaults would leave the
// object value v (of attrs, at p) as it is: wherever config is null and
// the attribute has a default, v already holds the default; and whether
// every value converts to its attribute's type, as the framework's plan
// walk converts them. As the
// framework does, it descends only into objects that are not null in v.
// Defaults inside sets of objects are not matched element by element:
// such a value makes it answer false.
func defaultsHold(ctx context.Context, attrs map[string]schema.Attribute, p path.Path, v, config tftypes.Value) bool {
	var vs, cs map[string]tftypes.Value
	if err := v.As(&vs); err != nil {
		return false
	}
	if !config.IsNull() {
		if err := config.As(&cs); err != nil {
			return false
		}
	}
	for name, a := range attrs {
		val, ok := vs[name]
		if !ok {
			return false
		}
		cv, ok := cs[name]
		if !ok {
			cv = tftypes.NewValue(val.Type(), nil)
		}
		ap := p.AtName(name)
		switch a := a.(type) {
		case schema.SingleNestedAttribute:
			if a.Default != nil && cv.IsNull() && !defaultEquals(ctx, a.Default, ap, val) {
				return false
			}
			if !val.IsNull() && !defaultsHold(ctx, a.Attributes, ap, val, cv) {
				return false
			}
			continue
		case schema.ListNestedAttribute:
			if a.Default != nil || !elementsHold(ctx, a.NestedObject.Attributes, ap, val, cv, false) {
				return false
			}
			continue
		case schema.MapNestedAttribute:
			if a.Default != nil || !elementsHold(ctx, a.NestedObject.Attributes, ap, val, cv, true) {
				return false
			}
			continue
		case schema.SetNestedAttribute:
			// A set element's path is its value, which the defaults being
			// checked are part of: not worth matching by hand.
			if a.Default != nil || (!val.IsNull() && hasDefaults(a.NestedObject.Attributes)) {
				return false
			}
			continue
		}
		// The framework reads every attribute into its type on the way
		// (an Int64 holding 2.5 is its error, so it must be ours too).
		if _, err := a.GetType().ValueFromTerraform(ctx, val); err != nil {
			return false
		}
		if !cv.IsNull() {
			continue
		}
		if d := attributeDefault(a); d != nil && !defaultEquals(ctx, d, ap, val) {
			return false
		}
	}
	return true
}

// elementsHold is defaultsHold for each object of a list (by index) or a
// map (by key) of nested objects, against the configuration's element at
// the same index or key (null when there is none).
func elementsHold(ctx context.Context, attrs map[string]schema.Attribute, p path.Path, v, config tftypes.Value, isMap bool) bool {
	if v.IsNull() {
		return true
	}
	if isMap {
		var vs, cs map[string]tftypes.Value
		if v.As(&vs) != nil || (!config.IsNull() && config.As(&cs) != nil) {
			return false
		}
		for k, e := range vs {
			ce, ok := cs[k]
			if !ok {
				ce = tftypes.NewValue(e.Type(), nil)
			}
			if !e.IsNull() && !defaultsHold(ctx, attrs, p.AtMapKey(k), e, ce) {
				return false
			}
		}
		return true
	}
	var vs, cs []tftypes.Value
	if v.As(&vs) != nil || (!config.IsNull() && config.As(&cs) != nil) {
		return false
	}
	for i, e := range vs {
		ce := tftypes.NewValue(e.Type(), nil)
		if i < len(cs) {
			ce = cs[i]
		}
		if !e.IsNull() && !defaultsHold(ctx, attrs, p.AtListIndex(i), e, ce) {
			return false
		}
	}
	return true
}

// attributeDefault is a primitive or collection attribute's default (nil
// when it has none).
func attributeDefault(a schema.Attribute) any {
	switch a := a.(type) {
	case schema.StringAttribute:
		return nilIfNil(a.Default)
	case schema.BoolAttribute:
		return nilIfNil(a.Default)
	case schema.Int64Attribute:
		return nilIfNil(a.Default)
	case schema.Float64Attribute:
		return nilIfNil(a.Default)
	case schema.ListAttribute:
		return nilIfNil(a.Default)
	case schema.SetAttribute:
		return nilIfNil(a.Default)
	case schema.MapAttribute:
		return nilIfNil(a.Default)
	}
	return nil
}

func nilIfNil[T any](d T) any {
	if reflect.ValueOf(&d).Elem().IsNil() {
		return nil
	}
	return d
}

func hasDefaults(attrs map[string]schema.Attribute) bool {
	for _, a := range attrs {
		if attributeDefault(a) != nil {
			return true
		}
		if n, ok := a.(schema.SingleNestedAttribute); ok && (n.Default != nil || hasDefaults(n.Attributes)) {
			return true
		}
	}
	return false
}

// defaultEquals reports whether the default d at p is the value v. It
// knows the defaults of the attribute kinds this provider gives defaults
// (strings, bools, int64s, float64s); any other default answers false,
// and the framework plans.
func defaultEquals(ctx context.Context, d any, p path.Path, v tftypes.Value) bool {
	var value interface {
		ToTerraformValue(context.Context) (tftypes.Value, error)
	}
	var diags diag.Diagnostics
	switch d := d.(type) {
	case defaults.String:
		var resp defaults.StringResponse
		d.DefaultString(ctx, defaults.StringRequest{Path: p}, &resp)
		value, diags = resp.PlanValue, resp.Diagnostics
	case defaults.Bool:
		var resp defaults.BoolResponse
		d.DefaultBool(ctx, defaults.BoolRequest{Path: p}, &resp)
		value, diags = resp.PlanValue, resp.Diagnostics
	case defaults.Int64:
		var resp defaults.Int64Response
		d.DefaultInt64(ctx, defaults.Int64Request{Path: p}, &resp)
		value, diags = resp.PlanValue, resp.Diagnostics
	case defaults.Float64:
		var resp defaults.Float64Response
		d.DefaultFloat64(ctx, defaults.Float64Request{Path: p}, &resp)
		value, diags = resp.PlanValue, resp.Diagnostics
	default:
		return false
	}
	if diags.HasError() {
		return false
	}
	tv, err := value.ToTerraformValue(ctx)
	return err == nil && tv.Equal(v)
}
