package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/cluster"
	"github.com/hatopo/terraform-provider-failover/internal/dnsserver"
	"github.com/hatopo/terraform-provider-failover/internal/drill"
	"github.com/hatopo/terraform-provider-failover/internal/engine"
	"github.com/hatopo/terraform-provider-failover/internal/publish"
	"github.com/hatopo/terraform-provider-failover/internal/server"
	"github.com/hatopo/terraform-provider-failover/internal/store"
	"github.com/hatopo/terraform-provider-failover/internal/webhook"
)

type serveConfig struct {
	configFile      string
	httpAddr        string
	dnsAddr         string
	dnsZone         string
	dataDir         string
	site            string
	storeKind       string
	etcdEndpoints   string
	etcdPrefix      string
	etcdCA          string
	etcdCert        string
	etcdKey         string
	etcdDial        time.Duration
	leaseTTL        time.Duration
	contactTimeout  time.Duration
	probeSourceArg  string
	tokenFile       string
	tlsCert         string
	tlsKey          string
	tlsClientCA     string
	dev             bool
	insecureNoAuth  bool
	advertiseURL    string
	logFormat       string
	logLevel        string
	maxHTTPConns    int
	tsigKeysFile    string
	webhookSecrets  string
	route53Endpoint string
	reconcile       time.Duration

	// Set by runServe and check, not flags.
	siteGiven   bool       // --site was given (required with --store etcd)
	probeSource netip.Addr // parsed --probe-source-addr; invalid when not set
	endpoints   []string   // parsed --etcd-endpoints
}

