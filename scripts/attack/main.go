// Command attack replays issue 9's attacks against a real failoverd and
// prints what a client gets now: status, time and memory for each.
//
//	go run ./scripts/attack --bin bin
//
// Every server it starts binds 127.0.0.1 on port 0 and is stopped at the
// end. The figures are indicative: they depend on the machine's load.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

const (
	adminToken = "attack-admin-token"
	readToken  = "attack-read-token-0123456789"
)

func main() {
	bin := flag.String("bin", "bin", "directory with failoverd and standin")
	flag.Parse()
	dir, err := os.MkdirTemp("", "failover-attack-")
	check(err)
	defer os.RemoveAll(dir)
	ctx := context.Background()

	tokens := filepath.Join(dir, "tokens")
	sum := sha256.Sum256([]byte(readToken))
	check(os.WriteFile(tokens, []byte("reader read sha256:"+hex.EncodeToString(sum[:])+"\n"), 0o600))

	be, err := launch.StartBackend(filepath.Join(*bin, "standin"), "dc1", "127.0.0.1:0")
	check(err)
	defer be.Stop()
	const nofile = 256
	f, err := launch.StartFailoverd(ctx, launch.Options{Bin: filepath.Join(*bin, "failoverd"), DataDir: filepath.Join(dir, "data"),
		Token: adminToken, Args: []string{"--token-file", tokens}, MaxOpenFiles: nofile})
	check(err)
	defer f.Stop()
	a := &client{base: f.URL}

	// A healthy policy: the false-failover attacks must not move it.
	a.must(http.StatusCreated, "POST", "/v1/health-checks", api.HealthCheck{Name: "web", Site: "dc1", Type: api.CheckHTTP,
		Address: be.Addr, Path: "/", IntervalSeconds: 1, TimeoutSeconds: 0.5, Rise: 1, Fall: 2})
	ttl, fb := 5, 0
	a.must(http.StatusCreated, "POST", "/v1/traffic-policies", api.TrafficPolicy{Name: "pay", Mode: api.ModeActivePassive,
		TTLSeconds: &ttl, FailbackDelaySeconds: &fb, WhenAllDown: api.AllDownFailOpen,
		Targets: map[string]api.PolicyTarget{
			"dc1":   {Site: "dc1", Addresses: []string{"192.0.2.10"}, HealthChecks: []string{"web"}, Priority: 1},
			"cloud": {Site: "cloud", Addresses: []string{"198.51.100.20"}, Priority: 2},
		}})
	time.Sleep(2 * time.Second)
	gen0 := a.decisionGeneration("pay")

	fmt.Printf("failoverd pid %d, RLIMIT_NOFILE %d, %s\n\n", f.Pid(), nofile, loadavg())
	fmt.Println("| attack | what a client gets now |")
	fmt.Println("| --- | --- |")

	// 1. Withheld bodies, no token, more connections than file descriptors.
	{
		const n = 600
		rss0 := rss(f.Pid())
		var conns []net.Conn
		var times []time.Duration
		statuses := map[string]int{}
		for i := 0; i < n; i++ {
			c, err := net.DialTimeout("tcp", strings.TrimPrefix(f.URL, "http://"), 2*time.Second)
			if err != nil {
				statuses["dial error"]++
				continue
			}
			conns = append(conns, c)
			fmt.Fprintf(c, "POST /v1/traffic-policies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
		}
		rssHeld := rss(f.Pid())
		healthz, _ := timed(func() (int, error) { return a.status("GET", "/healthz", "") })
		for _, c := range conns {
			start := time.Now()
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			switch {
			case err == nil:
				statuses[strings.TrimSpace(line)]++
			case isTimeout(err):
				statuses["no answer in 10 s"]++
			default:
				statuses["closed without answer"]++
			}
			times = append(times, time.Since(start))
			c.Close()
		}
		// The prober kept its budget: no local failure, no decision move.
		time.Sleep(3 * time.Second)
		gen1 := a.decisionGeneration("pay")
		fmt.Printf("| %d connections without a token announce a 100 kB body and send 1 byte (fd limit %d) | %s; answered within p50 %s / max %s of reading; `/healthz` meanwhile: %v (%s); failoverd RSS %s → %s; the policy's decision generation %d → %d, local probe failures %s |\n",
			n, nofile, summarize(statuses), pct(times, 50), pct(times, 100), healthz.status, healthz.d.Round(time.Millisecond), mib(rss0), mib(rssHeld), gen0, gen1, a.metric("failover_probe_local_failures_total"))
	}

	// 2. Unknown methods.
	{
		before := len(a.get("/metrics"))
		codes := map[int]int{}
		for i := 0; i < 10000; i++ {
			m := fmt.Sprintf("M%08X", rand.Uint32())
			code, _ := a.status(m, "/v1/health-checks", "")
			codes[code]++
		}
		after := len(a.get("/metrics"))
		fmt.Printf("| 10,000 requests with random methods | %v; `/metrics` %.1f KB → %.1f KB (methods outside the known set count as `other`) |\n", codes, float64(before)/1e3, float64(after)/1e3)
	}

	// 3. A read token floods refused writes: the admins' mutations stay.
	{
		const n = 5000
		start := time.Now()
		codes := map[int]int{}
		for i := 0; i < n; i++ {
			code, _ := a.statusAs(readToken, "DELETE", "/v1/traffic-policies/pay", "")
			codes[code]++
		}
		d := time.Since(start)
		var audit struct{ Items []api.Event }
		a.decode(a.get("/v1/events?type=audit&limit=1000"), &audit)
		refusedEvents, mutations := 0, 0
		for _, e := range audit.Items {
			if e.Outcome == "refused" || strings.Contains(string(e.Data), `"refused"`) {
				refusedEvents++
			} else {
				mutations++
			}
		}
		fmt.Printf("| a read token sends %d DELETEs (%s) | %v; the audit log holds %d event for them so far (one per token, route and minute; the minute's count is written when it ends) and the admins' %d mutations |\n",
			n, d.Round(time.Millisecond), codes, refusedEvents, mutations)
	}

	// 4. Large headers.
	{
		rss0 := rss(f.Pid())
		big := strings.Repeat("a", 1<<20)
		codes := map[int]int{}
		for i := 0; i < 50; i++ {
			req, _ := http.NewRequest("GET", f.URL+"/v1/status", nil)
			req.Header.Set("X-Big", big)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes[-1]++
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[resp.StatusCode]++
		}
		fmt.Printf("| 50 requests with a 1 MiB header | %v; RSS %s → %s |\n", codes, mib(rss0), mib(rss(f.Pid())))
	}

	// 5. problem+json amplification.
	{
		targets := map[string]api.PolicyTarget{}
		for i := 0; i < 2000; i++ {
			targets[fmt.Sprintf("t%d", i)] = api.PolicyTarget{Site: "", Priority: -1}
		}
		body, _ := json.Marshal(api.TrafficPolicy{Name: "bad", Mode: api.ModeActivePassive, Targets: targets})
		code, resp := a.doAs(adminToken, "POST", "/v1/traffic-policies", string(body), "application/json")
		fmt.Printf("| a policy with 2,000 invalid targets (%d bytes) | %d, problem+json of %d bytes (×%.2f the request; at most 50 problems, then \"and N more\") |\n",
			len(body), code, len(resp), float64(len(resp))/float64(len(body)))
	}

	// 6. Decoder strictness and HTTP semantics.
	{
		c1, b1 := a.doAs(adminToken, "POST", "/v1/health-checks", `{"Name":"x","site":"dc1","type":"tcp","address":"127.0.0.1:1"}`, "application/json")
		c2, _ := a.doAs(adminToken, "POST", "/v1/health-checks", `{"name":"x","name":"y","site":"dc1","type":"tcp","address":"127.0.0.1:1"}`, "application/json")
		c3, _ := a.doAs(adminToken, "POST", "/v1/health-checks", `{"name":"x","site":"dc1","type":"tcp","address":"127.0.0.1:1","interval_seconds":0}`, "application/json")
		c4, _ := a.doAs(adminToken, "POST", "/v1/health-checks", `name=x`, "text/plain")
		c5, _ := a.doAs(adminToken, "PATCH", "/v1/health-checks/web", `{}`, "application/json")
		req, _ := http.NewRequest("PUT", f.URL+"/v1/health-checks/web", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", `"no-such-version"`)
		resp, err := http.DefaultClient.Do(req)
		c6 := 0
		if err == nil {
			c6 = resp.StatusCode
			resp.Body.Close()
		}
		fmt.Printf("| `\"Name\"` for `name`; a duplicate key; an explicit `interval_seconds: 0`; `text/plain`; PATCH on a check; a non-matching If-Match | %d (%s); %d; %d; %d; %d; %d |\n",
			c1, firstDetail(b1), c2, c3, c4, c5, c6)
	}

	// 7. DNS: idle TCP connections, then a new client.
	{
		const n = 700
		var conns []net.Conn
		for i := 0; i < n; i++ {
			c, err := net.DialTimeout("tcp", f.DNSAddr, time.Second)
			if err != nil {
				break
			}
			conns = append(conns, c)
		}
		m := new(dns.Msg)
		m.SetQuestion("pay.failover.internal.", dns.TypeA)
		cl := &dns.Client{Net: "tcp", Timeout: 3 * time.Second}
		start := time.Now()
		r, _, err := cl.Exchange(m, f.DNSAddr)
		d := time.Since(start)
		ans := fmt.Sprint(err)
		if err == nil {
			ans = dns.RcodeToString[r.Rcode] + fmt.Sprintf(", %d answers", len(r.Answer))
		}
		for _, c := range conns {
			c.Close()
		}
		fmt.Printf("| %d idle TCP DNS connections, then a new TCP query | %s in %s (the longest-idle connection is closed to admit it) |\n", len(conns), ans, d.Round(time.Millisecond))
	}

	// 8. A policy whose answer cannot be served.
	{
		addrs := make([]string, 5000)
		for i := range addrs {
			addrs[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		}
		body, _ := json.Marshal(api.TrafficPolicy{Name: "huge", Mode: api.ModeActivePassive, TTLSeconds: &ttl,
			FailbackDelaySeconds: &fb, WhenAllDown: api.AllDownFailOpen,
			Targets: map[string]api.PolicyTarget{"dc1": {Site: "dc1", Addresses: addrs, Priority: 1}}})
		code, resp := a.doAs(adminToken, "POST", "/v1/traffic-policies", string(body), "application/json")
		fmt.Printf("| a target with 5,000 IPv4 addresses | %d: %s |\n", code, firstDetail(resp))
	}

	// 9. SIGHUP reloads the tokens instead of killing the process.
	{
		sum := sha256.Sum256([]byte("second-token-abcdefgh"))
		check(os.WriteFile(tokens, []byte("reader read sha256:"+hex.EncodeToString(sum[:])+"\n"), 0o600))
		check(syscall.Kill(f.Pid(), syscall.SIGHUP))
		time.Sleep(300 * time.Millisecond)
		oldCode, _ := a.statusAs(readToken, "GET", "/v1/status", "")
		newCode, _ := a.statusAs("second-token-abcdefgh", "GET", "/v1/status", "")
		check(os.Chmod(tokens, 0o666))
		check(syscall.Kill(f.Pid(), syscall.SIGHUP))
		time.Sleep(300 * time.Millisecond)
		keptCode, _ := a.statusAs("second-token-abcdefgh", "GET", "/v1/status", "")
		fmt.Printf("| SIGHUP after replacing the token file; then SIGHUP with the file made world-writable | alive; old token %d, new token %d; world-writable file refused, the loaded tokens kept (%d) |\n", oldCode, newCode, keptCode)
	}

	// 10. A damaged store: a 0-byte database.
	{
		dd := filepath.Join(dir, "empty")
		check(os.MkdirAll(dd, 0o700))
		check(os.WriteFile(filepath.Join(dd, "failoverd.db"), nil, 0o600))
		out2, err2 := exec.Command(filepath.Join(*bin, "failoverd"), "serve", "--dev", "--data-dir", dd,
			"--http-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0").CombinedOutput()
		fmt.Printf("| a 0-byte failoverd.db | exit %s: %s |\n", exitCode(err2), lastLine(string(out2)))
	}
	fmt.Printf("\nthe policy's decision generation at the end: %d (started %d)\n", a.decisionGeneration("pay"), gen0)
}

type client struct{ base string }

type timing struct {
	status int
	d      time.Duration
}

func timed(fn func() (int, error)) (timing, error) {
	start := time.Now()
	s, err := fn()
	return timing{s, time.Since(start)}, err
}

func (a *client) doAs(token, method, path, body, ctype string) (int, []byte) {
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	check(err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (a *client) status(method, path, body string) (int, error) {
	code, _ := a.doAs(adminToken, method, path, body, "application/json")
	return code, nil
}

func (a *client) statusAs(token, method, path, body string) (int, error) {
	code, _ := a.doAs(token, method, path, body, "application/json")
	return code, nil
}

func (a *client) get(path string) []byte {
	code, b := a.doAs(adminToken, "GET", path, "", "")
	if code != http.StatusOK {
		fatalf("GET %s: %d %s", path, code, b)
	}
	return b
}

func (a *client) must(want int, method, path string, obj any) {
	b, _ := json.Marshal(obj)
	code, resp := a.doAs(adminToken, method, path, string(b), "application/json")
	if code != want {
		fatalf("%s %s: %d, want %d: %s", method, path, code, want, resp)
	}
}

func (a *client) decode(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		fatalf("decode %s: %v", b, err)
	}
}

func (a *client) decisionGeneration(policy string) uint64 {
	var d api.Decision
	a.decode(a.get("/v1/traffic-policies/"+policy+"/decision"), &d)
	return d.Generation
}

// metric sums a counter's series in /metrics.
func (a *client) metric(name string) string {
	total := 0.0
	for _, line := range strings.Split(string(a.get("/metrics")), "\n") {
		if strings.HasPrefix(line, name) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += v
		}
	}
	return strconv.FormatFloat(total, 'f', -1, 64)
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return "load average " + strings.Join(strings.Fields(string(b))[:3], " ")
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s) - 1) * p / 100
	return s[i].Round(time.Millisecond)
}

func summarize(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%d × %s", v, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func firstDetail(b []byte) string {
	var p struct {
		Detail   string `json:"detail"`
		Problems []struct {
			Field  string `json:"field"`
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &p) != nil {
		return string(bytes.TrimSpace(b))
	}
	if len(p.Problems) > 0 {
		return fmt.Sprintf("`%s`: %s", p.Problems[0].Field, p.Problems[0].Detail)
	}
	return p.Detail
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func exitCode(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return strconv.Itoa(ee.ExitCode())
	}
	return fmt.Sprint(err)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func check(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "attack: "+format+"\n", args...)
	os.Exit(1)
}
