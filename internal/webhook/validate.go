// Package webhook delivers events to HTTP receivers (DESIGN §8): signed
// with HMAC-SHA256 over a timestamp and the body (Stripe-style, see Sign),
// in order per webhook, at least once, each carrying its id for dedupe.
//
// The outbox of webhooks is the store's event log itself: every event is
// appended in the same commit as the change that causes it, and each
// webhook keeps a durable cursor (the last sequence number its receiver
// acknowledged) in the outbox bucket. A worker per webhook, on the leader
// only, reads the events after its cursor in order, delivers the ones its
// filter matches, and advances the cursor after each 2xx. A restart, or a
// new leader, resumes from the stored cursor: an event delivered just
// before a crash whose cursor write did not land is delivered again, with
// the same id (at least once).
//
// Overflow policy: a webhook's queue is the events between its cursor and
// the head of the log, bounded by MaxPending. When a receiver falls
// further behind (or the log's own retention prunes events it has not
// received) the oldest undelivered events are skipped — never the newest
// —, the skip is counted in the status (dropped) and recorded as a
// "publish" event naming how many were lost. Failing webhooks never slow
// decisions or other webhooks: each has its own worker and reads the log
// on its own.
package webhook

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// EventTypes are the event types a webhook may filter on.
var EventTypes = []string{api.EventHealth, api.EventDecision, api.EventBurst, api.EventReplicaSet, api.EventAudit, api.EventPublish}

// MaxURLLength bounds a webhook URL.
const MaxURLLength = 2048

// secretNameRE is the shape of a secret's name in --webhook-secrets.
var secretNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate returns every problem of a webhook, with field paths in the
// provider's notation; the provider runs it at plan time.
func Validate(w api.Webhook) api.Problems {
	var ps api.Problems
	api.CheckName(&ps, "name", w.Name)
	checkURL(&ps, w.URL)
	seen := map[string]int{}
	for i, ev := range w.Events {
		f := api.Index("events", i)
		if j, dup := seen[ev]; dup {
			ps.Add(f, "%q is already events[%d]: remove the duplicate", ev, j)
			continue
		}
		seen[ev] = i
		if !isEventType(ev) {
			ps.Add(f, "%q is not an event type: use %s (omit events to receive every type)", ev, quoteAll(EventTypes))
		}
	}
	switch {
	case w.Secret == "":
		ps.Add("secret", `is required: the name of a secret in failoverd's --webhook-secrets file, e.g. "pagerduty" (the secret itself never goes through the API or Terraform state)`)
	case !secretNameRE.MatchString(w.Secret):
		ps.Add("secret", "%q is not a secret name: use 1 to 64 letters, digits, '_', '.' or '-', as the --webhook-secrets file names it", w.Secret)
	}
	return ps
}

func checkURL(ps *api.Problems, s string) {
	const fix = `: write the receiver's absolute http(s) URL, e.g. "https://events.pagerduty.com/integration/abc/enqueue"`
	if s == "" {
		ps.Add("url", "is required"+fix)
		return
	}
	if len(s) > MaxURLLength {
		ps.Add("url", "is %d characters long, more than %d%s", len(s), MaxURLLength, fix)
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		ps.Add("url", "%q is not a URL (%v)%s", s, err, fix)
	case u.Scheme != "http" && u.Scheme != "https":
		ps.Add("url", "%q has scheme %q; a webhook is delivered over http or https%s", s, u.Scheme, fix)
	case u.Host == "" || u.Hostname() == "":
		ps.Add("url", "%q has no host%s", s, fix)
	case u.User != nil:
		ps.Add("url", "%q carries credentials, which would be stored and shown in plain text: remove them; the receiver authenticates failoverd by the signature (secret)", redact(u))
	case u.Fragment != "":
		ps.Add("url", "%q has a fragment (#...), which is never sent to the receiver: remove it", s)
	}
}

func redact(u *url.URL) string {
	c := *u
	c.User = url.User("***")
	return c.String()
}

func isEventType(s string) bool {
	for _, t := range EventTypes {
		if s == t {
			return true
		}
	}
	return false
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// Matches reports whether a webhook's filter takes events of type t.
func Matches(w api.Webhook, t string) bool {
	if len(w.Events) == 0 {
		return true
	}
	for _, e := range w.Events {
		if e == t {
			return true
		}
	}
	return false
}
