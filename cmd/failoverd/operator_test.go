package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

const opTestToken = "operator-test-token"

var opTestNow = time.Date(2026, 11, 22, 4, 1, 2, 0, time.UTC)

// opFixture is a minimal failoverd: just the operator endpoints, canned
// answers, bearer auth and problem+json errors. It records the mutating
// requests it receives.
type opFixture struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies map[string]string // "METHOD /path" → request body
}

func opPtr[T any](v T) *T { return &v }

func opEvent(seq uint64, typ, object, msg string) api.Event {
	return api.Event{Seq: seq, Time: opTestNow.Add(time.Duration(seq) * 1123 * time.Millisecond), Type: typ, Object: object, Message: msg}
}

var opTestEvents = []api.Event{
	opEvent(1, api.EventHealth, "health-checks/web-dc1", "unhealthy: dial tcp 192.0.2.10:80: connection refused"),
	opEvent(2, api.EventDecision, "traffic-policies/web", "failover dc1 → dc2 after 3 failures"),
	opEvent(3, api.EventAudit, "burst-toggles/dr", "engaged by alice"),
}

func newOpFixture(t *testing.T) *opFixture {
	f := &opFixture{bodies: map[string]string{}}
	problem := func(w http.ResponseWriter, status int, detail string) {
		w.Header().Set("Content-Type", api.ProblemContentType)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(api.Problem{Title: http.StatusText(status), Status: status, Detail: detail})
	}
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	decision := func(o *api.Override) api.Decision {
		d := api.Decision{Policy: "web", Reason: "primary dc1 healthy", Since: opTestNow.Add(-time.Hour), TTLSeconds: 30,
			Serving: []api.ServingTarget{{Target: "dc1", Addresses: []string{"192.0.2.10"}, Weight: 1}}}
		if o != nil {
			d.Reason, d.Since, d.Override = "override by alice", opTestNow, o
			d.Serving = []api.ServingTarget{{Target: o.Target, Addresses: []string{"192.0.2.20"}, Weight: 1}}
		}
		return d
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		reply(w, api.Status{
			Site: "dc1", Version: "1.2.3", Started: opTestNow.Add(-2 * time.Hour),
			Checks: []api.HealthStatus{
				{Check: "web-dc2", State: api.StateHealthy, Since: opTestNow.Add(-time.Hour), Sites: map[string]api.SiteObservation{"dc1": {State: api.StateHealthy}}},
				{Check: "web-dc1", State: api.StateUnhealthy, Since: opTestNow.Add(-3 * time.Minute), Sites: map[string]api.SiteObservation{
					"dc2": {State: api.StateUnhealthy, LastError: "HTTP 503"},
					"dc1": {State: api.StateUnhealthy, LastError: "dial tcp 192.0.2.10:80:\nconnection refused"},
				}},
			},
			Decisions: []api.Decision{decision(nil)},
			Toggles:   []api.BurstToggle{{Name: "dr", Site: "dc2", Engaged: opPtr(false), Effective: opPtr(false), URL: "http://127.0.0.1:8080/burst/dr"}},
			Cluster: &api.ClusterStatus{Node: "host-a", Site: "dc1", Role: api.RoleFollower,
				Leader: &api.ClusterLeader{Node: "host-b", Site: "cloud", Since: opTestNow.Add(-time.Minute)},
				Members: []api.ClusterMember{
					{Site: "dc1", Node: "host-a", URL: "http://192.0.2.1:8080", Started: opTestNow.Add(-2 * time.Hour), Fresh: true},
					{Site: "cloud", Node: "host-b", URL: "http://192.0.2.2:8080", Started: opTestNow.Add(-time.Hour), Fresh: true},
					{Site: "arbiter", LastSeen: opPtr(opTestNow.Add(-30 * time.Second))},
				},
				Store:    api.ClusterStore{Kind: api.StoreEtcd, Endpoints: []string{"https://192.0.2.1:2379"}, InContact: true, Since: opTestNow.Add(-2 * time.Hour)},
				Revision: 42,
			},
		})
	})
	mux.HandleFunc("PATCH /v1/burst-toggles/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") != "dr" {
			problem(w, 404, fmt.Sprintf("burst toggle %q does not exist", r.PathValue("name")))
			return
		}
		var p api.BurstPatch
		json.NewDecoder(r.Body).Decode(&p)
		reply(w, api.BurstToggle{Name: "dr", Site: "dc2", Engaged: p.Engaged, Effective: p.Engaged, Version: 7})
	})
	mux.HandleFunc("PUT /v1/traffic-policies/web/override", func(w http.ResponseWriter, r *http.Request) {
		var o api.Override
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			problem(w, 400, err.Error())
			return
		}
		o.SetBy = "alice"
		reply(w, decision(&o))
	})
	mux.HandleFunc("DELETE /v1/traffic-policies/web/override", func(w http.ResponseWriter, r *http.Request) {
		reply(w, decision(nil))
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
		var out []api.Event
		for _, e := range opTestEvents {
			if e.Seq > since {
				out = append(out, e)
			}
		}
		if r.URL.Query().Get("follow") != "1" {
			if limit, _ := strconv.Atoi(r.URL.Query().Get("limit")); limit > 0 && len(out) > limit {
				out = out[:limit]
			}
			reply(w, api.List[api.Event]{Items: out})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range out {
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, b)
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})

	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+opTestToken {
			problem(w, 401, "missing or unknown bearer token")
			return
		}
		if r.Method != http.MethodGet {
			var b bytes.Buffer
			b.ReadFrom(r.Body)
			f.mu.Lock()
			f.bodies[r.Method+" "+r.URL.Path] = b.String()
			f.mu.Unlock()
			r.Body = io.NopCloser(&b)
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *opFixture) body(key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[key]
}

// setupOperator points the subcommands at f with a fixed clock.
func setupOperator(t *testing.T, f *opFixture) {
	t.Setenv("FAILOVER_ENDPOINT", f.srv.URL)
	t.Setenv("FAILOVER_TOKEN", opTestToken)
	t.Setenv("FAILOVER_CA_CERT", "")
	now, lo, hi := opNow, opRetryWaitMin, opRetryWaitMax
	opNow, opRetryWaitMin, opRetryWaitMax = func() time.Time { return opTestNow }, time.Millisecond, time.Millisecond
	t.Cleanup(func() { opNow, opRetryWaitMin, opRetryWaitMax = now, lo, hi })
}

func runOp(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runOperator(ctx, args[0], args[1:], &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestOperatorStatus(t *testing.T) {
	f := newOpFixture(t)
	setupOperator(t, f)
	code, stdout, stderr := runOp(context.Background(), "status")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	want := `failoverd 1.2.3 at ` + f.srv.URL + `, site dc1, up since 2026-11-22T02:01:02Z (2h0m0s ago)

CLUSTER
role:    follower (node host-a)
leader:  cloud (node host-b) since 2026-11-22T04:00:02Z (1m0s ago)
store:   etcd https://192.0.2.1:2379, in contact since 2026-11-22T02:01:02Z (2h0m0s ago), revision 42
SITE     NODE    FRESH                                         STARTED                            URL
arbiter  -       no, last seen 2026-11-22T04:00:32Z (30s ago)  -                                  -
cloud    host-b  yes                                           2026-11-22T03:01:02Z (1h0m0s ago)  http://192.0.2.2:8080
dc1      host-a  yes                                           2026-11-22T02:01:02Z (2h0m0s ago)  http://192.0.2.1:8080

HEALTH CHECKS
CHECK    STATE      SINCE                              SITE  SITE STATE  LAST ERROR
web-dc1  unhealthy  2026-11-22T03:58:02Z (3m0s ago)    dc1   unhealthy   dial tcp 192.0.2.10:80: connection refused
                                                       dc2   unhealthy   HTTP 503
web-dc2  healthy    2026-11-22T03:01:02Z (1h0m0s ago)  dc1   healthy     -

TRAFFIC DECISIONS
POLICY  SERVING           REASON               SINCE
web     dc1 (192.0.2.10)  primary dc1 healthy  2026-11-22T03:01:02Z (1h0m0s ago)

BURST TOGGLES
TOGGLE  ENGAGED  EFFECTIVE  URL
dr      no       no         http://127.0.0.1:8080/burst/dr
`
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}

	code, stdout, _ = runOp(context.Background(), "status", "--json")
	var st api.Status
	if err := json.Unmarshal([]byte(stdout), &st); code != 0 || err != nil || st.Site != "dc1" || len(st.Checks) != 2 {
		t.Errorf("status --json: exit %d, %v, %+v", code, err, st)
	}
}

func TestOperatorCommands(t *testing.T) {
	f := newOpFixture(t)
	setupOperator(t, f)
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadEndpoint := "http://" + ln.Addr().String()
	ln.Close()
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadEndpoint2 := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name      string
		args      []string
		noToken   bool
		code      int
		stdoutHas []string
		stderrHas []string
	}{
		{name: "burst engage", args: []string{"burst", "engage", "dr"}, stdoutHas: []string{
			"burst toggle dr: engaged (effective: yes)\n", f.srv.URL + `/burst/dr now answers 200 "burst"`}},
		{name: "burst release, flags after the name", args: []string{"burst", "release", "dr", "--token", opTestToken}, stdoutHas: []string{
			"burst toggle dr: released (effective: no)\n", `/burst/dr now answers 503 "no-burst"`}},
		{name: "burst unknown toggle", args: []string{"burst", "engage", "nope"}, code: 1, stderrHas: []string{
			`failoverd burst engage: failoverd PATCH /v1/burst-toggles/nope: Not Found (HTTP 404): burst toggle "nope" does not exist (run "failoverd status"`}},
		{name: "burst without action", args: []string{"burst"}, code: 2, stderrHas: []string{"say engage", "usage: failoverd burst engage|release NAME"}},
		{name: "burst bad action", args: []string{"burst", "flip", "dr"}, code: 2, stderrHas: []string{`unknown action "flip"`}},
		{name: "burst without name", args: []string{"burst", "engage"}, code: 2, stderrHas: []string{"name exactly one burst toggle", "usage: failoverd burst engage NAME", "-endpoint"}},
		{name: "burst bad name", args: []string{"burst", "engage", "DR_1"}, code: 2, stderrHas: []string{`"DR_1" is not a toggle name`}},

		{name: "override set --for", args: []string{"override", "set", "web", "dc2", "--for", "30m", "--reason", "drill"}, stdoutHas: []string{
			"policy web now serves dc2 (192.0.2.20)\n",
			"  reason:   override by alice\n",
			"  since:    2026-11-22T04:01:02Z (just now)\n",
			`  override: dc2 until 2026-11-22T04:31:02Z (in 30m0s), reason "drill", set by alice` + "\n"}},
		{name: "override set --until", args: []string{"override", "set", "--until", "2026-11-22T06:00:00Z", "web", "dc2"}, stdoutHas: []string{
			"override: dc2 until 2026-11-22T06:00:00Z (in 1h58m58s)"}},
		{name: "override set without expiry", args: []string{"override", "set", "web", "dc2"}, code: 2, stderrHas: []string{"exactly one of --for DURATION or --until TIME", "usage: failoverd override set"}},
		{name: "override set with both", args: []string{"override", "set", "web", "dc2", "--for", "1h", "--until", "2026-11-22T06:00:00Z"}, code: 2, stderrHas: []string{"exactly one of"}},
		{name: "override set negative", args: []string{"override", "set", "web", "dc2", "--for", "-5m"}, code: 2, stderrHas: []string{"must be positive"}},
		{name: "override set --force without a reason", args: []string{"override", "set", "web", "dc2", "--for", "5m", "--force"}, code: 2, stderrHas: []string{"--force needs --reason"}},
		{name: "override set past", args: []string{"override", "set", "web", "dc2", "--until", "2026-11-22T04:00:00Z"}, code: 2, stderrHas: []string{"is in the past"}},
		{name: "override set bad time", args: []string{"override", "set", "web", "dc2", "--until", "tomorrow"}, code: 2, stderrHas: []string{"use RFC 3339, e.g. 2026-11-22T04:31:02Z"}},
		{name: "override set bad duration", args: []string{"override", "set", "web", "dc2", "--for", "1d"}, code: 2, stderrHas: []string{`invalid value "1d" for flag -for`}},
		{name: "override set missing target", args: []string{"override", "set", "web", "--for", "1h"}, code: 2, stderrHas: []string{"name the POLICY and the TARGET"}},
		{name: "override clear", args: []string{"override", "clear", "web"}, stdoutHas: []string{
			"policy web now serves dc1 (192.0.2.10)\n", "override: none (health checks decide)"}},
		{name: "override clear without policy", args: []string{"override", "clear"}, code: 2, stderrHas: []string{"name exactly one POLICY"}},
		{name: "override without action", args: []string{"override"}, code: 2, stderrHas: []string{"say set"}},
		{name: "override bad action", args: []string{"override", "drop", "web"}, code: 2, stderrHas: []string{`unknown action "drop"`}},

		{name: "events", args: []string{"events"}, stdoutHas: []string{
			"2026-11-22T04:01:03.123Z  health  health-checks/web-dc1  unhealthy: dial tcp 192.0.2.10:80: connection refused\n" +
				"2026-11-22T04:01:04.246Z  decision  traffic-policies/web  failover dc1 → dc2 after 3 failures\n" +
				"2026-11-22T04:01:05.369Z  audit  burst-toggles/dr  engaged by alice\n"}},
		{name: "events --since", args: []string{"events", "--since", "2"}, stdoutHas: []string{"audit  burst-toggles/dr"}},
		{name: "events --json", args: []string{"events", "--since=2", "--json"}, stdoutHas: []string{`{"seq":3,"time":"2026-11-22T04:01:05.369Z","type":"audit"`}},
		{name: "events bad flag", args: []string{"events", "--since", "-1"}, code: 2, stderrHas: []string{"usage: failoverd events"}},

		{name: "status without token", args: []string{"status"}, noToken: true, code: 1, stderrHas: []string{
			"failoverd status: failoverd requires a token: set FAILOVER_TOKEN or --token (the --dev server printed one at start-up)\n"}},
		{name: "status wrong token", args: []string{"status", "--token", "nope"}, code: 1, stderrHas: []string{"failoverd rejected the token"}},
		{name: "status unreachable", args: []string{"status", "--endpoint", deadEndpoint}, code: 1, stderrHas: []string{
			"cannot reach failoverd at " + deadEndpoint, `start it with "failoverd serve --dev"`}},
		{name: "status bad endpoint", args: []string{"status", "--endpoint", "127.0.0.1:8080"}, code: 1, stderrHas: []string{`failoverd status: --endpoint: invalid failoverd endpoint "127.0.0.1:8080"`, `did you mean "http://127.0.0.1:8080"`}},
		{name: "status, first node down", args: []string{"status", "--endpoint", deadEndpoint + ", " + f.srv.URL}, stdoutHas: []string{
			"failoverd 1.2.3 at " + f.srv.URL + ", site dc1"}},
		{name: "status, every node down", args: []string{"status", "--endpoint", deadEndpoint + "," + deadEndpoint2}, code: 1, stderrHas: []string{
			"cannot reach any of the 2 failoverd endpoints tried after 6 attempts (" + deadEndpoint + ": dial tcp", "(3 attempts); " + deadEndpoint2 + ": dial tcp"}},
		{name: "status bad endpoint list", args: []string{"status", "--endpoint", deadEndpoint + ",," + f.srv.URL}, code: 1, stderrHas: []string{
			"failoverd status: --endpoint: endpoint 2 of 3: it is empty: remove it, or the extra comma"}},
		{name: "status extra argument", args: []string{"status", "now"}, code: 2, stderrHas: []string{`unexpected argument "now"`}},
		{name: "status help", args: []string{"status", "-h"}, stdoutHas: []string{"usage: failoverd status [--json]", "-token"}},
		{name: "unknown command", args: []string{"reboot"}, code: 2, stderrHas: []string{`unknown operator command "reboot"`, "failoverd override clear POLICY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noToken {
				t.Setenv("FAILOVER_TOKEN", "")
			}
			code, stdout, stderr := runOp(context.Background(), tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdoutHas {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not contain %q:\n%s", s, stderr)
				}
			}
			if code == 1 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("a failure must be one line on stderr, got:\n%s", stderr)
			}
			if strings.Contains(stdout+stderr, opTestToken) {
				t.Error("the token was printed")
			}
		})
	}

	// What was sent, not just what was printed.
	var o api.Override
	if err := json.Unmarshal([]byte(f.body("PUT /v1/traffic-policies/web/override")), &o); err != nil {
		t.Fatal(err)
	}
	if o.Target != "dc2" || o.ExpiresAt.IsZero() {
		t.Errorf("override sent = %+v", o)
	}
	if got := f.body("PATCH /v1/burst-toggles/dr"); got != `{"engaged":false}` {
		t.Errorf("last burst PATCH body = %s", got)
	}
}

func TestOperatorEventsFollow(t *testing.T) {
	f := newOpFixture(t)
	setupOperator(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Interrupt (as Ctrl-C does) once the backlog after --since is printed.
	out := &cancelAfter{lines: 2, cancel: cancel}
	var errOut bytes.Buffer
	code := runOperator(ctx, "events", []string{"--follow", "--since", "1"}, out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut.String())
	}
	want := "2026-11-22T04:01:04.246Z  decision  traffic-policies/web  failover dc1 → dc2 after 3 failures\n" +
		"2026-11-22T04:01:05.369Z  audit  burst-toggles/dr  engaged by alice\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), want)
	}
}

// cancelAfter cancels a context once it has received n lines.
type cancelAfter struct {
	bytes.Buffer
	lines  int
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	n, err := c.Buffer.Write(p)
	if strings.Count(c.Buffer.String(), "\n") >= c.lines {
		c.cancel()
	}
	return n, err
}
