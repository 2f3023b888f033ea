package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// StartDrill starts a drill of policy (POST .../drills); it answers once
// the drill is recorded, long before its report.
func (c *Client) StartDrill(ctx context.Context, policy string, r api.DrillRequest) (api.Drill, error) {
	var out api.Drill
	path, err := objectPath[any](api.KindTrafficPolicy, policy)
	if err != nil {
		return out, err
	}
	_, err = c.call(ctx, request{method: http.MethodPost, path: path + "/drills", body: r}, &out)
	return out, err
}

// Drills lists the newest drills first, of one policy when policy is set.
func (c *Client) Drills(ctx context.Context, policy string) ([]api.Drill, error) {
	var out api.List[api.Drill]
	q := url.Values{}
	if policy != "" {
		q.Set("policy", policy)
	}
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/drills", query: q}, &out)
	return out.Items, err
}

// Drill reads one drill and its report.
func (c *Client) Drill(ctx context.Context, id string) (api.Drill, error) {
	var out api.Drill
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/drills/" + url.PathEscape(id)}, &out)
	return out, err
}

// AbortDrill stops a running drill; it answers once automatic routing is
// back.
func (c *Client) AbortDrill(ctx context.Context, id string) (api.Drill, error) {
	var out api.Drill
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/drills/" + url.PathEscape(id) + "/abort"}, &out)
	return out, err
}
