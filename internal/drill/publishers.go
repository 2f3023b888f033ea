package drill

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/publish"
)

// published is how one publishing destination followed one switch.
type published struct {
	destination, record string
	// at is when the destination confirmed the switch's decision (nil: not
	// within the wait); why says why not, lastErr is its publishing error.
	at           *time.Time
	why, lastErr string
}

// waitPublished waits, until within after the switch was requested, for every destination of the
// policy's publish block to confirm decision dec (none without a publish
// block). moved is false when the decision itself was not seen: then
// nothing can have been published, and each destination says so.
//
// A destination confirms dec when its publish status's published
// generation reaches dec's: the time is that status's last success, the
// moment the worker's write was acknowledged (Route 53: INSYNC), not when
// the drill read it.
func (r *Runner) waitPublished(ctx context.Context, policy string, dec api.Decision, moved bool, requested time.Time, within time.Duration) []published {
	deadline := requested.Add(within)
	o, ok := r.o.Engine.Get(api.KindTrafficPolicy, policy)
	if !ok {
		return nil
	}
	entries := publish.Entries(o.(api.TrafficPolicy), dec)
	out := make([]published, len(entries))
	for i, e := range entries {
		out[i] = published{destination: e.Destination, record: e.Record()}
		if !moved {
			out[i].why = "nothing to publish: the decision did not move"
		}
	}
	if len(out) == 0 || !moved {
		return out
	}
	tick := time.NewTicker(max(r.o.Poll, publishPoll))
	defer tick.Stop()
	for {
		now := r.o.Now()
		sts, err := publish.ReadStatus(ctx, r.o.Store, policy, now)
		pending := 0
		for i := range out {
			if out[i].at != nil {
				continue
			}
			ps, found := statusFor(sts, out[i].destination)
			switch {
			case err != nil:
				out[i].why = "its publish status could not be read: " + err.Error()
			case !found:
				out[i].why = "no publish status yet"
			default:
				out[i].at, out[i].why = publishedAt(ps, dec)
				out[i].lastErr = ps.LastError
			}
			if out[i].at == nil {
				pending++
			}
		}
		if pending == 0 || ctx.Err() != nil {
			return out
		}
		if now.After(deadline) {
			for i := range out {
				if out[i].at == nil {
					out[i].why = fmt.Sprintf("not published within %s of the request: %s", within, out[i].why)
				}
			}
			return out
		}
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
	}
}

func statusFor(sts []api.PublishStatus, destination string) (api.PublishStatus, bool) {
	for _, s := range sts {
		if s.Destination == destination {
			return s, true
		}
	}
	return api.PublishStatus{}, false
}

// publishedAt is when a destination confirmed holding decision dec (or a
// newer one: the outbox coalesces), or why it has not.
func publishedAt(ps api.PublishStatus, dec api.Decision) (*time.Time, string) {
	switch {
	case ps.PublishedGeneration >= dec.Generation && ps.LastSuccess != nil:
		t := ps.LastSuccess.UTC()
		return &t, ""
	case ps.InSync && ps.Generation == dec.Generation:
		// The decision changed nothing this destination holds (the same
		// record set was already published): clients of it saw the new
		// state as soon as it was decided.
		t := dec.Since.UTC()
		return &t, ""
	case ps.LastError != "":
		return nil, fmt.Sprintf("%d failed attempt(s)", ps.Attempts)
	}
	return nil, fmt.Sprintf("generation %d not confirmed yet (published %d)", dec.Generation, ps.PublishedGeneration)
}

// switchTime is a switch as the last client sees it: from the request
// until failoverd's DNS and every publisher showed the new target; nil
// when one of them never did.
func switchTime(requested time.Time, dnsAt *time.Time, pubs []published) *float64 {
	if dnsAt == nil {
		return nil
	}
	last := *dnsAt
	for _, p := range pubs {
		if p.at == nil {
			return nil
		}
		if p.at.After(last) {
			last = *p.at
		}
	}
	return since(requested, &last)
}

// recordPublished adds one switch's publishers to the report, one entry
// per destination across both switches.
func recordPublished(rep *api.DrillReport, pubs []published, requested time.Time, failback bool) {
	for _, p := range pubs {
		i := -1
		for j, x := range rep.Publishers {
			if x.Destination == p.destination {
				i = j
			}
		}
		if i < 0 {
			rep.Publishers = append(rep.Publishers, api.DrillPublisher{Destination: p.destination, Record: p.record})
			i = len(rep.Publishers) - 1
		}
		x := &rep.Publishers[i]
		what := "failover"
		if failback {
			what = "failback"
			x.FailbackPublishedAt, x.FailbackSeconds = p.at, since(requested, p.at)
		} else {
			x.FailoverPublishedAt, x.FailoverSeconds = p.at, since(requested, p.at)
		}
		if p.at == nil {
			x.Problem = joinProblem(x.Problem, what+" "+p.why)
			if p.lastErr != "" {
				x.LastError = p.lastErr
			}
		}
	}
}

// judgePublishers decides, once both switches are measured, which
// publishers followed — both switches published within the budget — and
// notes the ones that did not.
func judgePublishers(rep *api.DrillReport) {
	b := budget(rep)
	for i := range rep.Publishers {
		x := &rep.Publishers[i]
		for _, s := range []struct {
			what string
			secs *float64
		}{{"failover", x.FailoverSeconds}, {"failback", x.FailbackSeconds}} {
			if s.secs != nil && *s.secs > b {
				x.Problem = joinProblem(x.Problem, fmt.Sprintf("%s published %.3fs after the request, beyond the budget of %.1fs", s.what, *s.secs, b))
			}
		}
		x.Followed = x.Problem == "" && x.FailoverSeconds != nil && x.FailbackSeconds != nil
		if !x.Followed {
			if x.Problem == "" {
				x.Problem = "the drill ended before it published both switches"
			}
			note := fmt.Sprintf("publisher %s %s did not follow: %s", x.Destination, x.Record, x.Problem)
			if x.LastError != "" {
				note += "; last error: " + x.LastError
			}
			rep.Notes = append(rep.Notes, note)
		}
	}
}

func joinProblem(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// pubWords is the publishers of one switch for an event message.
func pubWords(pubs []published, requested time.Time) string {
	var b strings.Builder
	for _, p := range pubs {
		fmt.Fprintf(&b, ", %s %s %s", p.destination, p.record, secs(since(requested, p.at)))
	}
	return b.String()
}
