package health

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// testCA is a self-signed CA certificate in PEM, made once per test binary.
var testCA = sync.OnceValue(func() string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "failover test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
})

const keyPEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n"

func validHTTPS() api.HealthCheck {
	c := api.HealthCheck{
		Name: "web-primary", Site: "dc1", Type: api.CheckHTTPS, Address: "192.0.2.10:443",
		Path: "/healthz?deep=1", Method: "GET", HostHeader: "www.example.org",
		Headers:         map[string]string{"X-Probe": "failover", "Authorization": "Bearer x"},
		ExpectedStatus:  []string{"200", "204-299"},
		BodyMatch:       &api.BodyMatch{Mode: api.MatchRegex, Value: `^ok\b`},
		TLS:             &api.TLSConfig{ServerName: "www.example.org", CACertPEM: testCA()},
		IntervalSeconds: 5, TimeoutSeconds: 1.5, Rise: 2, Fall: 3,
		ProbeSites: []string{"dc1", "aws-eu"}, Quorum: api.QuorumAll,
	}
	c.Normalize()
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name         string
		base         func() api.HealthCheck
		mod          func(*api.HealthCheck)
		wantErrors   []string // field paths, in order
		wantWarnings []string
		wantDetail   string // substring of the first error, when set
	}{
		{name: "full https", base: validHTTPS},
		{name: "defaults", mod: func(c *api.HealthCheck) {}},
		{name: "tcp defaults", mod: func(c *api.HealthCheck) { c.Type = api.CheckTCP }},
		{name: "ipv6 and dns", mod: func(c *api.HealthCheck) { c.Address = "[2001:db8::1]:8080"; c.HostHeader = "[2001:db8::1]:8080" }},
		{name: "link-local zone", mod: func(c *api.HealthCheck) { c.Address = "[fe80::1%eth0]:80" }},
		{name: "custom method", mod: func(c *api.HealthCheck) { c.Method = "PURGE" }},
		{name: "exact empty body", mod: func(c *api.HealthCheck) { c.BodyMatch = &api.BodyMatch{Mode: api.MatchExact} }},
		{name: "fractional timeout", mod: func(c *api.HealthCheck) { c.IntervalSeconds, c.TimeoutSeconds = 1, 0.25 }},

		{name: "everything missing", base: func() api.HealthCheck { var c api.HealthCheck; c.Normalize(); return c },
			wantErrors: []string{"name", "site", "type", "address"}, wantDetail: "is required"},
		{name: "bad names", mod: func(c *api.HealthCheck) { c.Name, c.Site = "Web_1", "dc 1" }, wantErrors: []string{"name", "site"}},
		{name: "unknown type", mod: func(c *api.HealthCheck) { c.Type = "icmp" }, wantErrors: []string{"type"}, wantDetail: `use "http", "https", "tcp" or "calculated"`},
		{name: "address with scheme", mod: func(c *api.HealthCheck) { c.Address = "http://192.0.2.10:80/x" },
			wantErrors: []string{"address"}, wantDetail: `use "192.0.2.10:80"`},
		{name: "address without port", mod: func(c *api.HealthCheck) { c.Address = "192.0.2.10" },
			wantErrors: []string{"address"}, wantDetail: "missing port in address"},
		{name: "address without host", mod: func(c *api.HealthCheck) { c.Address = ":80" }, wantErrors: []string{"address"}},
		{name: "port 0", mod: func(c *api.HealthCheck) { c.Address = "web.example.org:0" }, wantErrors: []string{"address"}, wantDetail: "from 1 to 65535"},
		{name: "named port", mod: func(c *api.HealthCheck) { c.Address = "web.example.org:http" }, wantErrors: []string{"address"}},
		{name: "bad host", mod: func(c *api.HealthCheck) { c.Address = "web!.example.org:80" }, wantErrors: []string{"address"}},
		{name: "relative path", mod: func(c *api.HealthCheck) { c.Path = "healthz" }, wantErrors: []string{"path"}, wantDetail: `starting with "/"`},
		{name: "path with space", mod: func(c *api.HealthCheck) { c.Path = "/a b" }, wantErrors: []string{"path"}, wantDetail: "%20"},
		{name: "path with fragment", mod: func(c *api.HealthCheck) { c.Path = "/a#b" }, wantErrors: []string{"path"}},
		{name: "path bad escape", mod: func(c *api.HealthCheck) { c.Path = "/%zz" }, wantErrors: []string{"path"}},
		{name: "lower-case method", mod: func(c *api.HealthCheck) { c.Method = "get" }, wantErrors: []string{"method"}, wantDetail: `use "GET"`},
		{name: "connect", mod: func(c *api.HealthCheck) { c.Method = "CONNECT" }, wantErrors: []string{"method"}},
		{name: "method with space", mod: func(c *api.HealthCheck) { c.Method = "GE T" }, wantErrors: []string{"method"}},
		{name: "bad host header", mod: func(c *api.HealthCheck) { c.HostHeader = "www.example.org/x" }, wantErrors: []string{"host_header"}},
		{name: "host header bad port", mod: func(c *api.HealthCheck) { c.HostHeader = "www.example.org:99999" }, wantErrors: []string{"host_header"}},
		{name: "bad headers", mod: func(c *api.HealthCheck) {
			c.Headers = map[string]string{"X Bad": "1", "Host": "x", "Connection": "keep-alive", "X-Split": "a\r\nb", "X-A": "1", "x-a": "2"}
		}, wantErrors: []string{`headers["Connection"]`, `headers["Host"]`, `headers["X Bad"]`, `headers["X-Split"]`, `headers["x-a"]`}},
		{name: "no expected status", mod: func(c *api.HealthCheck) { c.ExpectedStatus = []string{} }, wantErrors: []string{"expected_status"}},
		{name: "bad expected status", mod: func(c *api.HealthCheck) { c.ExpectedStatus = []string{"200", "600", "399-200", "2xx"} },
			wantErrors: []string{"expected_status[1]", "expected_status[2]", "expected_status[3]"}, wantDetail: "100 to 599"},
		{name: "no match mode", mod: func(c *api.HealthCheck) { c.BodyMatch = &api.BodyMatch{Value: "burst"} }, wantErrors: []string{"body_match.mode"}},
		{name: "bad match mode", mod: func(c *api.HealthCheck) { c.BodyMatch = &api.BodyMatch{Mode: "equals", Value: "burst"} },
			wantErrors: []string{"body_match.mode"}, wantDetail: `"no-burst"`},
		{name: "empty contains", mod: func(c *api.HealthCheck) { c.BodyMatch = &api.BodyMatch{Mode: api.MatchContains} }, wantErrors: []string{"body_match.value"}},
		{name: "bad regex", mod: func(c *api.HealthCheck) { c.BodyMatch = &api.BodyMatch{Mode: api.MatchRegex, Value: "(burst"} },
			wantErrors: []string{"body_match.value"}, wantDetail: "RE2"},
		{name: "huge value", mod: func(c *api.HealthCheck) {
			c.BodyMatch = &api.BodyMatch{Mode: api.MatchExact, Value: strings.Repeat("x", maxBody+1)}
		}, wantErrors: []string{"body_match.value"}},
		{name: "head with body match", mod: func(c *api.HealthCheck) {
			c.Method, c.BodyMatch = "HEAD", &api.BodyMatch{Mode: api.MatchExact, Value: "ok"}
		}, wantWarnings: []string{"body_match"}},
		{name: "tls on http", mod: func(c *api.HealthCheck) { c.TLS = &api.TLSConfig{InsecureSkipVerify: true} }, wantErrors: []string{"tls"}},
		{name: "ca not pem", base: validHTTPS, mod: func(c *api.HealthCheck) { c.TLS.CACertPEM = "MIIB..." }, wantErrors: []string{"tls.ca_cert_pem"}},
		{name: "private key in ca", base: validHTTPS, mod: func(c *api.HealthCheck) { c.TLS.CACertPEM = testCA() + keyPEM },
			wantErrors: []string{"tls.ca_cert_pem"}, wantDetail: "PRIVATE KEY"},
		{name: "broken certificate", base: validHTTPS, mod: func(c *api.HealthCheck) {
			c.TLS.CACertPEM = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
		}, wantErrors: []string{"tls.ca_cert_pem"}},
		{name: "server name with scheme", base: validHTTPS, mod: func(c *api.HealthCheck) { c.TLS.ServerName = "https://www.example.org" },
			wantErrors: []string{"tls.server_name"}},
		{name: "insecure with ca", base: validHTTPS, mod: func(c *api.HealthCheck) { c.TLS.InsecureSkipVerify = true },
			wantWarnings: []string{"tls.ca_cert_pem"}},
		{name: "sub-second interval", mod: func(c *api.HealthCheck) { c.IntervalSeconds, c.TimeoutSeconds = 0.5, 0.1 },
			wantErrors: []string{"interval_seconds"}, wantDetail: "at least 1"},
		{name: "interval too long", mod: func(c *api.HealthCheck) { c.IntervalSeconds = 1e9 }, wantErrors: []string{"interval_seconds"}},
		{name: "timeout not below interval", mod: func(c *api.HealthCheck) { c.IntervalSeconds = 1 },
			wantErrors: []string{"timeout_seconds"}, wantDetail: "timeout_seconds = 0.5"},
		{name: "negative timeout", mod: func(c *api.HealthCheck) { c.TimeoutSeconds = -1 }, wantErrors: []string{"timeout_seconds"}},
		{name: "tiny timeout", mod: func(c *api.HealthCheck) { c.TimeoutSeconds = 1e-6 }, wantErrors: []string{"timeout_seconds"}},
		{name: "nan and inf", mod: func(c *api.HealthCheck) { c.IntervalSeconds, c.TimeoutSeconds = math.NaN(), math.Inf(1) },
			wantErrors: []string{"interval_seconds", "timeout_seconds"}},
		{name: "rise and fall", mod: func(c *api.HealthCheck) { c.Rise, c.Fall = -1, 101 }, wantErrors: []string{"rise", "fall"}},
		{name: "probe sites", mod: func(c *api.HealthCheck) { c.ProbeSites = []string{"dc1", "DC2", "dc1"} },
			wantErrors: []string{"probe_sites[1]", "probe_sites[2]"}},
		{name: "quorum", mod: func(c *api.HealthCheck) { c.Quorum = "most" }, wantErrors: []string{"quorum"}},
		{name: "tcp with http attributes", mod: func(c *api.HealthCheck) {
			c.Type, c.Path, c.Method, c.HostHeader = api.CheckTCP, "/x", "HEAD", "www.example.org"
			c.Headers, c.ExpectedStatus = map[string]string{"X": "1"}, []string{"200"}
			c.BodyMatch, c.TLS = &api.BodyMatch{Mode: api.MatchExact, Value: "ok"}, &api.TLSConfig{ServerName: "x"}
		}, wantErrors: []string{"path", "method", "host_header", "headers", "expected_status", "body_match", "tls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c api.HealthCheck
			if tt.base != nil {
				c = tt.base()
			} else {
				c = newCheck("web-primary", api.CheckHTTP, "web1.example.org:8080")
			}
			if tt.mod != nil {
				tt.mod(&c)
			}
			p := Validate(c)
			errs, warns := fields(p.Errors()), fields(p.Warnings())
			if !slices.Equal(errs, tt.wantErrors) || !slices.Equal(warns, tt.wantWarnings) {
				t.Fatalf("errors %q warnings %q, want %q %q\n%v", errs, warns, tt.wantErrors, tt.wantWarnings, p)
			}
			if tt.wantDetail != "" && !strings.Contains(p.Errors()[0].Detail, tt.wantDetail) {
				t.Errorf("detail %q does not contain %q", p.Errors()[0].Detail, tt.wantDetail)
			}
			checkProblems(t, p)
			if len(errs) == 0 {
				if _, err := Compile(c, ProbeOptions{}); err != nil {
					t.Fatalf("valid check does not compile: %v", err)
				}
			}
		})
	}
}

