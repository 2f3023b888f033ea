package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// TestProbesAndMetrics: /healthz and /readyz answer without a token, and
// /metrics counts API requests by route pattern — never by object name,
// which would explode label cardinality.
func TestProbesAndMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if r := h.do(t, http.MethodGet, "/healthz", noToken, nil); r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != "ok" {
		t.Errorf("/healthz: %d %q", r.Status, r.Body)
	}
	if r := h.do(t, http.MethodGet, "/readyz", noToken, nil); r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != "ready" {
		t.Errorf("/readyz: %d %q", r.Status, r.Body)
	}
	h.create(t, api.KindBurstToggle, toggleFixture("dr-7f3c"))
	h.get(t, api.KindBurstToggle, "dr-7f3c")
	h.do(t, http.MethodGet, "/v1/burst-toggles/nope", readToken, nil).problem(t, http.StatusNotFound)

	r := h.do(t, http.MethodGet, "/metrics", noToken, nil).want(t, http.StatusOK)
	m := string(r.Body)
	for _, want := range []string{
		`failover_api_requests_total{code="201",method="POST",route="POST /v1/burst-toggles"} 1`,
		`failover_api_requests_total{code="200",method="GET",route="GET /v1/burst-toggles/{name}"} 1`,
		`failover_api_requests_total{code="404",method="GET",route="GET /v1/burst-toggles/{name}"} 1`,
		`failover_api_request_duration_seconds_bucket{route="GET /healthz"`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, "failover_api_") && strings.Contains(line, "dr-7f3c") {
			t.Errorf("/metrics labels a request by object name: %s", line)
		}
	}
}

// TestReadyzBeforeStart: until the engine has loaded and started probing,
// /readyz answers 503 so a load balancer keeps traffic away.
func TestReadyzBeforeStart(t *testing.T) {
	t.Parallel()
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "failoverd.db"), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := engine.New(engine.Options{Store: st, Logger: log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); st.Close() })
	srv := httptest.NewServer(New(Options{Engine: eng, Store: st, Auth: NewAuth(), Logger: log}).Handler())
	t.Cleanup(srv.Close)

	get := func() int {
		res, err := srv.Client().Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if c := get(); c != http.StatusServiceUnavailable {
		t.Errorf("/readyz before Start: %d, want 503", c)
	}
	eng.Start(context.Background())
	if c := get(); c != http.StatusOK {
		t.Errorf("/readyz after Start: %d, want 200", c)
	}
}

// TestClusterStandalone: a bolt failoverd is a cluster of one, and says so
// on /v1/cluster, in /v1/status and in /metrics: it leads, on bolt, in
// contact, and reports the store revision it has applied.
func TestClusterStandalone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	var cs api.ClusterStatus
	if err := json.Unmarshal(h.do(t, http.MethodGet, "/v1/cluster", readToken, nil).want(t, http.StatusOK).Body, &cs); err != nil {
		t.Fatal(err)
	}
	if cs.Role != api.RoleLeader || cs.Site != "local" || cs.Store.Kind != api.StoreBolt || !cs.Store.InContact ||
		cs.Leader == nil || cs.Leader.Site != "local" || len(cs.Members) != 1 || !cs.Members[0].Fresh || cs.Revision == 0 {
		t.Fatalf("/v1/cluster = %+v", cs)
	}
	var st api.Status
	if err := json.Unmarshal(h.do(t, http.MethodGet, "/v1/status", readToken, nil).want(t, http.StatusOK).Body, &st); err != nil {
		t.Fatal(err)
	}
	if st.Cluster == nil || st.Cluster.Role != api.RoleLeader {
		t.Fatalf("/v1/status cluster = %+v", st.Cluster)
	}
	m := string(h.do(t, http.MethodGet, "/metrics", noToken, nil).want(t, http.StatusOK).Body)
	for _, want := range []string{
		"failover_cluster_is_leader 1",
		`failover_cluster_leader{site="local"} 1`,
		"failover_cluster_members 1",
		`failover_site_vote_fresh{site="local"} 1`,
		`failover_site_vote_age_seconds{site="local"} 0`,
		"failover_store_in_contact 1",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
