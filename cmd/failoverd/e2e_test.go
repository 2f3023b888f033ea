package main

// End-to-end tests: failoverd and the stand-in site backends run as real
// child processes (internal/launch), built once by TestMain with the go
// tool, and every assertion goes through the network API, the CLI or the
// process's exit status and logs — nothing in-process. The helpers live
// here; the tests in e2e_*_test.go.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// e2eBins are the binaries TestMain built; err says why they are missing.
var e2eBins struct {
	failoverd, standin string
	err                error
}

// e2eStoreEnv chooses the store of the suite's failoverd: "bolt" (the
// default) or "etcd" (make test-e2e-etcd): then TestMain starts one
// three-member etcd for the whole run, and every failoverd the suite
// starts runs --store etcd on it under a key prefix of its own.
const e2eStoreEnv = "FAILOVER_E2E_STORE"

// e2eEtcd is that etcd: its client URLs, or why there is none.
var e2eEtcd struct {
	endpoints string
	err       error
}

func onEtcd() bool { return os.Getenv(e2eStoreEnv) == "etcd" }

// boltOnly skips a test that is about the bolt store itself when the suite
// runs on etcd.
func boltOnly(t *testing.T, why string) {
	t.Helper()
	if onEtcd() {
		t.Skipf("bolt only (%s); %s=etcd", why, e2eStoreEnv)
	}
}

// startSuiteEtcd starts the suite's etcd in dir; the returned func stops it.
func startSuiteEtcd(dir string) (stop func(), err error) {
	bin, err := launch.FindEtcd()
	if err != nil {
		return func() {}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := launch.StartEtcdCluster(ctx, launch.EtcdOptions{Bin: bin, Dir: dir})
	if err != nil {
		return func() {}, err
	}
	e2eEtcd.endpoints = strings.Join(c.Endpoints(), ",")
	return c.Close, nil
}

// etcdArgs are the serve flags of a suite failoverd on etcd: the suite's
// etcd, a key prefix of the data dir's own (a restart on the same data dir
// finds its state again; two tests never share one), and the site every
// single-node test expects.
func etcdArgs(dataDir string) []string {
	sum := sha256.Sum256([]byte(dataDir))
	return []string{"--store", "etcd", "--etcd-endpoints", e2eEtcd.endpoints, "--site", "local",
		"--etcd-prefix", "/e2e/" + hex.EncodeToString(sum[:8]) + "/", "--lease-ttl", "3s"}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if testing.Short() {
			e2eBins.err = errors.New("end-to-end tests skipped in -short mode")
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "failoverd-e2e-bin-")
		if err != nil {
			e2eBins.err = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		e2eBins.err = buildE2EBinaries(dir)
		switch os.Getenv(e2eStoreEnv) {
		case "", "bolt":
		case "etcd":
			stop, err := startSuiteEtcd(filepath.Join(dir, "etcd"))
			defer stop()
			e2eEtcd.err = err
		default:
			e2eBins.err = fmt.Errorf("%s=%q: use bolt (the default) or etcd", e2eStoreEnv, os.Getenv(e2eStoreEnv))
		}
		// A race-built daemon otherwise sleeps 1 s at every exit.
		if g := os.Getenv("GORACE"); !strings.Contains(g, "atexit_sleep_ms") {
			os.Setenv("GORACE", strings.TrimSpace(g+" atexit_sleep_ms=0"))
		}
		return m.Run()
	}())
}

// buildE2EBinaries builds failoverd and standin into dir with the go tool,
// inheriting GOFLAGS from the environment. Under `go test -race` the
// daemon is race-built too, and every test fails on a race it reports.
func buildE2EBinaries(dir string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	for _, b := range []struct{ out, pkg string }{
		{"failoverd", "github.com/hatopo/terraform-provider-failover/cmd/failoverd"},
		{"standin", "github.com/hatopo/terraform-provider-failover/cmd/standin"},
	} {
		args := []string{"build", "-o", filepath.Join(dir, b.out)}
		if raceEnabled && b.out == "failoverd" {
			args = append(args, "-race")
		}
		args = append(args, b.pkg)
		cmd := exec.Command(goTool, args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %w\n%s", goTool, strings.Join(args, " "), err, out)
		}
	}
	e2eBins.failoverd = filepath.Join(dir, "failoverd")
	e2eBins.standin = filepath.Join(dir, "standin")
	return nil
}

