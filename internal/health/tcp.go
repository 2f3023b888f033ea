package health

import (
	"context"
	"time"
)

// probeTCP probes a tcp check: the endpoint is up when a TCP connection to
// address completes within the timeout. The connection is closed at once,
// with a reset (dialProbe); nothing is sent, so any TCP service can be
// checked without speaking its protocol.
func probeTCP(ctx context.Context, t *Target) Result {
	res := Result{Check: t.Check.Name, Start: time.Now()}
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	conn, err := t.dialProbe(ctx, "tcp", t.Check.Address)
	if err != nil {
		return t.fail(ctx, res, "", err)
	}
	conn.Close()
	return res.finish(true, "")
}
