package client

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync/atomic"
	"time"
)

// Backup streams a consistent snapshot of failoverd's store (GET
// /v1/backup, admin scope) into w and returns its size. The snapshot is
// one point in time taken while failoverd goes on serving; it is complete
// only when Backup returns nil — a transfer cut short is an error, never a
// short file passed off as a backup.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := request{method: http.MethodGet, path: "/v1/backup", stream: true, accept: "application/octet-stream"}
	rep, err := c.send(sctx, r)
	if err != nil {
		return 0, err
	}
	resp, node := rep.Response, c.names[rep.endpoint]
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/octet-stream" {
		return 0, fmt.Errorf("failoverd at %s answered GET /v1/backup with Content-Type %q, not a store snapshot: check that the endpoint is failoverd and up to date", node, resp.Header.Get("Content-Type"))
	}
	if resp.ContentLength < 0 {
		return 0, fmt.Errorf("failoverd at %s sent a backup without Content-Length, so a cut transfer could not be told from a complete one", node)
	}
	// A stalled transfer is ended after the client's timeout without a
	// byte, however long the whole copy takes.
	var idle atomic.Bool
	timer := time.AfterFunc(c.timeout, func() { idle.Store(true); cancel() })
	defer timer.Stop()
	n, err := io.Copy(w, &watchdogReader{r: resp.Body, timer: timer, d: c.timeout})
	switch {
	case idle.Load() && ctx.Err() == nil:
		return n, fmt.Errorf("backup from %s stalled: no data for %s after %d of %d bytes", node, c.timeout, n, resp.ContentLength)
	case err != nil:
		return n, fmt.Errorf("backup from %s cut short after %d of %d bytes: %w", node, n, resp.ContentLength, err)
	case n != resp.ContentLength:
		return n, fmt.Errorf("backup from %s cut short: %d of %d bytes", node, n, resp.ContentLength)
	}
	return n, nil
}
