package health

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Bounds of the numeric attributes. Validate enforces DESIGN §5 (interval
// at least 1 s, timeout shorter than the interval) plus upper bounds that
// keep every value meaningful and every computation free of overflow.
const (
	minIntervalSeconds = 1
	maxIntervalSeconds = 86400 // a day: beyond that a check cannot drive failover
	minTimeoutSeconds  = 0.001 // 1 ms
	maxRiseFall        = 100
)

// Validate checks a normalized health check (see (*api.HealthCheck).Normalize)
// and returns every problem, each on the provider attribute at fault
// ("address", `headers["X-Probe"]`, "expected_status[1]", "tls.ca_cert_pem",
// …), with a message that says what to do. Warnings (api.Problems.Warn)
// never block a write. Everything Validate accepts compiles for probing.
func Validate(c api.HealthCheck) api.Problems {
	var p api.Problems
	api.CheckName(&p, "name", c.Name)
	api.CheckName(&p, "site", c.Site)

	switch c.Type {
	case api.CheckHTTP, api.CheckHTTPS:
		validateAddress(&p, c.Address)
		n := len(p)
		validateHTTP(&p, c)
		p[n:].Read("type") // the http rules apply because of the type
	case api.CheckTCP:
		validateAddress(&p, c.Address)
		n := len(p)
		rejectHTTPOnly(&p, c, "a tcp check only connects")
		p[n:].Read("type")
	case api.CheckCalculated:
		validateCalculated(&p, c)
	case "":
		p.Add("type", `is required: set "http", "https", "tcp" or "calculated"`)
		validateAddress(&p, c.Address)
	default:
		p.Add("type", `%q is not a check type: use "http", "https", "tcp" or "calculated"`, c.Type)
		validateAddress(&p, c.Address)
	}
	if c.Type != api.CheckCalculated {
		rejectCalculatedOnly(&p, c)
	}

	validateTiming(&p, c)

	seen := make(map[string]int, len(c.ProbeSites))
	for i, s := range c.ProbeSites {
		field := api.Index("probe_sites", i)
		api.CheckName(&p, field, s)
		if j, dup := seen[s]; dup {
			p.Add(field, "duplicates probe_sites[%d] (%q): list each site once", j, s)
			continue
		}
		seen[s] = i
	}
	switch c.Quorum {
	case api.QuorumMajority, api.QuorumAll, api.QuorumAny:
	default:
		p.Add("quorum", `%q is not a quorum: use "majority" (down only when more than half of the reporting sites see it down), "all" (up only when every reporting site sees it up) or "any" (up when one site does)`, c.Quorum)
	}
	return p
}

const addressExamples = `e.g. "192.0.2.10:443", "web1.example.org:8080" or "[2001:db8::10]:443"`

func validateAddress(p *api.Problems, a string) {
	const field = "address"
	if a == "" {
		p.Add(field, "is required: set the endpoint as host:port, %s", addressExamples)
		return
	}
	if _, rest, ok := strings.Cut(a, "://"); ok {
		hostport, _, _ := strings.Cut(rest, "/")
		p.Add(field, "%q must be host:port without a scheme or path (type sets the scheme, path the path): use %q", a, hostport)
		return
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		reason := err.Error()
		var ae *net.AddrError
		if errors.As(err, &ae) {
			reason = ae.Err
		}
		p.Add(field, "%q is not host:port (%s): write %s", a, reason, addressExamples)
		return
	}
	switch {
	case host == "":
		p.Add(field, "%q has no host: write %s", a, addressExamples)
	case !validHost(host):
		p.Add(field, "%q: host %q is neither an IP address nor a DNS name: write %s", a, host, addressExamples)
	}
	if _, err := parsePort(port); err != nil {
		p.Add(field, "%q: %v", a, err)
	}
}

// parsePort reads a TCP port number.
func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || !allDigits(s) || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q must be a number from 1 to 65535", s)
	}
	return n, nil
}

// validHost accepts an IP address (an IPv6 zone included: the address
// may be link-local) or a DNS name (letters, digits, '-' and '_' in labels
// of 1–63, 253 at most in all).
func validHost(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Zone() == "" || validZone(a.Zone())
	}
	return validDNSName(h)
}

// validZone accepts an interface name or index.
func validZone(z string) bool {
	for i := 0; i < len(z); i++ {
		b := z[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.') {
			return false
		}
	}
	return z != ""
}

// validServerName accepts what a certificate can be issued for: a DNS
// name or an IP address without zone.
func validServerName(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Zone() == ""
	}
	return validDNSName(h)
}

func validDNSName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			b := label[i]
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
				return false
			}
		}
	}
	return true
}

