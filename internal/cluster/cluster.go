// Package cluster is a failoverd node's place in its control plane: who
// decides (one leader, elected in etcd), which sites' failoverd are alive
// (their votes count), and whether this node still reaches the store's
// majority (if not, it fails static: serves the last decisions, refuses
// writes, decides nothing).
//
// A standalone failoverd on bolt is a cluster of one (Standalone): always
// the leader, never fenced, always in contact. In an etcd cluster (Etcd)
// every node campaigns in an etcd election on its session lease; the
// leader's writes carry a fence — "my election key still holds my value" —
// so a deposed leader's write fails instead of landing after its
// successor's (DESIGN §4.4).
package cluster

import (
	"context"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// Node is what the engine and the API know of the control plane.
type Node interface {
	// Leading reports whether this node may decide now: it is the leader
	// and in contact with the store. fence is the condition every leader
	// write carries (nil when nothing can depose this node: standalone).
	// A write whose fence fails (store.ErrConflict) came from a deposed
	// leader and must be dropped, not retried.
	Leading() (fence *store.Condition, ok bool)
	// Changes receives a value (coalesced) after every change of
	// leadership, contact, membership or session. nil when nothing ever
	// changes (standalone).
	Changes() <-chan struct{}
	// InContact reports whether this node reaches the store's majority.
	InContact() bool
	// SiteFresh reports whether site's failoverd is alive, so that its
	// observations vote. known is false when this node has no membership
	// information (standalone): then the age of observations decides.
	SiteFresh(site string) (fresh, known bool)
	// Epoch changes whenever this node's session is replaced (its lease
	// expired while it was cut off): keys written as ephemeral under the
	// old session are gone and must be written again.
	Epoch() uint64
	// Status is this node's view of the cluster for /v1/cluster; the
	// caller fills in Revision.
	Status() api.ClusterStatus
	// Close steps down (a clean stop hands leadership over at once instead
	// of after the lease TTL) and stops watching.
	Close(ctx context.Context) error
}

// notifier coalesces change notifications for one consumer (the engine).
type notifier chan struct{}

func newNotifier() notifier { return make(notifier, 1) }

func (n notifier) notify() {
	select {
	case n <- struct{}{}:
	default:
	}
}

// Standalone is the cluster of one of a bolt store.
type Standalone struct {
	self    api.ClusterMember
	started time.Time
}

var _ Node = (*Standalone)(nil)

// NewStandalone returns the cluster of one node, self.
func NewStandalone(self api.ClusterMember) *Standalone {
	self.Fresh = true
	return &Standalone{self: self, started: self.Started}
}

func (s *Standalone) Leading() (*store.Condition, bool)    { return nil, true }
func (s *Standalone) Changes() <-chan struct{}             { return nil }
func (s *Standalone) InContact() bool                      { return true }
func (s *Standalone) SiteFresh(string) (fresh, known bool) { return false, false }
func (s *Standalone) Epoch() uint64                        { return 0 }
func (s *Standalone) Close(context.Context) error          { return nil }

// Status: leader of itself, on bolt, always in contact.
func (s *Standalone) Status() api.ClusterStatus {
	return api.ClusterStatus{
		Node:    s.self.Node,
		Site:    s.self.Site,
		Role:    api.RoleLeader,
		Leader:  &api.ClusterLeader{Node: s.self.Node, Site: s.self.Site, Since: s.started},
		Members: []api.ClusterMember{s.self},
		Store:   api.ClusterStore{Kind: api.StoreBolt, InContact: true, Since: s.started},
	}
}
