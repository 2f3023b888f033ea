package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/webhook"
)

var hookSecret = []byte("0123456789abcdef0123456789abcdef-e2e")

// receiver is a real HTTP webhook receiver on a fixed loopback port that
// can go down and come back on the same port. It verifies every
// delivery's signature as a receiver should (webhook.Verify).
type receiver struct {
	t    *testing.T
	addr string
	mu   sync.Mutex
	srv  *http.Server
	// hold delays every answer (a slow receiver); arrived is told of each
	// request before the wait.
	hold    time.Duration
	arrived chan uint64
	got     []delivery
}

type delivery struct {
	id     uint64
	typ    string
	body   []byte
	sigErr error
	at     time.Time
}

func startReceiver(t *testing.T) *receiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, addr: l.Addr().String(), arrived: make(chan uint64, 1000)}
	r.serve(l)
	t.Cleanup(r.down)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/hook" }

func (r *receiver) serve(l net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 5 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(l)
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id, _ := strconv.ParseUint(req.Header.Get(webhook.EventIDHeader), 10, 64)
	d := delivery{id: id, typ: req.Header.Get(webhook.EventTypeHeader), body: body, at: time.Now(),
		sigErr: webhook.Verify(hookSecret, req.Header.Get(webhook.SignatureHeader), body, webhook.DefaultTolerance, time.Now())}
	r.mu.Lock()
	hold := r.hold
	r.got = append(r.got, d)
	r.mu.Unlock()
	r.arrived <- id
	time.Sleep(hold)
	w.WriteHeader(http.StatusNoContent)
}

// down closes the listener and every connection.
func (r *receiver) down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same port.
func (r *receiver) up() {
	r.t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("receiver: listen again on %s: %v", r.addr, err)
	}
	r.serve(l)
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// firstOrder is the ids in the order they first arrived.
func firstOrder(ds []delivery) []uint64 {
	seen := map[uint64]bool{}
	var out []uint64
	for _, d := range ds {
		if !seen[d.id] {
			seen[d.id] = true
			out = append(out, d.id)
		}
	}
	return out
}

func writeSecrets(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "webhook.secrets")
	if err := os.WriteFile(p, []byte("ops "+string(hookSecret)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// flip engages or releases toggle bt: a burst event and an audit event.
func flip(t *testing.T, a *rawAPI, on bool) {
	t.Helper()
	a.must(t, http.StatusOK, http.MethodPatch, "/v1/burst-toggles/bt", map[string]bool{"engaged": on}, nil)
}

// wantEvents are the seqs of the log's events the webhook subscribes to,
// after seq after.
func wantEvents(t *testing.T, a *rawAPI, after uint64, types ...string) []uint64 {
	t.Helper()
	var out []uint64
	for _, ev := range a.events(t, after) {
		if slices.Contains(types, ev.Type) {
			out = append(out, ev.Seq)
		}
	}
	return out
}

func checkDeliveries(t *testing.T, r *receiver, want []uint64) {
	t.Helper()
	ds := r.deliveries()
	for _, d := range ds {
		if d.sigErr != nil {
			t.Errorf("event %d: signature does not verify: %v", d.id, d.sigErr)
		}
		var ev api.Event
		if err := json.Unmarshal(d.body, &ev); err != nil || ev.Seq != d.id {
			t.Errorf("event %d: body %s does not carry its id (%v)", d.id, d.body, err)
		}
	}
	got := firstOrder(ds)
	if !slices.Equal(got, want) {
		t.Fatalf("receiver got events %v (first arrivals, in order), want exactly %v in order", got, want)
	}
}

// waitCursor waits until the leader's dispatcher has taken webhook
// oncall's starting cursor: a webhook receives the events appended after
// that (within a second of its creation), not the log's history.
func waitCursor(t *testing.T, a *rawAPI, after uint64) {
	t.Helper()
	eventually(t, 10*time.Second, "the webhook's starting cursor", func() (bool, string) {
		var st api.WebhookStatus
		a.must(t, http.StatusOK, http.MethodGet, "/v1/webhooks/oncall/status", nil, &st)
		return st.DeliveredSeq > after, fmt.Sprintf("%+v", st)
	})
}

// TestWebhookReceiverDownThenBack: the receiver is down for 20 s while
// events happen; once it is back, every event arrives, in order, signed.
func TestWebhookReceiverDownThenBack(t *testing.T) {
	needBins(t)
	t.Parallel()
	rcv := startReceiver(t)
	f := startFailoverd(t, filepath.Join(t.TempDir(), "data"), "--webhook-secrets", writeSecrets(t))
	a := newRawAPI(f)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "bt", Site: "dc1"}, nil)
	start := a.lastSeq(t)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/webhooks",
		api.Webhook{Name: "oncall", URL: rcv.url(), Events: []string{api.EventBurst, api.EventAudit}, Secret: "ops"}, nil)
	waitCursor(t, a, start)
	start = a.lastSeq(t)
	flip(t, a, true)
	eventually(t, 10*time.Second, "first deliveries", func() (bool, string) {
		return len(rcv.deliveries()) >= 2, fmt.Sprint(len(rcv.deliveries()))
	})

	rcv.down()
	downAt := time.Now()
	for i := 0; i < 6; i++ {
		flip(t, a, i%2 == 1)
		time.Sleep(500 * time.Millisecond)
	}
	var st api.WebhookStatus
	eventually(t, 10*time.Second, "the status to show the failing receiver", func() (bool, string) {
		a.must(t, http.StatusOK, http.MethodGet, "/v1/webhooks/oncall/status", nil, &st)
		return st.Attempts > 0 && st.LastError != "" && st.PendingEvents > 0, fmt.Sprintf("%+v", st)
	})
	time.Sleep(time.Until(downAt.Add(20 * time.Second)))
	rcv.up()
	backAt := time.Now()

	var want []uint64
	eventually(t, 5*time.Second, "7 flips' events in the log (a burst and an audit event each)", func() (bool, string) {
		want = wantEvents(t, a, start, api.EventBurst, api.EventAudit)
		return len(want) == 14, fmt.Sprint(want)
	})
	eventually(t, 30*time.Second, "every event delivered after the receiver is back", func() (bool, string) {
		got := firstOrder(rcv.deliveries())
		return len(got) >= len(want), fmt.Sprint(got)
	})
	checkDeliveries(t, rcv, want)
	if code, out, _ := runBin(t, []string{"FAILOVER_ENDPOINT=" + f.URL, "FAILOVER_TOKEN=" + e2eToken}, "status"); code != 0 || !strings.Contains(out, "WEBHOOKS") || !strings.Contains(out, "oncall") {
		t.Errorf("failoverd status (exit %d) does not show the webhook:\n%s", code, out)
	}
	t.Logf("receiver back: %d events delivered in order, the last %s after it came back", len(want), time.Since(backAt).Round(time.Millisecond))
	eventually(t, 5*time.Second, "the status to be caught up", func() (bool, string) {
		st = api.WebhookStatus{} // decoding into a used value keeps fields the JSON omits
		a.must(t, http.StatusOK, http.MethodGet, "/v1/webhooks/oncall/status", nil, &st)
		return st.Attempts == 0 && st.LastError == "" && st.LastSuccess != nil, fmt.Sprintf("%+v", st)
	})
	// The webhook alerts and dashboard panels use metrics this failoverd
	// exports.
	checkAlertMetrics(t, a, "failover_webhook_")
}

