package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

const (
	benchZone      = "bench.test."
	benchKeyName   = "failover-update"
	benchKeySecret = "YmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtMTI="
	benchHookKey   = "bench-webhook-secret-0123456789abcdef"
)

// startBenchKnot starts a knotd for benchZone, or returns nil and a row
// saying why the benchmark was skipped.
func startBenchKnot(ctx context.Context, e env, id string) (*launch.Knot, []row) {
	bin, err := launch.FindKnot()
	if err != nil {
		return nil, []row{{id, "publication to knot", "skipped: " + err.Error(), "", ""}}
	}
	dir := filepath.Join(e.dir, id+"-knot")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fatal(err)
	}
	k, err := launch.StartKnot(ctx, launch.KnotOptions{Bin: bin, Dir: dir, Zone: benchZone, KeyName: benchKeyName, KeySecret: benchKeySecret})
	if err != nil {
		fatal(err)
	}
	return k, nil
}

func (e env) startPublishing(ctx context.Context, name string) (*launch.Failoverd, *client.Client) {
	keys := filepath.Join(e.dir, name+".tsig")
	secrets := filepath.Join(e.dir, name+".secrets")
	os.WriteFile(keys, []byte(benchKeyName+" hmac-sha256 "+benchKeySecret+"\n"), 0o600)
	os.WriteFile(secrets, []byte("bench "+benchHookKey+"\n"), 0o600)
	fd, err := e.start(ctx, name, "--tsig-keys", keys, "--webhook-secrets", secrets)
	if err != nil {
		fatal(err)
	}
	c, err := client.New(client.Config{Endpoint: fd.URL, Token: e.token})
	if err != nil {
		fatal(err)
	}
	return fd, c
}

func publishedPolicy(name, server string, burst bool) api.TrafficPolicy {
	p := api.TrafficPolicy{
		Name: name, Mode: api.ModeActivePassive, WhenAllDown: api.AllDownFailOpen,
		Targets: map[string]api.PolicyTarget{
			"dc1": {Site: "dc1", Addresses: []string{"192.0.2.10"}, Priority: 1},
			"dc2": {Site: "dc2", Addresses: []string{"198.51.100.10"}, Priority: 2},
		},
		Publish: &api.Publish{RFC2136: &api.PublishRFC2136{Server: server, Zone: benchZone, RecordName: name + "." + benchZone, TSIGKey: benchKeyName}},
	}
	if burst {
		p.BurstToggle = "bf"
		p.Targets["dr"] = api.PolicyTarget{Site: "dr", Addresses: []string{"203.0.113.10"}, BurstOnly: true}
	}
	return p
}

// knotA is the sorted A answer of name at knot.
func knotA(c *dns.Client, addr, name string) string {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return "error"
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// benchPublishLatency is P9: a decision (an operator override, which
// decides at once) → knot answers the new record, by polling knot.
func benchPublishLatency(ctx context.Context, e env, runs int) []row {
	k, skip := startBenchKnot(ctx, e, "p9")
	if k == nil {
		return skip
	}
	defer k.Close()
	fd, c := e.startPublishing(ctx, "p9")
	defer fd.Stop()
	if _, err := client.Create(ctx, c, api.KindTrafficPolicy, publishedPolicy("p9", k.Addr(), false)); err != nil {
		fatal(err)
	}
	dc := &dns.Client{Net: "udp", Timeout: time.Second}
	wait := func(want string) time.Time {
		deadline := time.Now().Add(30 * time.Second)
		for knotA(dc, k.Addr(), "p9."+benchZone) != want {
			if time.Now().After(deadline) {
				fatal(fmt.Errorf("P9: knot does not answer %s after 30s", want))
			}
			time.Sleep(2 * time.Millisecond)
		}
		return time.Now()
	}
	wait("192.0.2.10")
	var lat []time.Duration
	for i := 0; i < runs && ctx.Err() == nil; i++ {
		var d api.Decision
		var err error
		want := "198.51.100.10"
		if i%2 == 0 {
			d, err = c.SetOverride(ctx, "p9", api.Override{Target: "dc2", ExpiresAt: time.Now().Add(time.Hour)})
		} else {
			d, err = c.ClearOverride(ctx, "p9")
			want = "192.0.2.10"
		}
		if err != nil {
			fatal(err)
		}
		lat = append(lat, wait(want).Sub(d.Since))
	}
	slices.Sort(lat)
	p99 := pct(lat, 99)
	return []row{{"P9", fmt.Sprintf("decision → record answered by knot (RFC 2136 + TSIG), %d decisions", len(lat)),
		fmt.Sprintf("median %s, p99 %s, worst %s", pct(lat, 50).Round(time.Microsecond), p99.Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond)),
		"p99 ≤ 1 s", verdict(p99 <= time.Second)}}
}

