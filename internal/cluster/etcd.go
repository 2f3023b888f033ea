package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// Keys under the store's prefix. The election's bucket starts with '_'
// (the store's own namespace: API writes cannot touch it); the site keys
// live in the store's "cluster" bucket.
const (
	// ElectionBucket holds one candidate key per node,
	// <prefix>_election/<lease id hex>, as concurrency.Election writes it;
	// the key with the lowest create revision leads.
	ElectionBucket = "_election"
	// SitesBucket and SiteKeyPrefix: <prefix>cluster/sites/<site> holds
	// that site's api.ClusterMember while its failoverd's lease holds.
	SitesBucket   = "cluster"
	SiteKeyPrefix = "sites/"
)

// Defaults of EtcdOptions.
const (
	// MaxContactTimeout is the contact timeout of a node whose lease TTL
	// is 4 s or more (failoverd's default is 5 s); shorter leases get half
	// their TTL (EtcdOptions.contactTimeout).
	MaxContactTimeout = 2 * time.Second
	// contactEvery spaces the linearizable reads that prove contact; each
	// may take up to contactProbeTimeout.
	contactEvery        = 500 * time.Millisecond
	contactProbeTimeout = time.Second
	contactRetry        = 100 * time.Millisecond
	// retryEvery spaces the retries of a failed campaign, relist or
	// session start.
	retryEvery = 500 * time.Millisecond
	// closeTimeout bounds each step of Close: a node cut off from etcd must
	// not hold its shutdown hostage (its lease expires by itself).
	closeTimeout = 2 * time.Second
)

// Sessions gives the cluster layer this node's etcd session: the etcd
// store's, whose lease also carries the node's ephemeral keys (its
// observations), so one lease expiry takes a dead node's votes, its site
// key and its candidacy away together.
type Sessions interface {
	// Session returns the live session, starting a new one when the last
	// one ended (its lease expired while this node was cut off). It blocks
	// until it has one or ctx ends.
	Session(ctx context.Context) (*concurrency.Session, error)
}

// EtcdOptions configure StartEtcd.
type EtcdOptions struct {
	// Client talks to etcd; default: the sessions' client.
	Client   *clientv3.Client
	Sessions Sessions
	// Prefix is the store's key prefix, e.g. "/failover/".
	Prefix string
	// Self describes this node; Site must be unique in the cluster.
	Self api.ClusterMember
	// Endpoints are shown in the status. The first is this site's etcd
	// member: while this node leads, etcd's raft leader is kept off it
	// (apart.go).
	Endpoints []string
	Logger    *slog.Logger
	// LeaseTTL is the TTL of the sessions' lease (--lease-ttl); it bounds
	// the contact timeout.
	LeaseTTL time.Duration
	// ContactTimeout is how long this node goes without a successful
	// linearizable read before it counts itself cut off from the majority
	// and stops leading (default: half LeaseTTL, at most
	// MaxContactTimeout). It must stay well under the lease TTL: a node cut
	// off at time C last renewed its lease at C − TTL/3 at the earliest, so
	// its lease — and its leadership — can expire, and another node be
	// elected, from C + 2/3 TTL on; it must have stopped deciding before.
	ContactTimeout time.Duration
}

func (o EtcdOptions) contactTimeout() time.Duration {
	switch {
	case o.ContactTimeout > 0:
		return o.ContactTimeout
	case o.LeaseTTL > 0 && o.LeaseTTL/2 < MaxContactTimeout:
		return o.LeaseTTL / 2
	}
	return MaxContactTimeout
}

// check refuses a contact timeout that would let a cut-off leader decide
// after its lease may have expired.
func (o EtcdOptions) check() error {
	if ct := o.contactTimeout(); o.LeaseTTL > 0 && ct > o.LeaseTTL/2 {
		return fmt.Errorf("cluster: contact timeout %s with lease TTL %s: a cut-off leader could still decide after its lease expired; use a contact timeout of at most half the TTL (%s)",
			ct, o.LeaseTTL, o.LeaseTTL/2)
	}
	return nil
}

