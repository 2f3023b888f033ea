package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

// benchBurst is P5: keep-alive GETs of /burst/{name} from 32 connections
// for 5 s, and how soon an operator's PATCH is visible to a poller.
func benchBurst(ctx context.Context, e env) []row {
	fd, err := e.start(ctx, "p5")
	if err != nil {
		fatal(err)
	}
	defer fd.Stop()
	c, err := client.New(client.Config{Endpoint: fd.URL, Token: e.token})
	if err != nil {
		fatal(err)
	}
	if _, err := client.Create(ctx, c, api.KindBurstToggle, api.BurstToggle{Name: "bf", Site: "dr"}); err != nil {
		fatal(err)
	}
	url := fd.URL + "/burst/bf"
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	hc := &http.Client{Transport: tr}
	var n atomic.Int64
	stopAt := time.Now().Add(5 * time.Second)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stopAt) {
				resp, err := hc.Get(url)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	rps := float64(n.Load()) / 5

	// Visibility: PATCH, then poll until the answer flips; 20 flips.
	var vis []time.Duration
	for i := 0; i < 20; i++ {
		engaged := i%2 == 0
		want := http.StatusServiceUnavailable
		if engaged {
			want = http.StatusOK
		}
		t0 := time.Now()
		if _, err := c.PatchBurst(ctx, "bf", engaged); err != nil {
			fatal(err)
		}
		for {
			resp, err := hc.Get(url)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == want {
					break
				}
			}
		}
		vis = append(vis, time.Since(t0))
	}
	slices.Sort(vis)
	worst := vis[len(vis)-1]
	fmt.Printf("P5 /burst: %.0f req/s keep-alive (client and server share the 2 cores); PATCH→visible worst %s\n", rps, worst)
	return []row{{
		id:      "P5",
		measure: "/burst/{name} keep-alive, 32 connections; PATCH → visible",
		result:  fmt.Sprintf("%.0f req/s; visible ≤ %s (PATCH round trip included)", rps, worst.Round(time.Microsecond)),
		goal:    "≥ 20,000 req/s; ≤ 50 ms",
		verdict: verdict(rps >= 20000 && worst <= 50*time.Millisecond),
	}}
}
