package health

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// testBackend serves the endpoints the probe tests point at:
//
//	/status/{code}  answers code (3xx with a Location)
//	/body?b=TEXT    answers 200 with TEXT
//	/big            answers 200 with 70 KiB of "a" then "needle"
//	/slow           answers after 5 s or when the client gives up
//	/echo           answers 200 and records the request
func testBackend(t *testing.T) (addr string, requests <-chan *http.Request) {
	t.Helper()
	reqs := make(chan *http.Request, 16)
	mux := http.NewServeMux()
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		if code/100 == 3 {
			w.Header().Set("Location", "/status/500")
		}
		w.WriteHeader(code)
	})
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.URL.Query().Get("b"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("a", 70<<10) + "needle"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		reqs <- r.Clone(context.Background())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), reqs
}

func TestProbeHTTP(t *testing.T) {
	addr, _ := testBackend(t)
	path := func(p string) func(*api.HealthCheck) { return func(c *api.HealthCheck) { c.Path = p } }
	status := func(s ...string) func(*api.HealthCheck) { return func(c *api.HealthCheck) { c.ExpectedStatus = s } }
	match := func(mode, value string) func(*api.HealthCheck) {
		return func(c *api.HealthCheck) { c.BodyMatch = &api.BodyMatch{Mode: mode, Value: value} }
	}
	tests := []struct {
		name       string
		mods       []func(*api.HealthCheck)
		wantOK     bool
		wantStatus int
		wantErr    string // exact when wantOK is false
	}{
		{"200 in default range", mods(path("/status/200")), true, 200, ""},
		{"399 in default range", mods(path("/status/399")), true, 399, ""},
		{"503 outside default range", mods(path("/status/503")), false, 503, "status 503 not in 200-399"},
		{"list of codes", mods(path("/status/204"), status("200", "204")), true, 204, ""},
		{"code not in list", mods(path("/status/202"), status("200", "204")), false, 202, "status 202 not in 200,204"},
		{"expected 404", mods(path("/status/404"), status("404")), true, 404, ""},
		{"redirect is the answer", mods(path("/status/302")), true, 302, ""},
		{"redirect not followed", mods(path("/status/302"), status("200")), false, 302, "status 302 not in 200"},
		{"exact burst", mods(path("/body?b=burst"), match(api.MatchExact, "burst")), true, 200, ""},
		{"exact burst with trailing newline", mods(path("/body?b=burst%0A"), match(api.MatchExact, "burst")), true, 200, ""},
		{"exact burst vs no-burst", mods(path("/body?b=no-burst"), match(api.MatchExact, "burst")), false, 200,
			`body does not match exact "burst": got "no-burst"`},
		{"exact keeps leading space", mods(path("/body?b=%20burst"), match(api.MatchExact, "burst")), false, 200,
			`body does not match exact "burst": got " burst"`},
		{"exact no-burst", mods(path("/body?b=no-burst"), match(api.MatchExact, "no-burst")), true, 200, ""},
		{"contains finds burst in no-burst", mods(path("/body?b=no-burst"), match(api.MatchContains, "burst")), true, 200, ""},
		{"contains miss", mods(path("/body?b=down"), match(api.MatchContains, "burst")), false, 200,
			`body does not match contains "burst": got "down"`},
		{"regex anchored", mods(path("/body?b=no-burst"), match(api.MatchRegex, `^burst\s*$`)), false, 200,
			`body does not match regex "^burst\\s*$": got "no-burst"`},
		{"regex match", mods(path("/body?b=burst%0A"), match(api.MatchRegex, `^burst\s*$`)), true, 200, ""},
		{"status before body", mods(path("/status/503"), match(api.MatchContains, "x")), false, 503, "status 503 not in 200-399"},
		{"contains reads 64 KiB only", mods(path("/big"), match(api.MatchContains, "needle")), false, 200,
			`body does not match contains "needle": got "` + strings.Repeat("a", 64) + `"…`},
		{"exact needs the whole body", mods(path("/big"), match(api.MatchExact, "a")), false, 200,
			`body larger than 64 KiB: body does not match exact "a"`},
		{"timeout", mods(path("/slow"), fast(10, 0.1, 2, 3)), false, 0, "timeout after 100ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCheck("web", api.CheckHTTP, addr, tt.mods...)
			res := probeHTTP(context.Background(), compiled(t, c))
			if res.Local == LocalOverloaded && strings.HasPrefix(tt.wantErr, "timeout after") {
				// Correct, and not the case under test: the machine was too
				// busy for this process to notice the deadline on time.
				t.Skipf("timeout not judged: %s", res.Error)
			}
			if res.OK != tt.wantOK || res.Status != tt.wantStatus {
				t.Fatalf("OK=%v Status=%d Error=%q, want OK=%v Status=%d", res.OK, res.Status, res.Error, tt.wantOK, tt.wantStatus)
			}
			if res.Error != tt.wantErr {
				t.Errorf("Error = %q, want %q", res.Error, tt.wantErr)
			}
			if res.Check != "web" || res.Start.IsZero() || res.At.Before(res.Start) || res.Latency != res.At.Sub(res.Start) {
				t.Errorf("bad bookkeeping: %+v", res)
			}
		})
	}
}

