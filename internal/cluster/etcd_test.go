package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// testTTL is the lease TTL of the test nodes: short, so that a lost node is
// noticed within seconds; etcd's floor with the launch defaults is 1 s.
const testTTL = 2

// leaseSessions is a minimal Sessions: one session at a time, a new one
// once the last one's lease expired (the etcd store provides the real one).
type leaseSessions struct {
	c   *clientv3.Client
	ttl int

	mu sync.Mutex
	s  *concurrency.Session
}

func (l *leaseSessions) Session(ctx context.Context) (*concurrency.Session, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s != nil {
		select {
		case <-l.s.Done():
		default:
			return l.s, nil
		}
	}
	// Grant under ctx (a cut-off node must not block forever), keep alive
	// under the client's context.
	g, err := l.c.Grant(ctx, int64(l.ttl))
	if err != nil {
		return nil, err
	}
	s, err := concurrency.NewSession(l.c, concurrency.WithLease(g.ID), concurrency.WithTTL(l.ttl))
	if err != nil {
		return nil, err
	}
	l.s = s
	return s, nil
}

// world is a real three-member etcd cluster on loopback.
type world struct {
	t      *testing.T
	etcd   *launch.EtcdCluster
	prefix string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	bin := launch.EtcdForTest(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := launch.StartEtcdCluster(ctx, launch.EtcdOptions{Bin: bin, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &world{t: t, etcd: c, prefix: "/failover/"}
}

// client connects to the given members only (a site's failoverd talks to
// its own site's etcd member, so pausing that member cuts the site off).
func (w *world) client(members ...int) *clientv3.Client {
	w.t.Helper()
	var eps []string
	for _, i := range members {
		eps = append(eps, w.etcd.Members[i].ClientURL)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close() })
	return c
}

type testNode struct {
	*Etcd
	client   *clientv3.Client
	sessions *leaseSessions
}

// node starts site's node on member's client.
func (w *world) node(site string, member int) *testNode {
	w.t.Helper()
	n, err := w.start(site, member)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) start(site string, member int) (*testNode, error) {
	c := w.client(member)
	ls := &leaseSessions{c: c, ttl: testTTL}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := StartEtcd(ctx, EtcdOptions{
		Client: c, Sessions: ls, Prefix: w.prefix, LeaseTTL: testTTL * time.Second,
		Self:      api.ClusterMember{Site: site, Node: "node-" + site, URL: "http://" + site + ".example.org", Started: time.Now()},
		Endpoints: []string{w.etcd.Members[member].ClientURL},
		Logger:    slog.New(slog.NewTextHandler(testLogSink(), nil)).With("site", site),
	})
	if err != nil {
		return nil, err
	}
	n := &testNode{Etcd: e, client: c, sessions: ls}
	w.t.Cleanup(func() { n.Close(context.Background()) })
	return n, nil
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// leaders returns the nodes that may decide now.
func leaders(nodes ...*testNode) []*testNode {
	var out []*testNode
	for _, n := range nodes {
		if _, ok := n.Leading(); ok {
			out = append(out, n)
		}
	}
	return out
}

// fencedPut writes key under fence the way the etcd store turns a
// store.Condition into a Txn compare, and reports whether it landed.
func (w *world) fencedPut(c *clientv3.Client, fence *store.Condition, key string) bool {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fk := w.prefix + fence.Bucket + "/" + fence.Key
	resp, err := c.Txn(ctx).If(clientv3.Compare(clientv3.Value(fk), "=", string(fence.Value))).
		Then(clientv3.OpPut(w.prefix+key, "decision")).Commit()
	if err != nil {
		w.t.Fatal(err)
	}
	return resp.Succeeded
}

// TestEtcdOneLeaderFencedAndHandedOver: three sites elect exactly one
// leader, every node agrees on it and sees three fresh members; only the
// leader's fence admits a write; a clean stop hands leadership over at
// once, after which the old fence admits nothing.
func TestEtcdOneLeaderFencedAndHandedOver(t *testing.T) {
	w := newWorld(t)
	nodes := []*testNode{w.node("dc1", 0), w.node("cloud", 1), w.node("arbiter", 2)}
	eventually(t, 10*time.Second, "one leader, three fresh members everywhere", func() bool {
		if len(leaders(nodes...)) != 1 {
			return false
		}
		for _, n := range nodes {
			st := n.Status()
			if st.Leader == nil || len(st.Members) != 3 || !st.Members[0].Fresh || !st.Store.InContact {
				return false
			}
		}
		return true
	})
	lead := leaders(nodes...)[0]
	fence, _ := lead.Leading()
	if fence == nil || fence.Bucket != ElectionBucket || fence.Key == "" {
		t.Fatalf("leader's fence %+v", fence)
	}
	for _, n := range nodes {
		st := n.Status()
		if st.Leader.Site != lead.o.Self.Site {
			t.Errorf("%s sees %s as leader, not %s", n.o.Self.Site, st.Leader.Site, lead.o.Self.Site)
		}
		wantRole := api.RoleFollower
		if n == lead {
			wantRole = api.RoleLeader
		}
		if st.Role != wantRole {
			t.Errorf("%s: role %s, want %s", n.o.Self.Site, st.Role, wantRole)
		}
		for _, site := range []string{"dc1", "cloud", "arbiter"} {
			if fresh, known := n.SiteFresh(site); !fresh || !known {
				t.Errorf("%s: site %s fresh=%v known=%v", n.o.Self.Site, site, fresh, known)
			}
		}
		if fresh, _ := n.SiteFresh("elsewhere"); fresh {
			t.Errorf("%s: a site that never joined is fresh", n.o.Self.Site)
		}
	}
	if !w.fencedPut(lead.client, fence, "state/policy/web") {
		t.Fatal("the leader's fenced write was refused")
	}

	// A clean stop resigns: another node leads without waiting for the TTL.
	start := time.Now()
	if err := lead.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rest []*testNode
	for _, n := range nodes {
		if n != lead {
			rest = append(rest, n)
		}
	}
	eventually(t, testTTL*time.Second/2, "a new leader right after the old one resigned", func() bool { return len(leaders(rest...)) == 1 })
	t.Logf("handover after a clean stop: %s", time.Since(start).Round(time.Millisecond))
	if w.fencedPut(rest[0].client, fence, "state/policy/web") {
		t.Fatal("a deposed leader's fence still admits writes")
	}
	eventually(t, 5*time.Second, "the stopped site leaves the members", func() bool {
		fresh, _ := rest[0].SiteFresh(lead.o.Self.Site)
		return !fresh
	})
	st := rest[0].Status()
	if last := st.Members[len(st.Members)-1]; last.Site != lead.o.Self.Site || last.Fresh || last.LastSeen == nil {
		t.Errorf("gone member listed as %+v", last)
	}
}

// TestEtcdCutOffLeader: the leader's etcd member stops answering (SIGSTOP,
// as a site cut off). The leader stops deciding within the contact timeout
// — before its lease can expire — another site leads after the lease TTL,
// and when the member resumes the old leader follows, in contact again,
// on a new session (its epoch moved), with its site registered again.
func TestEtcdCutOffLeader(t *testing.T) {
	w := newWorld(t)
	nodes := []*testNode{w.node("dc1", 0), w.node("cloud", 1), w.node("arbiter", 2)}
	eventually(t, 10*time.Second, "a leader", func() bool { return len(leaders(nodes...)) == 1 })
	lead := leaders(nodes...)[0]
	var member int
	for i, n := range nodes {
		if n == lead {
			member = i
		}
	}
	epoch := lead.Epoch()
	cut := time.Now()
	if err := w.etcd.Members[member].Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			w.etcd.Members[member].Resume()
		}
	}()
	stopped := eventually(t, MaxContactTimeout+3*time.Second, "the cut-off leader stops deciding", func() bool {
		_, ok := lead.Leading()
		return !ok
	})
	lost := eventually(t, MaxContactTimeout+time.Second, "the cut-off node knows it is cut off", func() bool { return !lead.InContact() })
	t.Logf("cut off noticed after %s", (stopped + lost).Round(time.Millisecond))
	if st := lead.Status(); st.Role != api.RoleFollower || st.Store.InContact || !strings.Contains(st.Store.Reason, "no answer from the etcd majority") {
		t.Errorf("cut-off status %+v", st)
	}
	var rest []*testNode
	for _, n := range nodes {
		if n != lead {
			rest = append(rest, n)
		}
	}
	eventually(t, testTTL*time.Second+5*time.Second, "another site leads", func() bool {
		if len(leaders(rest...)) != 1 {
			return false
		}
		// The safety of the contact timeout: by the time another node
		// leads, the cut-off one has stopped deciding.
		if _, ok := lead.Leading(); ok {
			t.Fatal("two nodes decide: the cut-off leader still leads while another site does")
		}
		return true
	})
	elected := time.Since(cut)
	t.Logf("cut-off leader stopped deciding after %s; new leader after %s (lease TTL %ds)", stopped.Round(time.Millisecond), elected.Round(time.Millisecond), testTTL)
	if stopped >= testTTL*time.Second {
		t.Errorf("the old leader decided for %s, longer than the lease TTL", stopped)
	}
	eventually(t, 5*time.Second, "the others see the cut-off site leave", func() bool {
		fresh, _ := rest[0].SiteFresh(lead.o.Self.Site)
		return !fresh
	})

	if err := w.etcd.Members[member].Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	eventually(t, 15*time.Second, "the old leader back in contact, following, on a new session, registered again", func() bool {
		_, leading := lead.Leading()
		fresh, _ := rest[0].SiteFresh(lead.o.Self.Site)
		return lead.InContact() && !leading && lead.Epoch() > epoch && fresh
	})
	// A busy machine may cost the new leader its session for a moment
	// (the test's TTL is 2 s): at most one leads at any time, and one
	// leads again soon.
	eventually(t, 10*time.Second, "one leader after the site came back", func() bool { return len(leaders(nodes...)) == 1 })
}

// TestEtcdSiteTaken: a second node of a live site is refused (two nodes of
// one site would double its vote); a crashed node's successor waits for
// the old lease and takes the site.
func TestEtcdSiteTaken(t *testing.T) {
	w := newWorld(t)
	first := w.node("dc1", 0)
	start := time.Now()
	if _, err := w.start("dc1", 1); err == nil || !strings.Contains(err.Error(), "site dc1 is held by a running failoverd (node node-dc1") {
		t.Fatalf("second node of a live site: %v", err)
	}
	if waited := time.Since(start); waited < testTTL*time.Second {
		t.Errorf("refused after %s, before the holder's lease could have expired", waited)
	}
	// A crash: the session stops being kept alive, nothing is cleaned up.
	first.cancel()
	first.wg.Wait()
	first.sessions.s.Orphan()
	if _, err := w.start("dc1", 1); err != nil {
		t.Fatalf("successor of a crashed node: %v", err)
	}
}

// TestStandalone: a cluster of one always leads, unfenced, in contact.
func TestStandalone(t *testing.T) {
	now := time.Now()
	s := NewStandalone(api.ClusterMember{Site: "local", Node: "host", Started: now})
	if fence, ok := s.Leading(); !ok || fence != nil {
		t.Fatalf("Leading = %v, %v", fence, ok)
	}
	if _, known := s.SiteFresh("local"); known {
		t.Error("standalone claims membership information")
	}
	st := s.Status()
	want := fmt.Sprintf("%s %s %s %v %d", api.RoleLeader, st.Leader.Site, api.StoreBolt, true, 1)
	if got := fmt.Sprintf("%s %s %s %v %d", st.Role, st.Leader.Site, st.Store.Kind, st.Store.InContact, len(st.Members)); got != want || !st.Members[0].Fresh {
		t.Fatalf("status %+v", st)
	}
}

// testLogSink is where test nodes log: stderr with FAILOVER_TEST_LOG=1.
func testLogSink() io.Writer {
	if os.Getenv("FAILOVER_TEST_LOG") == "1" {
		return os.Stderr
	}
	return io.Discard
}

// TestEtcdLeaderNeedsRecentProof: a leader whose last proof of contact is
// older than the contact timeout — a process frozen for a while (SIGSTOP,
// a hung host), which cannot tell whether its lease expired meanwhile —
// neither decides nor says it leads until a read proves it again; then it
// tells its engine, which may decide again.
func TestEtcdLeaderNeedsRecentProof(t *testing.T) {
	w := newWorld(t)
	n := w.node("dc1", 0)
	eventually(t, 10*time.Second, "the only node leads", func() bool { return len(leaders(n)) == 1 })
	for len(n.Changes()) > 0 {
		<-n.Changes()
	}
	n.mu.Lock()
	n.provenAt = time.Now().Add(-time.Hour) // as if it had been frozen for an hour
	n.mu.Unlock()
	if _, ok := n.Leading(); ok {
		t.Fatal("a leader without a recent proof of contact may decide")
	}
	if st := n.Status(); st.Role != api.RoleFollower {
		t.Errorf("a leader without a recent proof of contact says it is %s", st.Role)
	}
	select {
	case <-n.Changes():
	case <-time.After(2 * contactEvery):
		t.Fatal("no change notified once contact was proved again")
	}
	if _, ok := n.Leading(); !ok {
		t.Error("proved again, but not leading")
	}
}

// TestEtcdKeepsRaftLeaderOffItsSite: the failoverd leader moves etcd's
// raft leadership off its own site's member (its first endpoint) — so one
// site's loss never takes both leaders (P7) — to a member of another
// site, counts the move in its metric, and moves again after someone puts
// it back, but not before the rate limit allows.
func TestEtcdKeepsRaftLeaderOffItsSite(t *testing.T) {
	w := newWorld(t)
	nodes := []*testNode{w.node("dc1", 0), w.node("cloud", 1), w.node("arbiter", 2)}
	eventually(t, 10*time.Second, "a leader", func() bool { return len(leaders(nodes...)) == 1 })
	lead := leaders(nodes...)[0]
	var own *launch.EtcdMember
	for i, n := range nodes {
		if n == lead {
			own = w.etcd.Members[i]
		}
	}
	const gap = 3 * time.Second
	lead.mu.Lock()
	lead.apartGap = gap
	lead.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	raftLeader := func() *launch.EtcdMember {
		l, err := w.etcd.Leader(ctx)
		if err != nil {
			return nil
		}
		return l
	}
	for round := 1; round <= 2; round++ {
		// Put the raft leader on the failoverd leader's member, as an
		// election of etcd's (or the first campaign, won by the node
		// nearest the raft leader) would.
		if err := w.etcd.MoveLeader(ctx, own); err != nil {
			t.Fatal(err)
		}
		before := lead.moves.Load()
		lead.mu.Lock()
		last := lead.lastMove
		lead.mu.Unlock()
		if wait := gap - time.Since(last); round > 1 && wait > 200*time.Millisecond {
			// Within the rate limit: the raft leader stays put.
			time.Sleep(wait - 200*time.Millisecond)
			if l := raftLeader(); l != own {
				t.Fatalf("round %d: the raft leader was moved again %s after the last move, within the %s limit", round, time.Since(last).Round(time.Millisecond), gap)
			}
		}
		took := eventually(t, gap+2*apartEvery+10*time.Second, "the raft leader moved off the leader's site", func() bool {
			l := raftLeader()
			return l != nil && l != own
		})
		t.Logf("round %d: raft leader moved to %s within %s", round, raftLeader().Name, took.Round(time.Millisecond))
		// The RPC returns once etcd has a new leader: count after it.
		eventually(t, apartMoveTimeout, "the move counted", func() bool { return lead.moves.Load() > before })
		if _, ok := lead.Leading(); !ok {
			t.Fatalf("round %d: the failoverd leader lost its leadership to the move", round)
		}
	}
	// Followers never move it: off the leader's site, it stays where it is.
	for _, n := range nodes {
		if n != lead && n.moves.Load()+n.moveFailures.Load() != 0 {
			t.Errorf("follower %s moved the raft leader", n.o.Self.Site)
		}
	}
	// A move can fail when etcd's raft leadership changes under it (on a
	// loaded machine, an election of its own): it is tried again after the
	// rate limit, which the rounds above cover. Say how many there were.
	if f := lead.moveFailures.Load(); f != 0 {
		t.Logf("%d failed moves (each tried again)", f)
	}
}

// TestContactTimeoutUnderLease: the contact timeout is half the lease TTL,
// at most 2 s, so a cut-off leader stops deciding before its lease can
// expire (from 2/3 TTL after the cut); one that would not is refused.
func TestContactTimeoutUnderLease(t *testing.T) {
	for _, tt := range []struct {
		ttl, contact time.Duration
		want         time.Duration
		err          string
	}{
		{ttl: 0, want: MaxContactTimeout},
		{ttl: 2 * time.Second, want: time.Second},
		{ttl: 3 * time.Second, want: 1500 * time.Millisecond},
		{ttl: 4 * time.Second, want: 2 * time.Second},
		{ttl: 5 * time.Second, want: 2 * time.Second},
		{ttl: time.Minute, want: 2 * time.Second},
		{ttl: 10 * time.Second, contact: 5 * time.Second, want: 5 * time.Second},
		{ttl: 2 * time.Second, contact: 2 * time.Second, want: 2 * time.Second,
			err: "contact timeout 2s with lease TTL 2s: a cut-off leader could still decide after its lease expired; use a contact timeout of at most half the TTL (1s)"},
		{ttl: 5 * time.Second, contact: 3 * time.Second, want: 3 * time.Second, err: "at most half the TTL (2.5s)"},
	} {
		o := EtcdOptions{LeaseTTL: tt.ttl, ContactTimeout: tt.contact}
		if got := o.contactTimeout(); got != tt.want {
			t.Errorf("TTL %s, contact %s: contact timeout %s, want %s", tt.ttl, tt.contact, got, tt.want)
		}
		if ct := o.contactTimeout(); tt.err == "" && tt.ttl > 0 && 3*ct >= 2*tt.ttl {
			t.Errorf("TTL %s: contact timeout %s reaches 2/3 of the TTL", tt.ttl, ct)
		}
		err := o.check()
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("TTL %s, contact %s: check() = %v, want %q", tt.ttl, tt.contact, err, tt.err)
		}
		if tt.err != "" {
			if _, err := StartEtcd(context.Background(), EtcdOptions{Sessions: &leaseSessions{}, LeaseTTL: tt.ttl, ContactTimeout: tt.contact,
				Self: api.ClusterMember{Site: "dc1"}}); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("TTL %s, contact %s: StartEtcd = %v", tt.ttl, tt.contact, err)
			}
		}
	}
}

// TestEtcdAloneMovesNothing: on a one-member etcd (a lab, the single-node
// suite on etcd) the raft leader is always this node's member, and there
// is nothing to keep apart: no move is tried, none counted as failed.
func TestEtcdAloneMovesNothing(t *testing.T) {
	bin := launch.EtcdForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := launch.StartEtcdCluster(ctx, launch.EtcdOptions{Bin: bin, Dir: t.TempDir(), Members: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w := &world{t: t, etcd: c, prefix: "/failover/"}
	n := w.node("dc1", 0)
	eventually(t, 10*time.Second, "the only node leads", func() bool { return len(leaders(n)) == 1 })
	n.keepApart(ctx) // what the loop does every apartEvery
	if moves, failed := n.moves.Load(), n.moveFailures.Load(); moves+failed != 0 {
		t.Fatalf("%d moves, %d failed, on a one-member etcd", moves, failed)
	}
}
