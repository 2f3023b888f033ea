package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// This file is the only place that decides whether, when and where an
// attempt is retried. Retrying a write is safe only because send attaches
// one Idempotency-Key per logical call, the same on every node.

// maxRetryAfter caps a server's Retry-After so a misconfigured proxy cannot
// park a terraform apply for hours; ctx still cancels the wait at any time.
const maxRetryAfter = 2 * time.Minute

// peekLimit bounds what is read of an answer that makes the call move on,
// to name what the node said (a problem document is a few hundred bytes).
const peekLimit = 8 << 10

// retryableStatus lists the answers that mean "not now, maybe in a moment":
// rate limited, or a proxy/failoverd that is restarting, overloaded, or cut
// off from the etcd majority. Other 4xx are the caller's mistake and other
// 5xx are bugs; retrying either only delays the error.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// verdict is what one attempt's outcome means for the call.
type verdict int

const (
	// final: hand the answer (or the error) to the caller.
	final verdict = iota
	// moveOn: this node cannot serve now (unreachable, timed out, the
	// answer cut short, 502/503/504): ask the next one.
	moveOn
	// sameNode: this node is up but asks us to slow down (429): wait,
	// then ask it again. Spreading its load over the other nodes instead
	// would defeat its rate limit.
	sameNode
	// dropNode: this node can never answer this client (its certificate
	// is not trusted, it redirects in a loop, the scheme is wrong): ask
	// the others, and not this one again during the call.
	dropNode
)

// classify is the retry policy for one attempt. ctx's end is handled by
// the caller.
func classify(resp *http.Response, err error) verdict {
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return final
		}
		// retryablehttp knows which transport errors are permanent (bad
		// certificate, unsupported scheme, redirect loop); everything else
		// (refused, reset, timeout, EOF) may work on another try or node.
		if retry, _ := retryablehttp.DefaultRetryPolicy(context.Background(), nil, err); !retry {
			return dropNode
		}
		return moveOn
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return sameNode
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return moveOn
	}
	return final
}

// rotation is one logical call's walk over the endpoints. Attempts go
// round the endpoints in order, starting with the preferred one; moving to
// the next node is immediate (its being up has nothing to do with the last
// one being down), while starting a new round, or asking a 429ing node
// again, waits the backoff or the node's Retry-After and spends one of
// MaxRetries. With one endpoint this is exactly "retry MaxRetries times
// with backoff". retryablehttp calls check, the Backoff and PrepareRetry of
// one call on one goroutine, in that order, so rotation needs no lock.
type rotation struct {
	c     *Client
	req   request
	keyed bool // a retry is safe: a read, or a write with an Idempotency-Key

	order     []int       // endpoint indices in trying order, the preferred first
	pos       int         // order index of the current attempt's endpoint
	attempt   int         // the current attempt, from 1
	waits     int         // backoff waits taken so far
	dropped   []bool      // by endpoint: dropNode'd
	notBefore []time.Time // by endpoint: when its last Retry-After ends
	wait      time.Duration

	decided   int  // the attempt whose decision retry holds
	retry     bool // that decision
	answering bool // that attempt's node answered with no reason to move on
	tried     []Tried
}

func (c *Client) newRotation(r request, key string) *rotation {
	n := len(c.bases)
	first := int(c.preferred.Load())
	order := make([]int, n)
	for i := range order {
		order[i] = (first + i) % n
	}
	return &rotation{
		c: c, req: r, keyed: !isMutating(r.method) || key != "",
		order: order, attempt: 1,
		dropped: make([]bool, n), notBefore: make([]time.Time, n),
	}
}

// current is the endpoint of the current attempt.
func (r *rotation) current() int { return r.order[r.pos] }

func (r *rotation) url() string {
	return r.c.url(r.current(), r.req.path, r.req.query).String()
}

// retryClient wires the rotation into a retryablehttp client for one call.
// The client is per call because its hooks carry the call's state; it is
// a few words, and hc (with the connection pool) is shared.
func (r *rotation) retryClient(hc *http.Client) *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient: hc,
		Logger:     nil, // attempts are logged by loggingTransport, redacted
		// An upper bound only: check stops first. Each round asks every
		// node at most once, and a round costs a wait.
		RetryMax:     (r.c.retries+1)*len(r.order) - 1,
		CheckRetry:   r.check,
		Backoff:      func(time.Duration, time.Duration, int, *http.Response) time.Duration { return r.wait },
		PrepareRetry: r.prepare,
		ErrorHandler: keepLastResponse,
	}
}