func mods(m ...func(*api.HealthCheck)) []func(*api.HealthCheck) { return m }

// TestProbeHTTPRequest checks what the server receives.
func TestProbeHTTPRequest(t *testing.T) {
	addr, reqs := testBackend(t)
	tests := []struct {
		name       string
		method     string
		hostHeader string
		headers    map[string]string
		wantHost   string
		wantHeader map[string]string
	}{
		{"defaults", "", "", nil, addr, map[string]string{"User-Agent": userAgent}},
		{"head", "HEAD", "", nil, addr, nil},
		{"post", "POST", "", nil, addr, nil},
		{"host header", "", "www.example.org", nil, "www.example.org", nil},
		{"host header with port", "", "www.example.org:8443", nil, "www.example.org:8443", nil},
		{"headers", "", "", map[string]string{"X-Probe": "failover", "authorization": "Bearer t0ken", "User-Agent": "lb/1"},
			addr, map[string]string{"X-Probe": "failover", "Authorization": "Bearer t0ken", "User-Agent": "lb/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCheck("web", api.CheckHTTP, addr, func(c *api.HealthCheck) {
				c.Path, c.Method, c.HostHeader, c.Headers = "/echo?x=1", tt.method, tt.hostHeader, tt.headers
			})
			if res := probeHTTP(context.Background(), compiled(t, c)); !res.OK {
				t.Fatalf("probe failed: %s", res.Error)
			}
			r := <-reqs
			wantMethod := tt.method
			if wantMethod == "" {
				wantMethod = "GET"
			}
			if r.Method != wantMethod || r.Host != tt.wantHost || r.URL.RequestURI() != "/echo?x=1" {
				t.Errorf("got %s %s Host %q, want %s /echo?x=1 Host %q", r.Method, r.URL.RequestURI(), r.Host, wantMethod, tt.wantHost)
			}
			for k, v := range tt.wantHeader {
				if got := r.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestProbeHTTPRefused(t *testing.T) {
	addr := freePort(t)
	res := probeHTTP(context.Background(), compiled(t, newCheck("web", api.CheckHTTP, addr)))
	want := "dial tcp " + addr + ": connect: connection refused"
	if res.OK || res.Error != want || res.Status != 0 {
		t.Fatalf("OK=%v Status=%d Error=%q, want %q", res.OK, res.Status, res.Error, want)
	}
}

// TestProbeHTTPNewConnectionPerProbe: a pooled connection would keep
// answering after the backend stopped accepting, hiding the failure.
func TestProbeHTTPNewConnectionPerProbe(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c := newCheck("web", api.CheckHTTP, srv.Listener.Addr().String())
	tg, err := Compile(c, ProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const probes = 5 // the Monitor's path: one compiled transport
	for i := 0; i < probes; i++ {
		if res := probeHTTP(context.Background(), tg); !res.OK {
			t.Fatalf("probe %d: %s", i, res.Error)
		}
	}
	if got := conns.Load(); got != probes {
		t.Fatalf("%d probes opened %d connections, want one each", probes, got)
	}
}

func TestProbeHTTPS(t *testing.T) {
	var sni sync.Map // last ServerName seen, under key 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point of some cases
	srv.TLS = &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		sni.Store(0, h.ServerName)
		return nil, nil
	}}
	srv.StartTLS()
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	// httptest's certificate is for 127.0.0.1, ::1 and example.com.
	tests := []struct {
		name       string
		hostHeader string
		tls        *api.TLSConfig
		wantOK     bool
		wantErr    string // substring
		wantSNI    string
	}{
		{"unknown authority by default", "", nil, false, "certificate signed by unknown authority", ""},
		{"custom ca", "", &api.TLSConfig{CACertPEM: caPEM}, true, "", ""},
		{"server name verified", "", &api.TLSConfig{CACertPEM: caPEM, ServerName: "example.com"}, true, "", "example.com"},
		{"wrong server name", "", &api.TLSConfig{CACertPEM: caPEM, ServerName: "www.example.net"}, false, "not www.example.net", "www.example.net"},
		{"sni from host header", "example.com:443", &api.TLSConfig{CACertPEM: caPEM}, true, "", "example.com"},
		{"server name beats host header", "www.example.net", &api.TLSConfig{CACertPEM: caPEM, ServerName: "example.com"}, true, "", "example.com"},
		{"insecure skip verify", "", &api.TLSConfig{InsecureSkipVerify: true}, true, "", ""},
		{"insecure ignores name", "", &api.TLSConfig{InsecureSkipVerify: true, ServerName: "www.example.net"}, true, "", "www.example.net"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sni.Store(0, "unset")
			c := newCheck("web", api.CheckHTTPS, addr, func(c *api.HealthCheck) {
				c.TLS, c.HostHeader, c.BodyMatch = tt.tls, tt.hostHeader, &api.BodyMatch{Mode: api.MatchExact, Value: "ok"}
			})
			if p := Validate(c).Errors(); len(p) > 0 {
				t.Fatalf("fixture does not validate: %v", p)
			}
			res := probeHTTP(context.Background(), compiled(t, c))
			if res.Local == LocalOverloaded && strings.HasPrefix(tt.wantErr, "timeout after") {
				// Correct, and not the case under test: the machine was too
				// busy for this process to notice the deadline on time.
				t.Skipf("timeout not judged: %s", res.Error)
			}
			if res.OK != tt.wantOK || !strings.Contains(res.Error, tt.wantErr) {
				t.Fatalf("OK=%v Error=%q, want OK=%v Error containing %q", res.OK, res.Error, tt.wantOK, tt.wantErr)
			}
			if got, _ := sni.Load(0); got != tt.wantSNI {
				t.Errorf("server saw SNI %q, want %q", got, tt.wantSNI)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in      string
		want    statusRange
		wantErr string
	}{
		{"200", statusRange{200, 200}, ""},
		{"200-399", statusRange{200, 399}, ""},
		{"100-599", statusRange{100, 599}, ""},
		{"399-200", statusRange{}, `write the range low-high, e.g. "200-399"`},
		{"600", statusRange{}, "outside 100-599"},
		{"99", statusRange{}, "outside 100-599"},
		{"2xx", statusRange{}, "not a status code or range"},
		{"+200", statusRange{}, "not a status code or range"},
		{"200-", statusRange{}, "not a status code or range"},
		{" 200", statusRange{}, "not a status code or range"},
		{"", statusRange{}, "not a status code or range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseStatus(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("parseStatus(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseStatus(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

// BenchmarkProbeHTTP measures one probe on a new connection against a local
// server, through the compiled (Monitor) path. The server shares the CPUs,
// so this is a lower bound of the prober's own throughput.
func BenchmarkProbeHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "burst")
	}))
	defer srv.Close()
	c := newCheck("web", api.CheckHTTP, srv.Listener.Addr().String(), func(c *api.HealthCheck) {
		c.BodyMatch = &api.BodyMatch{Mode: api.MatchExact, Value: "burst"}
	})
	tg, err := Compile(c, ProbeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, par := range []bool{false, true} {
		name := "serial"
		if par {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			probe := func() {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				res := probeHTTP(pctx, tg)
				cancel()
				if !res.OK {
					b.Error(res.Error) // not Fatal: RunParallel goroutines may not stop the benchmark
				}
			}
			if !par {
				for b.Loop() {
					probe()
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					probe()
				}
			})
		})
	}
}
