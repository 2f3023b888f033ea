package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// These tests run the client against several real HTTP servers on
// 127.0.0.1, one per "failoverd node": a closed port, a node answering 503
// (cut off from the etcd majority), a node that hangs, and fixture nodes.
// Two fixture nodes of one fixture share its state, as two failoverd
// nodes share one store: an Idempotency-Key recorded by one is replayed
// by the other.

// node is one server with a log of the requests it received.
type node struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []nodeRequest
}

type nodeRequest struct {
	method, path, key, lastEventID string
}

func newNode(t *testing.T, h http.Handler) *node {
	t.Helper()
	n := &node{}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.got = append(n.got, nodeRequest{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), r.Header.Get("Last-Event-ID")})
		n.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *node) URL() string { return n.srv.URL }

func (n *node) requests() []nodeRequest {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]nodeRequest(nil), n.got...)
}

// partitionDetail is what a failoverd node cut off from the etcd majority
// says to a write.
const partitionDetail = "this node lost contact with the etcd majority; retry on another node"

// partitioned answers every request 503, with retryAfter when set.
func partitioned(retryAfter string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeProblem(w, http.StatusServiceUnavailable, partitionDetail)
	})
}

// closedPort is a URL where nothing listens: the port was just free.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

// clusterClient is a fast-retrying client for endpoints, with the
// fixture's token.
func clusterClient(t *testing.T, endpoints []string, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Endpoints: endpoints, Token: fixtureToken, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, Timeout: 5 * time.Second}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// keysOf lists the Idempotency-Keys of a node's mutating requests.
func keysOf(reqs []nodeRequest) []string {
	var keys []string
	for _, r := range reqs {
		if r.method != http.MethodGet {
			keys = append(keys, r.key)
		}
	}
	return keys
}