// check is retryablehttp's CheckRetry. It runs once per attempt, and a
// second time for the same attempt after the response handler read the
// body (err then being the read's outcome).
func (r *rotation) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	again := r.decided == r.attempt
	if again && err == nil {
		return r.retry, nil // the body arrived whole: the decision stands
	}
	v := classify(resp, err)
	if !again && err == nil && v != final {
		r.record(resp, peekBody(resp), nil)
	} else {
		r.record(resp, nil, err)
	}
	r.decided = r.attempt
	r.answering = resp != nil && (v == final || v == sameNode) && (err == nil || errors.Is(err, errBodyTooLarge))
	r.retry = false
	if ctx.Err() != nil {
		r.answering = false
		return false, ctx.Err()
	}
	if v == final || !r.keyed || !r.plan(v, resp, time.Now()) {
		return false, nil
	}
	r.retry = true
	if r.c.logger != nil {
		fields := map[string]any{"attempt": r.attempt, "next_endpoint": r.c.names[r.current()], "wait_ms": r.wait.Milliseconds()}
		if err != nil {
			fields["error"] = err.Error()
		} else {
			fields["status"] = resp.StatusCode
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				fields["retry_after"] = ra
			}
		}
		r.c.log(ctx, "failoverd request will be retried", fields)
	}
	return true, nil
}

// plan picks the next attempt's endpoint and the wait before it, or says
// the call is over: every node dropped, or the retry budget spent.
func (r *rotation) plan(v verdict, resp *http.Response, now time.Time) bool {
	cur := r.current()
	// Only a node's latest Retry-After counts: an old one must not cut a
	// later backoff short.
	r.notBefore[cur] = time.Time{}
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			r.notBefore[cur] = now.Add(d)
		}
	}
	next, newRound := r.pos, true
	if v != sameNode {
		r.dropped[cur] = r.dropped[cur] || v == dropNode
		if next, newRound = r.nextLive(); next < 0 {
			return false
		}
	}
	ep := r.order[next]
	var wait time.Duration
	if !r.notBefore[ep].IsZero() {
		// The server said when to come back: that takes precedence over
		// the backoff, as it always has.
		wait = max(r.notBefore[ep].Sub(now), 0)
	} else if newRound {
		wait = backoff(r.c.waitMin, r.c.waitMax, r.waits)
	}
	if newRound {
		if r.waits >= r.c.retries {
			return false
		}
		r.waits++
	}
	r.pos, r.wait = next, wait
	return true
}

// nextLive is the order index of the next endpoint not dropped, and
// whether reaching it starts a new round; -1 when every one is dropped.
func (r *rotation) nextLive() (int, bool) {
	n := len(r.order)
	for k := 1; k <= n; k++ {
		p := (r.pos + k) % n
		if !r.dropped[r.order[p]] {
			return p, p <= r.pos
		}
	}
	return -1, false
}

// prepare is retryablehttp's PrepareRetry: it points the (already copied)
// request at the endpoint plan chose.
func (r *rotation) prepare(req *http.Request) error {
	r.attempt++
	u := r.c.url(r.current(), r.req.path, r.req.query)
	req.URL, req.Host = u, u.Host
	return nil
}

// settle makes the node that answered the call the one the next call
// tries first. A call that found no node answering leaves it alone.
func (r *rotation) settle() {
	if r.answering {
		r.c.preferred.Store(int32(r.current()))
	}
}

// record notes what the current attempt's node said, for error messages.
func (r *rotation) record(resp *http.Response, peeked []byte, err error) {
	name := r.c.names[r.current()]
	i := slices.IndexFunc(r.tried, func(t Tried) bool { return t.Endpoint == name })
	if i < 0 {
		r.tried = append(r.tried, Tried{Endpoint: name})
		i = len(r.tried) - 1
	}
	if r.decided != r.attempt {
		r.tried[i].Attempts++
	}
	if err != nil {
		r.tried[i].Said = causeOf(err)
		return
	}
	r.tried[i].Said = summarizeAnswer(r.req, resp, peeked)
}

// outcomes is what each endpoint said, in the order they were first asked.
func (r *rotation) outcomes() []Tried { return slices.Clone(r.tried) }

// peekBody reads the start of an answer the call is moving on from, to
// name its problem in an error, and puts it back: this answer may still
// be the final one, when the retries run out.
func peekBody(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
	resp.Body = peekedBody{Reader: io.MultiReader(bytes.NewReader(b), resp.Body), Closer: resp.Body}
	return b
}

type peekedBody struct {
	io.Reader
	io.Closer
}

// backoff is exponential with jitter between RetryWaitMin and RetryWaitMax
// (plan lets a server's Retry-After take precedence). Half of each wait is
// random so that many clients released by the same outage do not come
// back in lockstep; the other half keeps it from collapsing to zero.
func backoff(lo, hi time.Duration, attempt int) time.Duration {
	d := hi
	if attempt >= 0 && attempt < 62 {
		if shifted := lo << attempt; shifted>>attempt == lo && shifted < hi {
			d = shifted
		}
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

// keepLastResponse hands the last response to send when retries run out on a
// retryable status, so the caller sees failoverd's own problem document
// (e.g. "503 store unavailable") rather than a generic "giving up".
func keepLastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
