package provider

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestUnchangedPlanMatchesFramework holds unchangedPlanner to the
// framework: for configurations and states drawn at random from each
// resource's schema (states as an apply leaves them, some drifted), the
// plan it answers is the framework's plan, and for health checks it
// answers exactly when the framework's plan is the prior state unchanged
// (so a no-change plan of checks never takes the slow path; policies and
// replica sets, whose ModifyPlan can warn, may be left to the framework).
func TestUnchangedPlanMatchesFramework(t *testing.T) {
	h := newPlanHarness(t)
	for _, typeName := range h.typeNames() {
		t.Run(typeName, func(t *testing.T) {
			hits, unchanged := 0, 0
			for seed := uint64(0); seed < 300; seed++ {
				r := rand.New(rand.NewPCG(seed, 7))
				got := h.compare(t, typeName, func(n int) int { return r.IntN(n) })
				if got.fast {
					hits++
				}
				if got.frameworkUnchanged {
					unchanged++
				}
			}
			t.Logf("%s: %d of 300 plans answered without the framework; the framework left %d unchanged", typeName, hits, unchanged)
			if hits == 0 {
				t.Errorf("no plan answered without the framework: the test compares nothing")
			}
			// Where a ModifyPlan may warn (policies, replica sets) the
			// planner leaves more to the framework; elsewhere it must
			// answer every unchanged plan.
			if complete := typeName != "failover_traffic_policy" && typeName != "failover_replica_set"; complete && hits != unchanged {
				t.Errorf("%d fast answers, %d unchanged plans: want the same", hits, unchanged)
			}
		})
	}
}

// FuzzUnchangedPlan: the same comparison, with the fuzzer choosing every
// value, presence and drift.
func FuzzUnchangedPlan(f *testing.F) {
	f.Add(uint8(0), []byte{})
	f.Add(uint8(0), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add(uint8(1), []byte{0xff, 0, 0xff, 3, 1, 1, 2, 9})
	f.Add(uint8(2), []byte{5, 5, 5, 5, 0, 0, 1})
	h := newPlanHarness(f)
	names := h.typeNames()
	f.Fuzz(func(t *testing.T, which uint8, choices []byte) {
		i := 0
		h.compare(t, names[int(which)%len(names)], func(n int) int {
			if i >= len(choices) {
				return 0
			}
			i++
			return int(choices[i-1]) % n
		})
	})
}

type planHarness struct {
	srv     *protocolServer
	schemas map[string]*tfprotov6.Schema
	fw      map[string]schema.Schema
}

func newPlanHarness(tb testing.TB) *planHarness {
	tb.Helper()
	ctx := context.Background()
	srv := NewProtocol6Server("test")().(*protocolServer)
	sch, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || sch == nil || diagErrorsAny(sch.Diagnostics) {
		tb.Fatalf("schema: %v", err)
	}
	cfg, err := tfprotov6.NewDynamicValue(sch.Provider.ValueType(), nullObject(sch.Provider.ValueType(), nil))
	if err != nil {
		tb.Fatal(err)
	}
	if resp, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &cfg}); err != nil || diagErrorsAny(resp.Diagnostics) {
		tb.Fatalf("configure: %v %+v", err, resp)
	}
	srv.unchanged.load(ctx)
	h := &planHarness{srv: srv, schemas: sch.ResourceSchemas, fw: map[string]schema.Schema{}}
	for name, ur := range srv.unchanged.resources {
		h.fw[name] = ur.schema
	}
	return h
}