// TestEndpointsInOrderThenSticky: a dead node and a partitioned one are
// skipped in order, with one key for all three nodes; the node that
// answered is asked first from then on.
func TestEndpointsInOrderThenSticky(t *testing.T) {
	f := newFixture(t)
	dead := closedPort(t)
	cut := newNode(t, partitioned(""))
	live := newNode(t, f)
	sink := &logSink{}
	c := clusterClient(t, []string{dead, cut.URL(), live.URL()}, func(cfg *Config) { cfg.Logger = sink.log })
	ctx := context.Background()

	got, err := Create(ctx, c, api.KindHealthCheck, webCheck)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 {
		t.Errorf("created version %d, want 1", got.Version)
	}
	cutKeys, liveKeys := keysOf(cut.requests()), keysOf(live.requests())
	if len(cutKeys) != 1 || len(liveKeys) != 1 || cutKeys[0] == "" || cutKeys[0] != liveKeys[0] {
		t.Errorf("Idempotency-Keys: partitioned node %q, live node %q; want the same key once on each", cutKeys, liveKeys)
	}
	if applied, _, _ := f.stats(); applied != 1 {
		t.Errorf("applied %d times, want once", applied)
	}
	if c.Endpoint() != live.URL() {
		t.Errorf("Endpoint() = %s after the call, want the node that answered, %s", c.Endpoint(), live.URL())
	}
	for _, s := range []string{"next_endpoint:" + cut.URL(), "next_endpoint:" + live.URL(), "connection refused"} {
		if !strings.Contains(sink.text(), s) {
			t.Errorf("logs lack %q:\n%s", s, sink.text())
		}
	}

	// Sticky: the next calls go straight to the live node.
	for range 3 {
		if _, err := Get[api.HealthCheck](ctx, c, api.KindHealthCheck, "web"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(cut.requests()); n != 1 {
		t.Errorf("the partitioned node got %d requests, want only the first call's", n)
	}
	if n := len(live.requests()); n != 4 {
		t.Errorf("the live node got %d requests, want 4", n)
	}
}

// TestRetryOnAnotherNodeReplays: node A applies a write and the answer is
// lost; the client moves on to node B with the same key, and B (sharing
// A's store) replays the outcome instead of applying it twice.
func TestRetryOnAnotherNodeReplays(t *testing.T) {
	f := newFixture(t)
	a, b := newNode(t, f), newNode(t, f)
	sink := &logSink{}
	c := clusterClient(t, []string{a.URL(), b.URL()}, func(cfg *Config) { cfg.Logger = sink.log })
	f.push(step{afterApply: true})

	got, err := Create(context.Background(), c, api.KindHealthCheck, webCheck)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 {
		t.Errorf("version %d, want 1", got.Version)
	}
	aKeys, bKeys := keysOf(a.requests()), keysOf(b.requests())
	if len(aKeys) != 1 || len(bKeys) != 1 || aKeys[0] != bKeys[0] {
		t.Fatalf("keys: node A %q, node B %q; want the same key once on each", aKeys, bKeys)
	}
	if applied, _, _ := f.stats(); applied != 1 {
		t.Errorf("applied %d times, want once", applied)
	}
	if !strings.Contains(sink.text(), "idempotent_replayed:true") {
		t.Errorf("node B did not replay:\n%s", sink.text())
	}
	if c.Endpoint() != b.URL() {
		t.Errorf("Endpoint() = %s, want node B", c.Endpoint())
	}
}

// TestAnswerCutShortMovesOn: node A dies while sending its answer (the
// headers arrived, the body did not); the call moves on to node B with the
// same key rather than report an error for a write that may have happened.
func TestAnswerCutShortMovesOn(t *testing.T) {
	f := newFixture(t)
	a := newNode(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"name":`))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	b := newNode(t, f)
	c := clusterClient(t, []string{a.URL(), b.URL()}, func(cfg *Config) { cfg.MaxRetries = -1 })
	if _, err := Create(context.Background(), c, api.KindHealthCheck, webCheck); err != nil {
		t.Fatal(err)
	}
	ak, bk := keysOf(a.requests()), keysOf(b.requests())
	if len(ak) != 1 || len(bk) != 1 || ak[0] != bk[0] {
		t.Errorf("keys: A %q, B %q; want the same key once on each", ak, bk)
	}
	if c.Endpoint() != b.URL() {
		t.Errorf("Endpoint() = %s, want B: A cut its answer short", c.Endpoint())
	}
}

// TestMovingOnIsImmediateRoundsWait: a 503's Retry-After holds for that
// node only, so the next node is asked at once; once every node has
// failed, the next round waits as a single-node retry would.
func TestMovingOnIsImmediateRoundsWait(t *testing.T) {
	f := newFixture(t)
	slow := newNode(t, partitioned("30"))
	live := newNode(t, f)
	c := clusterClient(t, []string{slow.URL(), live.URL()})
	start := time.Now()
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: the second node was not asked until the first one's Retry-After", d)
	}

	a, b := newNode(t, partitioned("1")), newNode(t, partitioned("1"))
	c = clusterClient(t, []string{a.URL(), b.URL()}, func(cfg *Config) { cfg.MaxRetries = 1 })
	start = time.Now()
	_, err := c.Status(context.Background())
	d := time.Since(start)
	var ce *Error
	if !errors.As(err, &ce) || ce.Status != http.StatusServiceUnavailable || ce.Attempts != 4 {
		t.Fatalf("err = %v, want the last 503 after 2 rounds of 2 nodes", err)
	}
	if d < time.Second || d > 3*time.Second {
		t.Errorf("two rounds took %s, want about the 1 s Retry-After between them", d)
	}
	if na, nb := len(a.requests()), len(b.requests()); na != 2 || nb != 2 {
		t.Errorf("requests: A %d, B %d; want 2 each", na, nb)
	}
	want := []Tried{
		{Endpoint: a.URL(), Attempts: 2, Said: "HTTP 503 Service Unavailable: " + partitionDetail},
		{Endpoint: b.URL(), Attempts: 2, Said: "HTTP 503 Service Unavailable: " + partitionDetail},
	}
	if !reflect.DeepEqual(ce.Tried, want) {
		t.Errorf("Tried = %+v, want %+v", ce.Tried, want)
	}
	for _, s := range []string{
		"Service Unavailable (HTTP 503): " + partitionDetail + " (after 4 attempts)",
		"endpoints tried: " + a.URL() + ": HTTP 503 Service Unavailable: " + partitionDetail + " (2 attempts); " + b.URL() + ":",
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
}

// TestEveryEndpointTriedWithoutRetries: max_retries = 0 still asks every
// node once (moving on is not a retry of the same thing), and an error
// names every node and what it said.
func TestEveryEndpointTriedWithoutRetries(t *testing.T) {
	f := newFixture(t)
	dead1, dead2 := closedPort(t), closedPort(t)
	noRetries := func(cfg *Config) { cfg.MaxRetries = -1 }

	c := clusterClient(t, []string{dead1, newNode(t, f).URL()}, noRetries)
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatalf("with the second node up: %v", err)
	}

	c = clusterClient(t, []string{dead1, dead2}, noRetries)
	_, err := c.Status(context.Background())
	var ce *Error
	if !errors.As(err, &ce) || ce.Status != 0 || ce.Attempts != 2 || len(ce.Tried) != 2 {
		t.Fatalf("err = %#v, want a transport error after one attempt on each node", err)
	}
	msg := err.Error()
	for _, s := range []string{
		"cannot reach any of the 2 failoverd endpoints tried after 2 attempts (",
		dead1 + ": dial tcp ", dead2 + ": dial tcp ", "connection refused",
		"fix FAILOVER_ENDPOINT / the provider's endpoints",
	} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
	if strings.Contains(msg, "Get \"") {
		t.Errorf("error %q repeats the request line", msg)
	}
}

// TestFinalAnswerAfterMovingOn: an answer that is not a reason to move on
// (404) ends the call; its error still says what the dead node said.
func TestFinalAnswerAfterMovingOn(t *testing.T) {
	f := newFixture(t)
	dead := closedPort(t)
	live := newNode(t, f)
	c := clusterClient(t, []string{dead, live.URL()})
	_, err := Get[api.HealthCheck](context.Background(), c, api.KindHealthCheck, "missing")
	if !IsNotFound(err) {
		t.Fatalf("err = %v, want not found", err)
	}
	for _, s := range []string{`health-checks "missing" does not exist`, "endpoints tried: " + dead + ": dial tcp", live.URL() + ": HTTP 404 Not Found"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if c.Endpoint() != live.URL() {
		t.Errorf("Endpoint() = %s: a node that answered 404 is alive and should be asked first", c.Endpoint())
	}
}

// TestTooManyRequestsStaysOnNode: a 429 is the node's own rate limit;
// asking the other nodes instead would defeat it.
func TestTooManyRequestsStaysOnNode(t *testing.T) {
	f := newFixture(t)
	a, b := newNode(t, f), newNode(t, f)
	c := clusterClient(t, []string{a.URL(), b.URL()})
	f.push(step{status: http.StatusTooManyRequests, retryAfter: "0"})
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	if na, nb := len(a.requests()), len(b.requests()); na != 2 || nb != 0 {
		t.Errorf("requests: A %d, B %d; want both on A", na, nb)
	}
}

// TestAttemptTimeoutMovesOn: a node that accepts but does not answer in
// time is given up for the next one.
func TestAttemptTimeoutMovesOn(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	hung := newNode(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	live := newNode(t, f)
	c := clusterClient(t, []string{hung.URL(), live.URL()}, func(cfg *Config) { cfg.Timeout = 200 * time.Millisecond })
	if _, err := c.PatchBurst(context.Background(), "missing", true); !IsNotFound(err) {
		t.Fatalf("err = %v, want the live node's 404", err)
	}
	hk, lk := keysOf(hung.requests()), keysOf(live.requests())
	if len(hk) != 1 || len(lk) != 1 || hk[0] != lk[0] {
		t.Errorf("keys: hung node %q, live node %q; want the same key on both", hk, lk)
	}
}

// TestUntrustedNodeIsDropped: a node whose certificate is not trusted can
// never answer this client, so it is asked once, not every round.
func TestUntrustedNodeIsDropped(t *testing.T) {
	tlsNode := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsNode.Close)
	dead := closedPort(t)
	c := clusterClient(t, []string{tlsNode.URL, dead}, func(cfg *Config) { cfg.MaxRetries = 3 })
	_, err := c.Status(context.Background())
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Tried) != 2 {
		t.Fatalf("err = %#v, want a transport error naming both nodes", err)
	}
	if ce.Tried[0].Attempts != 1 || ce.Tried[1].Attempts != 4 {
		t.Errorf("Tried = %+v, want the untrusted node once and the dead one every round", ce.Tried)
	}
	if !strings.Contains(ce.Tried[0].Said, "certificate") {
		t.Errorf("the untrusted node said %q, want the certificate error", ce.Tried[0].Said)
	}
}

// TestCancelWhileMovingOn: ctx ends the call during a Retry-After, and the
// error still names the nodes tried.
func TestCancelWhileMovingOn(t *testing.T) {
	a, b := newNode(t, partitioned("30")), newNode(t, partitioned("30"))
	c := clusterClient(t, []string{a.URL(), b.URL()})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Create(ctx, c, api.KindHealthCheck, webCheck)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %s to stop the call", d)
	}
	if na, nb := len(a.requests()), len(b.requests()); na != 1 || nb != 1 {
		t.Errorf("requests: A %d, B %d; want one each before the wait", na, nb)
	}
	if !strings.Contains(err.Error(), "endpoints tried: "+a.URL()) {
		t.Errorf("error %q does not name the nodes tried", err)
	}
	if c.Endpoint() != a.URL() {
		t.Errorf("Endpoint() = %s: a call where no node answered must not move the preference", c.Endpoint())
	}
}

// TestWriteWithoutKeyIsNeverRetried guards the rule every retry rests on,
// though send gives every write a key today.
func TestWriteWithoutKeyIsNeverRetried(t *testing.T) {
	c := clusterClient(t, []string{"http://127.0.0.1:1", "http://127.0.0.1:2"})
	resp := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Body: http.NoBody}
	tests := []struct {
		method, key string
		retry       bool
	}{
		{http.MethodPost, "", false},
		{http.MethodDelete, "", false},
		{http.MethodPost, "k", true},
		{http.MethodGet, "", true},
	}
	for _, tc := range tests {
		r := c.newRotation(request{method: tc.method, path: "/v1/x"}, tc.key)
		if retry, _ := r.check(context.Background(), resp, nil); retry != tc.retry {
			t.Errorf("%s with key %q: retry = %v, want %v", tc.method, tc.key, retry, tc.retry)
		}
	}
}

// TestFollowEventsMovesToNextNode: a stream that node A drops reopens on
// node B from the last delivered event, and nothing is delivered twice.
func TestFollowEventsMovesToNextNode(t *testing.T) {
	f := newFixture(t)
	var a *node
	f.sse = func(w http.ResponseWriter, r *http.Request, conn int) {
		if conn == 1 {
			writeSSE(w, testEvent(1), testEvent(2))
			panic(http.ErrAbortHandler) // node A goes away mid-stream
		}
		writeSSE(w, testEvent(2), testEvent(3), testEvent(4)) // 2 again: must be skipped
		keepOpen(w, r)
	}
	a = newNode(t, f)
	b := newNode(t, f)
	c := clusterClient(t, []string{a.URL(), b.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []uint64
	err := c.FollowEvents(ctx, 0, func(e api.Event) error {
		got = append(got, e.Seq)
		if e.Seq == 4 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		t.Fatalf("FollowEvents = %v, want fn's error", err)
	}
	if want := []uint64{1, 2, 3, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	ar, br := a.requests(), b.requests()
	if len(ar) != 1 || len(br) != 1 || br[0].lastEventID != "2" {
		t.Errorf("streams: A %+v, B %+v; want one each, B's resuming after event 2", ar, br)
	}
}

// TestFollowEventsSkipsDeadNode: the first connection moves on too.
func TestFollowEventsSkipsDeadNode(t *testing.T) {
	f := newFixture(t)
	f.sse = func(w http.ResponseWriter, r *http.Request, conn int) {
		writeSSE(w, testEvent(7))
		keepOpen(w, r)
	}
	live := newNode(t, f)
	c := clusterClient(t, []string{closedPort(t), live.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []uint64
	err := c.FollowEvents(ctx, 6, func(e api.Event) error {
		got = append(got, e.Seq)
		return errEnough
	})
	if !errors.Is(err, errEnough) || !reflect.DeepEqual(got, []uint64{7}) {
		t.Fatalf("FollowEvents = %v, delivered %v; want event 7 from the live node", err, got)
	}
	if r := live.requests(); len(r) != 1 || r[0].lastEventID != "6" {
		t.Errorf("live node got %+v, want one stream resuming after 6", r)
	}
}