// benchWebhookLatency is P10: an event (a burst toggle flip) → the
// webhook receiver has it, measured from the event's own time.
func benchWebhookLatency(ctx context.Context, e env, runs int) []row {
	fd, c := e.startPublishing(ctx, "p10")
	defer fd.Stop()
	var mu sync.Mutex
	var lat []time.Duration
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		b, _ := io.ReadAll(r.Body)
		var ev api.Event
		if json.Unmarshal(b, &ev) == nil {
			mu.Lock()
			lat = append(lat, at.Sub(ev.Time))
			mu.Unlock()
		}
	})}
	go srv.Serve(l)
	defer srv.Close()
	if _, err := client.Create(ctx, c, api.KindBurstToggle, api.BurstToggle{Name: "bf", Site: "dr"}); err != nil {
		fatal(err)
	}
	if _, err := client.Create(ctx, c, api.KindWebhook, api.Webhook{Name: "bench", URL: "http://" + l.Addr().String() + "/", Events: []string{api.EventBurst}, Secret: "bench"}); err != nil {
		fatal(err)
	}
	time.Sleep(2 * time.Second) // the dispatcher takes its starting cursor
	for i := 0; i < runs && ctx.Err() == nil; i++ {
		if _, err := c.PatchBurst(ctx, "bf", i%2 == 0); err != nil {
			fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n >= runs || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	if len(lat) == 0 {
		return []row{{"P10", "event → webhook received", "nothing received", "p99 ≤ 500 ms", "MISSED"}}
	}
	p99 := pct(lat, 99)
	return []row{{"P10", fmt.Sprintf("event → webhook received (signed POST, acknowledged), %d of %d events", len(lat), runs),
		fmt.Sprintf("median %s, p99 %s, worst %s", pct(lat, 50).Round(time.Microsecond), p99.Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond)),
		"p99 ≤ 500 ms", verdict(p99 <= 500*time.Millisecond && len(lat) == runs)}}
}

// benchPublishFlood is the outbox throughput: n policies published to
// knot flip at once (their burst toggle engages, adding a target to every
// record); the time until knot answers every new record.
func benchPublishFlood(ctx context.Context, e env, n int) []row {
	k, skip := startBenchKnot(ctx, e, "p9b")
	if k == nil {
		return skip
	}
	defer k.Close()
	fd, c := e.startPublishing(ctx, "p9b")
	defer fd.Stop()
	if _, err := client.Create(ctx, c, api.KindBurstToggle, api.BurstToggle{Name: "bf", Site: "dr"}); err != nil {
		fatal(err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("f%04d", i)
		if _, err := client.Create(ctx, c, api.KindTrafficPolicy, publishedPolicy(names[i], k.Addr(), true)); err != nil {
			fatal(err)
		}
	}
	dc := &dns.Client{Net: "udp", Timeout: time.Second}
	waitAll := func(want string) {
		deadline := time.Now().Add(5 * time.Minute)
		for _, nm := range names {
			for knotA(dc, k.Addr(), nm+"."+benchZone) != want {
				if time.Now().After(deadline) {
					fatal(fmt.Errorf("flood: %s not %s after 5 minutes", nm, want))
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	waitAll("192.0.2.10")
	t0 := time.Now()
	if _, err := c.PatchBurst(ctx, "bf", true); err != nil {
		fatal(err)
	}
	waitAll("192.0.2.10,203.0.113.10")
	took := time.Since(t0)
	return []row{{"P9b", fmt.Sprintf("%d published policies flip at once (burst engaged) → knot answers all new records", n),
		fmt.Sprintf("all %d published in %s (%.0f records/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds()), "all published", "met"}}
}
