package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/server"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// testAccProtoV6ProviderFactories runs the provider in-process for
// terraform-plugin-testing; the CLI comes from TF_ACC_TERRAFORM_PATH.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"failover": func() (tfprotov6.ProviderServer, error) { return NewProtocol6Server("test")(), nil },
}

// testFailoverd is the real failoverd (engine, bolt store, HTTP API) that
// the whole acceptance suite talks to, on 127.0.0.1:0.
var testFailoverd struct {
	url, token string
	client     *client.Client
}

const testToken = "acc-test-token"

// testBeforeRequest, when set, runs before failoverd handles each request:
// tests use it to land a concurrent edit between terraform's plan and its
// apply, which no sequence of test steps can otherwise do.
var testBeforeRequest atomic.Pointer[func(*http.Request)]

func TestMain(m *testing.M) {
	os.Exit(runWithFailoverd(m))
}

func runWithFailoverd(m *testing.M) int {
	dir, err := os.MkdirTemp("", "failover-acc-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := store.OpenBolt(filepath.Join(dir, "failoverd.db"), store.BoltOptions{})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	eng, err := engine.New(engine.Options{Store: st, Site: "local", BaseURL: base})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng.Start(ctx)
	defer eng.Close()
	auth := server.NewAuth()
	auth.Add("acc", server.ScopeAdmin, testToken)
	h := server.New(server.Options{Engine: eng, Store: st, Auth: auth}).Handler()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hook := testBeforeRequest.Load(); hook != nil {
			(*hook)(r)
		}
		h.ServeHTTP(w, r)
	})
	srv.Start()
	defer srv.Close()

	testFailoverd.url, testFailoverd.token = base, testToken
	testFailoverd.client, err = client.New(client.Config{Endpoint: base, Token: testToken})
	if err != nil {
		panic(err)
	}
	// The provider under test reads these like a user's shell would.
	os.Setenv(envEndpoint, base)
	os.Setenv(envToken, testToken)
	return m.Run()
}

func testAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests need TF_ACC=1 (make test sets it)")
	}
}