// TestWebhookSIGKILLMidDelivery: failoverd is SIGKILLed while a delivery
// is in flight; after a restart nothing is lost, and the event that was
// in flight is delivered again with the same id and body.
func TestWebhookSIGKILLMidDelivery(t *testing.T) {
	needBins(t)
	t.Parallel()
	rcv := startReceiver(t)
	rcv.hold = 3 * time.Second
	dir := filepath.Join(t.TempDir(), "data")
	secrets := writeSecrets(t)
	f := startFailoverd(t, dir, "--webhook-secrets", secrets)
	a := newRawAPI(f)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: "bt", Site: "dc1"}, nil)
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/webhooks",
		api.Webhook{Name: "oncall", URL: rcv.url(), Events: []string{api.EventBurst}, Secret: "ops"}, nil)
	waitCursor(t, a, 0)
	start := a.lastSeq(t)
	for i := 0; i < 4; i++ {
		flip(t, a, i%2 == 0)
	}
	var want []uint64
	eventually(t, 5*time.Second, "4 burst events in the log", func() (bool, string) {
		want = wantEvents(t, a, start, api.EventBurst)
		return len(want) == 4, fmt.Sprint(want)
	})
	var inFlight uint64
	select {
	case inFlight = <-rcv.arrived:
	case <-time.After(15 * time.Second):
		t.Fatal("no delivery arrived")
	}
	f.Kill()
	rcv.mu.Lock()
	rcv.hold = 0
	rcv.mu.Unlock()

	f2 := startFailoverd(t, dir, "--webhook-secrets", secrets)
	_ = f2
	eventually(t, 30*time.Second, "every event delivered after the restart", func() (bool, string) {
		got := firstOrder(rcv.deliveries())
		return len(got) >= len(want), fmt.Sprint(got)
	})
	checkDeliveries(t, rcv, want)
	var copies []delivery
	for _, d := range rcv.deliveries() {
		if d.id == inFlight {
			copies = append(copies, d)
		}
	}
	if len(copies) < 2 {
		t.Fatalf("event %d was in flight at the SIGKILL but arrived %d time(s), want it redelivered", inFlight, len(copies))
	}
	if !bytes.Equal(copies[0].body, copies[1].body) {
		t.Fatalf("the redelivery of event %d differs:\n%s\n%s", inFlight, copies[0].body, copies[1].body)
	}
}