// Etcd is a node of an etcd-backed cluster.
type Etcd struct {
	o       EtcdOptions
	log     *slog.Logger
	changes notifier
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	electionPrefix string // <prefix>_election/
	sitePrefix     string // <prefix>cluster/sites/
	siteKey        string
	started        time.Time

	mu        sync.Mutex
	session   *concurrency.Session
	epoch     uint64
	election  *concurrency.Election // set while this node leads
	leading   bool
	fence     *store.Condition
	deposed   chan struct{} // closed when this node's leadership ends
	leader    *api.ClusterLeader
	leaderKey string
	members   map[string]api.ClusterMember
	lastSeen  map[string]time.Time
	inContact bool
	contactAt time.Time // when inContact last changed
	reason    string
	// provenAt is when a linearizable read last proved contact — and,
	// while this node leads, that its election key still exists. Leading
	// holds only while it is recent: a node frozen for longer (SIGSTOP, a
	// hung host) wakes up believing it leads while its lease may have
	// expired and another node leads; it must not decide, nor say it
	// leads, before a read has proved it again.
	provenAt time.Time

	// Keeping etcd's raft leader off this site's member (apart.go).
	won          notifier // this node just won the election
	lastMove     time.Time
	apartGap     time.Duration // apartMinGap; shorter in tests
	moves        atomic.Uint64
	moveFailures atomic.Uint64
}

var _ Node = (*Etcd)(nil)

// candidate is the value of a node's election key.
type candidate struct {
	Node string `json:"node"`
	Site string `json:"site"`
	URL  string `json:"url,omitempty"`
}