func fields(p api.Problems) []string {
	var out []string
	for _, e := range p {
		out = append(out, e.Field)
	}
	return out
}

// checkProblems: every field path must parse (the provider attaches the
// diagnostic to it) and every problem must say something.
func checkProblems(t *testing.T, p api.Problems) {
	t.Helper()
	for _, e := range p {
		if _, err := api.ParsePath(e.Field); err != nil || e.Field == "" {
			t.Fatalf("field path %q does not parse: %v", e.Field, err)
		}
		if len(e.Detail) < 10 {
			t.Fatalf("%s: detail %q says nothing", e.Field, e.Detail)
		}
	}
}

// FuzzValidate: Validate never panics, names fields the provider can
// parse, and everything it accepts compiles into a sendable request.
func FuzzValidate(f *testing.F) {
	f.Add("web", "dc1", "http", "192.0.2.10:80", "/", "GET", "", "X-Probe", "1", "200-399", "", "", "", "", false, false, 10.0, 2.0, 2, 3, "", "majority")
	f.Add("burst", "dc2", "https", "[2001:db8::1]:443", "/burst/bf?x=1", "HEAD", "www.example.org:8443", "X-Env", "prod", "200,204-299", "exact", "burst", "www.example.org", "", true, false, 1.0, 0.5, 1, 1, "dc1,dc2", "all")
	f.Add("db", "dc3", "tcp", "db.example.net:5432", "/", "GET", "", "", "", "", "", "", "", "", false, false, 5.0, 4.9, 100, 100, "dc1", "any")
	f.Add("x", "y", "https", "h:1", "/%41", "get", "[::1]", "a\nb", "c", "99-600", "regex", "(a", "", "-----BEGIN CERTIFICATE-----", false, true, 1e300, -1.0, -1, 0, "A,a,a", "")
	f.Add("site", "dc1", "calculated", "", "/", "GET", "", "", "", "", "at_least", "", "", "", true, false, 10.0, 2.0, 2, 3, "az1,az2,site", "majority")
	f.Add("site", "dc1", "calculated", "192.0.2.1:1", "/x", "GET", "", "", "", "", "most", "", "", "", false, true, 10.0, 2.0, 0, 3, "az1,az1,Bad", "")
	f.Fuzz(func(t *testing.T, name, site, typ, addr, path, method, hostHeader, hk, hv, status, mode, value, serverName, ca string,
		useCA, insecure bool, interval, timeout float64, rise, fall int, probeSites, quorum string) {
		c := api.HealthCheck{
			Name: name, Site: site, Type: typ, Address: addr, Path: path, Method: method, HostHeader: hostHeader,
			IntervalSeconds: interval, TimeoutSeconds: timeout, Rise: rise, Fall: fall, Quorum: quorum,
		}
		if hk != "" || hv != "" {
			c.Headers = map[string]string{hk: hv, "X-Fixed": "1"}
		}
		if typ == api.CheckCalculated || insecure {
			// The calculated fields, on a calculated check or (refused) not.
			c.ChildChecks = strings.Split(probeSites, ",")
			c.HealthyWhen, c.AtLeast, c.Invert = mode, rise, useCA
		}
		if status != "" {
			c.ExpectedStatus = strings.Split(status, ",")
		}
		if mode != "" || value != "" {
			c.BodyMatch = &api.BodyMatch{Mode: mode, Value: value}
		}
		if useCA {
			ca = testCA()
		}
		if serverName != "" || ca != "" || insecure {
			c.TLS = &api.TLSConfig{ServerName: serverName, CACertPEM: ca, InsecureSkipVerify: insecure}
		}
		if probeSites != "" {
			c.ProbeSites = strings.Split(probeSites, ",")
		}
		c.Normalize()
		p := Validate(c)
		checkProblems(t, p)
		if len(p.Errors()) > 0 {
			return
		}
		tg, err := Compile(c, ProbeOptions{})
		if err != nil {
			t.Fatalf("Validate accepted %+v but compile failed: %v", c, err)
		}
		if tg.req != nil {
			// Request.Write applies net/http's own checks (Host header…).
			if err := tg.req.Write(io.Discard); err != nil {
				t.Fatalf("Validate accepted %+v but the request does not write: %v", c, err)
			}
		}
	})
}