func serveFlags(fs *flag.FlagSet, c *serveConfig) {
	fs.StringVar(&c.configFile, "config", "", "JSON file of flag values, e.g. {\"http-addr\": \"0.0.0.0:8080\"}; command-line flags win")
	fs.StringVar(&c.httpAddr, "http-addr", "127.0.0.1:8080", "API, /burst and /metrics listen address (port 0 picks a free port)")
	fs.StringVar(&c.dnsAddr, "dns-addr", "127.0.0.1:8053", "DNS listen address, UDP and TCP on the same port (port 0 picks a free port)")
	fs.StringVar(&c.dnsZone, "dns-zone", "failover.internal.", "DNS zone policies answer in: <policy>.<zone>")
	fs.StringVar(&c.dataDir, "data-dir", "", "directory of the embedded store (with --dev: a new temporary directory)")
	fs.StringVar(&c.site, "site", "local", "name of the site this failoverd probes from (required with --store etcd: one failoverd per site)")
	fs.StringVar(&c.storeKind, "store", "bolt", "store: bolt (embedded, one file) or etcd (a cluster of failoverd nodes, one per site)")
	fs.StringVar(&c.etcdEndpoints, "etcd-endpoints", "", "comma-separated etcd client URLs, e.g. https://10.0.1.5:2379,https://10.0.2.5:2379,https://10.0.3.5:2379 (with --store etcd)")
	fs.StringVar(&c.etcdPrefix, "etcd-prefix", "/failover/", "key prefix of this control plane in etcd (with --store etcd): several control planes can share one etcd")
	fs.StringVar(&c.etcdCA, "etcd-ca", "", "CA certificate (PEM) that signed the etcd servers' certificates (with https etcd endpoints)")
	fs.StringVar(&c.etcdCert, "etcd-cert", "", "client certificate (PEM) for etcd client-certificate authentication")
	fs.StringVar(&c.etcdKey, "etcd-key", "", "private key (PEM) of --etcd-cert")
	fs.DurationVar(&c.etcdDial, "etcd-dial-timeout", 5*time.Second, "how long to wait for etcd at start")
	fs.DurationVar(&c.leaseTTL, "lease-ttl", 5*time.Second, "TTL of this node's etcd lease, whole seconds: a dead node's votes and leadership expire after it, so a new leader decides within about lease-ttl + 1s (with --store etcd)")
	fs.DurationVar(&c.contactTimeout, "contact-timeout", 0, "how long this node goes without an answer from the etcd majority before it counts itself cut off: it stops deciding, fails static and refuses writes (with --store etcd; default half --lease-ttl, at most 2s; at most half --lease-ttl, so a cut-off leader stops before its lease can expire)")
	fs.StringVar(&c.probeSourceArg, "probe-source-addr", "", "source IP address health probes leave from (a multi-homed host; default: chosen by the routing table)")
	fs.StringVar(&c.tokenFile, "token-file", "", "API tokens: lines of \"<name> <read|operate|admin> sha256:<hex>\" (failoverd token create)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "private key of --tls-cert (PEM)")
	fs.StringVar(&c.tlsClientCA, "tls-client-ca", "", "require client certificates signed by this CA (PEM)")
	fs.BoolVar(&c.dev, "dev", false, "development mode: 127.0.0.1 only, temporary data dir, admin token from FAILOVERD_DEV_TOKEN or generated")
	fs.BoolVar(&c.insecureNoAuth, "insecure-no-auth", false, "serve the API without any authentication (never in production)")
	fs.StringVar(&c.advertiseURL, "advertise-url", "", "base URL clients and load balancers use to reach this failoverd (default: from --http-addr)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.tsigKeysFile, "tsig-keys", "", "TSIG keys for publish.rfc2136 (DNS dynamic updates): lines of \"<key-name> <algorithm> <base64-secret>\"; a policy's tsig_key names one, so secrets never go through the API or Terraform state")
	fs.StringVar(&c.webhookSecrets, "webhook-secrets", "", "webhook signing secrets: lines of \"<name> <secret>\" (at least 32 characters); a failover_webhook's secret names one")
	fs.StringVar(&c.route53Endpoint, "route53-endpoint", "", "Route 53 API endpoint override for publish.route53 (tests, FIPS); credentials always come from the AWS SDK's default chain: environment, shared config, web identity, instance role")
	fs.DurationVar(&c.reconcile, "publish-reconcile-interval", publish.DefaultReconcileInterval, "how often each published record is read back from its DNS server and written again when it was changed outside failoverd")
	fs.IntVar(&c.maxHTTPConns, "max-http-conns", 0, "most HTTP connections open at once; more wait to be accepted (default: a quarter of the file-descriptor limit, at most 1024; more than a quarter is refused, so the prober keeps its share)")
}

// applyConfigFile sets every flag the file names unless it was given on
// the command line.
func applyConfigFile(fs *flag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("--config %s: not a JSON object of flag values: %w", path, err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, k := range api.SortedKeys(m) {
		if k == "config" {
			continue
		}
		if fs.Lookup(k) == nil {
			return fmt.Errorf("--config %s: unknown setting %q (settings are the flag names of failoverd serve)", path, k)
		}
		if set[k] {
			continue
		}
		if err := fs.Set(k, fmt.Sprint(m[k])); err != nil {
			return fmt.Errorf("--config %s: %s: %w", path, k, err)
		}
	}
	return nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseServe(args, stderr)
	if err != nil {
		if !errors.Is(err, errFlagsReported) {
			fmt.Fprintln(stderr, "failoverd:", err)
		}
		return 2
	}
	log, err := newLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "failoverd:", err)
		return 2
	}
	if err := serve(ctx, c, log, stderr); err != nil {
		log.Error("failoverd stopped", "err", err)
		fmt.Fprintln(stderr, "failoverd:", err)
		return 1
	}
	return 0
}

// errFlagsReported: the flag package has already told the user.
var errFlagsReported = errors.New("bad flags")

// parseServe reads serve's flags and --config file, and checks them
// together.
func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	fs := flag.NewFlagSet("failoverd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c serveConfig
	serveFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return c, errFlagsReported
	}
	if c.configFile != "" {
		if err := applyConfigFile(fs, c.configFile); err != nil {
			return c, err
		}
	}
	fs.Visit(func(f *flag.Flag) { c.siteGiven = c.siteGiven || f.Name == "site" })
	return c, c.check()
}

// Bounds of --lease-ttl. etcd leases count whole seconds. A node counts
// itself cut off from etcd — and stops deciding — after half its lease TTL
// without an answer (cluster.EtcdOptions.ContactTimeout), so that it stops
// before its lease can expire; below 3 s that leaves under 1.5 s, and an
// ordinary stall of etcd or of the host (a slow fsync, a GC pause) would
// depose the leader.
const (
	minLeaseTTL = 3 * time.Second
	maxLeaseTTL = 10 * time.Minute
	// minContactTimeout: contact is proved by a read every 0.5 s, each
	// allowed up to 1 s.
	minContactTimeout = time.Second
)