// StartEtcd joins the cluster: it takes this site's key (waiting for a
// crashed predecessor's lease to expire; refusing when another live node
// holds the site), then campaigns, watches leadership and membership, and
// checks contact, until Close.
func StartEtcd(ctx context.Context, o EtcdOptions) (*Etcd, error) {
	if o.Sessions == nil {
		return nil, errors.New("cluster: EtcdOptions.Sessions is required")
	}
	if !api.ValidName(o.Self.Site) {
		return nil, fmt.Errorf("cluster: site %q is not a valid name", o.Self.Site)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	e := &Etcd{
		o:              o,
		log:            o.Logger,
		changes:        newNotifier(),
		electionPrefix: o.Prefix + ElectionBucket + "/",
		sitePrefix:     o.Prefix + SitesBucket + "/" + SiteKeyPrefix,
		started:        time.Now(),
		members:        map[string]api.ClusterMember{},
		lastSeen:       map[string]time.Time{},
		inContact:      true,
		won:            newNotifier(),
		apartGap:       apartMinGap,
	}
	e.siteKey = e.sitePrefix + o.Self.Site
	e.contactAt, e.provenAt = e.started, e.started
	s, err := o.Sessions.Session(ctx)
	if err != nil {
		return nil, fmt.Errorf("etcd session: %w", err)
	}
	if e.o.Client == nil {
		e.o.Client = s.Client()
	}
	if err := e.claimSite(ctx, s); err != nil {
		return nil, err
	}
	e.session = s
	// Like the registration: a read while etcd's raft leadership changes
	// ("leader changed") is tried again while ctx allows.
	for {
		_, err := e.relist(ctx)
		if err == nil {
			break
		}
		if ctx.Err() == nil {
			e.log.Warn("reading the cluster's members failed; retrying", "err", err)
			sleep(ctx, retryEvery)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read the cluster's members: %w", err)
		}
	}
	run, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.wg.Add(4)
	go e.campaignLoop(run, s)
	go e.watchLoop(run)
	go e.contactLoop(run)
	go e.apartLoop(run)
	return e, nil
}

// claimSite writes this node's site key on s's lease. A key held by
// another lease is another failoverd of the same site: a crashed
// predecessor whose lease has not expired yet (wait for it), or a live
// node (refuse: two nodes of one site would double its vote).
func (e *Etcd) claimSite(ctx context.Context, s *concurrency.Session) error {
	val, err := json.Marshal(e.o.Self)
	if err != nil {
		return err
	}
	var deadline time.Time
	for {
		resp, err := e.o.Client.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(e.siteKey), "=", 0)).
			Then(clientv3.OpPut(e.siteKey, string(val), clientv3.WithLease(s.Lease()))).
			Else(clientv3.OpGet(e.siteKey)).Commit()
		if err != nil {
			// A write in flight while etcd's raft leadership changes (an
			// election, or a move to keep the leaders apart) can be lost
			// and time out: try again while ctx allows.
			if ctx.Err() == nil {
				e.log.Warn("registering this site failed; retrying", "site", e.o.Self.Site, "err", err)
				sleep(ctx, retryEvery)
			}
			if ctx.Err() != nil {
				return fmt.Errorf("register site %s: %w", e.o.Self.Site, err)
			}
			continue
		}
		if resp.Succeeded {
			return nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			continue // deleted in between
		}
		kv := kvs[0]
		if clientv3.LeaseID(kv.Lease) == s.Lease() {
			_, err := e.o.Client.Put(ctx, e.siteKey, string(val), clientv3.WithLease(s.Lease()))
			return err
		}
		var other api.ClusterMember
		_ = json.Unmarshal(kv.Value, &other)
		if deadline.IsZero() {
			// Wait out the holder's lease: it expires within its TTL if its
			// node is dead, and never if it is alive.
			ttl, err := e.o.Client.TimeToLive(ctx, clientv3.LeaseID(kv.Lease))
			if err != nil {
				return fmt.Errorf("register site %s: %w", e.o.Self.Site, err)
			}
			deadline = time.Now().Add(time.Duration(ttl.GrantedTTL)*time.Second + time.Second)
			e.log.Info("waiting for the previous failoverd of this site to expire", "site", e.o.Self.Site,
				"holder", other.Node, "holder_started", other.Started, "within", time.Until(deadline).Round(time.Second))
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("site %s is held by a running failoverd (node %s, %s, started %s): give each node its own --site, or stop the other one",
				e.o.Self.Site, other.Node, other.URL, other.Started.Format(time.RFC3339))
		}
		wctx, cancel := context.WithDeadline(ctx, deadline)
		waitDelete(wctx, e.o.Client, e.siteKey, resp.Header.Revision+1)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// waitDelete returns when key is deleted at or after rev, or ctx ends.
func waitDelete(ctx context.Context, c *clientv3.Client, key string, rev int64) {
	for r := range c.Watch(ctx, key, clientv3.WithRev(rev)) {
		for _, ev := range r.Events {
			if ev.Type == clientv3.EventTypeDelete {
				return
			}
		}
	}
}

// campaignLoop campaigns on the current session, leads until the session
// ends or another node leads, and starts over — with a new session when
// the old one's lease expired.
func (e *Etcd) campaignLoop(ctx context.Context, s *concurrency.Session) {
	defer e.wg.Done()
	val, _ := json.Marshal(candidate{Node: e.o.Self.Node, Site: e.o.Self.Site, URL: e.o.Self.URL})
	for ctx.Err() == nil {
		select {
		case <-s.Done():
			s = e.renewSession(ctx)
			continue
		default:
		}
		el := concurrency.NewElection(s, strings.TrimSuffix(e.electionPrefix, "/"))
		cctx, cancel := context.WithCancel(s.Ctx())
		stop := context.AfterFunc(ctx, cancel)
		err := el.Campaign(cctx, string(val))
		if err == nil {
			deposed := e.becomeLeader(el, string(val))
			select {
			case <-s.Done():
				e.stepDown("this node's etcd lease expired")
			case <-deposed:
			case <-ctx.Done():
				// Close resigns.
			}
		}
		stop()
		cancel()
		if err != nil && ctx.Err() == nil {
			select {
			case <-s.Done():
			default:
				e.log.Warn("etcd election campaign failed; retrying", "err", err)
				sleep(ctx, retryEvery)
			}
		}
	}
}

// renewSession waits for a new session after the last one's lease
// expired, and registers the site on it. Everything written as ephemeral
// under the old lease is gone: the epoch tells the engine to write it again.
func (e *Etcd) renewSession(ctx context.Context) *concurrency.Session {
	e.log.Warn("this node's etcd lease expired: its site key, votes and candidacy are gone until it has a new one")
	for ctx.Err() == nil {
		s, err := e.o.Sessions.Session(ctx)
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, 2*contactProbeTimeout)
			err = e.claimSite(cctx, s)
			cancel()
			if err == nil {
				e.mu.Lock()
				e.session = s
				e.epoch++
				e.mu.Unlock()
				e.changes.notify()
				e.log.Info("new etcd session: site registered again", "site", e.o.Self.Site, "lease", fmt.Sprintf("%x", int64(s.Lease())))
				return s
			}
		}
		if ctx.Err() == nil {
			e.log.Warn("no etcd session yet; retrying", "err", err)
			sleep(ctx, retryEvery)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.session
}

func (e *Etcd) becomeLeader(el *concurrency.Election, val string) <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.election, e.leading = el, true
	e.fence = &store.Condition{Bucket: ElectionBucket, Key: strings.TrimPrefix(el.Key(), e.electionPrefix), Value: []byte(val)}
	e.deposed = make(chan struct{})
	e.setLeaderLocked(el.Key(), candidate{Node: e.o.Self.Node, Site: e.o.Self.Site})
	e.log.Info("this node is the leader", "site", e.o.Self.Site, "key", el.Key())
	e.changes.notify()
	e.won.notify()
	return e.deposed
}

func (e *Etcd) stepDown(why string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stepDownLocked(why)
}

func (e *Etcd) stepDownLocked(why string) {
	if !e.leading {
		return
	}
	e.leading, e.fence = false, nil
	close(e.deposed)
	e.log.Warn("this node is no longer the leader", "reason", why)
	e.changes.notify()
}

