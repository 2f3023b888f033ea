package provider

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestPathsOverlap(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"targets", `targets["a"].addresses[0]`, true},
		{`targets["a"].addresses`, `targets["a"]`, true},
		{`targets["a"].addresses`, `targets["b"].addresses`, false},
		{`targets[*].burst_only`, `targets["b"].burst_only`, true},
		{`targets[*].burst_only`, `targets["b"].addresses`, false},
		{`targets[*].burst_only`, `targets["b"]`, true},
		{"fallback", "fallback.cname", true},
		{"fallback.addresses", "fallback.cname", false},
		{"ttl_seconds", "ttl", false},
		{`members["a"].tags["x"]`, `members[*].tags`, true},
	}
	for _, tt := range tests {
		if got := pathsOverlap(tt.a, tt.b); got != tt.want {
			t.Errorf("pathsOverlap(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := pathsOverlap(tt.b, tt.a); got != tt.want {
			t.Errorf("pathsOverlap(%q, %q) = %v, want %v (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

// A problem is dropped exactly when its field or a field its rule read is
// not known yet.
func TestPlanCheckKnown(t *testing.T) {
	probs := api.Problems{
		{Field: "name", Detail: "bad"},
		{Field: "timeout_seconds", Detail: "not below interval", Reads: []string{"interval_seconds"}},
		{Field: `headers["X-Probe"]`, Detail: "bad value", Reads: []string{"type"}},
		{Field: "burst_toggle", Detail: "required", Reads: []string{"targets[*].burst_only"}},
		{Field: "", Detail: "whole object"},
	}
	fields := func(ps api.Problems) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Field)
		}
		return out
	}
	tests := []struct {
		name    string
		unknown []string
		want    []string
	}{
		{"all known", nil, []string{"name", "timeout_seconds", `headers["X-Probe"]`, "burst_toggle", ""}},
		{"unknown attribute", []string{"headers"}, []string{"name", "timeout_seconds", "burst_toggle", ""}},
		{"unknown read", []string{"interval_seconds"}, []string{"name", `headers["X-Probe"]`, "burst_toggle", ""}},
		{"unknown switch", []string{"type"}, []string{"name", "timeout_seconds", "burst_toggle", ""}},
		{"unknown element read by wildcard", []string{`targets["dr"].burst_only`}, []string{"name", "timeout_seconds", `headers["X-Probe"]`, ""}},
		{"unknown sibling not read", []string{`targets["dr"].addresses`}, []string{"name", "timeout_seconds", `headers["X-Probe"]`, "burst_toggle", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc := planCheck{unknown: tc.unknown}
			if got := fields(pc.known(probs)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCollectUnknown(t *testing.T) {
	str := tftypes.String
	target := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"addresses": tftypes.List{ElementType: str}, "site": str}}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{
		"name":        str,
		"targets":     tftypes.Map{ElementType: target},
		"probe_sites": tftypes.Set{ElementType: str},
	}}
	v := tftypes.NewValue(typ, map[string]tftypes.Value{
		"name": tftypes.NewValue(str, tftypes.UnknownValue),
		"targets": tftypes.NewValue(tftypes.Map{ElementType: target}, map[string]tftypes.Value{
			"a": tftypes.NewValue(target, map[string]tftypes.Value{
				"addresses": tftypes.NewValue(tftypes.List{ElementType: str}, []tftypes.Value{tftypes.NewValue(str, "192.0.2.1"), tftypes.NewValue(str, tftypes.UnknownValue)}),
				"site":      tftypes.NewValue(str, "dc1"),
			}),
		}),
		"probe_sites": tftypes.NewValue(tftypes.Set{ElementType: str}, []tftypes.Value{tftypes.NewValue(str, tftypes.UnknownValue)}),
	})
	pc, ok := newPlanCheck(v)
	if !ok {
		t.Fatal("newPlanCheck refused a known object")
	}
	got := map[string]bool{}
	for _, u := range pc.unknown {
		got[u] = true
	}
	want := map[string]bool{"name": true, `targets["a"].addresses[1]`: true, "probe_sites": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unknown = %v, want %v", got, want)
	}
	if _, ok := newPlanCheck(tftypes.NewValue(typ, tftypes.UnknownValue)); ok {
		t.Error("newPlanCheck accepted an unknown configuration")
	}
}

// A problem on an attribute the configuration leaves out is shown on the
// first attribute its rule read that is set: a missing fallback on
// when_all_down, titled after what is missing.
func TestPlanCheckReportMissing(t *testing.T) {
	str := tftypes.String
	fb := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"cname": str}}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"when_all_down": str, "fallback": fb}}
	v := tftypes.NewValue(typ, map[string]tftypes.Value{
		"when_all_down": tftypes.NewValue(str, "fallback"),
		"fallback":      tftypes.NewValue(fb, nil),
	})
	pc, _ := newPlanCheck(v)
	var diags diag.Diagnostics
	var ps api.Problems
	ps.Add("fallback", `is required because when_all_down = "fallback"`).Read("when_all_down")
	pc.report(&diags, "Invalid Traffic Policy", ps)
	if len(diags) != 1 {
		t.Fatalf("diags = %v", diags)
	}
	d, ok := diags[0].(diag.DiagnosticWithPath)
	if !ok || d.Path().String() != "when_all_down" {
		t.Fatalf("diagnostic not on when_all_down: %#v", diags[0])
	}
	if d.Summary() != "Missing fallback" || !strings.HasPrefix(d.Detail(), "Fallback is required because") {
		t.Errorf("summary %q, detail %q", d.Summary(), d.Detail())
	}
}

func FuzzPlanCheckKnown(f *testing.F) {
	f.Add(`members["a"].host`, `members["a"]`, "")
	f.Add(`members`, `members["b"].site`, `members[*].site`)
	f.Add(`members["a"].tags["x"]`, `members["a"].tags`, "")
	f.Add(`targets["a"].priority`, "mode", "mode")
	_ = context.Background()
	f.Fuzz(func(t *testing.T, field, unknown, read string) {
		pc := planCheck{unknown: []string{unknown}}
		p := api.FieldError{Field: field, Detail: "x"}
		if read != "" {
			p.Reads = []string{read}
		}
		out := pc.known(api.Problems{p})
		if len(out) == 1 && field != "" && unknown != "" && (field == unknown || strings.HasPrefix(field, unknown+".") || strings.HasPrefix(field, unknown+"[")) &&
			len(pathTokens(field)) > 0 && strings.Join(pathTokens(field), "") == field && strings.Join(pathTokens(unknown), "") == unknown {
			t.Errorf("problem on %q kept although %q is unknown", field, unknown)
		}
	})
}