// check validates the flags together and fills the parsed fields. Its
// errors name the flag and the fix.
func (c *serveConfig) check() error {
	if !api.ValidName(c.site) {
		return fmt.Errorf("--site %q: use lower-case letters, digits and '-'", c.site)
	}
	zone, err := dnsserver.CanonicalZone(c.dnsZone)
	if err != nil {
		return fmt.Errorf("--dns-zone: %w", err)
	}
	c.dnsZone = zone
	if c.dev {
		for _, a := range []string{c.httpAddr, c.dnsAddr} {
			if !isLoopback(a) {
				return fmt.Errorf("--dev listens on 127.0.0.1 only; %q is not a loopback address (drop --dev for a real deployment)", a)
			}
		}
	}
	if c.reconcile < time.Second {
		return fmt.Errorf("--publish-reconcile-interval %s: use at least 1s, e.g. 1m", c.reconcile)
	}
	if c.probeSourceArg != "" {
		a, err := netip.ParseAddr(c.probeSourceArg)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("--probe-source-addr %q: give an IP address of this host, without a port, e.g. 192.0.2.10", c.probeSourceArg)
		}
		// Refused now rather than as a local failure on every probe.
		l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: a.AsSlice()})
		if err != nil {
			return fmt.Errorf("--probe-source-addr %s is not an address of this host (%w): give one of its own addresses", a, err)
		}
		l.Close()
		c.probeSource = a
	}
	switch c.storeKind {
	case "bolt":
		for _, f := range []struct{ name, value string }{
			{"--etcd-endpoints", c.etcdEndpoints}, {"--etcd-ca", c.etcdCA}, {"--etcd-cert", c.etcdCert}, {"--etcd-key", c.etcdKey},
		} {
			if f.value != "" {
				return fmt.Errorf("%s is for --store etcd; this failoverd uses --store bolt: add --store etcd, or drop %s", f.name, f.name)
			}
		}
		if c.contactTimeout != 0 {
			return errors.New("--contact-timeout is for --store etcd; this failoverd uses --store bolt: add --store etcd, or drop --contact-timeout")
		}
		return nil
	case "etcd":
	default:
		return fmt.Errorf("--store %q: use bolt (one node) or etcd (a cluster)", c.storeKind)
	}
	if !c.siteGiven {
		return errors.New("--store etcd needs --site: name the site this node probes from (each node of a cluster runs in its own site, e.g. --site dc1)")
	}
	if c.endpoints, err = etcdEndpoints(c.etcdEndpoints); err != nil {
		return err
	}
	if !strings.HasPrefix(c.etcdPrefix, "/") || !strings.HasSuffix(c.etcdPrefix, "/") || strings.Contains(c.etcdPrefix, "//") {
		return fmt.Errorf("--etcd-prefix %q: start and end it with '/', e.g. /failover/ or /failover/prod/", c.etcdPrefix)
	}
	if (c.etcdCert == "") != (c.etcdKey == "") {
		return errors.New("--etcd-cert and --etcd-key go together: give both, or neither")
	}
	if c.leaseTTL > 0 && c.leaseTTL < minLeaseTTL && c.leaseTTL%time.Second == 0 {
		return fmt.Errorf("--lease-ttl %s is too short: a node stops deciding after half the TTL without an answer from etcd (so that it stops before its lease expires), and under %s a brief stall would depose the leader; use %s or more (default 5s)",
			c.leaseTTL, minLeaseTTL, minLeaseTTL)
	}
	if c.leaseTTL < minLeaseTTL || c.leaseTTL > maxLeaseTTL || c.leaseTTL%time.Second != 0 {
		return fmt.Errorf("--lease-ttl %s: use whole seconds from %s to %s, e.g. 5s", c.leaseTTL, minLeaseTTL, maxLeaseTTL)
	}
	if c.contactTimeout != 0 && (c.contactTimeout < minContactTimeout || c.contactTimeout > c.leaseTTL/2) {
		return fmt.Errorf("--contact-timeout %s: use %s to half --lease-ttl (%s), so that a leader cut off from etcd stops deciding before its lease expires; or leave it out (half --lease-ttl, at most 2s)",
			c.contactTimeout, minContactTimeout, c.leaseTTL/2)
	}
	if c.etcdDial <= 0 {
		return fmt.Errorf("--etcd-dial-timeout %s: use a positive duration, e.g. 5s", c.etcdDial)
	}
	return nil
}