// watchLoop keeps the leader and the members current: a relist on every
// change of the election or the site keys, and after every broken watch.
func (e *Etcd) watchLoop(ctx context.Context) {
	defer e.wg.Done()
	for ctx.Err() == nil {
		rev, err := e.relist(ctx)
		if err != nil {
			sleep(ctx, retryEvery)
			continue
		}
		// WithRequireLeader: a member cut off from its quorum ends the
		// watch instead of keeping it silently open.
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		elections := e.o.Client.Watch(wctx, e.electionPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		sites := e.o.Client.Watch(wctx, e.sitePrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	watch:
		for {
			var r clientv3.WatchResponse
			var ok bool
			select {
			case r, ok = <-elections:
			case r, ok = <-sites:
			}
			if !ok || r.Err() != nil || r.Canceled {
				break watch
			}
			if len(r.Events) > 0 {
				if _, err := e.relist(ctx); err != nil {
					break watch
				}
			}
		}
		cancel()
	}
}

// relist reads the members and the leader at one revision and applies
// them; it returns that revision.
func (e *Etcd) relist(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*contactProbeTimeout)
	defer cancel()
	resp, err := e.o.Client.Txn(ctx).Then(
		clientv3.OpGet(e.sitePrefix, clientv3.WithPrefix()),
		clientv3.OpGet(e.electionPrefix, clientv3.WithFirstCreate()...),
	).Commit()
	if err != nil {
		return 0, err
	}
	members := map[string]api.ClusterMember{}
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		var m api.ClusterMember
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			e.log.Warn("ignoring an unreadable site key", "key", string(kv.Key), "err", err)
			continue
		}
		m.Fresh, m.LastSeen = true, nil
		members[strings.TrimPrefix(string(kv.Key), e.sitePrefix)] = m
	}
	var leaderKey string
	var lead candidate
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
		leaderKey = string(kvs[0].Key)
		_ = json.Unmarshal(kvs[0].Value, &lead)
	}
	e.apply(resp.Header.Revision, members, leaderKey, lead)
	return resp.Header.Revision, nil
}

func (e *Etcd) apply(rev int64, members map[string]api.ClusterMember, leaderKey string, lead candidate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := false
	now := time.Now()
	for site, m := range e.members {
		if _, ok := members[site]; !ok {
			e.lastSeen[site] = now
			changed = true
			e.log.Warn("site left the cluster: its votes no longer count", "site", site, "node", m.Node)
		}
	}
	for site, m := range members {
		if old, ok := e.members[site]; !ok || old != m {
			changed = true
			if !ok {
				e.log.Info("site joined the cluster", "site", site, "node", m.Node, "url", m.URL)
			}
		}
		delete(e.lastSeen, site)
	}
	e.members = members
	if leaderKey != e.leaderKey {
		changed = true
		e.setLeaderLocked(leaderKey, lead)
	}
	// Another key leads at a revision that includes this node's win: this
	// node was deposed (its key was deleted, or its lease expired).
	if e.leading && e.election != nil && leaderKey != e.election.Key() && rev >= e.election.Rev() {
		e.stepDownLocked("another node leads")
	}
	if changed {
		e.changes.notify()
	}
}

func (e *Etcd) setLeaderLocked(key string, c candidate) {
	if key == e.leaderKey {
		return
	}
	e.leaderKey = key
	if key == "" {
		e.leader = nil
		e.log.Warn("no leader: an election is under way")
		return
	}
	e.leader = &api.ClusterLeader{Node: c.Node, Site: c.Site, Since: time.Now()}
	e.log.Info("cluster leader", "site", c.Site, "node", c.Node)
}

