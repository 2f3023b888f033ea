package server

import (
	"context"
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
