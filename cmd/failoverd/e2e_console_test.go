package main

// The console in a real browser: Debian's Chromium driven through
// chromedriver (internal/webdriver) against a real failoverd child process
// and real stand-in backends. Screenshots are kept as artifacts.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
	"github.com/hatopo/terraform-provider-failover/internal/server"
	"github.com/hatopo/terraform-provider-failover/internal/webdriver"
)

const (
	consoleReadToken    = "console-read-token-4f2a"
	consoleOperateToken = "console-operate-token-9c1d"
)

// browserTools finds Chromium and chromedriver; without them the test
// skips, saying how to get them — except under CI=true, where a skipped
// browser test would hide a broken console.
func browserTools(t *testing.T) webdriver.Tools {
	t.Helper()
	tools, err := webdriver.Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser test under CI=true: %v", err)
		}
		t.Skipf("browser test skipped: %v", err)
	}
	return tools
}

// artifactDir is where screenshots go: $FAILOVER_ARTIFACTS/<test>, or the
// test's temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if base := os.Getenv("FAILOVER_ARTIFACTS"); base != "" {
		dir = filepath.Join(base, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// browser is one headless Chromium window with the test's helpers.
type browser struct {
	t         *testing.T
	s         *webdriver.Session
	artifacts string
}

func openBrowser(t *testing.T, d *webdriver.Driver, artifacts string, width, height int) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := d.NewSession(ctx, width, height, t.TempDir())
	if err != nil {
		t.Fatalf("open Chromium: %v", err)
	}
	b := &browser{t: t, s: s, artifacts: artifacts}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if t.Failed() {
			b.screenshot("failed")
			if logs, err := s.Logs(ctx); err == nil {
				t.Logf("browser console:\n%s", strings.Join(logs, "\n"))
			}
		}
		s.Close(ctx)
	})
	return b
}

func (b *browser) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func (b *browser) navigate(url string) {
	b.t.Helper()
	ctx, cancel := b.ctx()
	defer cancel()
	if err := b.s.Navigate(ctx, url); err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
}

