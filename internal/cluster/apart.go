package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Keeping the two leaders apart. When the failoverd leader's site dies
// and etcd's raft leader is that site's member, the raft leader dies too:
// the member elected next renews every lease for a full TTL on promotion
// (etcd's lessor), so the dead leader's lease — and with it the next
// decision — outlives the kill by the raft election plus a whole TTL
// instead of at most a TTL. So the failoverd leader hands etcd's raft
// leadership to another site's member whenever it finds it on its own
// site's member: a site loss then costs either the failoverd leader or
// the raft leader, never both (P7).
//
// "This site's member" is the first of the node's etcd endpoints
// (--etcd-endpoints lists this site's member first). Only the raft
// leader accepts MoveLeader, and the only move this node makes is off its
// own member, so the request goes to that member alone.

const (
	// apartEvery spaces the leader's checks of where etcd's raft leader is
	// (each one Status call to this site's member).
	apartEvery = 2 * time.Second
	// apartMinGap is the least time between two moves, whatever their
	// outcome: a raft leader that keeps coming back (an operator's move, a
	// member that wins every election) is not fought over in a loop.
	apartMinGap = 15 * time.Second
	// apartStatusTimeout bounds the Status calls (the members are asked at
	// once: right after a site loss — when a new leader checks first — one
	// of them is dead, and the move waits for its timeout);
	// apartMoveTimeout the transfer (etcd waits for the transferee to catch
	// up and win).
	apartStatusTimeout = 500 * time.Millisecond
	apartMoveTimeout   = 5 * time.Second
)

// siteEndpoint is this site's etcd member's client URL ("" when unknown).
func (o EtcdOptions) siteEndpoint() string {
	if len(o.Endpoints) == 0 {
		return ""
	}
	return o.Endpoints[0]
}

// apartLoop checks, while this node leads, that etcd's raft leader is not
// this site's member: at once on winning, then every apartEvery.
func (e *Etcd) apartLoop(ctx context.Context) {
	defer e.wg.Done()
	own := e.o.siteEndpoint()
	if own == "" {
		return
	}
	// Said once, so an operator can check it is this site's member.
	sctx, cancel := context.WithTimeout(ctx, apartStatusTimeout)
	if st, err := e.o.Client.Status(sctx, own); err == nil {
		e.log.Info("this site's etcd member (the first of the etcd endpoints): while this node leads, etcd's raft leader is kept off it",
			"endpoint", own, "member", fmt.Sprintf("%x", st.Header.MemberId))
	}
	cancel()
	t := time.NewTimer(apartEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.won:
		case <-t.C:
		}
		if _, leading := e.Leading(); leading {
			e.keepApart(ctx)
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(apartEvery)
	}
}

// keepApart moves etcd's raft leadership off this site's member if it is
// there, at most once per apartMinGap.
func (e *Etcd) keepApart(ctx context.Context) {
	own := e.o.siteEndpoint()
	sctx, cancel := context.WithTimeout(ctx, apartStatusTimeout)
	st, err := e.o.Client.Status(sctx, own)
	cancel()
	if err != nil {
		e.log.Debug("cannot tell where etcd's raft leader is", "endpoint", own, "err", err)
		return
	}
	if st.Leader == 0 || st.Leader != st.Header.MemberId {
		return // the raft leader is another site's member (or being elected)
	}
	e.mu.Lock()
	if !e.lastMove.IsZero() && time.Since(e.lastMove) < e.apartGap {
		e.mu.Unlock()
		return
	}
	e.lastMove = time.Now()
	e.mu.Unlock()
	start := time.Now()
	to, toName, err := e.moveTarget(ctx, st)
	if err == nil {
		err = e.moveLeader(ctx, own, to)
	}
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, errAlone) {
			return // shutting down; or a one-member etcd, with nothing to keep apart
		}
		e.moveFailures.Add(1)
		e.log.Warn("etcd's raft leader is this site's member, and moving it to another site failed: losing this site would also cost etcd's election (up to lease-ttl + election timeout before the next decision)",
			"member", fmt.Sprintf("%x", st.Header.MemberId), "err", err)
		return
	}
	e.moves.Add(1)
	e.log.Info("moved etcd's raft leader off this site's member, so that losing this site does not lose both leaders",
		"from", fmt.Sprintf("%x", st.Header.MemberId), "to", toName, "to_id", fmt.Sprintf("%x", to), "took", time.Since(start).Round(time.Millisecond))
}

// moveTarget picks the member to hand raft leadership to: a voting
// member of another site that answers its own Status without errors, in
// the leader's term, following it; the most caught-up such one. A member
// that is down, a learner or behind is never chosen: a transfer to it
// would stall writes until etcd gives up on it.
func (e *Etcd) moveTarget(ctx context.Context, leader *clientv3.StatusResponse) (id uint64, name string, err error) {
	mctx, cancel := context.WithTimeout(ctx, apartStatusTimeout)
	ml, err := e.o.Client.MemberList(mctx)
	cancel()
	if err != nil {
		return 0, "", fmt.Errorf("list etcd's members: %w", err)
	}
	voters := 0
	for _, m := range ml.Members {
		if !m.IsLearner {
			voters++
		}
	}
	if voters < 2 {
		return 0, "", errAlone
	}
	type answer struct {
		st  *clientv3.StatusResponse
		err error
	}
	answers := make([]answer, len(ml.Members))
	sctx, cancel := context.WithTimeout(ctx, apartStatusTimeout)
	var wg sync.WaitGroup
	for i, m := range ml.Members {
		if m.ID == leader.Header.MemberId || m.IsLearner || len(m.ClientURLs) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i].st, answers[i].err = e.o.Client.Status(sctx, m.ClientURLs[0])
		}()
	}
	wg.Wait()
	cancel()
	var best *clientv3.StatusResponse
	var why []error
	for i, m := range ml.Members {
		st, err := answers[i].st, answers[i].err
		switch {
		case m.ID == leader.Header.MemberId:
		case m.IsLearner || len(m.ClientURLs) == 0:
			why = append(why, fmt.Errorf("%s: a learner or not started", m.Name))
		case err != nil:
			why = append(why, fmt.Errorf("%s: %w", m.Name, err))
		case len(st.Errors) > 0 || st.IsLearner:
			why = append(why, fmt.Errorf("%s: unhealthy: %v", m.Name, st.Errors))
		case st.Leader != leader.Header.MemberId || st.RaftTerm != leader.RaftTerm:
			why = append(why, fmt.Errorf("%s: does not follow this leader (term %d, leader %x)", m.Name, st.RaftTerm, st.Leader))
		case best == nil || st.RaftIndex > best.RaftIndex:
			best, name = st, m.Name
		}
	}
	if best == nil {
		return 0, "", fmt.Errorf("no healthy voting member of another site: %w", errors.Join(why...))
	}
	return best.Header.MemberId, name, nil
}

// errAlone: etcd has no other voting member to hand leadership to.
var errAlone = errors.New("etcd has one voting member")

// moveLeader asks the raft leader at endpoint to hand over to member to.
func (e *Etcd) moveLeader(ctx context.Context, endpoint string, to uint64) error {
	conn, err := e.o.Client.Dial(endpoint)
	if err != nil {
		return err
	}
	defer conn.Close()
	m := clientv3.NewMaintenanceFromMaintenanceClient(clientv3.RetryMaintenanceClient(e.o.Client, conn), e.o.Client)
	mctx, cancel := context.WithTimeout(ctx, apartMoveTimeout)
	defer cancel()
	_, err = m.MoveLeader(mctx, to)
	return err
}
