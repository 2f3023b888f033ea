package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Events reads up to limit events with a sequence number above since
// (limit 0: failoverd's default page size).
func (c *Client) Events(ctx context.Context, since uint64, limit int) ([]api.Event, error) {
	return c.events(ctx, since, limit, url.Values{})
}

// AuditEvents reads up to limit events of the audit log with a sequence
// number above since. The audit log keeps every mutation for at least 400
// days, while the event log keeps the newest 100,000 events of any type.
func (c *Client) AuditEvents(ctx context.Context, since uint64, limit int) ([]api.Event, error) {
	return c.events(ctx, since, limit, auditQuery())
}

// auditQuery selects the audit log on GET /v1/events.
func auditQuery() url.Values { return url.Values{"type": {api.EventAudit}} }

func (c *Client) events(ctx context.Context, since uint64, limit int, q url.Values) ([]api.Event, error) {
	q.Set("since", strconv.FormatUint(since, 10))
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out api.List[api.Event]
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/events", query: q}, &out); err != nil {
		return nil, err
	}
	if out.Items == nil {
		out.Items = []api.Event{}
	}
	return out.Items, nil
}

// FollowEvents streams events with a sequence number above since to fn, in
// order, each exactly once, until ctx is done (it then returns ctx.Err()) or
// fn returns an error (returned as is).
//
// The first connection follows the normal retry policy and its failure is
// returned, so an operator pointed at the wrong endpoint hears about it.
// Once the stream has been up, a dropped or silent connection is reopened
// from the last delivered sequence number, for as long as ctx lives: a
// failoverd restart must not end an operator's `events --follow`. With
// several endpoints the stream reopens on the next node (sequence numbers
// are cluster-wide, so Last-Event-ID means the same on every node).
func (c *Client) FollowEvents(ctx context.Context, since uint64, fn func(api.Event) error) error {
	return c.follow(ctx, since, url.Values{}, fn)
}

// FollowAuditEvents is FollowEvents on the audit log.
func (c *Client) FollowAuditEvents(ctx context.Context, since uint64, fn func(api.Event) error) error {
	return c.follow(ctx, since, auditQuery(), fn)
}

