package health

import (
	"context"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// probeTCP probes a tcp check: the endpoint is up when a TCP connection to
// address completes within the timeout. The connection is closed at once,
// with a reset (dialProbe); nothing is sent, so any TCP service can be
// checked without speaking its protocol.
func probeTCP(ctx context.Context, c api.HealthCheck) Result {
	res := Result{Check: c.Name, Start: time.Now()}
	t, err := targetFor(ctx, c)
	if err != nil {
		return res.finish(false, "invalid check: "+err.Error())
	}
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	conn, err := dialProbe(ctx, "tcp", c.Address)
	if err != nil {
		return t.fail(ctx, res, "", err)
	}
	conn.Close()
	return res.finish(true, "")
}
