package health

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestProbeSourceAddr: with ProbeOptions.SourceAddr every probe type leaves
// from that address (as a multi-homed host's --probe-source-addr), and a
// backend that refuses that source fails the probe as the endpoint's
// failure — which is how tests cut one site's path on loopback.
func TestProbeSourceAddr(t *testing.T) {
	var seen sync.Map // "last" → remote IP of the last connection
	refuse := netip.MustParseAddr("127.0.0.3")
	start := func(tls bool) string {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "ok")
		}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				ip := netip.MustParseAddrPort(c.RemoteAddr().String()).Addr()
				seen.Store("last", ip)
				if ip == refuse {
					c.Close() // the cut path: connected, then nothing
				}
			}
		}
		if tls {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	plain, secure := start(false), start(true)

	tests := []struct {
		typ    string
		source string
		wantOK bool
	}{
		{api.CheckTCP, "127.0.0.2", true},
		{api.CheckHTTP, "127.0.0.2", true},
		{api.CheckHTTP, "127.0.0.3", false},
		{api.CheckHTTPS, "127.0.0.2", true},
		{api.CheckHTTPS, "127.0.0.3", false},
		{api.CheckTCP, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" from "+tt.source, func(t *testing.T) {
			addr := plain
			if tt.typ == api.CheckHTTPS {
				addr = secure
			}
			c := newCheck("web", tt.typ, addr, func(c *api.HealthCheck) {
				c.TLS = &api.TLSConfig{InsecureSkipVerify: true}
			})
			var o ProbeOptions
			want := netip.MustParseAddr("127.0.0.1") // the routing table's choice on loopback
			if tt.source != "" {
				o.SourceAddr = netip.MustParseAddr(tt.source)
				want = o.SourceAddr
			}
			tg, err := Compile(c, o)
			if err != nil {
				t.Fatal(err)
			}
			seen.Delete("last")
			res := Probers[tt.typ](context.Background(), tg)
			if res.OK != tt.wantOK {
				t.Fatalf("OK=%v (%s), want %v", res.OK, res.Error, tt.wantOK)
			}
			if !tt.wantOK && res.Local != "" {
				t.Fatalf("a refused source is the endpoint's failure, not a local one: %+v", res)
			}
			// The server's ConnState may run just after a tcp probe's reset.
			deadline := time.Now().Add(2 * time.Second)
			for {
				got, ok := seen.Load("last")
				if ok && got == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("backend saw %v, want a connection from %s", got, want)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestProbeSourceAddrNotOnHost: a source address this host does not have
// is this node's failure (local_address), never a vote against the
// endpoint.
func TestProbeSourceAddrNotOnHost(t *testing.T) {
	addr := rawHTTPServer(t)
	for _, typ := range []string{api.CheckHTTP, api.CheckTCP} {
		t.Run(typ, func(t *testing.T) {
			tg, err := Compile(newCheck("web", typ, addr), ProbeOptions{SourceAddr: netip.MustParseAddr("192.0.2.1")})
			if err != nil {
				t.Fatal(err)
			}
			res := Probers[typ](context.Background(), tg)
			if res.OK || res.Local != LocalAddress || !strings.HasPrefix(res.Error, "local: ") {
				t.Fatalf("result %+v, want a local_address failure", res)
			}
		})
	}
}

// TestMonitorProbeSites: a Monitor probes only the checks whose
// probe_sites name its site (all checks when probe_sites is empty), and a
// check moved away from its site goes unknown, saying why.
func TestMonitorProbeSites(t *testing.T) {
	var rec recorder
	m := NewMonitor(rec.options("dc1"))
	fastOK := fast(0.02, 0.01, 1, 1)
	m.Upsert(newCheck("everywhere", typeOK, "x", fastOK))
	m.Upsert(newCheck("here", typeOK, "x", fastOK, func(c *api.HealthCheck) { c.ProbeSites = []string{"cloud", "dc1"} }))
	m.Upsert(newCheck("elsewhere", typeOK, "x", fastOK, func(c *api.HealthCheck) { c.ProbeSites = []string{"cloud", "arbiter"} }))
	m.Start(context.Background())
	defer m.Stop()
	for _, name := range []string{"everywhere", "here"} {
		eventually(t, 5*time.Second, name+" healthy", func() bool {
			o, _ := m.Observation(name)
			return o.State == api.StateHealthy
		})
	}
	if n := rec.count("elsewhere"); n != 0 {
		t.Fatalf("a check of other sites was probed %d times", n)
	}
	o, _ := m.Observation("elsewhere")
	if o.State != api.StateUnknown || o.LastError != "not probed from site dc1: probe_sites is [cloud arbiter]" {
		t.Fatalf("elsewhere: %+v", o)
	}

	// Moved away: probing stops and the state is unknown (a transition).
	m.Upsert(newCheck("here", typeOK, "x", fastOK, func(c *api.HealthCheck) { c.ProbeSites = []string{"cloud"} }))
	if _, ok := rec.lastTransition("here", api.StateUnknown); !ok {
		t.Fatal("no transition to unknown when probe_sites left this site out")
	}
	before := rec.count("here")
	time.Sleep(100 * time.Millisecond)
	if after := rec.count("here"); after != before {
		t.Fatalf("still probed after probe_sites left this site out: %d → %d results", before, after)
	}
	if !m.ProbesHere(newCheck("x", typeOK, "x")) || m.ProbesHere(newCheck("x", typeOK, "x", func(c *api.HealthCheck) { c.ProbeSites = []string{"cloud"} })) {
		t.Fatal("ProbesHere disagrees with the rule")
	}
}