func (c *Client) follow(ctx context.Context, since uint64, q url.Values, fn func(api.Event) error) error {
	last := since
	everOpened := false
	quiet := 0 // consecutive reconnects that delivered nothing
	for {
		opened, delivered, err := c.followOnce(ctx, &last, q, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var cbErr callbackError
		if errors.As(err, &cbErr) {
			return cbErr.err
		}
		everOpened = everOpened || opened
		if !everOpened || permanent(err) {
			return err
		}
		if delivered {
			quiet = 0
		} else {
			quiet++
		}
		wait := backoff(c.waitMin, c.waitMax, quiet)
		c.log(ctx, "failoverd event stream dropped, reconnecting", map[string]any{
			"error": err.Error(), "since": last, "wait_ms": wait.Milliseconds(),
		})
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// callbackError marks an error returned by the caller's fn.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// protocolError is a stream failoverd should never send; reconnecting would
// only receive it again.
type protocolError struct{ err error }

func (e protocolError) Error() string { return e.err.Error() }
func (e protocolError) Unwrap() error { return e.err }

// permanent reports errors that reconnecting cannot fix: a protocol error
// or an HTTP answer outside the retry policy (401, 404, …).
func permanent(err error) bool {
	var pe protocolError
	if errors.As(err, &pe) {
		return true
	}
	var e *Error
	return errors.As(err, &e) && e.Status != 0 && !retryableStatus(e.Status)
}

var errStreamClosed = errors.New("event stream closed by failoverd")

// followOnce opens one stream from *last and delivers its events. opened
// reports that failoverd accepted the stream, delivered that at least one
// event reached fn.
func (c *Client) followOnce(ctx context.Context, last *uint64, extra url.Values, fn func(api.Event) error) (opened, delivered bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	q := url.Values{"since": {strconv.FormatUint(*last, 10)}, "follow": {"1"}}
	for k, v := range extra {
		q[k] = v
	}
	r := request{method: http.MethodGet, path: "/v1/events", query: q, stream: true, lastEventID: *last}
	resp, err := c.send(sctx, r)
	if err != nil {
		return false, false, err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, false, protocolError{fmt.Errorf("failoverd at %s answered GET /v1/events?follow=1 with Content-Type %q, not text/event-stream: check that the endpoint is failoverd (not a proxy that buffers) and that it is up to date", c.names[resp.endpoint], resp.Header.Get("Content-Type"))}
	}

	// The watchdog cancels the request when nothing (not even a keepalive)
	// arrives for streamIdle, which unblocks the read below.
	var idle atomic.Bool
	timer := time.AfterFunc(c.streamIdle, func() { idle.Store(true); cancel() })
	defer timer.Stop()
	body := &watchdogReader{r: resp.Body, timer: timer, d: c.streamIdle}

	err = parseSSE(body, func(m sseMessage) error {
		if m.Data == "" {
			return nil
		}
		var ev api.Event
		if err := json.Unmarshal([]byte(m.Data), &ev); err != nil {
			return protocolError{fmt.Errorf("failoverd sent an event that is not valid JSON (id %q): %w", m.ID, err)}
		}
		if ev.Seq == 0 {
			ev.Seq, _ = strconv.ParseUint(m.ID, 10, 64)
		}
		if ev.Type == "" {
			ev.Type = m.Event
		}
		if ev.Seq != 0 && ev.Seq <= *last {
			return nil // already delivered before a reconnect
		}
		if err := fn(ev); err != nil {
			return callbackError{err}
		}
		delivered = true
		if ev.Seq > *last {
			*last = ev.Seq
		}
		return nil
	})
	switch {
	case idle.Load() && ctx.Err() == nil:
		err = fmt.Errorf("no data from failoverd at %s for %s (keepalives stopped)", c.names[resp.endpoint], c.streamIdle)
	case err == nil:
		err = fmt.Errorf("%w (%s)", errStreamClosed, c.names[resp.endpoint])
	}
	var cbErr callbackError
	if ctx.Err() == nil && !errors.As(err, &cbErr) {
		// The node dropped or starved the stream: reopen it elsewhere.
		c.demote(resp.endpoint)
	}
	return true, delivered, err
}

// watchdogReader pushes the idle deadline back whenever bytes arrive.
type watchdogReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (w *watchdogReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.timer.Reset(w.d)
	}
	return n, err
}

// sseMessage is one dispatched server-sent event.
type sseMessage struct {
	ID    string // last event ID seen so far (it persists across events)
	Event string
	Data  string
}

// maxSSELine bounds one line of the stream; an event is one JSON line.
const maxSSELine = 1 << 20

// parseSSE decodes a text/event-stream (WHATWG HTML §9.2.6) and calls fn for
// every dispatched event. It returns nil at the end of the stream, fn's
// error, or a read error.
func parseSSE(r io.Reader, fn func(sseMessage) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxSSELine)
	sc.Split(scanSSELines)
	var (
		msg     sseMessage
		data    strings.Builder
		hasData bool
		first   = true
	)
	for sc.Scan() {
		line := sc.Text()
		if first {
			line = strings.TrimPrefix(line, "\uFEFF")
			first = false
		}
		if line == "" {
			if hasData {
				msg.Data = strings.TrimSuffix(data.String(), "\n")
				if err := fn(msg); err != nil {
					return err
				}
			}
			data.Reset()
			hasData = false
			msg.Event, msg.Data = "", ""
			continue
		}
		if line[0] == ':' {
			continue // comment, e.g. ": keepalive"
		}
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "event":
			msg.Event = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				msg.ID = value
			}
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return protocolError{fmt.Errorf("failoverd sent an event line longer than %d bytes", maxSSELine)}
	}
	return sc.Err()
}

// scanSSELines splits at LF, CRLF or a lone CR, as the SSE format requires.
func scanSSELines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil // a CR at the end: wait to see whether LF follows
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}
