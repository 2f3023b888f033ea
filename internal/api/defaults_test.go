package api

import "testing"

func TestNormalizeKeepsUserValues(t *testing.T) {
	c := HealthCheck{IntervalSeconds: 5, Fall: 1, Path: "/health"}
	c.Normalize()
	if c.IntervalSeconds != 5 || c.Fall != 1 || c.Path != "/health" || c.Rise != DefaultRise || c.Method != DefaultMethod ||
		c.TimeoutSeconds != DefaultTimeoutSeconds || c.Quorum != QuorumMajority || !Bool(c.Enabled, false) ||
		len(c.ExpectedStatus) != 1 || c.ExpectedStatus[0] != DefaultExpectedStatus {
		t.Fatalf("Normalize() = %+v", c)
	}
	zero := 0
	p := TrafficPolicy{TTLSeconds: &zero, Targets: map[string]PolicyTarget{"a": {Weight: &zero}}}
	p.Normalize()
	if *p.TTLSeconds != 0 || *p.FailbackDelaySeconds != DefaultFailbackDelaySeconds || *p.Targets["a"].Weight != 0 ||
		!Bool(p.Targets["a"].Enabled, false) || p.Failback != FailbackAuto {
		t.Fatalf("Normalize() = %+v", p)
	}
}

// Members MongoDB never elects default to priority 0, the rest to 1, so an
// arbiter needs no explicit priority = 0.
func TestMemberDefaultPriority(t *testing.T) {
	zero := 0
	tests := []struct {
		m    Member
		want float64
	}{
		{Member{}, 1},
		{Member{Arbiter: true}, 0},
		{Member{Hidden: true}, 0},
		{Member{SecondaryDelaySeconds: 3600}, 0},
		{Member{Votes: &zero}, 0},
	}
	for _, tt := range tests {
		rs := ReplicaSet{Members: map[string]Member{"m": tt.m}}
		rs.Normalize()
		if got := *rs.Members["m"].Priority; got != tt.want {
			t.Errorf("%+v: priority %v, want %v", tt.m, got, tt.want)
		}
	}
	two := 2.0
	rs := ReplicaSet{Members: map[string]Member{"m": {Arbiter: true, Priority: &two}}}
	rs.Normalize()
	if *rs.Members["m"].Priority != 2 {
		t.Fatal("Normalize overrode an explicit priority; validation must see it")
	}
}

func TestDecodeObjectRoundTrip(t *testing.T) {
	for _, o := range []Object{HealthCheck{Name: "a", Version: 3}, TrafficPolicy{Name: "b"}, ReplicaSet{Name: "c"}, BurstToggle{Name: "d"}} {
		b := []byte(`{"name":"` + o.ObjectName() + `","version":7}`)
		got, err := DecodeObject(o.ObjectKind(), b)
		if err != nil || got.ObjectName() != o.ObjectName() || got.ObjectVersion() != 7 || got.ObjectKind() != o.ObjectKind() {
			t.Errorf("DecodeObject(%s) = %+v, %v", o.ObjectKind(), got, err)
		}
		if WithVersion(o, 9).ObjectVersion() != 9 {
			t.Errorf("WithVersion on %T", o)
		}
	}
	if _, err := DecodeObject("nope", []byte(`{}`)); err == nil {
		t.Error("unknown kind accepted")
	}
}
