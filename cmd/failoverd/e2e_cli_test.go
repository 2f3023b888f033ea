package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// runBin runs the built failoverd with args and extra environment, bounded
// in time, and returns its exit code and output.
func runBin(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2eBins.failoverd, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("failoverd %s: still running after 20s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out.String(), errb.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("failoverd %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errb.String()
}

// serveProc is a `failoverd serve` started by hand (launch always adds
// --dev; these tests need the production path).
type serveProc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	mu   sync.Mutex
	logs bytes.Buffer
}

func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(e2eBins.failoverd, append([]string{"serve", "--log-format", "json"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, HTTP string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "failoverd ready" {
				ready <- rec.HTTP
			}
		}
		io.Copy(io.Discard, pipe)
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("failoverd serve %s logs:\n%s", strings.Join(args, " "), p.Logs())
		}
	})
	select {
	case addr := <-ready:
		p.url = "http://" + addr
	case <-p.done:
		t.Fatalf("failoverd serve %s exited before it was ready:\n%s", strings.Join(args, " "), p.Logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("failoverd serve %s not ready after 20s:\n%s", strings.Join(args, " "), p.Logs())
	}
	return p
}

func (p *serveProc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// TestServeRefusesUnsafeStart: deny by default (DESIGN §4.1) — no tokens,
// --dev off loopback, a broken or world-writable token file and an HTTP
// connection cap that would starve the prober all refuse to start, saying
// what to do; a token file made by `failoverd token create` works, scopes
// included.
func TestServeRefusesUnsafeStart(t *testing.T) {
	needBins(t)
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodHash := "sha256:" + strings.Repeat("ab", 32)
	badHash := write("bad-hash.tokens", "# tokens\n\nops read "+goodHash+"\nci admin sha256:xyz\n")
	badFields := write("bad-fields.tokens", "ops read "+goodHash+" extra\n")
	badScope := write("bad-scope.tokens", "# one\nops root "+goodHash+"\n")
	empty := write("empty.tokens", "# nobody yet\n")
	badName := write("bad-name.tokens", "ci/deploy admin "+goodHash+"\n")
	worldWritable := write("open.tokens", "ops read "+goodHash+"\n")
	if err := os.Chmod(worldWritable, 0o666); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	local := []string{"--http-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0"}
	// A UDP port someone else holds: the DNS listener cannot have it.
	held, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	busy := held.LocalAddr().String()

	for _, tc := range []struct {
		name string
		args []string
		want []string // every one in stderr
	}{
		{"no tokens", append([]string{"--data-dir", data}, local...), []string{"--token-file", "no API tokens", "denies by default"}},
		{"empty token file", append([]string{"--data-dir", data, "--token-file", empty}, local...), []string{"--token-file", "no API tokens"}},
		{"dev on all interfaces", []string{"--dev", "--http-addr", "0.0.0.0:0", "--dns-addr", "127.0.0.1:0"}, []string{"--dev", `"0.0.0.0:0"`, "loopback"}},
		{"dev dns on all interfaces", []string{"--dev", "--http-addr", "127.0.0.1:0", "--dns-addr", "0.0.0.0:0"}, []string{"--dev", `"0.0.0.0:0"`, "loopback"}},
		{"bad hash", append([]string{"--data-dir", data, "--token-file", badHash}, local...), []string{badHash + ":4:", "sha256:<64 hex digits>"}},
		{"bad field count", append([]string{"--data-dir", data, "--token-file", badFields}, local...), []string{badFields + ":1:", "4 fields"}},
		{"bad scope", append([]string{"--data-dir", data, "--token-file", badScope}, local...), []string{badScope + ":2:", `"root"`}},
		{"missing token file", append([]string{"--data-dir", data, "--token-file", filepath.Join(dir, "nope")}, local...), []string{"token file", "nope"}},
		{"no auth and tokens", append([]string{"--data-dir", data, "--insecure-no-auth", "--token-file", empty}, local...), []string{"--insecure-no-auth", "--token-file"}},
		{"dns port taken", []string{"--dev", "--http-addr", "127.0.0.1:0", "--dns-addr", busy}, []string{"--dns-addr", busy, "address already in use"}},
		{"bad token name", append([]string{"--data-dir", data, "--token-file", badName}, local...), []string{badName + ":1:", `token name "ci/deploy"`}},
		{"world-writable token file", append([]string{"--data-dir", data, "--token-file", worldWritable}, local...), []string{worldWritable, "chmod 600 " + worldWritable}},
		{"http conns over the budget", []string{"--dev", "--http-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--max-http-conns", "4611686018427387904"}, []string{"--max-http-conns", "a quarter of the file-descriptor limit"}},
		{"bad dns zone", []string{"--dev", "--http-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--dns-zone", "bad zone"}, []string{"--dns-zone", `"bad zone"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runBin(t, nil, append([]string{"serve"}, tc.args...)...)
			if code == 0 {
				t.Fatalf("serve %s: exit 0, want a refusal\n%s", strings.Join(tc.args, " "), stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("serve %s: exit %d, stderr lacks %q:\n%s", strings.Join(tc.args, " "), code, w, stderr)
				}
			}
			if strings.Contains(stderr, "failoverd ready") {
				t.Errorf("serve %s: said ready before refusing:\n%s", strings.Join(tc.args, " "), stderr)
			}
		})
	}

	t.Run("token create output works", func(t *testing.T) {
		var lines []string
		secrets := map[string]string{}
		for _, tok := range []struct{ name, scope string }{{"boss", "admin"}, {"oncall", "operate"}, {"viewer", "read"}} {
			code, stdout, stderr := runBin(t, nil, "token", "create", tok.name, tok.scope)
			if code != 0 {
				t.Fatalf("token create %s %s: exit %d: %s", tok.name, tok.scope, code, stderr)
			}
			out := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(out) != 3 || !strings.HasPrefix(out[1], "# ") || !strings.HasPrefix(out[2], tok.name+" "+tok.scope+" sha256:") {
				t.Fatalf("token create %s %s printed:\n%s", tok.name, tok.scope, stdout)
			}
			secrets[tok.name] = strings.TrimPrefix(out[1], "# ")
			if strings.Contains(out[2], secrets[tok.name]) {
				t.Fatalf("token create: the token file line holds the secret itself")
			}
			lines = append(lines, stdout) // comments included: the file must accept them verbatim
		}
		tokens := write("good.tokens", strings.Join(lines, ""))
		p := startServe(t, append([]string{"--data-dir", filepath.Join(dir, "data-good"), "--token-file", tokens}, local...)...)
		as := func(name string) *rawAPI {
			return &rawAPI{base: p.url, token: secrets[name], hc: &http.Client{Timeout: 10 * time.Second}}
		}

		as("boss").must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "dr", Site: "cloud"}, nil)
		for _, tc := range []struct {
			who, method, path string
			body              any
			want              int
		}{
			{"viewer", http.MethodGet, "/v1/status", nil, http.StatusOK},
			{"viewer", http.MethodPatch, "/v1/burst-toggles/dr", map[string]bool{"engaged": true}, http.StatusForbidden},
			{"oncall", http.MethodPatch, "/v1/burst-toggles/dr", map[string]bool{"engaged": true}, http.StatusOK},
			{"oncall", http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "dr2", Site: "cloud"}, http.StatusForbidden},
			{"boss", http.MethodDelete, "/v1/burst-toggles/dr", nil, http.StatusNoContent},
			{"", http.MethodGet, "/v1/status", nil, http.StatusUnauthorized},
		} {
			a := as(tc.who)
			if tc.who == "" {
				a.token = "fo_not-a-token"
			}
			resp, b, err := a.do(tc.method, tc.path, tc.body, nil)
			if err != nil {
				t.Fatalf("%s %s as %q: %v", tc.method, tc.path, tc.who, err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s as %q: status %d, want %d: %s", tc.method, tc.path, tc.who, resp.StatusCode, tc.want, b)
			}
		}
		// The token file's hash line is not itself a token.
		hashLine := strings.Fields(strings.Split(strings.TrimSpace(lines[0]), "\n")[2])[2]
		if resp, _, err := (&rawAPI{base: p.url, token: hashLine, hc: http.DefaultClient}).do(http.MethodGet, "/v1/status", nil, nil); err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the hash from the token file authenticated (err %v)", err)
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			t.Fatal("no exit 20s after SIGTERM")
		}
		if code := p.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(p.Logs(), "failoverd stopped cleanly") {
			t.Errorf("after SIGTERM: exit %d, logs:\n%s", code, p.Logs())
		}
	})
}

// TestE2EOperatorCommands runs the built binary's operator subcommands
// against a real failoverd with only FAILOVER_ENDPOINT and FAILOVER_TOKEN,
// and checks their effects through the API and /burst.
func TestE2EOperatorCommands(t *testing.T) {
	needBins(t)
	t.Parallel()
	f := startFailoverd(t, filepath.Join(t.TempDir(), "data"))
	a := newRawAPI(f)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "dr", Site: "cloud"}, nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 60, nil, nil), nil)
	env := []string{"FAILOVER_ENDPOINT=" + f.URL, "FAILOVER_TOKEN=" + e2eToken, "FAILOVER_CA_CERT="}
	op := func(wantCode int, args ...string) (stdout, stderr string) {
		t.Helper()
		code, stdout, stderr := runBin(t, env, args...)
		if code != wantCode {
			t.Fatalf("failoverd %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
		}
		return stdout, stderr
	}
	mustContain := func(what, s string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(s, w) {
				t.Errorf("%s lacks %q:\n%s", what, w, s)
			}
		}
	}
	burstURL := func() (int, string) {
		t.Helper()
		resp, b, err := (&rawAPI{base: f.URL, hc: http.DefaultClient}).do(http.MethodGet, "/burst/dr", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, strings.TrimSpace(string(b))
	}

	// status
	out, _ := op(0, "status")
	mustContain("status", out, "HEALTH CHECKS", "TRAFFIC DECISIONS", "BURST TOGGLES", "web", "dc1 (192.0.2.10)", "dr", f.URL+"/burst/dr")
	out, _ = op(0, "status", "--json")
	var st api.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Decisions) != 1 || len(st.Toggles) != 1 {
		t.Errorf("status --json: %v: %s", err, out)
	}

	// burst engage / release: the LB's URL flips.
	out, _ = op(0, "burst", "engage", "dr")
	mustContain("burst engage", out, "burst toggle dr: engaged (effective: yes)", `answers 200 "burst"`)
	if code, body := burstURL(); code != http.StatusOK || body != "burst" {
		t.Errorf("after burst engage: /burst/dr answers %d %q, want 200 \"burst\"", code, body)
	}
	out, _ = op(0, "burst", "release", "dr")
	mustContain("burst release", out, "burst toggle dr: released (effective: no)", `answers 503 "no-burst"`)
	if code, body := burstURL(); code != http.StatusServiceUnavailable || body != "no-burst" {
		t.Errorf("after burst release: /burst/dr answers %d %q, want 503 \"no-burst\"", code, body)
	}

	// override set / clear: the decision is pinned, then released.
	setAt := time.Now()
	out, _ = op(0, "override", "set", "web", "cloud", "--for", "5m", "--reason", "INC-42")
	mustContain("override set", out, "policy web now serves cloud (198.51.100.20)", `reason "INC-42"`, "set by dev-admin")
	d := a.decision(t, "web")
	if servingTarget(d) != "cloud" || d.Override == nil || d.Override.Target != "cloud" || d.Override.SetBy != "dev-admin" {
		t.Fatalf("after override set: decision %+v, want pinned to cloud by dev-admin", d)
	}
	if exp := d.Override.ExpiresAt.Sub(setAt); exp < 5*time.Minute-time.Second || exp > 5*time.Minute+30*time.Second {
		t.Errorf("override expires %s after it was set, want 5m", exp)
	}
	out, _ = op(0, "override", "clear", "web")
	mustContain("override clear", out, "policy web now serves dc1 (192.0.2.10)", "override: none")
	if d := a.decision(t, "web"); servingTarget(d) != "dc1" || d.Override != nil {
		t.Errorf("after override clear: decision serves %s, override %+v; want dc1 and none", servingTarget(d), d.Override)
	}

	// events: the audit trail of all of the above, and the decisions.
	// (Decision events reach the log a moment after the decision.)
	eventually(t, 5*time.Second, "events lists the audit trail and the decisions", func() (bool, string) {
		out, _ = op(0, "events")
		for _, w := range []string{"burst-toggles/dr", "engage burst-toggles/dr by dev-admin", "release burst-toggles/dr by dev-admin",
			"override set traffic-policies/web by dev-admin", "override clear traffic-policies/web by dev-admin",
			"decision  traffic-policies/web  policy web now serves cloud (was dc1)",
			"decision  traffic-policies/web  policy web now serves dc1 (was cloud)"} {
			if !strings.Contains(out, w) {
				return false, fmt.Sprintf("no %q in:\n%s", w, out)
			}
		}
		return true, ""
	})
	out, _ = op(0, "events", "--json", "--since", "1")
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e api.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Seq < 2 {
			t.Errorf("events --json --since 1, line %d: %v: %s", i+1, err, line)
		}
	}

	// events --follow prints what happens next, and ends cleanly on SIGINT.
	follow := exec.Command(e2eBins.failoverd, "events", "--follow", "--since", strconv.FormatUint(a.lastSeq(t), 10))
	follow.Env = append(os.Environ(), env...)
	var fout lockedBuffer
	follow.Stdout, follow.Stderr = &fout, &fout
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follow.Process.Kill() })
	a.must(t, http.StatusOK, http.MethodPatch, "/v1/burst-toggles/dr", map[string]bool{"engaged": true}, nil)
	eventually(t, 10*time.Second, "events --follow prints the engage", func() (bool, string) {
		return strings.Contains(fout.String(), "burst toggle dr is engaged"), fout.String()
	})
	follow.Process.Signal(os.Interrupt)
	waited := make(chan error, 1)
	go func() { waited <- follow.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("events --follow after SIGINT: %v\n%s", err, fout.String())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("events --follow still running 10s after SIGINT")
	}

	// Failures: one line that says what to do, and the documented codes.
	_, errOut := op(1, "burst", "engage", "nosuch")
	mustContain("burst engage nosuch", errOut, "failoverd status")
	code, _, errOut := runBin(t, []string{"FAILOVER_ENDPOINT=" + f.URL, "FAILOVER_TOKEN=wrong"}, "status")
	if code != 1 || !strings.Contains(errOut, "rejected the token") {
		t.Errorf("status with a wrong token: exit %d: %s", code, errOut)
	}
	_, errOut = op(2, "override", "set", "web", "cloud")
	mustContain("override set without --for", errOut, "--for")
	if d := a.decision(t, "web"); d.Override != nil {
		t.Errorf("a refused override set changed the decision: %+v", d)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestMetrics scrapes /metrics (no token) after probes, a decision change
// and API traffic — and again after a restart, when the restored state
// must still be exported.
func TestMetrics(t *testing.T) {
	needBins(t)
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	f := startFailoverd(t, dataDir)
	a := newRawAPI(f)
	dc1 := startBackend(t, "dc1")
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("dc1-web", "dc1", dc1.Addr), nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 60, []string{"dc1-web"}, nil), nil)
	waitHealthy(t, a, 15*time.Second, "dc1-web")
	a.must(t, http.StatusOK, http.MethodPut, "/v1/traffic-policies/web/override",
		api.Override{Target: "cloud", ExpiresAt: time.Now().Add(time.Hour)}, nil)

	scrape := func() map[string]float64 {
		t.Helper()
		resp, b, err := (&rawAPI{base: f.URL, hc: http.DefaultClient}).do(http.MethodGet, "/metrics", nil, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %v %v", err, resp)
		}
		return parseMetrics(string(b))
	}
	type want struct {
		series string
		ok     func(float64) bool
		desc   string
	}
	atLeast := func(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }
	equal := func(n float64) func(float64) bool { return func(v float64) bool { return v == n } }
	// expect scrapes until every series is there with a good value; a
	// request is counted just after its answer, so the last one may lag.
	expect := func(when string, wants ...want) {
		t.Helper()
		eventually(t, 5*time.Second, when+": /metrics", func() (bool, string) {
			m := scrape()
			var bad []string
			for _, w := range wants {
				v, found := m[w.series]
				switch {
				case !found:
					bad = append(bad, "no series "+w.series)
				case !w.ok(v):
					bad = append(bad, fmt.Sprintf("%s = %g, want %s", w.series, v, w.desc))
				}
			}
			return len(bad) == 0, strings.Join(bad, "; ")
		})
	}

	expect("running",
		want{`failover_probes_total{result="success",type="http"}`, atLeast(2), "≥ 2 (rise)"},
		want{`failover_probe_duration_seconds_count{type="http"}`, atLeast(2), "≥ 2"},
		want{`failover_probe_duration_seconds_bucket{type="http",le="+Inf"}`, atLeast(2), "≥ 2"},
		want{`failover_check_state{check="dc1-web"}`, equal(1), "1 (healthy)"},
		want{`failover_decision_changes_total{policy="web"}`, equal(1), "1 (the override)"},
		want{`failover_policy_serving_targets{policy="web"}`, equal(1), "1"},
		want{`failover_api_requests_total{code="201",method="POST",route="POST /v1/health-checks"}`, equal(1), "1"},
		want{`failover_api_requests_total{code="200",method="GET",route="GET /v1/health-checks/{name}/status"}`, atLeast(1), "≥ 1"},
		want{`failover_api_requests_total{code="200",method="PUT",route="PUT /v1/traffic-policies/{name}/override"}`, equal(1), "1"},
	)

	// After a restart the restored state is exported before anything
	// changes again.
	f.Kill()
	f = startFailoverd(t, dataDir)
	expect("restarted",
		want{`failover_check_state{check="dc1-web"}`, equal(1), "1 (healthy, restored)"},
		want{`failover_policy_serving_targets{policy="web"}`, equal(1), "1 (restored)"},
	)
}

var metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?)\s+(\S+)`)

// parseMetrics reads the Prometheus text format into series → value,
// keeping label order as exposed (sorted by name).
func parseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if m := metricLine.FindStringSubmatch(line); m != nil {
			if v, err := strconv.ParseFloat(m[2], 64); err == nil {
				out[m[1]] = v
			}
		}
	}
	return out
}