// needBins skips under -short and fails when the build failed.
func needBins(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip(e2eBins.err)
	}
	if e2eBins.err != nil {
		t.Fatalf("building the e2e binaries: %v", e2eBins.err)
	}
	if onEtcd() && e2eEtcd.err != nil {
		if launch.EtcdRequired() {
			t.Fatalf("%s=etcd: %v", e2eStoreEnv, e2eEtcd.err)
		}
		t.Skipf("%s=etcd: %v", e2eStoreEnv, e2eEtcd.err)
	}
}

const e2eToken = "e2e-admin-token"

// startFailoverd runs `failoverd serve --dev` on dataDir (port 0). The
// process is killed when the test ends if still running; its logs are
// printed when the test failed, and a data race it reported fails the test.
func startFailoverd(t *testing.T, dataDir string, extra ...string) *launch.Failoverd {
	t.Helper()
	return startFailoverdWith(t, launch.Options{DataDir: dataDir, Args: extra})
}

// startFailoverdWith is startFailoverd with more launch options; Bin and
// Token are filled in.
func startFailoverdWith(t *testing.T, o launch.Options) *launch.Failoverd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o.Bin, o.Token = e2eBins.failoverd, e2eToken
	onSuiteEtcd := onEtcd() && !slices.Contains(o.Args, "--store")
	if onSuiteEtcd {
		o.Args = append(etcdArgs(o.DataDir), o.Args...)
	}
	f, err := launch.StartFailoverd(ctx, o)
	if err != nil {
		t.Fatalf("start failoverd: %v", err)
	}
	if onSuiteEtcd && !strings.Contains(f.Logs(), `"store":"etcd"`) {
		f.Kill()
		t.Fatalf("%s=etcd, but failoverd did not say it runs on etcd:\n%s", e2eStoreEnv, f.Logs())
	}
	t.Cleanup(func() {
		f.Kill()
		logs := f.Logs()
		if strings.Contains(logs, "WARNING: DATA RACE") {
			t.Errorf("failoverd (pid %d) reported a data race:\n%s", f.Pid(), logs)
		} else if t.Failed() {
			t.Logf("failoverd (pid %d) logs:\n%s", f.Pid(), logs)
		}
	})
	return f
}

// startBackend runs a stand-in site backend, stopped when the test ends.
func startBackend(t *testing.T, site string) *launch.Backend {
	t.Helper()
	b, err := launch.StartBackend(e2eBins.standin, site, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start stand-in %s: %v", site, err)
	}
	t.Cleanup(b.Stop)
	return b
}

// rawAPI talks HTTP to failoverd without the Go client's retries, so a
// test sees exactly which requests were acknowledged.
type rawAPI struct {
	base, token string
	hc          *http.Client
}

func newRawAPI(f *launch.Failoverd) *rawAPI {
	return &rawAPI{base: f.URL, token: f.Token, hc: &http.Client{Timeout: 15 * time.Second}}
}

