package engine

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/publish"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// TestDecisionAndOutboxInOneCommit: every decision of a publishing
// policy reaches the store in the same revision as its outbox entry and
// its decision event, so no crash or lost etcd can leave a decision
// without its publication or its event, or the reverse; removing publish
// deletes the entry; deleting the policy too.
func TestDecisionAndOutboxInOneCommit(t *testing.T) {
	r := newRig(t)
	r.start()
	watch, cancel := context.WithCancel(context.Background())
	defer cancel()
	rev, _, err := r.st.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ch := r.st.Watch(watch, rev)
	pol := api.TrafficPolicy{Name: "web", Mode: api.ModeActivePassive, WhenAllDown: api.AllDownFailOpen,
		Targets: map[string]api.PolicyTarget{
			"dc1": {Site: "dc1", Addresses: []string{"192.0.2.10"}, Priority: 1},
			"dc2": {Site: "dc2", Addresses: []string{"198.51.100.10"}, Priority: 2},
		},
		Publish: &api.Publish{RFC2136: &api.PublishRFC2136{Server: "192.0.2.53", Zone: "example.internal", RecordName: "web.example.internal", TSIGKey: "k"}}}
	r.put(pol)
	r.setOverride("web", &api.Override{Target: "dc2", ExpiresAt: time.Now().Add(time.Hour)})

	entryKey := publish.EntryKey("web", api.DestinationRFC2136)
	// The lane keeps only the newest value of a key, so the override's
	// decision may replace the first one before either is committed: watch
	// until generation 2 is stored, checking every revision on the way.
	var generation uint64
	deadline := time.After(5 * time.Second)
	for generation < 2 {
		select {
		case ev := <-ch:
			var decision, entry []byte
			var events []api.Event
			for _, c := range ev.Changes {
				switch {
				case c.Bucket == store.BucketState && c.Key == keyPolicyPrefix+"web":
					decision = c.Value
				case c.Bucket == publish.BucketOutbox && c.Key == entryKey:
					entry = c.Value
				case c.Bucket == store.BucketEvents:
					var e api.Event
					json.Unmarshal(c.Value, &e)
					events = append(events, e)
				}
			}
			if decision == nil {
				continue
			}
			var rt policyRuntime
			json.Unmarshal(decision, &rt)
			if entry == nil {
				t.Fatalf("revision %d stores decision %d without its outbox entry", ev.Rev, rt.Decision.Generation)
			}
			var e publish.Entry
			json.Unmarshal(entry, &e)
			if e.Generation != rt.Decision.Generation || !e.Records.Equal(publish.FromDecision(rt.Decision)) {
				t.Fatalf("revision %d: entry %+v does not publish decision %+v", ev.Rev, e, rt.Decision)
			}
			found := false
			for _, e := range events {
				var d api.Decision
				json.Unmarshal(e.Data, &d)
				found = found || (e.Type == api.EventDecision && d.Policy == "web" && d.Generation == rt.Decision.Generation)
			}
			if !found {
				t.Fatalf("revision %d stores decision %d without its event (events in it: %+v)", ev.Rev, rt.Decision.Generation, events)
			}
			generation = rt.Decision.Generation
		case <-deadline:
			t.Fatalf("generation %d stored after 5s, want 2", generation)
		}
	}

	pol.Publish = nil
	r.put(pol)
	r.waitFor("the outbox entry deleted when publish is removed", 3*time.Second, func() bool {
		_, err := r.st.Get(context.Background(), publish.BucketOutbox, entryKey)
		return errors.Is(err, store.ErrNotFound)
	})
}
