package provider

import (
	"math/big"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Plan-time validation is the same for every resource: a domain validator
// (internal/health, internal/policy, internal/topology, internal/burst)
// judges the configuration, each rule naming the fields it read
// (api.FieldError.Reads), and planProblems keeps only the verdicts whose
// inputs are all known. A value known only after apply reads as its zero
// value in the wire object, so any rule that looked at one may be wrong;
// failoverd judges the complete object again at apply, so nothing is lost.

// planCheck is what plan-time validation knows about one configuration.
type planCheck struct {
	config  tftypes.Value
	unknown []string // api paths of the values not known yet (outermost only)
}

// newPlanCheck reads cfg; ok is false when the configuration as a whole is
// unknown, in which case nothing can be judged.
func newPlanCheck(cfg tftypes.Value) (planCheck, bool) {
	if !cfg.IsKnown() || cfg.IsNull() {
		return planCheck{}, false
	}
	pc := planCheck{config: cfg}
	collectUnknown(cfg, "", &pc.unknown)
	return pc, true
}

// collectUnknown appends the api path of every unknown value below v. A set
// element has no address of its own, so a set holding one is unknown as a
// whole.
func collectUnknown(v tftypes.Value, at string, out *[]string) {
	if !v.IsKnown() {
		*out = append(*out, at)
		return
	}
	if v.IsNull() {
		return
	}
	switch {
	case v.Type().Is(tftypes.Object{}):
		var attrs map[string]tftypes.Value
		if v.As(&attrs) == nil {
			for name, a := range attrs {
				p := name
				if at != "" {
					p = at + "." + name
				}
				collectUnknown(a, p, out)
			}
		}
	case v.Type().Is(tftypes.Map{}):
		var elems map[string]tftypes.Value
		if v.As(&elems) == nil {
			for k, e := range elems {
				collectUnknown(e, api.MapKey(at, k), out)
			}
		}
	case v.Type().Is(tftypes.List{}), v.Type().Is(tftypes.Tuple{}):
		var elems []tftypes.Value
		if v.As(&elems) == nil {
			for i, e := range elems {
				collectUnknown(e, api.Index(at, i), out)
			}
		}
	case v.Type().Is(tftypes.Set{}):
		if !v.IsFullyKnown() {
			*out = append(*out, at)
		}
	}
}

// anyUnknown reports whether one of the given fields (wildcards allowed)
// is, contains or lies within a value not known yet.
func (pc planCheck) anyUnknown(fields ...string) bool {
	for _, f := range fields {
		if f == "" {
			continue // a problem on the object as a whole reads what it declares
		}
		for _, u := range pc.unknown {
			if pathsOverlap(f, u) {
				return true
			}
		}
	}
	return false
}

// known drops the problems whose field or declared reads are not known yet.
func (pc planCheck) known(probs api.Problems) api.Problems {
	var out api.Problems
	for _, p := range probs {
		if pc.anyUnknown(p.Field) || pc.anyUnknown(p.Reads...) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// withoutFields drops the problems on fields (wildcards allowed) that a
// schema validator already reports, so one mistake is reported once.
func withoutFields(probs api.Problems, fields ...string) api.Problems {
	var out api.Problems
next:
	for _, p := range probs {
		for _, f := range fields {
			if pathMatches(f, p.Field) {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// report adds the known problems to diags on their attributes (see
// addProblems). A problem on an attribute the configuration leaves out (a
// missing fallback) cannot be shown there, so it lands on the first
// attribute the rule read that is set (when_all_down), or else the nearest
// enclosing one that is, with a summary that says what is missing.
func (pc planCheck) report(diags *diag.Diagnostics, summary string, probs api.Problems) {
	for _, p := range pc.known(probs) {
		if p.Field == "" || pc.configured(p.Field) {
			addProblems(diags, summary, api.Problems{p})
			continue
		}
		s := "Missing " + lastStepName(p.Field)
		if p.Severity == api.SeverityWarning {
			s = summary
		}
		moved := p
		moved.Field = pc.nearestConfigured(p)
		moved.Detail = p.Field + " " + p.Detail
		addProblem(diags, s, moved, p.Field)
	}
}

// configured reports whether field names a non-null value of the config.
func (pc planCheck) configured(field string) bool {
	steps, err := api.ParsePath(field)
	if err != nil || len(steps) == 0 {
		return false
	}
	var tp *tftypes.AttributePath = tftypes.NewAttributePath()
	for _, s := range steps {
		switch {
		case s.Name != "":
			tp = tp.WithAttributeName(s.Name)
		case s.Key != nil:
			tp = tp.WithElementKeyString(*s.Key)
		default:
			tp = tp.WithElementKeyInt(s.Index)
		}
	}
	v, _, err := tftypes.WalkAttributePath(pc.config, tp)
	if err != nil {
		return false
	}
	tv, ok := v.(tftypes.Value)
	return ok && !tv.IsNull()
}

// nearestConfigured is where a problem on an absent field is shown: its
// closest set ancestor (a missing priority on its target), else the first
// field its rule read that is set (a missing fallback on when_all_down),
// else "" (the resource).
func (pc planCheck) nearestConfigured(p api.FieldError) string {
	steps := pathTokens(p.Field)
	for n := len(steps) - 1; n > 0; n-- {
		parent := strings.TrimPrefix(strings.Join(steps[:n], ""), ".")
		if pc.configured(parent) {
			return parent
		}
	}
	for _, r := range p.Reads {
		if !strings.Contains(r, "[*]") && pc.configured(r) {
			return r
		}
	}
	return ""
}

func lastStepName(field string) string {
	steps := pathTokens(field)
	for i := len(steps) - 1; i >= 0; i-- {
		if s := strings.TrimPrefix(steps[i], "."); !strings.HasPrefix(s, "[") {
			return s
		}
	}
	return field
}

var pathTokenRE = regexp.MustCompile(`\.?[a-z_][a-z0-9_]*|\["(?:[^"\\]|\\.)*"\]|\[[0-9]+\]|\[\*\]`)

// pathTokens splits an api path into its steps: `targets`, `["dc1"]`,
// `.priority`, `[0]`, `[*]`.
func pathTokens(p string) []string {
	return pathTokenRE.FindAllString(p, -1)
}

func stepsEqual(a, b string) bool {
	a, b = strings.TrimPrefix(a, "."), strings.TrimPrefix(b, ".")
	if a == b {
		return true
	}
	return (a == "[*]" && strings.HasPrefix(b, "[")) || (b == "[*]" && strings.HasPrefix(a, "["))
}

// pathsOverlap reports whether one path is the other or lies below it,
// [*] matching any key or index.
func pathsOverlap(a, b string) bool {
	if a == "" || b == "" {
		return true // the whole object
	}
	ta, tb := pathTokens(a), pathTokens(b)
	n := min(len(ta), len(tb))
	for i := 0; i < n; i++ {
		if !stepsEqual(ta[i], tb[i]) {
			return false
		}
	}
	return true
}

// pathMatches reports whether pattern (wildcards allowed) names exactly field.
func pathMatches(pattern, field string) bool {
	tp, tf := pathTokens(pattern), pathTokens(field)
	if len(tp) != len(tf) {
		return false
	}
	return pathsOverlap(pattern, field)
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
