package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// attackResult is what one unauthenticated attacking connection got.
type attackResult struct {
	status int           // the answer's status; 0 when none came
	closed time.Duration // from the last byte sent until the server closed the connection; 0 when it never did
	err    error
}

// attack opens n connections to addr at once, writes req on each and then
// holds them, sending nothing more, until the attack ends at until. It
// records what each connection got.
func attack(addr, req string, n int, until time.Time) []attackResult {
	out := make([]attackResult, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func(r *attackResult) {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				r.err = err
				return
			}
			defer c.Close()
			if _, err := io.WriteString(c, req); err != nil {
				r.err = err
				return
			}
			sent := time.Now()
			c.SetReadDeadline(until)
			br := bufio.NewReader(c)
			if resp, err := http.ReadResponse(br, nil); err == nil {
				r.status = resp.StatusCode
			}
			// Read to EOF: the server closing its end is what frees its fd.
			if _, err := io.Copy(io.Discard, br); err == nil {
				r.closed = time.Since(sent)
			}
			// The attacker keeps its end open until the attack ends.
			if d := time.Until(until); d > 0 {
				time.Sleep(d)
			}
		}(&out[i])
	}
	wg.Wait()
	return out
}

// summarize counts attack results by status and reports the slowest close.
func summarize(rs []attackResult) (byStatus map[int]int, open int, slowest time.Duration) {
	byStatus = map[int]int{}
	for _, r := range rs {
		byStatus[r.status]++
		if r.closed == 0 {
			open++
		}
		slowest = max(slowest, r.closed)
	}
	return byStatus, open, slowest
}

// dnsTCP asks failoverd's DNS for name's A record over TCP.
func dnsTCP(addr, name string) error {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	c := &dns.Client{Net: "tcp", Timeout: 3 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
		return fmt.Errorf("rcode %s, %d answers", dns.RcodeToString[r.Rcode], len(r.Answer))
	}
	return nil
}

