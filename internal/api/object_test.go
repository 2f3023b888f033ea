package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestKindTable: every kind has one entry, and the entry's functions keep
// objects of its own type.
func TestKindTable(t *testing.T) {
	if len(specs) != len(Kinds) {
		t.Fatalf("the table has %d kinds, Kinds lists %d", len(specs), len(Kinds))
	}
	for _, k := range Kinds {
		s := Spec(k)
		if s == nil {
			t.Fatalf("no spec for %q", k)
		}
		if s.Kind != k || s.Noun == "" || strings.ContainsAny(s.Noun, "-_") {
			t.Errorf("%q: spec %q, noun %q", k, s.Kind, s.Noun)
		}
		o := s.New()
		if o.ObjectKind() != k || o.ObjectName() != "" || o.ObjectVersion() != 0 {
			t.Errorf("%q: New() = %#v", k, o)
		}
		o = WithVersion(WithName(o, "web"), 7)
		if o.ObjectKind() != k || o.ObjectName() != "web" || o.ObjectVersion() != 7 {
			t.Errorf("%q: WithName/WithVersion = %#v", k, o)
		}
		if reflect.TypeOf(o) != reflect.TypeOf(s.New()) {
			t.Errorf("%q: WithVersion changed the type to %T", k, o)
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeObject(k, b)
		if err != nil || !reflect.DeepEqual(back, o) {
			t.Errorf("%q: DecodeObject(%s) = %#v, %v; want %#v", k, b, back, err, o)
		}
	}
	if Spec("widgets") != nil {
		t.Error(`Spec("widgets") is not nil`)
	}
	if _, err := DecodeObject("widgets", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), `unknown kind "widgets"`) {
		t.Errorf("DecodeObject of an unknown kind: %v", err)
	}
}

// TestStripComputed: the fields computed on every read are dropped before
// storage; assigned identities (member _ids) and the version are kept.
func TestStripComputed(t *testing.T) {
	on := true
	tests := []struct {
		name string
		in   Object
		want Object
	}{
		{"check: nothing computed", HealthCheck{Name: "a", Version: 2}, HealthCheck{Name: "a", Version: 2}},
		{"policy", TrafficPolicy{Name: "p", FQDN: "p.example.org", WorstCaseFailoverSeconds: 9, Warnings: []string{"w"}, Version: 3},
			TrafficPolicy{Name: "p", Version: 3}},
		{"replica set keeps member ids", ReplicaSet{Name: "r", MemberIDs: map[string]int{"db-1": 0}, Analysis: &ReplicaAnalysis{Majority: 2}, Version: 4},
			ReplicaSet{Name: "r", MemberIDs: map[string]int{"db-1": 0}, Version: 4}},
		{"toggle", BurstToggle{Name: "b", URL: "http://example.org/burst/b", Effective: &on, Engaged: &on, Version: 5},
			BurstToggle{Name: "b", Engaged: &on, Version: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripComputed(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("StripComputed = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestDecodeRequest: a client may send back what it read; everything
// failoverd assigns is dropped, defaults are filled, and the body's and
// the explicit zeros' problems come back apart.
func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		kind      Kind
		body      string
		check     func(t *testing.T, o Object)
		zeros     string // substring of the explicit-zero problems
		bodyProbs string // substring of the body's problems
	}{
		{kind: KindHealthCheck, body: `{"name":"web","site":"dc1","type":"tcp","address":"192.0.2.1:80","version":9}`,
			check: func(t *testing.T, o Object) {
				c := o.(HealthCheck)
				if c.Version != 0 || c.Rise != DefaultRise || c.Quorum != DefaultQuorum {
					t.Errorf("got %+v", c)
				}
			}},
		{kind: KindHealthCheck, body: `{"name":"web","rise":0}`, zeros: "rise"},
		{kind: KindTrafficPolicy, body: `{"name":"p","mode":"active-passive","targets":{},"when_all_down":"fail_open","fqdn":"p.x.","worst_case_failover_seconds":3,"warnings":["w"],"version":2}`,
			check: func(t *testing.T, o Object) {
				p := o.(TrafficPolicy)
				if p.FQDN != "" || p.WorstCaseFailoverSeconds != 0 || p.Warnings != nil || p.Version != 0 || p.TTLSeconds == nil {
					t.Errorf("got %+v", p)
				}
			}},
		{kind: KindReplicaSet, body: `{"name":"r","members":{},"member_ids":{"db-1":4},"analysis":{"majority":2}}`,
			check: func(t *testing.T, o Object) {
				r := o.(ReplicaSet)
				if r.MemberIDs != nil || r.Analysis != nil {
					t.Errorf("got %+v", r)
				}
			}},
		{kind: KindBurstToggle, body: `{"name":"b","site":"cloud","url":"http://x/burst/b","effective":true}`,
			check: func(t *testing.T, o Object) {
				b := o.(BurstToggle)
				if b.URL != "" || b.Effective != nil || b.BodyEngaged != DefaultBodyEngaged {
					t.Errorf("got %+v", b)
				}
			}},
		{kind: KindBurstToggle, body: `{"name":"b","colour":"red"}`, bodyProbs: "colour"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+" "+tt.body, func(t *testing.T) {
			o, zeros, probs := Spec(tt.kind).DecodeRequest([]byte(tt.body))
			if o.ObjectKind() != tt.kind {
				t.Fatalf("kind %q", o.ObjectKind())
			}
			if got := fmt.Sprint(probs); tt.bodyProbs == "" && len(probs) > 0 || !strings.Contains(got, tt.bodyProbs) {
				t.Errorf("problems %q, want %q", got, tt.bodyProbs)
			}
			if got := fmt.Sprint(zeros); tt.zeros == "" && len(zeros) > 0 || !strings.Contains(got, tt.zeros) {
				t.Errorf("zeros %q, want %q", got, tt.zeros)
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}
