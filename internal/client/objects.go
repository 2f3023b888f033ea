package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// The four declared kinds share one CRUD contract, so it is written once,
// generically. T is the kind's wire type (api.HealthCheck, …).

// Create declares a new object (POST /v1/{kind}) and returns it as stored,
// with its computed fields and version.
func Create[T any](ctx context.Context, c *Client, kind api.Kind, obj T) (T, error) {
	var out T
	if err := checkKind[T](kind); err != nil {
		return out, err
	}
	h, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/" + string(kind), body: obj}, &out)
	if err != nil {
		return out, err
	}
	setVersion(&out, h)
	return out, nil
}

// Get reads one object (GET /v1/{kind}/{name}). Its Version is the ETag.
func Get[T any](ctx context.Context, c *Client, kind api.Kind, name string) (T, error) {
	var out T
	path, err := objectPath[T](kind, name)
	if err != nil {
		return out, err
	}
	h, err := c.call(ctx, request{method: http.MethodGet, path: path}, &out)
	if err != nil {
		return out, err
	}
	setVersion(&out, h)
	return out, nil
}

// List reads every object of a kind (GET /v1/{kind}).
func List[T any](ctx context.Context, c *Client, kind api.Kind) ([]T, error) {
	if err := checkKind[T](kind); err != nil {
		return nil, err
	}
	var out api.List[T]
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/" + string(kind)}, &out); err != nil {
		return nil, err
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out.Items, nil
}

// Update replaces an object (PUT /v1/{kind}/{name}). With ifMatch non-zero
// the write only happens if the stored version is still ifMatch, otherwise
// it fails with IsPreconditionFailed; 0 replaces unconditionally.
func Update[T any](ctx context.Context, c *Client, kind api.Kind, name string, obj T, ifMatch uint64) (T, error) {
	var out T
	path, err := objectPath[T](kind, name)
	if err != nil {
		return out, err
	}
	h, err := c.call(ctx, request{method: http.MethodPut, path: path, body: obj, ifMatch: ifMatch}, &out)
	if err != nil {
		return out, err
	}
	setVersion(&out, h)
	return out, nil
}

// Delete removes an object (DELETE /v1/{kind}/{name}), conditionally when
// ifMatch is non-zero. A referenced object is not deleted: IsConflict, with
// the referrers in the error's Problem.
func (c *Client) Delete(ctx context.Context, kind api.Kind, name string, ifMatch uint64) error {
	path, err := objectPath[any](kind, name)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, request{method: http.MethodDelete, path: path, ifMatch: ifMatch}, nil)
	return err
}

// HealthStatus is the live state of a health check.
func (c *Client) HealthStatus(ctx context.Context, name string) (api.HealthStatus, error) {
	var out api.HealthStatus
	return out, c.getSub(ctx, api.KindHealthCheck, name, "/status", &out)
}

// Decision is what a traffic policy serves right now.
func (c *Client) Decision(ctx context.Context, policy string) (api.Decision, error) {
	var out api.Decision
	return out, c.getSub(ctx, api.KindTrafficPolicy, policy, "/decision", &out)
}

// SetOverride pins a policy to one target until o.ExpiresAt and returns the
// resulting decision.
func (c *Client) SetOverride(ctx context.Context, policy string, o api.Override) (api.Decision, error) {
	var out api.Decision
	path, err := objectPath[any](api.KindTrafficPolicy, policy)
	if err != nil {
		return out, err
	}
	_, err = c.call(ctx, request{method: http.MethodPut, path: path + "/override", body: o}, &out)
	return out, err
}

// ClearOverride hands a policy back to its health-driven decision.
func (c *Client) ClearOverride(ctx context.Context, policy string) (api.Decision, error) {
	var out api.Decision
	path, err := objectPath[any](api.KindTrafficPolicy, policy)
	if err != nil {
		return out, err
	}
	_, err = c.call(ctx, request{method: http.MethodDelete, path: path + "/override"}, &out)
	return out, err
}

// ReplicaSetStatus is the live view of a replica set.
func (c *Client) ReplicaSetStatus(ctx context.Context, name string) (api.ReplicaSetStatus, error) {
	var out api.ReplicaSetStatus
	return out, c.getSub(ctx, api.KindReplicaSet, name, "/status", &out)
}

// ReplicaSetConfig is the MongoDB replSetReconfig document, as failoverd
// renders it (kept raw so no field is lost in translation).
func (c *Client) ReplicaSetConfig(ctx context.Context, name string) (json.RawMessage, error) {
	var out json.RawMessage
	return out, c.getSub(ctx, api.KindReplicaSet, name, "/config", &out)
}

// PatchBurst engages or releases a burst toggle, the operators' switch.
// It is unconditional on purpose: at 4 a.m. the latest decision wins.
func (c *Client) PatchBurst(ctx context.Context, name string, engaged bool) (api.BurstToggle, error) {
	var out api.BurstToggle
	path, err := objectPath[any](api.KindBurstToggle, name)
	if err != nil {
		return out, err
	}
	h, err := c.call(ctx, request{method: http.MethodPatch, path: path, body: api.BurstPatch{Engaged: &engaged}}, &out)
	if err != nil {
		return out, err
	}
	setVersion(&out, h)
	return out, nil
}

// Status is failoverd's one-screen summary for operators.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var out api.Status
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/status"}, &out)
	return out, err
}

// Cluster is the node's view of its control plane: role, leader, members
// and their freshness, its link to the store.
func (c *Client) Cluster(ctx context.Context) (api.ClusterStatus, error) {
	var out api.ClusterStatus
	_, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/cluster"}, &out)
	return out, err
}

func (c *Client) getSub(ctx context.Context, kind api.Kind, name, sub string, out any) error {
	path, err := objectPath[any](kind, name)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, request{method: http.MethodGet, path: path + sub}, out)
	return err
}

// objectPath validates kind and name before they become a URL path, so a
// bad name is reported as such (and can never traverse to another path).
func objectPath[T any](kind api.Kind, name string) (string, error) {
	if err := checkKind[T](kind); err != nil {
		return "", err
	}
	if !api.ValidName(name) {
		return "", fmt.Errorf("invalid %s name %q: names are 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit", kind, name)
	}
	return api.ObjectPath(kind, name), nil
}

// checkKind catches a wire type used with the wrong collection, a mistake
// the compiler cannot see with kinds passed as values.
func checkKind[T any](kind api.Kind) error {
	if !slices.Contains(api.Kinds, kind) {
		return fmt.Errorf("unknown kind %q: use one of %v", kind, api.Kinds)
	}
	o, ok := any(*new(T)).(api.Object)
	if !ok {
		return nil
	}
	want := o.ObjectKind()
	if want != kind {
		return fmt.Errorf("%T objects live under %q, not %q", *new(T), want, kind)
	}
	return nil
}

// setVersion copies the ETag into obj's Version field. The ETag is what
// If-Match is compared with, so it is authoritative over the body; doing it
// by reflection keeps the generic functions free of per-kind code.
func setVersion(obj any, h http.Header) {
	v, ok := parseETag(h.Get("ETag"))
	if !ok {
		return
	}
	rv := reflect.ValueOf(obj)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return
	}
	if f := rv.Elem().FieldByName("Version"); f.IsValid() && f.CanSet() && f.Kind() == reflect.Uint64 {
		f.SetUint(v)
	}
}
