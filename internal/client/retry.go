package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// This file is the only place that decides whether and when an attempt is
// retried. Retrying a write is safe only because send attaches one
// Idempotency-Key per logical call.

// maxRetryAfter caps a server's Retry-After so a misconfigured proxy cannot
// park a terraform apply for hours; ctx still cancels the wait at any time.
const maxRetryAfter = 2 * time.Minute

// retryableStatus lists the answers that mean "not now, maybe in a moment":
// rate limited, or a proxy/failoverd that is restarting or overloaded. Other
// 4xx are the caller's mistake and other 5xx are bugs; retrying either only
// delays the error.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// shouldRetry is the retry policy: connection errors (including a response
// cut short) and retryableStatus, never after ctx is done.
func shouldRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return false, err
		}
		// retryablehttp knows which transport errors are permanent (bad
		// certificate, unsupported scheme, redirect loop); everything else
		// (refused, reset, timeout, EOF) is worth another attempt.
		return retryablehttp.DefaultRetryPolicy(ctx, nil, err)
	}
	return retryableStatus(resp.StatusCode), nil
}

func (c *Client) newRetryClient(hc *http.Client, retries int) *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil, // attempts are logged by loggingTransport, redacted
		RetryWaitMin: c.waitMin,
		RetryWaitMax: c.waitMax,
		RetryMax:     retries,
		CheckRetry:   c.checkRetry,
		Backoff:      backoff,
		ErrorHandler: keepLastResponse,
	}
}

// checkRetry applies shouldRetry and logs the decision to retry.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, perr := shouldRetry(ctx, resp, err)
	if retry && c.logger != nil {
		fields := map[string]any{}
		if st := stateOf(ctx); st != nil {
			fields["attempt"] = st.attempts.Load()
		}
		if err != nil {
			fields["error"] = err.Error()
		} else {
			fields["status"] = resp.StatusCode
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				fields["retry_after"] = ra
			}
		}
		c.log(ctx, "failoverd request will be retried", fields)
	}
	return retry, perr
}

// backoff is exponential with jitter between RetryWaitMin and RetryWaitMax,
// unless the server said when to come back (Retry-After on a 429/503).
// Half of each wait is random so that many clients released by the same
// outage do not come back in lockstep; the other half keeps it from
// collapsing to zero.
func backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return d
		}
	}
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