// validHostHeader accepts host, host:port, [v6] and [v6]:port; no zone,
// which means nothing to the server.
func validHostHeader(h string) bool {
	if host, port, err := net.SplitHostPort(h); err == nil {
		if _, err := parsePort(port); err != nil {
			return false
		}
		return validServerName(host)
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		return err == nil && a.Is6() && a.Zone() == ""
	}
	return !strings.Contains(h, ":") && validServerName(h)
}

// validToken reports whether s is an RFC 9110 token (method, header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(b)) {
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters (other than tab), which
// would split or corrupt the request.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

func hasSpaceOrControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}

// managedHeaders are set by the prober itself: one request per new
// connection, without a body.
var managedHeaders = map[string]bool{
	"Connection": true, "Content-Length": true, "Transfer-Encoding": true, "Te": true,
	"Trailer": true, "Upgrade": true, "Keep-Alive": true, "Proxy-Connection": true,
}

func validateHTTP(p *api.Problems, c api.HealthCheck) {
	switch {
	case !strings.HasPrefix(c.Path, "/"):
		p.Add("path", `%q must be an absolute path starting with "/", e.g. "/healthz"`, c.Path)
	case hasSpaceOrControl(c.Path):
		p.Add("path", "%q contains spaces or control characters: percent-encode them (a space is %%20)", c.Path)
	case strings.Contains(c.Path, "#"):
		p.Add("path", "%q contains a fragment (#…), which is never sent to the server: remove it", c.Path)
	default:
		if _, err := url.ParseRequestURI(c.Path); err != nil {
			reason := err.Error()
			var ue *url.Error
			if errors.As(err, &ue) {
				reason = ue.Err.Error()
			}
			p.Add("path", "%q is not a valid request path (%s): percent-encode special characters", c.Path, reason)
		}
	}

	upper := strings.ToUpper(c.Method)
	switch {
	case !validToken(c.Method):
		p.Add("method", "%q is not an HTTP method: use GET, HEAD or another upper-case method name", c.Method)
	case upper == "CONNECT":
		p.Add("method", "CONNECT opens a tunnel and cannot probe an endpoint: use GET or HEAD")
	case upper != c.Method && slices.Contains(knownMethods, upper):
		p.Add("method", "HTTP methods are case-sensitive and servers reject %q: use %q", c.Method, upper)
	}

	if c.HostHeader != "" && !validHostHeader(c.HostHeader) {
		p.Add("host_header", `%q is not a valid Host header: use a host name, optionally with a port, e.g. "www.example.org" or "www.example.org:8443"`, c.HostHeader)
	}

	canonical := make(map[string]string, len(c.Headers))
	for _, k := range api.SortedKeys(c.Headers) {
		field := api.MapKey("headers", k)
		ck := http.CanonicalHeaderKey(k)
		switch {
		case !validToken(k):
			p.Add(field, "%q is not a valid header name: use letters, digits and '-', e.g. \"X-Probe\"", k)
		case ck == "Host":
			p.Add(field, "set the Host header with host_header instead")
		case managedHeaders[ck]:
			p.Add(field, "%s is managed by the prober (one request per new connection, no body): remove it", ck)
		case !validHeaderValue(c.Headers[k]):
			p.Add(field, "the value contains a line break or control character: remove it")
		}
		if prev, dup := canonical[ck]; dup {
			p.Add(field, "duplicates %s: header names are case-insensitive, keep one", api.MapKey("headers", prev))
		} else {
			canonical[ck] = k
		}
	}

	if len(c.ExpectedStatus) == 0 {
		p.Add("expected_status", `must list at least one status code or range, e.g. ["200-399"] (the default) or ["200", "204"]`)
	}
	for i, s := range c.ExpectedStatus {
		if _, err := parseStatus(s); err != nil {
			p.Add(api.Index("expected_status", i), "%v", err)
		}
	}

	if bm := c.BodyMatch; bm != nil {
		switch bm.Mode {
		case api.MatchExact, api.MatchContains, api.MatchRegex:
			if len(bm.Value) > maxBody {
				p.Add("body_match.value", "is longer than the %d KiB of body a probe reads: match a shorter value", maxBody>>10)
			}
		case "":
			p.Add("body_match.mode", `is required: set "exact" (whole body, e.g. "burst" but not "no-burst"), "contains" or "regex"`)
		default:
			p.Add("body_match.mode", `%q is not a match mode: use "exact" (whole body, e.g. "burst" but not "no-burst"), "contains" or "regex"`, bm.Mode)
		}
		switch bm.Mode {
		case api.MatchContains:
			if bm.Value == "" {
				p.Add("body_match.value", `is empty, which every body contains: set the text to look for, or use mode = "exact" to require an empty body`).Read("body_match.mode")
			}
		case api.MatchRegex:
			if bm.Value == "" {
				p.Add("body_match.value", "is empty, which matches every body: set a regular expression (RE2 syntax), e.g. \"^ok$\"").Read("body_match.mode")
			} else if _, err := regexp.Compile(bm.Value); err != nil {
				p.Add("body_match.value", "is not a valid regular expression (RE2 syntax): %v", err).Read("body_match.mode")
			}
		}
		if c.Method == http.MethodHead {
			p.Warn("body_match", "a HEAD response has no body, so only an empty body can match: use method = \"GET\"").Read("method")
		}
	}

	if c.TLS != nil {
		if c.Type != api.CheckHTTPS {
			p.Add("tls", `applies only to https checks: set type = "https" or remove the tls block`)
			return
		}
		if sn := c.TLS.ServerName; sn != "" && !validServerName(sn) {
			p.Add("tls.server_name", "%q is not a host name: set the name the certificate is issued for, e.g. \"www.example.org\", without port or scheme", sn)
		}
		if c.TLS.CACertPEM != "" {
			if _, err := parseCertsPEM(c.TLS.CACertPEM); err != nil {
				p.Add("tls.ca_cert_pem", "%v", err)
			} else if c.TLS.InsecureSkipVerify {
				p.Warn("tls.ca_cert_pem", "is ignored because insecure_skip_verify = true: remove one of them").Read("tls.insecure_skip_verify")
			}
		}
	}
}

