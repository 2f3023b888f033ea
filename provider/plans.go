package provider

import (
	"sync"

	"github.com/hatopo/terraform-provider-failover/internal/topology"
)

// planRegistry remembers the detection timing of every health check
// planned in this provider process. Terraform plans a traffic policy after
// the checks it references, so the policy's ModifyPlan can compute
// worst_case_failover_seconds — and fail on rto_seconds — at plan time,
// even when the checks do not exist in failoverd yet.
type planRegistry struct {
	mu      sync.Mutex
	timings map[string]topology.CheckTiming
}

func newPlanRegistry() *planRegistry {
	return &planRegistry{timings: map[string]topology.CheckTiming{}}
}

func (r *planRegistry) set(name string, t topology.CheckTiming) {
	r.mu.Lock()
	r.timings[name] = t
	r.mu.Unlock()
}

func (r *planRegistry) get(name string) (topology.CheckTiming, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.timings[name]
	return t, ok
}