// healthz asks /healthz on a new connection.
func healthz(base string) error {
	hc := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(base + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// openFDs counts the file descriptors process pid holds.
func openFDs(pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestNoTokenCannotMoveTraffic is the false-failover regression (issue 9):
// failoverd runs with a low file-descriptor limit; hundreds of clients
// without a token open connections that announce a body and never send
// it, then hundreds more that never finish their headers. Neither may
// cost failoverd the descriptors its prober needs: the decision must not
// move, no check may turn unhealthy, and /healthz and TCP DNS must keep
// answering. Each attacker is answered 401 and cut off at once, or held
// at most the header timeout.
func TestNoTokenCannotMoveTraffic(t *testing.T) {
	needBins(t)
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc to count failoverd's file descriptors")
	}
	t.Parallel()
	const (
		nofile    = 256
		attackers = 300
	)
	f := startFailoverdWith(t, launch.Options{DataDir: filepath.Join(t.TempDir(), "data"), MaxOpenFiles: nofile})
	a := newRawAPI(f)
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("dc1-web", "dc1", dc1.Addr), nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("cloud-web", "cloud", cloud.Addr), nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 1, []string{"dc1-web"}, []string{"cloud-web"}), nil)
	waitHealthy(t, a, 15*time.Second, "dc1-web", "cloud-web")
	before := waitServing(t, a, 10*time.Second, "web", "dc1")
	seq := a.lastSeq(t)
	const fqdn = "web.failover.internal."
	if err := dnsTCP(f.DNSAddr, fqdn); err != nil {
		t.Fatalf("TCP DNS before the attack: %v", err)
	}
	addr := strings.TrimPrefix(f.URL, "http://")
	baseFDs := openFDs(f.Pid())

	// During each attack, /healthz and TCP DNS are asked every 250 ms.
	watch := func(until time.Time) (failures []string, maxFDs int) {
		for time.Now().Before(until) {
			if err := healthz(f.URL); err != nil {
				failures = append(failures, "/healthz: "+err.Error())
			}
			if err := dnsTCP(f.DNSAddr, fqdn); err != nil {
				failures = append(failures, "TCP DNS: "+err.Error())
			}
			maxFDs = max(maxFDs, openFDs(f.Pid()))
			time.Sleep(250 * time.Millisecond)
		}
		return failures, maxFDs
	}

	phases := []struct {
		name string
		// hold spans several probe intervals (1 s, fall 2).
		hold time.Duration
		req  string
		// wantStatus is the answer every attacker gets (0: none); cutOff
		// bounds how long the server holds an accepted attacker.
		wantStatus int
		cutOff     time.Duration
		// healthzDuring: /healthz answers during the attack (a client
		// that never finishes its headers holds an HTTP slot until the
		// header timeout, so those may queue /healthz behind them).
		healthzDuring bool
	}{
		{"withheld body", 4 * time.Second, "POST /v1/health-checks HTTP/1.1\r\nHost: failoverd\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{",
			http.StatusUnauthorized, 2 * time.Second, true},
		// Held past the server's header timeout (5 s), to see it act.
		{"unfinished headers", 7 * time.Second, "GET /healthz HTTP/1.1\r\nHost: failoverd\r\nX-Slow: 1\r\n",
			0, 0, false},
	}
	for _, ph := range phases {
		until := time.Now().Add(ph.hold)
		var (
			results  []attackResult
			failures []string
			maxFDs   int
			done     = make(chan struct{})
		)
		go func() { defer close(done); results = attack(addr, ph.req, attackers, until) }()
		failures, maxFDs = watch(until)
		<-done
		byStatus, open, slowest := summarize(results)
		t.Logf("%s: %d attackers → statuses %v, %d still open at the end, slowest close %s; failoverd fds %d before, at most %d during (limit %d)",
			ph.name, attackers, byStatus, open, slowest.Round(time.Millisecond), baseFDs, maxFDs, nofile)
		for _, fl := range failures {
			if ph.healthzDuring || !strings.HasPrefix(fl, "/healthz:") {
				t.Errorf("%s: during the attack: %s", ph.name, fl)
			}
		}
		if maxFDs >= nofile-32 {
			t.Errorf("%s: failoverd held %d of its %d file descriptors: the HTTP connection cap did not keep the prober's share", ph.name, maxFDs, nofile)
		}
		if ph.wantStatus != 0 {
			for i, r := range results {
				if r.status != ph.wantStatus || r.closed == 0 || r.closed > ph.cutOff {
					t.Errorf("%s: attacker %d got status %d, connection closed after %s (0: held open; err %v), want %d and closed within %s",
						ph.name, i, r.status, r.closed, r.err, ph.wantStatus, ph.cutOff)
					break
				}
			}
		}
		// Released attackers must not leave the API unreachable.
		eventually(t, 15*time.Second, "/healthz answers after "+ph.name, func() (bool, string) {
			err := healthz(f.URL)
			return err == nil, fmt.Sprint(err)
		})
	}

	// The attack moved nothing.
	after := a.decision(t, "web")
	if servingTarget(after) != "dc1" || after.Generation != before.Generation {
		t.Errorf("after the attack web serves %s at generation %d (%s), want dc1 at generation %d",
			servingTarget(after), after.Generation, after.Reason, before.Generation)
	}
	for _, ev := range a.events(t, seq) {
		if ev.Type != api.EventHealth {
			continue
		}
		var d struct{ To string }
		json.Unmarshal(ev.Data, &d)
		if d.To == api.StateUnhealthy {
			t.Errorf("health event during the attack: %s", ev.Message)
		}
	}
	for _, c := range []string{"dc1-web", "cloud-web"} {
		if s := a.healthStatus(t, c); s.State != api.StateHealthy {
			t.Errorf("check %s is %s after the attack, want healthy", c, s.State)
		}
	}
}
