package launch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

// DefaultSites are the sites of a three-site control plane: the on-prem
// data center, the cloud region, and the third site that breaks ties (the
// one holding the database arbiter).
var DefaultSites = []string{"dc1", "cloud", "arbiter"}

// ClusterOptions for StartCluster.
type ClusterOptions struct {
	Bin     string // path to the failoverd binary
	EtcdBin string // path to the etcd binary (FindEtcd)
	// Dir holds the etcd members' data (Dir/etcd) and the nodes' (Dir/<site>).
	Dir   string
	Token string // the dev admin token of every node
	// Sites, one failoverd and one etcd member each; default DefaultSites.
	Sites []string
	// LeaseTTL is --lease-ttl of every node (default: failoverd's, 5s).
	LeaseTTL time.Duration
	Args     []string // extra serve flags for every node
	// Log receives every log line of every node and member, with its site.
	Log func(site, line string)
}

func (o ClusterOptions) sites() []string {
	if len(o.Sites) == 0 {
		return DefaultSites
	}
	return o.Sites
}

// Cluster is a control plane of failoverd nodes on loopback, one per site,
// each with its own etcd member (site i's member and its probes use
// 127.0.0.(i+1), so a stand-in backend can cut one site's path with
// Backend.Refuse(cluster.SourceAddr(i))).
type Cluster struct {
	Etcd  *EtcdCluster
	Nodes []*Failoverd // by site index; a killed node stays until RestartSite
	Sites []string
	o     ClusterOptions
}

// StartCluster starts the etcd members, then one failoverd per site talking
// to its own site's member, and returns once every node is ready. On error
// nothing is left running.
func StartCluster(ctx context.Context, o ClusterOptions) (c *Cluster, err error) {
	if o.Bin == "" || o.EtcdBin == "" || o.Dir == "" {
		return nil, errors.New("launch: ClusterOptions.Bin, EtcdBin and Dir are required")
	}
	sites := o.sites()
	ec, err := StartEtcdCluster(ctx, EtcdOptions{Bin: o.EtcdBin, Dir: filepath.Join(o.Dir, "etcd"), Members: len(sites),
		Log: func(member, line string) {
			if o.Log != nil {
				i, _ := strconv.Atoi(member[1:])
				o.Log(sites[i-1]+"/etcd", line)
			}
		}})
	if err != nil {
		return nil, err
	}
	c = &Cluster{Etcd: ec, Nodes: make([]*Failoverd, len(sites)), Sites: sites, o: o}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	for i := range sites {
		if err := c.StartSite(ctx, i); err != nil {
			return c, err
		}
	}
	return c, nil
}

// SourceAddr is the address site i's etcd member binds and its probes
// leave from.
func (c *Cluster) SourceAddr(i int) string { return EtcdOptions{}.host(i) }

// StartSite starts site i's failoverd (again: after KillSite, restart its
// etcd member first with RestartSite).
func (c *Cluster) StartSite(ctx context.Context, i int) error {
	args := []string{"--store", "etcd", "--etcd-endpoints", c.Etcd.Members[i].ClientURL,
		"--site", c.Sites[i], "--probe-source-addr", c.SourceAddr(i)}
	if c.o.LeaseTTL > 0 {
		args = append(args, "--lease-ttl", c.o.LeaseTTL.String())
	}
	var log func(string)
	if c.o.Log != nil {
		site := c.Sites[i]
		log = func(line string) { c.o.Log(site, line) }
	}
	f, err := StartFailoverd(ctx, Options{Bin: c.o.Bin, DataDir: filepath.Join(c.o.Dir, c.Sites[i]), Token: c.o.Token,
		Args: append(args, c.o.Args...), Log: log,
		// A node whose site was just killed waits out its predecessor's
		// lease before it takes the site's membership key.
		Timeout: 60 * time.Second})
	if err != nil {
		return fmt.Errorf("site %s: %w", c.Sites[i], err)
	}
	c.Nodes[i] = f
	return nil
}

