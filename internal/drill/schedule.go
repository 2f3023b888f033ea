package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/schedule"
)

// ScheduleActor is who starts a scheduled drill (its started_by).
const ScheduleActor = "drill-schedule"

// DefaultScheduleTick is how often RunSchedules looks for a due drill.
const DefaultScheduleTick = time.Second

// RunSchedules starts the drills the policies' drill_schedule declares,
// until ctx ends. Only the leader starts them (one drill per game day in a
// cluster). A due time is one that passed since the previous look: times
// failoverd was down for are skipped, never run late.
func (r *Runner) RunSchedules(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	checked := r.o.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := r.o.Now()
		if r.o.Engine.ClusterStatus().Role == api.RoleLeader {
			r.startDue(ctx, checked, now)
		}
		checked = now
	}
}

// startDue starts every scheduled drill due in (after, now].
func (r *Runner) startDue(ctx context.Context, after, now time.Time) {
	for _, o := range r.o.Engine.List(api.KindTrafficPolicy) {
		p := o.(api.TrafficPolicy)
		if p.DrillSchedule == nil {
			continue
		}
		if hold, ok := Due(*p.DrillSchedule, after, now); ok {
			r.startScheduled(ctx, p.Name, *p.DrillSchedule, hold, now)
		}
	}
}

// Due reports whether s has a drill due in (after, now], and its hold.
func Due(s api.DrillSchedule, after, now time.Time) (time.Duration, bool) {
	if s.Cron != "" {
		c, err := schedule.ParseCron(s.Cron)
		if err != nil {
			return 0, false // refused on write; an older record is not run
		}
		next, ok := c.Next(after)
		if !ok || next.After(now) {
			return 0, false
		}
		hold := time.Duration(s.HoldSeconds) * time.Second
		if s.HoldSeconds == 0 {
			hold = api.DefaultDrillHoldSeconds * time.Second
		}
		return hold, true
	}
	for _, ws := range s.Windows {
		w, err := schedule.ParseWindow(ws)
		if err != nil {
			continue
		}
		if w.Start.After(after) && !w.Start.After(now) && w.End.After(now) {
			return w.End.Sub(now), true
		}
	}
	return 0, false
}

func (r *Runner) startScheduled(ctx context.Context, policy string, s api.DrillSchedule, hold time.Duration, now time.Time) {
	reason := "scheduled game day"
	if s.Reason != "" {
		reason += ": " + s.Reason
	}
	d, err := r.Start(ctx, ScheduleActor, policy, api.DrillRequest{Target: s.Target, Hold: hold.Round(time.Millisecond).String(), Reason: reason})
	if err != nil {
		r.log.Warn("scheduled drill not started", "policy", policy, "target", s.Target, "err", err)
		r.o.Engine.Emit(api.Event{Time: now.UTC(), Type: api.EventDrill, Object: "traffic-policies/" + policy,
			Message: fmt.Sprintf("scheduled drill of %s to %s skipped: %v", policy, s.Target, err)})
		return
	}
	r.log.Info("scheduled drill started", "drill", d.ID, "policy", policy, "target", s.Target, "hold", hold)
}
