package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestReplicaStatusFollowsEveryMember: when one member goes down while
// another comes up in the same refresh, the counts do not change, but the
// status must: the per-member map, Since and an event naming both members.
// (It used to compare only majority, risk, expected primary and members
// up, and kept the stale map.)
func TestReplicaStatusFollowsEveryMember(t *testing.T) {
	r := newRig(t)
	for _, c := range []string{"c1", "c2", "c3"} {
		r.put(check(c, "192.0.2.1:80")) // never probed: the engine is not started
	}
	prio := func(p float64) *float64 { return &p }
	r.put(api.ReplicaSet{Name: "rs", Engine: api.EngineMongoDB, Members: map[string]api.Member{
		"db-1": {Host: "db-1.example.org:27017", Site: "dc1", Priority: prio(2), HealthCheck: "c1"},
		"db-2": {Host: "db-2.example.org:27017", Site: "dc2", Priority: prio(1), HealthCheck: "c2"},
		"db-3": {Host: "db-3.example.org:27017", Site: "dc3", Priority: prio(1), HealthCheck: "c3"},
	}})
	// refresh sets the checks' overall states and refreshes the replica
	// set once, as one reaction to health would.
	refresh := func(states map[string]string) api.ReplicaSetStatus {
		t.Helper()
		r.e.mu.Lock()
		for c, s := range states {
			r.e.checkStates[c] = checkState{State: s}
		}
		r.e.refreshReplicaStatusLocked("rs", r.e.now())
		r.e.mu.Unlock()
		st, ok := r.e.ReplicaSetStatus("rs")
		if !ok {
			t.Fatal("no replica set status")
		}
		return st
	}

	before := refresh(map[string]string{"c2": api.StateUnhealthy})
	if before.MembersUp != 2 || before.Members["db-2"] != api.StateUnhealthy || before.Members["db-3"] != api.StateHealthy {
		t.Fatalf("db-2 down: %+v", before)
	}
	after := refresh(map[string]string{"c2": api.StateHealthy, "c3": api.StateUnhealthy})
	if after.MembersUp != before.MembersUp || after.HasMajority != before.HasMajority || after.ExpectedPrimary != before.ExpectedPrimary {
		t.Fatalf("the scenario must keep the counts: before %+v, after %+v", before, after)
	}
	if after.Members["db-2"] != api.StateHealthy || after.Members["db-3"] != api.StateUnhealthy {
		t.Fatalf("stale member map after db-2 up, db-3 down: %+v", after.Members)
	}
	if !after.Since.After(before.Since) {
		t.Errorf("since %v not after %v", after.Since, before.Since)
	}
	// Nothing changed: no new Since, no event.
	if again := refresh(nil); !again.Since.Equal(after.Since) {
		t.Errorf("an unchanged refresh moved since to %v", again.Since)
	}

	r.e.Flush()
	evs, err := r.e.Events(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, ev := range evs {
		if ev.Type == api.EventReplicaSet {
			msgs = append(msgs, ev.Message)
		}
	}
	want := []string{
		`replica set rs: db-2 unhealthy; 2 members up`,
		`replica set rs: db-2 healthy, db-3 unhealthy; 2 members up`,
	}
	if len(msgs) != len(want) {
		t.Fatalf("replica set events %q, want %d", msgs, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(msgs[i], w) {
			t.Errorf("event %d: %q, want prefix %q", i, msgs[i], w)
		}
	}
}
