package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	k := func(s string) *string { return &s }
	tests := []struct {
		in   string
		want []PathStep
	}{
		{"name", []PathStep{{Name: "name", Index: -1}}},
		{`members["db-3"].priority`, []PathStep{{Name: "members", Index: -1}, {Key: k("db-3"), Index: -1}, {Name: "priority", Index: -1}}},
		{`targets["dc1"].addresses[0]`, []PathStep{{Name: "targets", Index: -1}, {Key: k("dc1"), Index: -1}, {Name: "addresses", Index: -1}, {Index: 0}}},
		{"schedule[2].end", []PathStep{{Name: "schedule", Index: -1}, {Index: 2}, {Name: "end", Index: -1}}},
		{`headers["X-\"Quoted\""]`, []PathStep{{Name: "headers", Index: -1}, {Key: k(`X-"Quoted"`), Index: -1}}},
		{"", nil},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePath(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"members[", `members["x"`, "a..b", "Name", "[-1]", "a[x]"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted a malformed path", bad)
		}
	}
}

// Paths built by MapKey and Index always parse back to their parts.
func FuzzParsePath(f *testing.F) {
	f.Add("members", "db-3", 0, "priority")
	f.Add("targets", `we"ird\key`, 7, "addresses")
	f.Add("headers", "", 0, "x")
	f.Fuzz(func(t *testing.T, attr, key string, idx int, leaf string) {
		// Arbitrary input must never panic.
		ParsePath(attr + key + leaf)
		if idx < 0 || !validAttr(attr) || !validAttr(leaf) {
			return
		}
		p := Index(MapKey(attr, key)+"."+leaf, idx)
		steps, err := ParsePath(p)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", p, err)
		}
		if len(steps) != 4 || steps[0].Name != attr || steps[1].Key == nil || *steps[1].Key != key || steps[2].Name != leaf || steps[3].Index != idx {
			t.Fatalf("ParsePath(%q) = %+v", p, steps)
		}
	})
}

func validAttr(s string) bool {
	if s == "" || !(s[0] == '_' || s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

func TestProblemsSplit(t *testing.T) {
	var p Problems
	p.Add("a", "bad %d", 1)
	p.Warn("b", "meh")
	p.Add("c", "worse")
	if got := len(p.Errors()); got != 2 {
		t.Fatalf("Errors() = %d, want 2", got)
	}
	if got := p.Warnings(); len(got) != 1 || got[0].Field != "b" {
		t.Fatalf("Warnings() = %+v", got)
	}
	pr := &Problem{Title: "Invalid Request", Status: 400, Errors: p}
	if !strings.Contains(pr.Error(), "a: bad 1") || !strings.Contains(pr.Error(), "c: worse") {
		t.Fatalf("Problem.Error() = %q lists not every problem", pr.Error())
	}
}

func TestCheckName(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tt := range []struct {
		name string
		ok   bool
	}{{"web", true}, {"a", true}, {"dc-1", true}, {long[:63], true}, {long, false}, {"", false}, {"-a", false}, {"a-", false}, {"Web", false}, {"a_b", false}, {"a.b", false}} {
		var p Problems
		CheckName(&p, "name", tt.name)
		if (len(p) == 0) != tt.ok {
			t.Errorf("CheckName(%q): problems %v, want ok=%v", tt.name, p, tt.ok)
		}
	}
}

// A rule declares what it read besides its own field; Reads never reaches
// the wire (the provider uses it at plan time only).
func TestProblemsRead(t *testing.T) {
	var ps Problems
	ps.Add("fallback", "is required").Read("when_all_down")
	ps.Warn("burst_toggle", "has no effect")
	ps[1:].Read("targets[*].burst_only")
	if got := ps[0].Reads; len(got) != 1 || got[0] != "when_all_down" {
		t.Errorf("fallback reads %q, want [when_all_down]", got)
	}
	if got := ps[1].Reads; len(got) != 1 || got[0] != "targets[*].burst_only" {
		t.Errorf("burst_toggle reads %q", got)
	}
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "reads") || strings.Contains(string(b), "when_all_down") {
		t.Errorf("Reads leaked onto the wire: %s", b)
	}
}