// etcdEndpoints parses --etcd-endpoints: http(s)://host:port, comma-separated.
func etcdEndpoints(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("--store etcd needs --etcd-endpoints: the client URLs of the etcd members, comma-separated, e.g. https://10.0.1.5:2379,https://10.0.2.5:2379,https://10.0.3.5:2379")
	}
	var out []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Port() == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("--etcd-endpoints: %q is not an etcd client URL: write http(s)://host:port, e.g. https://10.0.1.5:2379", e)
		}
		out = append(out, e)
	}
	return out, nil
}

// openStore opens the store --store names.
func openStore(ctx context.Context, c serveConfig, log *slog.Logger) (store.Store, error) {
	if c.storeKind == "bolt" {
		return store.OpenBolt(store.BoltPath(c.dataDir), store.BoltOptions{})
	}
	return store.OpenEtcd(ctx, store.EtcdOptions{
		Endpoints: c.endpoints, Prefix: c.etcdPrefix,
		CAFile: c.etcdCA, CertFile: c.etcdCert, KeyFile: c.etcdKey,
		DialTimeout: c.etcdDial, SessionTTL: c.leaseTTL,
		Logger: log,
	})
}

// joinCluster is this node's place in the control plane: a cluster of one
// on bolt; on etcd, a member that campaigns on the store's session.
func joinCluster(ctx context.Context, c serveConfig, st store.Store, base string, log *slog.Logger) (cluster.Node, error) {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	self := api.ClusterMember{Site: c.site, Node: host, URL: base, Started: time.Now(), Version: version}
	if c.probeSource.IsValid() {
		self.ProbeSourceAddr = c.probeSource.String()
	}
	es, ok := st.(*store.Etcd)
	if !ok {
		return cluster.NewStandalone(self), nil
	}
	// A crashed predecessor of this site holds its key until its lease
	// expires: wait that long, and no longer.
	jctx, cancel := context.WithTimeout(ctx, c.etcdDial+2*c.leaseTTL)
	defer cancel()
	node, err := cluster.StartEtcd(jctx, cluster.EtcdOptions{Sessions: es, Prefix: c.etcdPrefix, Self: self, Endpoints: c.endpoints,
		LeaseTTL: c.leaseTTL, ContactTimeout: c.contactTimeout, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("join the cluster: %w", err)
	}
	return node, nil
}

func serve(ctx context.Context, c serveConfig, log *slog.Logger, stderr io.Writer) (err error) {
	// SIGHUP reloads the token file. Its default action ends the process,
	// so it is caught before anything else.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// One way out: every component pushes its close as soon as it exists,
	// and however serve returns they run in reverse order — the HTTP
	// server finishes in-flight requests before the engine stops, the
	// engine flushes before the store closes.
	var down closers
	defer func() {
		if !down.run(log) && err == nil {
			log.Warn("failoverd stopped; some requests were cut off by the shutdown timeout")
		} else if err == nil {
			log.Info("failoverd stopped cleanly")
		}
	}()
	if c.dev && c.dataDir == "" {
		d, err := os.MkdirTemp("", "failoverd-dev-")
		if err != nil {
			return err
		}
		// A throwaway dev data dir goes away with the process.
		down.push("dev data dir", func(context.Context) error { return os.RemoveAll(d) })
		c.dataDir = d
	}
	if c.dataDir == "" && c.storeKind == "bolt" {
		return errors.New("--data-dir is required (or use --dev for a temporary one)")
	}
	nofile, err := fileLimit()
	if err != nil {
		return fmt.Errorf("read the file-descriptor limit: %w", err)
	}
	budget, err := budgetConns(nofile, c.maxHTTPConns)
	if err != nil {
		return err
	}

	tokens, auth, err := loadAuth(c, log, stderr)
	if err != nil {
		return err
	}

	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	down.push("store", func(context.Context) error { return st.Close() })

	rawLn, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on --http-addr %s: %w", c.httpAddr, err)
	}
	ln := limitConns(rawLn, budget.HTTP)
	// Serve closes it too; closing it here covers the ways out before.
	down.push("http listener", func(context.Context) error { ln.Close(); return nil })
	scheme := "http"
	if c.tlsCert != "" {
		scheme = "https"
	}
	base := c.advertiseURL
	if base == "" {
		base = scheme + "://" + ln.Addr().String()
	}

	node, err := joinCluster(ctx, c, st, base, log)
	if err != nil {
		return err
	}
	// After the engine (it stops deciding first): a clean stop resigns, so
	// the next leader is elected now rather than after the lease TTL.
	down.push("cluster", node.Close)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eng, err := engine.New(engine.Options{Store: st, Cluster: node, Site: c.site, Zone: c.dnsZone, BaseURL: base, Logger: log,
		Registerer: reg, ProbeSourceAddr: c.probeSource})
	if err != nil {
		return err
	}
	down.push("engine", func(context.Context) error { eng.Close(); return nil })
	// After the engine is up, before it stops: the publisher drains the
	// outbox on the leader and stops with it (its status writes go
	// through the engine).
	pub, err := startPublisher(c, eng, st, log, reg)
	if err != nil {
		return err
	}
	down.push("publisher", pub)
	dnsSrv, err := listenDNS(c, eng, log, reg, budget.DNSTCP)
	if err != nil {
		return err
	}
	down.push("dns server", dnsSrv.Shutdown)
	// Drills ask failoverd's own DNS what clients would be told.
	drills := drill.New(drill.Options{Engine: eng, Store: st, DNSAddr: dnsSrv.Addr(), Zone: c.dnsZone, Logger: log, Registerer: reg})
	srv := server.New(server.Options{Engine: eng, Store: st, Auth: auth, Logger: log, Gatherer: reg, Registerer: reg, Version: version,
		Drills: drills})
	// After the HTTP server, before the engine: a drill still running is
	// aborted, which restores automatic routing through the engine.
	down.push("drills", drills.Close)
	// After the HTTP server: it stores the audit summaries still counting.
	down.push("api", func(context.Context) error { srv.Close(); return nil })
	// Shutdown waits for in-flight requests, but an event stream
	// (GET /v1/events?follow=1) only ends when its client leaves: end the
	// streams when shutdown begins, so one connected `failoverd events
	// --follow` does not hold SIGTERM up for the whole shutdown budget.
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	hs := server.NewHTTPServer(endStreamsOnShutdown(srv.Handler(), streams), slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	hs.RegisterOnShutdown(endStreams)
	if c.tlsCert != "" {
		tc, err := serverTLS(c)
		if err != nil {
			return err
		}
		hs.TLSConfig = tc
	}
	down.push("http server", hs.Shutdown)
	eng.Start(ctx)
	// A drill this node was running when it stopped is aborted now: its
	// override cleared, its report saying so.
	if err := drills.Recover(ctx); err != nil {
		return fmt.Errorf("drills: %w", err)
	}
	go drills.RunSchedules(ctx, drill.DefaultScheduleTick)

	errc := make(chan error, 1)
	go func() {
		if c.tlsCert != "" {
			errc <- hs.ServeTLS(ln, c.tlsCert, c.tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	// The DNS server stops only through its Shutdown (a closer), not
	// through ctx, which ends before the HTTP server has drained.
	dnsErrc := make(chan error, 1)
	go func() { dnsErrc <- dnsSrv.Serve(context.Background()) }()
	log.Info("connection limits", "nofile", budget.NoFile, "http_conns", budget.HTTP, "dns_tcp_conns", budget.DNSTCP,
		"http_header_timeout", server.ReadHeaderTimeout.String(), "http_max_header_bytes", server.MaxHeaderBytes)
	log.Info("dns ready", "addr", dnsSrv.Addr(), "zone", c.dnsZone)
	log.Info("failoverd ready", "http", ln.Addr().String(), "url", base, "dns", dnsSrv.Addr(), "site", c.site, "data_dir", c.dataDir,
		"store", c.storeKind, "zone", c.dnsZone, "version", version)

	for {
		select {
		case <-hup:
			tokens.reload(auth, log)
		case <-ctx.Done():
			log.Info("shutting down: finishing in-flight requests")
			return nil
		case err := <-errc:
			return fmt.Errorf("http server: %w", err)
		case err := <-dnsErrc:
			return fmt.Errorf("dns server: %w", err)
		}
	}
}

// startPublisher starts the outbox's publisher (internal/publish) and
// returns its stop.
func startPublisher(c serveConfig, eng *engine.Engine, st store.Store, log *slog.Logger, reg prometheus.Registerer) (func(context.Context) error, error) {
	keys := publish.TSIGKeys{}
	if c.tsigKeysFile != "" {
		var err error
		if keys, err = publish.LoadTSIGKeys(c.tsigKeysFile); err != nil {
			return nil, err
		}
		log.Info("tsig keys loaded", "file", c.tsigKeysFile, "keys", len(keys))
	}
	// Loading the AWS configuration reads files and the environment only;
	// credentials are resolved at the first Route 53 call, so a failoverd
	// without any AWS setup starts, and reports the missing credentials in
	// the status of the policies that publish to Route 53.
	r53, err := publish.NewRoute53(context.Background(), publish.Route53Options{Endpoint: c.route53Endpoint})
	if err != nil {
		return nil, err
	}
	m := publish.New(publish.Options{
		Store: st, Leading: eng.Leading, Write: eng.WriteOutbox, Emit: eng.Emit,
		Publishers: map[string]publish.Publisher{
			api.DestinationRFC2136: &publish.RFC2136{Keys: keys},
			api.DestinationRoute53: r53,
		},
		ReconcileInterval: c.reconcile,
		Logger:            log, Registerer: reg,
	})
	eng.OnCommit(m.Kick)
	secrets := webhook.Secrets{}
	if c.webhookSecrets != "" {
		var err error
		if secrets, err = webhook.LoadSecrets(c.webhookSecrets); err != nil {
			return nil, err
		}
		log.Info("webhook secrets loaded", "file", c.webhookSecrets, "secrets", len(secrets))
	}
	d := webhook.New(webhook.Options{
		Store: st, Leading: eng.Leading, Webhooks: eng.Webhooks, Write: eng.WriteOutbox, Emit: eng.Emit,
		WaitEvents: eng.WaitEvents, Secrets: secrets, Logger: log, Registerer: reg,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { defer func() { done <- struct{}{} }(); m.Run(ctx) }()
	go func() { defer func() { done <- struct{}{} }(); d.Run(ctx) }()
	return func(sctx context.Context) error {
		cancel()
		for range 2 {
			select {
			case <-done:
			case <-sctx.Done():
				return fmt.Errorf("publisher: %w", sctx.Err())
			}
		}
		return nil
	}, nil
}

// shutdownBudget bounds the whole shutdown: in-flight requests, the DNS
// server, the engine's last writes.
const shutdownBudget = 15 * time.Second

// closers is serve's one cleanup path (etcd's embed.StartEtcd has the same
// shape): a stack of closes run in reverse order of creation, so adding a
// component is one push, not an edit of every error path.
type closers []closer

type closer struct {
	name  string
	close func(ctx context.Context) error
}

func (cs *closers) push(name string, close func(ctx context.Context) error) {
	*cs = append(*cs, closer{name, close})
}

// run closes everything, newest first, within shutdownBudget, and reports
// whether every close completed.
func (cs closers) run(log *slog.Logger) (clean bool) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
	defer cancel()
	clean = true
	for i := len(cs) - 1; i >= 0; i-- {
		if err := cs[i].close(ctx); err != nil {
			log.Warn("shutdown incomplete", "component", cs[i].name, "err", err)
			clean = false
		}
	}
	return clean
}

// listenDNS binds --dns-addr on UDP and TCP for the zone's DNS server,
// which answers from the engine's current snapshot.
func listenDNS(c serveConfig, eng *engine.Engine, log *slog.Logger, reg prometheus.Registerer, maxTCPConns int) (*dnsserver.Server, error) {
	var nsAddrs []netip.Addr
	if ap, err := netip.ParseAddrPort(c.dnsAddr); err == nil && !ap.Addr().IsUnspecified() {
		// The zone's name server (ns.dns.<zone>) answers this address.
		nsAddrs = []netip.Addr{ap.Addr().Unmap()}
	}
	srv, err := dnsserver.New(dnsserver.Options{Zone: c.dnsZone, Snapshot: eng.Snapshot, Logger: log, Registerer: reg, NSAddrs: nsAddrs,
		MaxTCPConns: maxTCPConns})
	if err != nil {
		return nil, fmt.Errorf("--dns-zone: %w", err)
	}
	if err := srv.Listen(c.dnsAddr); err != nil {
		return nil, fmt.Errorf("listen on --dns-addr %s: %w", c.dnsAddr, err)
	}
	return srv, nil
}

// endStreamsOnShutdown cancels the context of event reads (which may be
// long-lived streams) when streams is canceled.
func endStreamsOnShutdown(h http.Handler, streams context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/events" {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			stop := context.AfterFunc(streams, cancel)
			defer stop()
			r = r.WithContext(ctx)
		}
		h.ServeHTTP(w, r)
	})
}

// tokenSource is where the API's tokens come from: the token file and,
// with --dev, the dev admin token (fixed for the process's life).
type tokenSource struct {
	file, devToken string
}

// load reads the tokens; failoverd denies by default, so none is an error.
func (ts tokenSource) load() (*server.Auth, error) {
	auth := server.NewAuth()
	if ts.file != "" {
		a, err := server.LoadTokenFile(ts.file)
		if err != nil {
			return nil, err
		}
		auth = a
	}
	if ts.devToken != "" {
		auth.Add("dev-admin", server.ScopeAdmin, ts.devToken)
	}
	if auth.Len() == 0 {
		return nil, errors.New("no API tokens: pass --token-file (create tokens with \"failoverd token create NAME admin\"), or --dev for local use; failoverd denies by default")
	}
	return auth, nil
}

// reload replaces auth's tokens with the token file's current content
// (on SIGHUP). A file that does not load changes nothing: the previous
// tokens stay in force and the log says why.
func (ts tokenSource) reload(auth *server.Auth, log *slog.Logger) {
	switch {
	case auth == nil:
		log.Warn("SIGHUP: no tokens to reload (--insecure-no-auth)")
		return
	case ts.file == "":
		log.Warn("SIGHUP: no token file to reload (--token-file is not set)")
		return
	}
	next, err := ts.load()
	if err != nil {
		log.Error("token file not reloaded; the previous tokens stay in force", "file", ts.file, "err", err)
		return
	}
	auth.Replace(next)
	log.Info("token file reloaded", "file", ts.file, "tokens", next.Len())
}

func loadAuth(c serveConfig, log *slog.Logger, stderr io.Writer) (tokenSource, *server.Auth, error) {
	ts := tokenSource{file: c.tokenFile}
	if c.insecureNoAuth {
		if c.tokenFile != "" {
			return ts, nil, errors.New("--insecure-no-auth and --token-file contradict each other: pick one")
		}
		log.Warn("API authentication is DISABLED (--insecure-no-auth): anyone who can reach the port can move traffic")
		return ts, nil, nil
	}
	if c.dev {
		ts.devToken = os.Getenv("FAILOVERD_DEV_TOKEN")
		if ts.devToken == "" {
			ts.devToken = server.NewToken()
			fmt.Fprintf(stderr, "\n  failoverd --dev admin token (shown once):\n\n    export FAILOVER_TOKEN=%s\n\n", ts.devToken)
		}
	}
	auth, err := ts.load()
	return ts, auth, err
}

func serverTLS(c serveConfig) (*tls.Config, error) {
	if c.tlsKey == "" {
		return nil, errors.New("--tls-cert needs --tls-key")
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.tlsClientCA != "" {
		pem, err := os.ReadFile(c.tlsClientCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-client-ca %s: no PEM certificates found", c.tlsClientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}