// text is the rendered text of the first element matching css ("" when
// there is none).
func (b *browser) text(css string) string {
	b.t.Helper()
	ctx, cancel := b.ctx()
	defer cancel()
	e, err := b.s.Find(ctx, css)
	if webdriver.IsNoSuchElement(err) {
		return ""
	}
	if err != nil {
		b.t.Fatalf("find %s: %v", css, err)
	}
	s, err := e.Text(ctx)
	if webdriver.IsStale(err) {
		return "" // replaced by a refresh between find and read
	}
	if err != nil {
		b.t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

func (b *browser) waitText(css, want string, within time.Duration) {
	b.t.Helper()
	eventually(b.t, within, fmt.Sprintf("page shows %q in %s", want, css), func() (bool, string) {
		got := b.text(css)
		return strings.Contains(got, want), fmt.Sprintf("%q", got)
	})
}

// click clicks the first element matching css; when a live refresh
// replaced it between the find and the click, it finds it again.
func (b *browser) click(css string) {
	b.t.Helper()
	ctx, cancel := b.ctx()
	defer cancel()
	for try := 0; ; try++ {
		e, err := b.s.Find(ctx, css)
		if err != nil {
			b.t.Fatalf("find %s: %v", css, err)
		}
		err = e.Click(ctx)
		if webdriver.IsStale(err) && try < 3 {
			continue
		}
		if err != nil {
			b.t.Fatalf("click %s: %v", css, err)
		}
		return
	}
}

// fill replaces an input's value by typing.
func (b *browser) fill(css, text string) {
	b.t.Helper()
	ctx, cancel := b.ctx()
	defer cancel()
	e, err := b.s.Find(ctx, css)
	if err != nil {
		b.t.Fatalf("find %s: %v", css, err)
	}
	if err := e.Clear(ctx); err != nil {
		b.t.Fatalf("clear %s: %v", css, err)
	}
	if err := e.Type(ctx, text); err != nil {
		b.t.Fatalf("type into %s: %v", css, err)
	}
}

func (b *browser) count(css string) int {
	b.t.Helper()
	ctx, cancel := b.ctx()
	defer cancel()
	es, err := b.s.FindAll(ctx, css)
	if err != nil {
		b.t.Fatalf("find %s: %v", css, err)
	}
	return len(es)
}

func (b *browser) exec(out any, script string, args ...any) {
	b.t.Helper()
	ctx, cancel := b.ctx()
	defer cancel()
	if err := b.s.Exec(ctx, out, script, args...); err != nil {
		b.t.Fatalf("script %q: %v", script, err)
	}
}

// screenshot saves a PNG of the window under the artifacts directory.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := b.ctx()
	defer cancel()
	png, err := b.s.Screenshot(ctx)
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.artifacts, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s (%d bytes)", p, len(png))
}

// pageErrors are the browser console's errors (CSP violations, script
// exceptions), but for the 401 the sign-in test provokes on purpose.
func (b *browser) pageErrors(allow ...string) []string {
	b.t.Helper()
	ctx, cancel := b.ctx()
	defer cancel()
	logs, err := b.s.Logs(ctx)
	if err != nil {
		b.t.Fatalf("browser logs: %v", err)
	}
	var out []string
next:
	for _, l := range logs {
		if !strings.HasPrefix(l, "SEVERE") && !strings.Contains(l, "Content Security Policy") {
			continue
		}
		for _, a := range allow {
			if strings.Contains(l, a) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// consoleSetup starts failoverd with read and operate tokens beside the
// dev admin token, two stand-in sites, an active-passive policy over them,
// a burst toggle and a replica set.
func consoleSetup(t *testing.T) (*launch.Failoverd, *rawAPI, map[string]*launch.Backend) {
	t.Helper()
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	content := fmt.Sprintf("viewer read %s\noncall operate %s\n", server.HashToken(consoleReadToken), server.HashToken(consoleOperateToken))
	if err := os.WriteFile(tokens, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f := startFailoverdWith(t, launch.Options{DataDir: filepath.Join(dir, "data"), Args: []string{"--token-file", tokens}})
	a := newRawAPI(f)
	backends := map[string]*launch.Backend{"dc1": startBackend(t, "dc1"), "cloud": startBackend(t, "cloud")}
	for site, b := range backends {
		a.must(t, http.StatusCreated, http.MethodPost, "/v1/health-checks", sitesCheck("web-"+site, site, b.Addr), nil)
	}
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "black-friday", Site: "cloud"}, nil)
	p := twoSitePolicy("web", 300, []string{"web-dc1"}, []string{"web-cloud"})
	p.RTOSeconds = 60
	p.BurstToggle = "black-friday"
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", p, nil)
	prio := func(v float64) *float64 { return &v }
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/replica-sets", api.ReplicaSet{Name: "orders-db", Members: map[string]api.Member{
		"db-dc1":   {Host: "db-1.dc1.example:27017", Site: "dc1", Priority: prio(2), HealthCheck: "web-dc1"},
		"db-cloud": {Host: "db-2.cloud.example:27017", Site: "cloud", Priority: prio(1), HealthCheck: "web-cloud"},
		"arbiter":  {Host: "arb.tie.example:27017", Site: "tie", Arbiter: true},
	}}, nil)
	waitHealthy(t, a, 20*time.Second, "web-dc1", "web-cloud")
	waitServing(t, a, 10*time.Second, "web", "dc1")
	return f, a, backends
}