// rejectHTTPOnly refuses http attributes on a tcp check, which only
// connects: silently ignoring them would let a user believe a path, a
// status or a certificate is being checked. Defaults filled by Normalize
// are not the user's doing and pass.
func rejectHTTPOnly(p *api.Problems, c api.HealthCheck, why string) {
	only := `applies only to http and https checks, ` + why + `: remove it or set type = "http"`
	if c.Path != "" && c.Path != api.DefaultPath {
		p.Add("path", "%s", only)
	}
	if c.Method != "" && c.Method != api.DefaultMethod {
		p.Add("method", "%s", only)
	}
	if c.HostHeader != "" {
		p.Add("host_header", "%s", only)
	}
	if len(c.Headers) > 0 {
		p.Add("headers", "%s", only)
	}
	if c.ExpectedStatus != nil && !(len(c.ExpectedStatus) == 1 && c.ExpectedStatus[0] == api.DefaultExpectedStatus) {
		p.Add("expected_status", "%s", only)
	}
	if c.BodyMatch != nil {
		p.Add("body_match", "%s", only)
	}
	if c.TLS != nil {
		p.Add("tls", `applies only to https checks, %s: set type = "https" or remove the tls block`, why)
	}
}

func validateTiming(p *api.Problems, c api.HealthCheck) {
	iv, to := c.IntervalSeconds, c.TimeoutSeconds
	ivOK := false
	switch {
	case math.IsNaN(iv) || iv < minIntervalSeconds:
		p.Add("interval_seconds", "must be at least %d (got %g): set how often each site probes, e.g. 10", minIntervalSeconds, iv)
	case iv > maxIntervalSeconds:
		p.Add("interval_seconds", "must be at most %d (one day) (got %g): a slower check cannot drive failover", maxIntervalSeconds, iv)
	default:
		ivOK = true
	}
	switch {
	case math.IsNaN(to) || to <= 0:
		p.Add("timeout_seconds", "must be greater than 0 (got %g): set how long one probe may take, e.g. 2", to)
	case to < minTimeoutSeconds:
		p.Add("timeout_seconds", "must be at least %g (1 ms) (got %g)", minTimeoutSeconds, to)
	case ivOK && to >= iv:
		p.Add("timeout_seconds", "must be less than interval_seconds (%g) so a probe ends before the next is due (got %g): set e.g. timeout_seconds = %g", iv, to, math.Min(api.DefaultTimeoutSeconds, iv/2)).Read("interval_seconds")
	case !ivOK && to >= maxIntervalSeconds:
		p.Add("timeout_seconds", "must be less than interval_seconds (got %g)", to).Read("interval_seconds")
	}
	if c.Rise < 1 || c.Rise > maxRiseFall {
		p.Add("rise", "must be from 1 to %d (got %d): the consecutive successes that mark the endpoint healthy, e.g. 2", maxRiseFall, c.Rise)
	}
	if c.Fall < 1 || c.Fall > maxRiseFall {
		p.Add("fall", "must be from 1 to %d (got %d): the consecutive failures that mark the endpoint unhealthy, e.g. 3", maxRiseFall, c.Fall)
	}
}