// do sends one request; body is JSON-encoded unless it is []byte or nil.
func (a *rawAPI) do(method, path string, body any, hdr map[string]string) (*http.Response, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// must sends a request that must answer want, and decodes the body into
// out when out is non-nil.
func (a *rawAPI) must(t *testing.T, want int, method, path string, body, out any) http.Header {
	t.Helper()
	resp, b, err := a.do(method, path, body, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.Header
}

func (a *rawAPI) decision(t *testing.T, policy string) api.Decision {
	t.Helper()
	var d api.Decision
	a.must(t, http.StatusOK, http.MethodGet, "/v1/traffic-policies/"+policy+"/decision", nil, &d)
	return d
}

func (a *rawAPI) healthStatus(t *testing.T, check string) api.HealthStatus {
	t.Helper()
	var s api.HealthStatus
	a.must(t, http.StatusOK, http.MethodGet, "/v1/health-checks/"+check+"/status", nil, &s)
	return s
}

// events returns every durable event with seq > after.
func (a *rawAPI) events(t *testing.T, after uint64) []api.Event {
	t.Helper()
	var all []api.Event
	for {
		var page api.List[api.Event]
		a.must(t, http.StatusOK, http.MethodGet, "/v1/events?limit=1000&since="+strconv.FormatUint(after, 10), nil, &page)
		if len(page.Items) == 0 {
			return all
		}
		all = append(all, page.Items...)
		after = page.Items[len(page.Items)-1].Seq
	}
}

// lastSeq is the sequence number of the newest durable event.
func (a *rawAPI) lastSeq(t *testing.T) uint64 {
	t.Helper()
	evs := a.events(t, 0)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

// eventually polls cond every 20 ms until it returns true, failing the test
// with the last description cond gave when within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %s", what, within, desc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sitesCheck is a fast http check of one stand-in backend.
func sitesCheck(name, site, addr string) api.HealthCheck {
	return api.HealthCheck{Name: name, Site: site, Type: api.CheckHTTP, Address: addr, Path: "/",
		IntervalSeconds: 1, TimeoutSeconds: 0.5, Rise: 2, Fall: 2}
}

// twoSitePolicy is active-passive over dc1 (priority 1) and cloud.
func twoSitePolicy(name string, failbackDelay int, dc1Checks, cloudChecks []string) api.TrafficPolicy {
	ttl := 5
	return api.TrafficPolicy{
		Name: name, Mode: api.ModeActivePassive, TTLSeconds: &ttl, FailoverDelaySeconds: 0,
		FailbackDelaySeconds: &failbackDelay, WhenAllDown: api.AllDownFailOpen,
		Targets: map[string]api.PolicyTarget{
			"dc1":   {Site: "dc1", Addresses: []string{"192.0.2.10"}, HealthChecks: dc1Checks, Priority: 1},
			"cloud": {Site: "cloud", Addresses: []string{"198.51.100.20"}, HealthChecks: cloudChecks, Priority: 2},
		},
	}
}

func servingTarget(d api.Decision) string {
	if len(d.Serving) == 0 {
		return "nothing"
	}
	return d.Serving[0].Target
}

// waitHealthy waits until every named check is healthy.
func waitHealthy(t *testing.T, a *rawAPI, within time.Duration, checks ...string) {
	t.Helper()
	for _, c := range checks {
		eventually(t, within, "check "+c+" healthy", func() (bool, string) {
			s := a.healthStatus(t, c)
			return s.State == api.StateHealthy, "state " + s.State
		})
	}
}

// waitServing waits until policy serves target first and returns that
// decision.
func waitServing(t *testing.T, a *rawAPI, within time.Duration, policy, target string) api.Decision {
	t.Helper()
	var d api.Decision
	eventually(t, within, "policy "+policy+" serving "+target, func() (bool, string) {
		// Not found yet is not fatal: on another node of a cluster the
		// policy appears a moment after its create was answered.
		var err error
		if d, err = a.tryDecision(policy); err != nil {
			return false, err.Error()
		}
		return servingTarget(d) == target, fmt.Sprintf("serving %s (%s)", servingTarget(d), d.Reason)
	})
	return d
}

// decisionEvents filters the decision events of one policy.
func decisionEvents(evs []api.Event, policy string) []api.Decision {
	var out []api.Decision
	for _, e := range evs {
		if e.Type != api.EventDecision || e.Object != "traffic-policies/"+policy || len(e.Data) == 0 {
			continue
		}
		var d api.Decision
		if json.Unmarshal(e.Data, &d) == nil && d.Generation > 0 {
			out = append(out, d)
		}
	}
	return out
}

// dnsA asks failoverd's DNS at addr for name's A records over UDP: the
// addresses (comma-separated) or the rcode when not NOERROR, and the TTL.
func dnsA(t *testing.T, addr, name string) (string, uint32) {
	t.Helper()
	if addr == "" {
		t.Fatal("failoverd did not log its DNS address (\"failoverd ready\" field dns)")
	}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("DNS %s A at %s: %v", name, addr, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[r.Rcode], 0
	}
	var out []string
	var ttl uint32
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
			ttl = a.Hdr.Ttl
		}
	}
	return strings.Join(out, ","), ttl
}

// waitDNSA polls the DNS answer every 5 ms until it is want and returns
// when it saw it.
func waitDNSA(t *testing.T, addr, name, want string, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, _ := dnsA(t, addr, name)
		if got == want {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("DNS %s A answers %q after %s, want %q", name, got, within, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