// KillSite crashes site i's whole control plane: SIGKILL of its failoverd
// and of its etcd member, as when the site loses power.
func (c *Cluster) KillSite(i int) {
	if c.Nodes[i] != nil {
		c.Nodes[i].Kill()
	}
	c.Etcd.Members[i].Kill()
}

// RestartSite starts a killed site again: its etcd member rejoins from its
// data directory, then its failoverd starts and catches up.
func (c *Cluster) RestartSite(ctx context.Context, i int) error {
	if err := c.Etcd.Members[i].Restart(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Etcd.WaitReady(wctx); err != nil {
		return err
	}
	return c.StartSite(ctx, i)
}

// URLs are the nodes' API base URLs, by site index (a client given all of
// them moves on from a dead one).
func (c *Cluster) URLs() []string {
	var urls []string
	for _, n := range c.Nodes {
		if n != nil {
			urls = append(urls, n.URL)
		}
	}
	return urls
}

// Close stops every node (SIGTERM, so a leader resigns), then kills the
// etcd members. The data stays in Dir.
func (c *Cluster) Close() error {
	var errs []error
	for i, n := range c.Nodes {
		if n != nil {
			if err := n.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("site %s: %w", c.Sites[i], err))
			}
		}
	}
	c.Etcd.Close()
	return errors.Join(errs...)
}

// Client is an API client of node i alone (no retries, short timeout):
// what that node says, not what the cluster says.
func (c *Cluster) Client(i int) (*client.Client, error) {
	return client.New(client.Config{Endpoint: c.Nodes[i].URL, Token: c.o.Token, MaxRetries: -1, Timeout: 2 * time.Second})
}

// Leader asks every running node for its role and returns the index of the
// one that leads, with when the others saw it become leader (the latest
// such time: the moment the whole cluster knew); -1 when no node or more
// than one says it leads.
func (c *Cluster) Leader(ctx context.Context) (int, time.Time, error) {
	leader, since := -1, time.Time{}
	var errs []error
	for i, n := range c.Nodes {
		if n == nil || !n.running() {
			continue
		}
		cl, err := c.Client(i)
		if err != nil {
			return -1, since, err
		}
		cs, err := cl.Cluster(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Sites[i], err))
			continue
		}
		if cs.Role == api.RoleLeader {
			if leader >= 0 {
				return -1, since, fmt.Errorf("two nodes lead: %s and %s", c.Sites[leader], c.Sites[i])
			}
			leader = i
		}
		if cs.Leader != nil && cs.Leader.Since.After(since) {
			since = cs.Leader.Since
		}
	}
	if leader < 0 {
		return -1, since, fmt.Errorf("no node leads: %w", errors.Join(errs...))
	}
	return leader, since, nil
}

// WaitLeader polls Leader until one node leads and every running node
// names it, or within passes.
func (c *Cluster) WaitLeader(ctx context.Context, within time.Duration) (int, time.Time, error) {
	deadline := time.Now().Add(within)
	for {
		l, since, err := c.Leader(ctx)
		if err == nil {
			if err = c.agree(ctx, l); err == nil {
				return l, since, nil
			}
		}
		if time.Now().After(deadline) {
			return -1, since, fmt.Errorf("no agreed leader after %s: %w", within, err)
		}
		select {
		case <-ctx.Done():
			return -1, since, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// agree checks that every running node names site l as its leader.
func (c *Cluster) agree(ctx context.Context, l int) error {
	for i, n := range c.Nodes {
		if n == nil || !n.running() {
			continue
		}
		cl, err := c.Client(i)
		if err != nil {
			return err
		}
		cs, err := cl.Cluster(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Sites[i], err)
		}
		if cs.Leader == nil || cs.Leader.Site != c.Sites[l] {
			return fmt.Errorf("%s does not name %s its leader yet", c.Sites[i], c.Sites[l])
		}
	}
	return nil
}