// TestConsoleOperate: an operate token handed over in the URL fragment;
// a backend dies and the page follows without a reload; a burst toggle is
// engaged with the button and /burst/{name} answers burst.
func TestConsoleOperate(t *testing.T) {
	needBins(t)
	tools := browserTools(t)
	f, a, backends := consoleSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := webdriver.Start(ctx, tools)
	if err != nil {
		t.Fatalf("start chromedriver: %v", err)
	}
	t.Cleanup(d.Stop)
	b := openBrowser(t, d, artifactDir(t), 1366, 1000)

	b.navigate(f.URL + "/ui/#token=" + consoleOperateToken)
	b.waitText(`[data-policy="web"] .serving`, "dc1", 15*time.Second)
	b.waitText("#who", "oncall (operate)", 5*time.Second)
	b.waitText("#stream-state", "live", 10*time.Second)
	// The fragment is gone from the address bar; the token lives in this
	// tab's sessionStorage only.
	var loc, stored string
	b.exec(&loc, "return location.href")
	if strings.Contains(loc, "token") || strings.Contains(loc, consoleOperateToken) {
		t.Errorf("address bar still holds the token: %s", loc)
	}
	b.exec(&stored, "return sessionStorage.getItem('failover.token') + '|' + localStorage.length")
	if stored != consoleOperateToken+"|0" {
		t.Errorf("sessionStorage/localStorage = %q, want the token in sessionStorage only", stored)
	}
	b.waitText(`[data-replica-set="orders-db"]`, "safe", 10*time.Second)
	b.screenshot("01-operate-dc1-serving")

	// A drill from the console: confirm, then watch it pass on the page.
	b.click(`[data-key="drill:web"]`)
	b.fill("#f-hold", "1s")
	b.fill("#f-reason", "console game day")
	b.screenshot("02-operate-confirm-drill")
	b.click("#confirm-ok")
	b.waitText("#result", "started", 10*time.Second)
	b.waitText("#drills", "pass", 30*time.Second)
	b.waitText("#drills", "web → cloud", 5*time.Second)
	b.waitText(`[data-policy="web"] .serving`, "dc1", 10*time.Second)
	var drills api.List[api.Drill]
	a.must(t, http.StatusOK, http.MethodGet, "/v1/drills", nil, &drills)
	if len(drills.Items) != 1 || drills.Items[0].State != api.DrillPassed || drills.Items[0].StartedBy != "oncall" || drills.Items[0].Reason != "console game day" {
		t.Fatalf("the console's drill: %+v", drills.Items)
	}
	b.screenshot("03-operate-drill-passed")

	// A marker in the page's window survives only if the page never
	// reloads.
	b.exec(nil, "window.__noReload = 'still here'")
	killed := time.Now()
	backends["dc1"].Stop()
	b.waitText(`[data-policy="web"] .serving`, "cloud", 20*time.Second)
	t.Logf("page shows cloud serving %.2fs after the dc1 backend was killed", time.Since(killed).Seconds())
	var marker string
	b.exec(&marker, "return String(window.__noReload)")
	if marker != "still here" {
		t.Errorf("the page reloaded (marker %q): the change must arrive live", marker)
	}
	b.waitText(`[data-check="web-dc1"]`, "unhealthy", 10*time.Second)
	b.waitText("#events", "traffic-policies/web", 5*time.Second)
	b.waitText(`[data-replica-set="orders-db"]`, "at risk", 10*time.Second)
	b.screenshot("04-operate-failed-over-to-cloud")
	// The same at_risk for Prometheus (monitoring/ alerts on it).
	if _, m, err := a.do(http.MethodGet, "/metrics", nil, nil); err != nil || !strings.Contains(string(m), `failover_replica_set_at_risk{replica_set="orders-db"} 1`) {
		t.Errorf("/metrics does not say orders-db is at risk (%v)", err)
	}

	// Engage the burst toggle with its button, through the confirmation.
	burst := func() (int, string) {
		resp, err := http.Get(f.URL + "/burst/black-friday")
		if err != nil {
			t.Fatalf("GET /burst: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := burst(); code != http.StatusServiceUnavailable || body != "no-burst" {
		t.Fatalf("before the click /burst answers %d %q", code, body)
	}
	b.click(`[data-key="burst:black-friday"]`)
	var open bool
	b.exec(&open, "return document.getElementById('confirm').open")
	if !open {
		t.Fatal("engaging did not ask for confirmation")
	}
	b.screenshot("05-operate-confirm-burst")
	if code, _ := burst(); code != http.StatusServiceUnavailable {
		t.Fatal("the toggle changed before the confirmation")
	}
	b.click("#confirm-ok")
	eventually(t, 5*time.Second, "/burst/black-friday answers burst", func() (bool, string) {
		code, body := burst()
		return code == http.StatusOK && body == "burst", fmt.Sprintf("%d %q", code, body)
	})
	b.waitText("#result", "event #", 10*time.Second)
	b.waitText(`[data-toggle="black-friday"] .effective`, "burst", 5*time.Second)
	b.screenshot("06-operate-burst-engaged")
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("browser console errors:\n%s", strings.Join(errs, "\n"))
	}
	checkAlertMetrics(t, a, "failover_")
	// The audit log names the operate token that clicked.
	var audit api.List[api.Event]
	a.must(t, http.StatusOK, http.MethodGet, "/v1/events?type=audit&limit=1000", nil, &audit)
	found := false
	for _, ev := range audit.Items {
		if ev.Object == "burst-toggles/black-friday" && ev.Action == "engage" && ev.Actor == "oncall" {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit event of oncall engaging black-friday in %+v", audit.Items)
	}
}

// TestConsoleReadOnly: a read token typed into the sign-in prompt sees
// everything and no button; on a phone-sized window.
func TestConsoleReadOnly(t *testing.T) {
	needBins(t)
	tools := browserTools(t)
	f, _, _ := consoleSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := webdriver.Start(ctx, tools)
	if err != nil {
		t.Fatalf("start chromedriver: %v", err)
	}
	t.Cleanup(d.Stop)
	b := openBrowser(t, d, artifactDir(t), 390, 844)

	b.navigate(f.URL + "/ui/")
	b.waitText("#login", "Sign in", 10*time.Second)
	// A wrong token is refused with a message, not a blank page.
	typeToken := func(tok string) {
		ctx, cancel := b.ctx()
		defer cancel()
		in, err := b.s.Find(ctx, "#token-input")
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Type(ctx, tok+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	typeToken("not-a-token")
	b.waitText("#login-error", "401", 10*time.Second)
	b.screenshot("01-read-sign-in-refused")
	typeToken(consoleReadToken)
	b.waitText(`[data-policy="web"] .serving`, "dc1", 15*time.Second)
	b.waitText("#who", "viewer (read, view only)", 5*time.Second)
	b.waitText(`[data-toggle="black-friday"]`, "no-burst", 5*time.Second)
	b.waitText("#cluster", "leader", 5*time.Second)
	if n := b.count("#console button"); n != 0 {
		t.Errorf("a read token sees %d buttons, want none", n)
	}
	if n := b.count("dialog[open]"); n != 0 {
		t.Errorf("%d dialogs open", n)
	}
	b.screenshot("02-read-phone")
	// The layout fits a phone: nothing wider than the viewport but the
	// tables' own scroll boxes.
	var overflow bool
	b.exec(&overflow, "return document.documentElement.scrollWidth > window.innerWidth + 1")
	if overflow {
		t.Error("the page scrolls sideways on a 390 px wide window")
	}
	if errs := b.pageErrors("401", "Unauthorized"); len(errs) > 0 {
		t.Errorf("browser console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// checkAlertMetrics: every failoverd metric the shipped alerting rules
// and dashboard (monitoring/) use whose name starts with prefix is one
// failoverd exports, so a renamed metric cannot silently disarm an alert.
// Labelled metrics appear once they have a series, so each caller checks
// the families its failoverd has behind it: the console test has checks,
// a policy that failed over, a replica set and a drill; the publish and
// webhook tests check their own (skipped here, see ownedElsewhere).
func checkAlertMetrics(t *testing.T, a *rawAPI, prefix string) {
	t.Helper()
	rules, err := os.ReadFile("../../monitoring/prometheus/failover-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	dash, err := os.ReadFile("../../monitoring/grafana/failoverd.json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(dash) {
		t.Error("monitoring/grafana/failoverd.json is not JSON")
	}
	rules = append(rules, dash...)
	_, metrics, err := a.do(http.MethodGet, "/metrics", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Series that only exist once it happens (a probe that failed for a
	// local reason, an event a full webhook queue dropped): the source
	// that registers them must name them.
	later := map[string]string{
		"failover_probe_local_failures_total":   "../../internal/health/metrics.go",
		"failover_webhook_dropped_events_total": "../../internal/webhook/metrics.go",
	}
	names := regexp.MustCompile(`\bfailover_[a-z_]+\b`).FindAllString(string(rules), -1)
	checked := 0
	for _, n := range names {
		n = strings.TrimSuffix(n, "_bucket") // histogram series are named by their base
		if !strings.HasPrefix(n, prefix) || (prefix == "failover_" && ownedElsewhere(n)) {
			continue
		}
		checked++
		if src, ok := later[n]; ok {
			if b, err := os.ReadFile(src); err != nil || !strings.Contains(string(b), `"`+n+`"`) {
				t.Errorf("alerting rules use %s, which %s does not register (%v)", n, src, err)
			}
			continue
		}
		if !strings.Contains(string(metrics), "\n# TYPE "+n+" ") {
			t.Errorf("alerting rules use %s, which failoverd does not export", n)
		}
	}
	if checked < 3 {
		t.Fatalf("only %d metric names starting with %s in monitoring/", checked, prefix)
	}
}

// ownedElsewhere: metric families whose series only exist on a failoverd
// that publishes or delivers webhooks, checked by those e2e tests.
func ownedElsewhere(name string) bool {
	return strings.HasPrefix(name, "failover_publish_") || strings.HasPrefix(name, "failover_webhook_")
}
