package provider

import (
	"context"
	"sync"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

// planRegistry is what this provider process learned about the run it
// serves (one plan, or one apply): which objects are planned for creation
// or change, the detection timing of every planned health check, and which
// deletes are under way.
//
// Terraform orders two resources only when one references the other. A
// traffic policy that names its health check as a plain string may be
// planned, created and destroyed before or after the check, in any order,
// and the order differs between plan and apply. The registry lets both
// sides wait for each other within bounded time instead of failing by
// chance:
//   - a policy planned before a check it names waits for that check to be
//     planned (while the run is still busy planning), so
//     worst_case_failover_seconds is the same whichever goes first;
//   - a policy whose create is refused because a named check does not
//     exist yet retries while that check is planned in this run;
//   - a delete refused because the object is still referenced retries while
//     the referrers are being deleted in this run.
type planRegistry struct {
	mu       sync.Mutex
	planned  map[api.Kind]map[string]plannedObject
	deleting map[string]int // "<kind>/<name>" → deletes in flight
	active   time.Time      // last call from Terraform seen
	changed  chan struct{}  // closed and replaced on every change
}

// plannedObject is one object planned in this run; timing is set for a
// health check whose timing values are known.
type plannedObject struct {
	timing *topology.CheckTiming
}

// idleGiveUp is how long a wait goes on after the provider stopped hearing
// from Terraform: the run has nothing more to plan or apply that could end
// the wait.
const idleGiveUp = 3 * time.Second

func newPlanRegistry() *planRegistry {
	return &planRegistry{
		planned:  map[api.Kind]map[string]plannedObject{},
		deleting: map[string]int{},
		changed:  make(chan struct{}),
	}
}

// notifyLocked wakes every waiter; r.mu is held.
func (r *planRegistry) notifyLocked() {
	r.active = time.Now()
	close(r.changed)
	r.changed = make(chan struct{})
}

// touch records a call from Terraform: the run is still busy.
func (r *planRegistry) touch() {
	r.mu.Lock()
	r.notifyLocked()
	r.mu.Unlock()
}

// plan records an object planned for creation or change in this run.
func (r *planRegistry) plan(kind api.Kind, name string, o plannedObject) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.planned[kind] == nil {
		r.planned[kind] = map[string]plannedObject{}
	}
	r.planned[kind][name] = o
	r.notifyLocked()
}

// lookup returns the planned object, if it is planned in this run.
func (r *planRegistry) lookup(kind api.Kind, name string) (plannedObject, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.planned[kind][name]
	return o, ok
}

// await waits until cond holds, the run goes idle, max elapses or ctx ends.
// cond runs with r.mu held.
func (r *planRegistry) await(ctx context.Context, max time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(max)
	for {
		r.mu.Lock()
		ok, ch, idle := cond(), r.changed, time.Since(r.active)
		r.mu.Unlock()
		if ok {
			return true
		}
		wait := min(time.Until(deadline), idleGiveUp-idle)
		if wait <= 0 {
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// awaitPlanned waits for kind/name to be planned in this run.
func (r *planRegistry) awaitPlanned(ctx context.Context, kind api.Kind, name string, max time.Duration) (plannedObject, bool) {
	var o plannedObject
	ok := r.await(ctx, max, func() bool {
		var found bool
		o, found = r.planned[kind][name]
		return found
	})
	return o, ok
}

// deleteStarted and deleteDone bracket a delete in this run.
func (r *planRegistry) deleteStarted(kind api.Kind, name string) {
	r.mu.Lock()
	r.deleting[string(kind)+"/"+name]++
	r.notifyLocked()
	r.mu.Unlock()
}

func (r *planRegistry) deleteDone(kind api.Kind, name string) {
	r.mu.Lock()
	ref := string(kind) + "/" + name
	if r.deleting[ref]--; r.deleting[ref] <= 0 {
		delete(r.deleting, ref)
	}
	r.notifyLocked()
	r.mu.Unlock()
}

// anyDeleting reports whether one of refs ("<kind>/<name>", as failoverd
// names referrers) is being deleted in this run.
func (r *planRegistry) anyDeleting(refs []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ref := range refs {
		if r.deleting[ref] > 0 {
			return true
		}
	}
	return false
}

// recentlyActive reports whether Terraform called the provider within
// idleGiveUp: the run may still start what a wait is waiting for.
func (r *planRegistry) recentlyActive() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Since(r.active) < idleGiveUp
}
