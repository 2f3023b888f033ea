package provider

import (
	"reflect"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestDropUnknownProblems(t *testing.T) {
	probs := api.Problems{
		{Field: "name", Detail: "bad"},
		{Field: "timeout_seconds", Detail: "not below interval"},
		{Field: `headers["X-Probe"]`, Detail: "bad value"},
		{Field: "schedule[0].end", Detail: "before start"},
		{Field: "", Detail: "whole object"},
	}
	deps := map[string][]string{"timeout_seconds": {"interval_seconds"}}
	fields := func(ps api.Problems) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Field)
		}
		return out
	}
	tests := []struct {
		name    string
		unknown map[string]bool
		want    []string
	}{
		{"all known", nil, []string{"name", "timeout_seconds", `headers["X-Probe"]`, "schedule[0].end", ""}},
		{"unknown attribute", map[string]bool{"headers": true}, []string{"name", "timeout_seconds", "schedule[0].end", ""}},
		{"unknown dependency", map[string]bool{"interval_seconds": true}, []string{"name", `headers["X-Probe"]`, "schedule[0].end", ""}},
		{"unknown list element", map[string]bool{"schedule": true}, []string{"name", "timeout_seconds", `headers["X-Probe"]`, ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fields(dropUnknownProblems(probs, tc.unknown, deps)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDropShadowedProblems(t *testing.T) {
	probs := api.Problems{{Field: "type"}, {Field: "body_match.mode"}, {Field: "quorum"}}
	got := dropShadowedProblems(probs, map[string]bool{"type": true, "body_match.mode": true, "quorum": false})
	if len(got) != 1 || got[0].Field != "quorum" {
		t.Errorf("got %v, want only quorum", got)
	}
}

func FuzzProblemRoot(f *testing.F) {
	for _, s := range []string{"name", `members["db-3"].priority`, "schedule[0].end", "", "[1]", `["x"]`, "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		root := problemRoot(field)
		if root == "" {
			return
		}
		steps, err := api.ParsePath(field)
		if err != nil || steps[0].Name != root {
			t.Fatalf("problemRoot(%q) = %q, but the path parses to %v (%v)", field, root, steps, err)
		}
	})
}
