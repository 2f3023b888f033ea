package main

// End-to-end tests of a control plane of three failoverd nodes (sites dc1,
// cloud, arbiter) on a real three-member etcd: every node a child process
// with --store etcd, each talking to its own site's etcd member, so that
// stopping a member cuts its site off as a network partition would.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/launch"
)

// clusterLeaseTTL is the nodes' lease TTL in these tests: short, so that a
// killed leader is replaced within seconds.
const clusterLeaseTTL = 3 * time.Second

var clusterSites = []string{"dc1", "cloud", "arbiter"}

// testCluster is three failoverd nodes on a three-member etcd.
type testCluster struct {
	t     *testing.T
	etcd  *launch.EtcdCluster
	nodes []*launch.Failoverd // by site index
	apis  []*rawAPI
}

func startCluster(t *testing.T, extra ...string) *testCluster {
	t.Helper()
	needBins(t)
	bin := launch.EtcdForTest(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ec, err := launch.StartEtcdCluster(ctx, launch.EtcdOptions{Bin: bin, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, etcd: ec}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("etcd logs (tail):\n%s", lastLines(ec.Logs(), 40))
		}
		ec.Close()
	})
	for i := range clusterSites {
		c.nodes = append(c.nodes, nil)
		c.apis = append(c.apis, nil)
		c.start(i, extra...)
	}
	c.waitOneLeader(20 * time.Second)
	return c
}

// start (re)starts site i's failoverd.
func (c *testCluster) start(i int, extra ...string) {
	c.t.Helper()
	args := append([]string{"--store", "etcd", "--etcd-endpoints", c.etcd.Members[i].ClientURL, "--site", clusterSites[i],
		"--lease-ttl", clusterLeaseTTL.String()}, extra...)
	f := startFailoverdWith(c.t, launch.Options{DataDir: c.t.TempDir(), Args: args})
	c.nodes[i], c.apis[i] = f, newRawAPI(f)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cluster is node i's /v1/cluster.
func (c *testCluster) cluster(i int) (api.ClusterStatus, error) {
	var cs api.ClusterStatus
	resp, b, err := c.apis[i].do(http.MethodGet, "/v1/cluster", nil, nil)
	if err != nil {
		return cs, err
	}
	if resp.StatusCode != http.StatusOK {
		return cs, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return cs, jsonUnmarshal(b, &cs)
}

// leader is the index of the node that says it leads, among alive (nil:
// all); -1 when none or several do.
func (c *testCluster) leader(alive ...int) (int, string) {
	if alive == nil {
		alive = []int{0, 1, 2}
	}
	found, desc := -1, ""
	for _, i := range alive {
		cs, err := c.cluster(i)
		if err != nil {
			desc += fmt.Sprintf(" %s: %v;", clusterSites[i], err)
			continue
		}
		desc += fmt.Sprintf(" %s: %s in_contact=%v;", clusterSites[i], cs.Role, cs.Store.InContact)
		if cs.Role == api.RoleLeader {
			if found >= 0 {
				return -1, "two leaders:" + desc
			}
			found = i
		}
	}
	return found, desc
}

func (c *testCluster) waitOneLeader(within time.Duration, alive ...int) int {
	c.t.Helper()
	var l int
	eventually(c.t, within, "one leader", func() (bool, string) {
		var desc string
		l, desc = c.leader(alive...)
		return l >= 0, desc
	})
	return l
}

// others are the node indexes but i.
func others(i int) []int {
	var out []int
	for j := range clusterSites {
		if j != i {
			out = append(out, j)
		}
	}
	return out
}

// TestClusterWriteVisibleEverywhere: a write on any node is visible on the
// others within a second; every node agrees on the leader and sees three
// fresh members; the followers serve the leader's decision on DNS.
func TestClusterWriteVisibleEverywhere(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	lead := c.waitOneLeader(10 * time.Second)
	for i := range clusterSites {
		eventually(t, 10*time.Second, clusterSites[i]+" sees three fresh members and the leader", func() (bool, string) {
			cs, err := c.cluster(i)
			if err != nil {
				return false, err.Error()
			}
			fresh := 0
			for _, m := range cs.Members {
				if m.Fresh {
					fresh++
				}
			}
			return fresh == 3 && cs.Leader != nil && cs.Leader.Site == clusterSites[lead] && cs.Store.Kind == api.StoreEtcd,
				fmt.Sprintf("%+v", cs)
		})
	}
	dc1 := startBackend(t, "dc1")
	cloud := startBackend(t, "cloud")
	// Each write on another node; each visible everywhere within a second.
	writes := []struct {
		node int
		path string
		obj  any
		name string
	}{
		{0, "/v1/health-checks", sitesCheck("dc1-web", "dc1", dc1.Addr), "dc1-web"},
		{1, "/v1/health-checks", sitesCheck("cloud-web", "cloud", cloud.Addr), "cloud-web"},
		{2, "/v1/traffic-policies", twoSitePolicy("web", 1, []string{"dc1-web"}, []string{"cloud-web"}), "web"},
	}
	for _, w := range writes {
		c.apis[w.node].must(t, http.StatusCreated, http.MethodPost, w.path, w.obj, nil)
		written := time.Now()
		for _, j := range others(w.node) {
			eventually(t, time.Second, fmt.Sprintf("%s/%s visible on %s", w.path, w.name, clusterSites[j]), func() (bool, string) {
				resp, _, err := c.apis[j].do(http.MethodGet, w.path+"/"+w.name, nil, nil)
				if err != nil {
					return false, err.Error()
				}
				return resp.StatusCode == http.StatusOK, resp.Status
			})
		}
		t.Logf("%s/%s written on %s, visible on the others after %s", w.path, w.name, clusterSites[w.node], time.Since(written).Round(time.Millisecond))
	}
	waitHealthy(t, c.apis[lead], 15*time.Second, "dc1-web", "cloud-web")
	for i := range clusterSites {
		d := waitServing(t, c.apis[i], 5*time.Second, "web", "dc1")
		if got, _ := dnsA(t, c.nodes[i].DNSAddr, "web.failover.internal."); got != "192.0.2.10" {
			t.Errorf("%s DNS answers %q, want dc1's 192.0.2.10 (decision generation %d)", clusterSites[i], got, d.Generation)
		}
		// Every site votes, and every node sees every vote.
		eventually(t, 10*time.Second, clusterSites[i]+" sees the votes of three sites", func() (bool, string) {
			hs := c.apis[i].healthStatus(t, "dc1-web")
			healthy := 0
			for _, o := range hs.Sites {
				if o.State == api.StateHealthy {
					healthy++
				}
			}
			return healthy == 3, fmt.Sprintf("%+v", hs.Sites)
		})
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