// contactLoop proves contact with the majority by a linearizable read
// every contactEvery. A read may run until ContactTimeout after the last
// success; when none succeeded by then this node is cut off: it stops
// leading at once and fails static. So a cut-off leader stops deciding
// ContactTimeout after its last contact, however the reads fail (at once,
// or by hanging on a stopped member). While this node leads, the read is
// of its own election key: a key found gone (its lease expired while this
// process was frozen) deposes it at once.
func (e *Etcd) contactLoop(ctx context.Context) {
	defer e.wg.Done()
	lastOK := time.Now()
	for ctx.Err() == nil {
		deadline := lastOK.Add(e.o.contactTimeout())
		if !e.InContact() || time.Until(deadline) < contactRetry {
			deadline = time.Now().Add(contactProbeTimeout)
		}
		key := e.o.Prefix + SitesBucket + "/contact"
		e.mu.Lock()
		el, leading := e.election, e.leading
		e.mu.Unlock()
		if leading {
			key = el.Key()
		}
		// A read proves contact at some moment between its start and its
		// answer: count from its start, the moment the lease is surely
		// still as it was.
		begun := time.Now()
		rctx, cancel := context.WithDeadline(ctx, deadline)
		resp, err := e.o.Client.Get(rctx, key, clientv3.WithCountOnly())
		cancel()
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		switch {
		case err == nil:
			lastOK = begun
			e.setContact(true, "")
			e.proved(begun, el, leading && resp.Count == 0)
			sleep(ctx, contactEvery)
		case now.Sub(lastOK) >= e.o.contactTimeout():
			e.setContact(false, fmt.Sprintf("no answer from the etcd majority for %s: %v", now.Sub(lastOK).Round(100*time.Millisecond), err))
			sleep(ctx, contactRetry)
		default:
			sleep(ctx, contactRetry) // failed fast: try again until the deadline
		}
	}
}

// proved records a read that proved contact at, begun while el led (nil:
// not leading); keyGone says it found el's key deleted.
func (e *Etcd) proved(at time.Time, el *concurrency.Election, keyGone bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if keyGone && e.leading && e.election == el {
		e.stepDownLocked("this node's election key is gone (its lease expired)")
	}
	stale := at.Sub(e.provenAt) >= e.o.contactTimeout()
	e.provenAt = at
	if stale {
		// Leading was withheld while the proof was old: tell the engine
		// it may decide again.
		e.changes.notify()
	}
}

// leadingLocked: this node leads, in contact, proved recently.
func (e *Etcd) leadingLocked() bool {
	return e.leading && e.inContact && time.Since(e.provenAt) < e.o.contactTimeout()
}

func (e *Etcd) setContact(in bool, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inContact == in {
		return
	}
	e.inContact, e.reason, e.contactAt = in, reason, time.Now()
	if in {
		e.log.Info("in contact with the etcd majority again: catching up")
	} else {
		e.log.Error("lost contact with the etcd majority: failing static (serving the last decisions, refusing writes, deciding nothing)",
			"reason", reason, "was_leader", e.leading)
	}
	e.changes.notify()
}

// Leading: the leader in contact decides; a leader cut off stops at once,
// before its lease can expire and another node be elected.
func (e *Etcd) Leading() (*store.Condition, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.leadingLocked() {
		return nil, false
	}
	return e.fence, true
}

func (e *Etcd) Changes() <-chan struct{} { return e.changes }

func (e *Etcd) InContact() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inContact
}

func (e *Etcd) SiteFresh(site string) (fresh, known bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.members[site]
	return ok, true
}

func (e *Etcd) Epoch() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.epoch
}

// Status: fresh members by site, then the ones gone.
func (e *Etcd) Status() api.ClusterStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := api.ClusterStatus{
		Node: e.o.Self.Node,
		Site: e.o.Self.Site,
		Role: api.RoleFollower,
		Store: api.ClusterStore{Kind: api.StoreEtcd, Endpoints: e.o.Endpoints, InContact: e.inContact,
			Since: e.contactAt, Reason: e.reason},
		Members: []api.ClusterMember{},
	}
	if e.leadingLocked() {
		st.Role = api.RoleLeader
	}
	if e.leader != nil {
		l := *e.leader
		st.Leader = &l
	}
	for _, site := range api.SortedKeys(e.members) {
		st.Members = append(st.Members, e.members[site])
	}
	var gone []api.ClusterMember
	for site, at := range e.lastSeen {
		at := at
		gone = append(gone, api.ClusterMember{Site: site, LastSeen: &at})
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].Site < gone[j].Site })
	st.Members = append(st.Members, gone...)
	return st
}

// Close stops the loops, resigns if this node leads (the next leader is
// elected now, not after the lease TTL) and removes its site key.
func (e *Etcd) Close(ctx context.Context) error {
	e.cancel()
	e.wg.Wait()
	e.mu.Lock()
	el, leading, s := e.election, e.leading, e.session
	e.stepDownLocked("shutting down")
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, closeTimeout)
	defer cancel()
	var errs []error
	if leading && el != nil {
		if err := el.Resign(ctx); err != nil {
			errs = append(errs, fmt.Errorf("resign leadership: %w", err))
		}
	}
	_, err := e.o.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.LeaseValue(e.siteKey), "=", s.Lease())).
		Then(clientv3.OpDelete(e.siteKey)).Commit()
	if err != nil {
		errs = append(errs, fmt.Errorf("remove site key: %w", err))
	}
	return errors.Join(errs...)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