func (h *planHarness) typeNames() []string {
	var names []string
	for n := range h.fw {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type planComparison struct{ fast, frameworkUnchanged bool }

// compare draws a configuration, the state an apply of it leaves and
// maybe a drift, plans the no-change update both ways and fails t where
// the answers differ.
func (h *planHarness) compare(t *testing.T, typeName string, choose func(n int) int) planComparison {
	t.Helper()
	ctx := context.Background()
	sch := h.fw[typeName]
	typ := h.schemas[typeName].ValueType().(tftypes.Object)
	g := valueGen{choose: choose}
	config := g.config(sch.Attributes, typ)
	// The state after apply: the framework's create plan with its unknowns
	// filled in as failoverd would.
	create, err := h.srv.ProviderServer.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: typeName, PriorState: dv(t, tftypes.NewValue(typ, nil)), ProposedNewState: dv(t, config), Config: dv(t, config),
	})
	if err != nil {
		t.Fatal(err)
	}
	if diagErrorsAny(create.Diagnostics) {
		return planComparison{} // a configuration the provider refuses: nothing to update
	}
	planned, err := create.PlannedState.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	state := g.fillUnknowns(planned)
	if choose(4) == 0 {
		state = g.drift(sch.Attributes, state)
	}
	proposed := proposedNew(sch.Attributes, config, state)
	req := &tfprotov6.PlanResourceChangeRequest{TypeName: typeName, PriorState: dv(t, state), ProposedNewState: dv(t, proposed), Config: dv(t, config)}
	fast, ok := h.srv.unchanged.plan(ctx, req)
	slow, err := h.srv.ProviderServer.PlanResourceChange(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	slowPlan, err := slow.PlannedState.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	frameworkUnchanged := !diagErrors(slow.Diagnostics) && len(slow.RequiresReplace) == 0 && len(slow.PlannedPrivate) == 0 && slowPlan.Equal(state)
	if !ok {
		return planComparison{frameworkUnchanged: frameworkUnchanged}
	}
	fastPlan, err := fast.PlannedState.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	if !fastPlan.Equal(slowPlan) || diagText(fast.Diagnostics) != diagText(slow.Diagnostics) || len(slow.RequiresReplace) != 0 || len(fast.PlannedPrivate) != len(slow.PlannedPrivate) {
		t.Fatalf("%s: the planner answered without the framework, and differently\nconfig:    %s\nstate:     %s\nfast plan: %s\nframework: %s\nfast diagnostics:      %s\nframework diagnostics: %s, replace: %v",
			typeName, config, state, fastPlan, slowPlan, diagText(fast.Diagnostics), diagText(slow.Diagnostics), slow.RequiresReplace)
	}
	return planComparison{fast: true, frameworkUnchanged: frameworkUnchanged}
}

func dv(t *testing.T, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	d, err := tfprotov6.NewDynamicValue(v.Type(), v)
	if err != nil {
		t.Fatal(err)
	}
	return &d
}

func diagErrorsAny(ds []*tfprotov6.Diagnostic) bool { return diagErrors(ds) }

// proposedNew is Terraform's proposed new state for attributes: the
// configured value, or the prior one where the configuration leaves a
// computed attribute null; single nested objects attribute by attribute.
func proposedNew(attrs map[string]schema.Attribute, config, prior tftypes.Value) tftypes.Value {
	var cs, ps map[string]tftypes.Value
	_ = config.As(&cs)
	if !prior.IsNull() {
		_ = prior.As(&ps)
	}
	out := map[string]tftypes.Value{}
	for name, a := range attrs {
		cv := cs[name]
		pv, ok := ps[name]
		if !ok {
			pv = tftypes.NewValue(cv.Type(), nil)
		}
		switch {
		case a.IsComputed() && cv.IsNull():
			out[name] = pv
		case !cv.IsNull():
			if n, ok := a.(schema.SingleNestedAttribute); ok {
				out[name] = proposedNew(n.Attributes, cv, pv)
				continue
			}
			out[name] = cv
		default:
			out[name] = cv
		}
	}
	return tftypes.NewValue(config.Type(), out)
}

// valueGen draws values from each attribute's type, with the words the
// provider's plan logic branches on (check types, quorums, defaults) more
// likely than any other string.
type valueGen struct{ choose func(n int) int }

var wordsByAttribute = map[string][]string{
	"type":         {"http", "https", "tcp", "calculated"},
	"quorum":       {"majority", "all", "any"},
	"healthy_when": {"all", "any", "at_least"},
	"method":       {"GET", "HEAD"},
	"path":         {"/", "/healthz"},
	"mode":         {"active_passive", "weighted", "geo"},
}

func (g valueGen) config(attrs map[string]schema.Attribute, typ tftypes.Object) tftypes.Value {
	vals := map[string]tftypes.Value{}
	for _, name := range sortedAttrNames(attrs) {
		a := attrs[name]
		t := typ.AttributeTypes[name]
		switch {
		case !a.IsRequired() && !a.IsOptional():
			vals[name] = tftypes.NewValue(t, nil) // computed only
		case a.IsOptional() && g.choose(2) == 0:
			vals[name] = tftypes.NewValue(t, nil)
		default:
			if n, ok := a.(schema.SingleNestedAttribute); ok {
				vals[name] = g.config(n.Attributes, t.(tftypes.Object))
				continue
			}
			vals[name] = g.value(name, t)
		}
	}
	return tftypes.NewValue(typ, vals)
}

func (g valueGen) value(name string, t tftypes.Type) tftypes.Value {
	switch {
	case t.Is(tftypes.String):
		if w, ok := wordsByAttribute[name]; ok && g.choose(4) != 0 {
			return tftypes.NewValue(t, w[g.choose(len(w))])
		}
		return tftypes.NewValue(t, []string{"", "a", "dc1", "200", "5s", "x-y"}[g.choose(6)])
	case t.Is(tftypes.Number):
		return tftypes.NewValue(t, big.NewFloat([]float64{0, 1, 2, 3, 5, 10, 30, 2.5}[g.choose(8)]))
	case t.Is(tftypes.Bool):
		return tftypes.NewValue(t, g.choose(2) == 0)
	case t.Is(tftypes.List{}):
		et := t.(tftypes.List).ElementType
		return tftypes.NewValue(t, g.elems(name, et))
	case t.Is(tftypes.Set{}):
		et := t.(tftypes.Set).ElementType
		return tftypes.NewValue(t, dedupe(g.elems(name, et)))
	case t.Is(tftypes.Map{}):
		et := t.(tftypes.Map).ElementType
		m := map[string]tftypes.Value{}
		for i, e := range g.elems(name, et) {
			m[[]string{"k1", "k2", "k3"}[i]] = e
		}
		return tftypes.NewValue(t, m)
	case t.Is(tftypes.Object{}):
		ot := t.(tftypes.Object)
		m := map[string]tftypes.Value{}
		names := make([]string, 0, len(ot.AttributeTypes))
		for an := range ot.AttributeTypes {
			names = append(names, an)
		}
		sort.Strings(names) // the same choices draw the same value
		for _, an := range names {
			at := ot.AttributeTypes[an]
			if g.choose(3) == 0 {
				m[an] = tftypes.NewValue(at, nil)
			} else {
				m[an] = g.value(an, at)
			}
		}
		return tftypes.NewValue(t, m)
	}
	return tftypes.NewValue(t, nil)
}

func (g valueGen) elems(name string, et tftypes.Type) []tftypes.Value {
	n := g.choose(3)
	out := make([]tftypes.Value, n)
	for i := range out {
		out[i] = g.value(name, et)
	}
	return out
}

func dedupe(vs []tftypes.Value) []tftypes.Value {
	var out []tftypes.Value
	for _, v := range vs {
		seen := false
		for _, o := range out {
			seen = seen || o.Equal(v)
		}
		if !seen {
			out = append(out, v)
		}
	}
	return out
}

// fillUnknowns replaces what the plan left unknown with values, as the
// apply's result does (in a fixed order, so the same choices give the
// same state).
func (g valueGen) fillUnknowns(v tftypes.Value) tftypes.Value {
	if !v.IsKnown() {
		return g.value("", v.Type())
	}
	if v.IsNull() || v.IsFullyKnown() {
		return v
	}
	switch t := v.Type().(type) {
	case tftypes.Object, tftypes.Map:
		var m map[string]tftypes.Value
		_ = v.As(&m)
		for _, k := range sortedKeys(m) {
			m[k] = g.fillUnknowns(m[k])
		}
		return tftypes.NewValue(t, m)
	case tftypes.List, tftypes.Set:
		var l []tftypes.Value
		_ = v.As(&l)
		for i := range l {
			l[i] = g.fillUnknowns(l[i])
		}
		if t, ok := t.(tftypes.Set); ok {
			return tftypes.NewValue(t, dedupe(l))
		}
		return tftypes.NewValue(v.Type(), l)
	}
	return v
}

func sortedKeys(m map[string]tftypes.Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// drift changes one attribute of the state to another value, as a
// refresh finds after a change outside Terraform.
func (g valueGen) drift(attrs map[string]schema.Attribute, state tftypes.Value) tftypes.Value {
	var vals map[string]tftypes.Value
	_ = state.As(&vals)
	names := sortedAttrNames(attrs)
	name := names[g.choose(len(names))]
	t := vals[name].Type()
	if g.choose(3) == 0 {
		vals[name] = tftypes.NewValue(t, nil)
	} else {
		vals[name] = g.value(name, t)
	}
	return tftypes.NewValue(state.Type(), vals)
}

func sortedAttrNames(attrs map[string]schema.Attribute) []string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func diagText(ds []*tfprotov6.Diagnostic) string {
	s := ""
	for _, d := range ds {
		s += fmt.Sprintf("[%s] %s: %s (%v); ", d.Severity, d.Summary, d.Detail, d.Attribute)
	}
	return s
}

// TestAttributesPlannable: a schema is answered without the framework only
// when every plan modifier in it, at any depth, does nothing to an
// unchanged value.
func TestAttributesPlannable(t *testing.T) {
	other := []planmodifier.String{anyStringModifier{}}
	ok := []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace(), stringplanmodifier.RequiresReplaceIfConfigured()}
	tests := []struct {
		name  string
		attrs map[string]schema.Attribute
		want  bool
	}{
		{"allowed modifiers", map[string]schema.Attribute{"a": schema.StringAttribute{PlanModifiers: ok}}, true},
		{"another modifier", map[string]schema.Attribute{"a": schema.StringAttribute{PlanModifiers: other}}, false},
		{"int64 modifier", map[string]schema.Attribute{"a": schema.Int64Attribute{PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}}}, false},
		{"inside a single object", map[string]schema.Attribute{"o": schema.SingleNestedAttribute{Attributes: map[string]schema.Attribute{"a": schema.StringAttribute{PlanModifiers: other}}}}, false},
		{"inside a list of objects", map[string]schema.Attribute{"l": schema.ListNestedAttribute{NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{"a": schema.StringAttribute{PlanModifiers: other}}}}}, false},
		{"on a map's objects", map[string]schema.Attribute{"m": schema.MapNestedAttribute{NestedObject: schema.NestedAttributeObject{PlanModifiers: []planmodifier.Object{objectplanmodifier.UseStateForUnknown()}}}}, false},
		{"clean map of objects", map[string]schema.Attribute{"m": schema.MapNestedAttribute{NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{"a": schema.StringAttribute{PlanModifiers: ok}}}}}, true},
		{"a kind it does not know", map[string]schema.Attribute{"d": schema.DynamicAttribute{}}, false},
	}
	for _, tt := range tests {
		if got := attributesPlannable(tt.attrs); got != tt.want {
			t.Errorf("%s: plannable %v, want %v", tt.name, got, tt.want)
		}
	}
}

// anyStringModifier stands for a plan modifier the planner cannot know
// leaves an unchanged value alone.
type anyStringModifier struct{}

func (anyStringModifier) Description(context.Context) string         { return "any" }
func (anyStringModifier) MarkdownDescription(context.Context) string { return "any" }
func (anyStringModifier) PlanModifyString(context.Context, planmodifier.StringRequest, *planmodifier.StringResponse) {
}
