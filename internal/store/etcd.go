package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Defaults for EtcdOptions fields left at zero.
const (
	DefaultEtcdPrefix         = "/failover/"
	DefaultEtcdDialTimeout    = 5 * time.Second
	DefaultEtcdSessionTTL     = 5 * time.Second
	DefaultEtcdRequestTimeout = 5 * time.Second
	// DefaultEtcdMaxTxnOps is etcd's own default --max-txn-ops: the most
	// operations one transaction may hold.
	DefaultEtcdMaxTxnOps = 128
)

// EtcdOptions configures OpenEtcd. Zero values select the defaults (see
// the accessor methods).
type EtcdOptions struct {
	// Endpoints are the etcd members' client URLs (http:// or https://).
	Endpoints []string
	// Prefix is prepended to every key; several failoverd clusters can
	// share one etcd with different prefixes. It must end with '/'
	// (default DefaultEtcdPrefix).
	Prefix string
	// CAFile verifies the members' certificates; CertFile and KeyFile are
	// this client's certificate, for members that require one.
	CAFile, CertFile, KeyFile string
	// DialTimeout bounds OpenEtcd's first contact with the cluster.
	DialTimeout time.Duration
	// SessionTTL is the life of this store's session lease without a
	// keepalive: how long Ephemeral records outlive a crashed or
	// cut-off process (default 5s).
	SessionTTL time.Duration
	// RequestTimeout bounds every read, and every Commit with its
	// retries (default 5s).
	RequestTimeout time.Duration
	// MaxTxnOps is the cluster's --max-txn-ops (default 128): a batch
	// that needs more operations is refused before it is sent.
	MaxTxnOps int
	// MaxEvents, AuditRetention and AuditKeep bound the event and audit
	// logs as in BoltOptions.
	MaxEvents      int
	AuditRetention time.Duration
	AuditKeep      int
	// Logger receives the store's and the etcd client's warnings.
	Logger *slog.Logger
}

func (o EtcdOptions) prefix() string {
	if o.Prefix == "" {
		return DefaultEtcdPrefix
	}
	return o.Prefix
}

func (o EtcdOptions) dialTimeout() time.Duration {
	if o.DialTimeout <= 0 {
		return DefaultEtcdDialTimeout
	}
	return o.DialTimeout
}

func (o EtcdOptions) sessionTTL() time.Duration {
	if o.SessionTTL <= 0 {
		return DefaultEtcdSessionTTL
	}
	return o.SessionTTL
}

func (o EtcdOptions) requestTimeout() time.Duration {
	if o.RequestTimeout <= 0 {
		return DefaultEtcdRequestTimeout
	}
	return o.RequestTimeout
}

func (o EtcdOptions) maxTxnOps() int {
	if o.MaxTxnOps <= 0 {
		return DefaultEtcdMaxTxnOps
	}
	return o.MaxTxnOps
}

func (o EtcdOptions) maxEvents() uint64 {
	if o.MaxEvents <= 0 {
		return DefaultMaxEvents
	}
	return uint64(o.MaxEvents)
}

func (o EtcdOptions) auditRetention() time.Duration {
	if o.AuditRetention <= 0 {
		return DefaultAuditRetention
	}
	return o.AuditRetention
}

func (o EtcdOptions) auditKeep() uint64 {
	if o.AuditKeep <= 0 {
		return DefaultAuditKeep
	}
	return uint64(o.AuditKeep)
}

func (o EtcdOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// validate names the option that is wrong and how to fix it.
func (o EtcdOptions) validate() error {
	if len(o.Endpoints) == 0 {
		return errors.New("store: etcd: no endpoints: give the client URLs of the etcd members (--etcd-endpoints http://10.0.0.1:2379,...)")
	}
	for _, ep := range o.Endpoints {
		if strings.TrimSpace(ep) == "" {
			return fmt.Errorf("store: etcd: empty endpoint in %q: list client URLs separated by commas", o.Endpoints)
		}
	}
	if p := o.prefix(); !strings.HasSuffix(p, "/") || strings.Contains(p, "\x00") {
		return fmt.Errorf("store: etcd: prefix %q must end with '/' (e.g. %s), so that it never shares keys with another prefix", p, DefaultEtcdPrefix)
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return errors.New("store: etcd: a client certificate needs both its certificate and its key file (--etcd-cert and --etcd-key)")
	}
	return nil
}

func (o EtcdOptions) tlsConfig() (*tls.Config, error) {
	if o.CAFile == "" && o.CertFile == "" {
		return nil, nil
	}
	info := transport.TLSInfo{CertFile: o.CertFile, KeyFile: o.KeyFile, TrustedCAFile: o.CAFile}
	cfg, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("store: etcd: TLS: %w: check --etcd-ca, --etcd-cert and --etcd-key", err)
	}
	return cfg, nil
}

// The etcd store's own keys, under "<prefix>_…" where no caller bucket can
// be (checkWritable). Watch never reports them. The cluster layer keeps its
// election under "<prefix>_election/" for the same reason.
const (
	etcdFormatKey    = "_meta/format"
	etcdCounterKey   = "_meta/counters" // encodePair(last event seq, last audit ordinal)
	etcdAuditDir     = "_audit/"        // SeqKey(seq) → encodeAudit(...)
	etcdCommitDir    = "_commits/"      // commit id → encodePair(first seq, count)
	etcdEventsDir    = BucketEvents + "/"
	etcdFormat       = 1
	etcdCommitKeyTTL = MaxBatchIDLife // life of a commit id: far beyond any retry
	etcdPruneBudget  = 100            // audit events deleted per pruning round
	etcdPruneEvery   = time.Minute
)

// Etcd is the clustered Store: every failoverd node of a cluster opens one
// on the same etcd cluster and prefix. Keys are "<prefix><bucket>/<key>".
//
// A Commit is ONE etcd transaction: the conditions as compares, the puts
// and deletes, the events under the cluster-wide sequence (a counter key
// compared by its mod revision), the audit log entries and the pruning of
// the event log. etcd answers once the transaction is in the WAL of a
// quorum (each member fsyncs it), so a Commit that returned is durable.
// Every transaction also creates a key of its own (its commit id): a retry
// after a lost answer can tell "my earlier attempt landed" from a
// conflict, and never applies a batch twice.
//
// Records with a TTL are attached to leases shared by time bucket (one
// lease per bucket of expiry times, not one per record), Ephemeral records
// to this store's session lease (see Session). Backuper is not
// implemented: back up the etcd cluster with `etcdctl snapshot save`.
//
// Conditions may name keys the store does not own, such as the cluster
// layer's election key: Condition{Bucket: "_election", Key: <lease ID in
// hex>, Value: <campaign value>} fences a leader's writes (the election
// must then use the prefix "<prefix>_election"). Such values are compared
// as stored, so they must not start with the bytes 0x00 or 0x01.
type Etcd struct {
	cli    *clientv3.Client
	opts   EtcdOptions
	prefix string
	log    *slog.Logger
	now    func() time.Time

	// ctx lives until Close: it ends watches, the pruner and the session.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sessMu sync.Mutex
	sess   *concurrency.Session

	leaseMu sync.Mutex
	leases  map[ttlSlot]clientv3.LeaseID

	// counters caches the counter key as last seen, so a batch without
	// conditions needs no read before its transaction; a stale value only
	// costs a retry.
	counterMu sync.Mutex
	counters  etcdCounters

	pruneKick  chan struct{}
	pruneEvery atomic.Int64 // time.Duration; tests shorten it

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ Store = (*Etcd)(nil)

type etcdCounters struct {
	seq, ordinal uint64
	modRev       int64 // of the counter key; 0 while it does not exist
}

// OpenEtcd connects to the etcd cluster, checks (or writes) the format
// marker under the prefix and starts this store's session. It fails when
// no member answers within the dial timeout.
func OpenEtcd(ctx context.Context, opts EtcdOptions) (*Etcd, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	tlsCfg, err := opts.tlsConfig()
	if err != nil {
		return nil, err
	}
	log := opts.logger()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   opts.Endpoints,
		DialTimeout: opts.dialTimeout(),
		TLS:         tlsCfg,
		Logger:      zapToSlog(log),
		// Find a member that stopped answering (a hung host, a cut
		// link) without waiting for TCP to give up.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		PermitWithoutStream:  true,
	})
	if err != nil {
		return nil, fmt.Errorf("store: etcd: %w", err)
	}
	s := &Etcd{
		cli:       cli,
		opts:      opts,
		prefix:    opts.prefix(),
		log:       log,
		now:       time.Now,
		leases:    map[ttlSlot]clientv3.LeaseID{},
		pruneKick: make(chan struct{}, 1),
	}
	s.pruneEvery.Store(int64(etcdPruneEvery))
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.start(ctx); err != nil {
		s.cancel()
		cli.Close()
		return nil, err
	}
	s.wg.Add(1)
	go s.pruneLoop()
	return s, nil
}

func (s *Etcd) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.dialTimeout())
	defer cancel()
	formatKey := s.prefix + etcdFormatKey
	marker := encodeMarker(marker{Format: etcdFormat, CreatedAt: s.now().UTC()})
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(formatKey), "=", 0)).
		Then(clientv3.OpPut(formatKey, string(marker)), clientv3.OpGet(s.prefix+etcdCounterKey)).
		Else(clientv3.OpGet(formatKey), clientv3.OpGet(s.prefix+etcdCounterKey)).
		Commit()
	if err != nil {
		return fmt.Errorf("store: etcd: no member of %s answered within %s (%v): check --etcd-endpoints, the TLS flags, and that a majority of the etcd members runs",
			strings.Join(s.opts.Endpoints, ","), s.opts.dialTimeout(), err)
	}
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().Kvs
		m, err := decodeMarker(kvs[0].Value)
		if err != nil {
			return fmt.Errorf("store: etcd: %s: %w", formatKey, err)
		}
		if m.Format > etcdFormat {
			return fmt.Errorf("store: etcd: the data under %s was written by a newer failoverd (format %d; this version reads up to %d): run that version", s.prefix, m.Format, etcdFormat)
		}
	}
	c, err := decodeCounters(resp.Responses[1].GetResponseRange().Kvs)
	if err != nil {
		return fmt.Errorf("store: etcd: %w", err)
	}
	s.counters = c
	if _, err := s.Session(ctx); err != nil {
		return err
	}
	return nil
}

func decodeCounters(kvs []*mvccpb.KeyValue) (etcdCounters, error) {
	if len(kvs) == 0 {
		return etcdCounters{}, nil
	}
	seq, ord, err := decodePair(kvs[0].Value)
	if err != nil {
		return etcdCounters{}, fmt.Errorf("%s: %w", kvs[0].Key, err)
	}
	return etcdCounters{seq: seq, ordinal: ord, modRev: kvs[0].ModRevision}, nil
}

// Prefix is the key prefix of this store's data.
func (s *Etcd) Prefix() string { return s.prefix }

// Session returns this store's live session: the lease its Ephemeral
// records are attached to, which the cluster layer also uses for its
// election campaign and its site key (one lease per node). When the
// session's lease has ended (the process was cut off from the cluster for
// longer than SessionTTL) a new one is started: every ephemeral record of
// the old one is gone by then, and its owner must write them again —
// Session().Done() tells it when.
func (s *Etcd) Session(ctx context.Context) (*concurrency.Session, error) {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if s.sess != nil {
		select {
		case <-s.sess.Done():
			s.log.Warn("etcd session lease ended; starting a new one", "lease", fmt.Sprintf("%x", int64(s.sess.Lease())))
		default:
			return s.sess, nil
		}
	}
	ttl := int64(math.Ceil(s.opts.sessionTTL().Seconds()))
	gctx, cancel := context.WithTimeout(ctx, s.opts.requestTimeout())
	defer cancel()
	grant, err := s.cli.Grant(gctx, ttl)
	if err != nil {
		return nil, fmt.Errorf("store: etcd: start session: %w", err)
	}
	sess, err := concurrency.NewSession(s.cli, concurrency.WithLease(grant.ID), concurrency.WithTTL(int(ttl)), concurrency.WithContext(s.ctx))
	if err != nil {
		return nil, fmt.Errorf("store: etcd: start session: %w", err)
	}
	s.sess = sess
	return sess, nil
}

// dropSession ends sess if it is still the current session, so that the
// next Session starts a new one (its lease is known to be gone).
func (s *Etcd) dropSession(sess *concurrency.Session) {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if s.sess == sess {
		sess.Orphan()
	}
}

func (s *Etcd) key(bucket, key string) string { return s.prefix + bucket + "/" + key }

func (s *Etcd) eventKey(seq uint64) string { return s.prefix + etcdEventsDir + SeqKey(seq) }

func (s *Etcd) auditKey(seq uint64) string { return s.prefix + etcdAuditDir + SeqKey(seq) }

// reqCtx bounds one request by RequestTimeout, and ends it when the store
// closes.
func (s *Etcd) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.requestTimeout())
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// opErr wraps a failed request: the store's closing, the caller's context
// or etcd's error, with what to do about an unreachable cluster.
func (s *Etcd) opErr(op string, err error) error {
	if s.closed.Load() {
		return fmt.Errorf("store: %s: %w", op, ErrClosed)
	}
	if errors.Is(err, ErrDamaged) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if !etcdDefinite(err) {
		return fmt.Errorf("store: %s: etcd did not answer (%w): this node may have lost contact with the etcd majority; retry on another node", op, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// decodeKV decodes a stored value; ok is false for an expired record.
func (s *Etcd) decodeKV(kv *mvccpb.KeyValue, now uint64) (payload []byte, ok bool, err error) {
	expires, payload, err := decodeEtcdValue(kv.Value)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", kv.Key, err)
	}
	if expired(expires, now) {
		return nil, false, nil
	}
	return payload, true, nil
}

// Get returns the value at bucket/key, or ErrNotFound.
func (s *Etcd) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	op := fmt.Sprintf("get %s/%q", bucket, key)
	if s.closed.Load() {
		return nil, fmt.Errorf("store: %s: %w", op, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.key(bucket, key))
	if err != nil {
		return nil, s.opErr(op, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("store: %s: %w", op, ErrNotFound)
	}
	v, ok, err := s.decodeKV(resp.Kvs[0], stamp(s.now()))
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	if !ok {
		return nil, fmt.Errorf("store: %s: %w", op, ErrNotFound)
	}
	return v, nil
}

// List returns every unexpired key/value of bucket in key order.
func (s *Etcd) List(ctx context.Context, bucket string) ([]KV, error) {
	_, out, err := s.Load(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", bucket, err)
	}
	return out[bucket], nil
}

// Load reads every listed bucket at one revision: the first range at the
// current revision, the others at the revision etcd reported for it.
func (s *Etcd) Load(ctx context.Context, buckets ...string) (uint64, map[string][]KV, error) {
	if s.closed.Load() {
		return 0, nil, fmt.Errorf("store: load: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("store: load: %w", err)
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	for {
		rev, out, err := s.loadOnce(rctx, buckets)
		// Compacted between two ranges: start again at a newer revision.
		if errors.Is(err, rpctypes.ErrCompacted) && rctx.Err() == nil {
			continue
		}
		if err != nil {
			return 0, nil, s.opErr("load", err)
		}
		return rev, out, nil
	}
}

func (s *Etcd) loadOnce(ctx context.Context, buckets []string) (uint64, map[string][]KV, error) {
	out := make(map[string][]KV, len(buckets))
	if len(buckets) == 0 {
		resp, err := s.cli.Get(ctx, s.prefix+etcdCounterKey)
		if err != nil {
			return 0, nil, err
		}
		return uint64(resp.Header.Revision), out, nil
	}
	var rev int64
	now := stamp(s.now())
	for _, b := range buckets {
		dir := s.prefix + b + "/"
		opts := []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(dir))}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.cli.Get(ctx, dir, opts...)
		if err != nil {
			return 0, nil, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		kvs := make([]KV, 0, len(resp.Kvs))
		for _, kv := range resp.Kvs {
			v, ok, err := s.decodeKV(kv, now)
			if err != nil {
				return 0, nil, err
			}
			if ok {
				kvs = append(kvs, KV{Bucket: b, Key: string(kv.Key[len(dir):]), Value: v})
			}
		}
		if len(kvs) == 0 {
			kvs = nil
		}
		out[b] = kvs
	}
	return uint64(rev), out, nil
}

// Events returns up to limit events with seq > after, in order.
func (s *Etcd) Events(ctx context.Context, after uint64, limit int) ([][]byte, error) {
	return s.readLog(ctx, "events", etcdEventsDir, after, limit, func(v []byte) ([]byte, error) {
		_, payload, err := decodeEtcdValue(v)
		return payload, err
	})
}

// AuditEvents returns up to limit audit events with seq > after, in order.
func (s *Etcd) AuditEvents(ctx context.Context, after uint64, limit int) ([][]byte, error) {
	return s.readLog(ctx, "audit events", etcdAuditDir, after, limit, func(v []byte) ([]byte, error) {
		_, _, ev, err := decodeAudit(v)
		return ev, err
	})
}

func (s *Etcd) readLog(ctx context.Context, op, dir string, after uint64, limit int, decode func([]byte) ([]byte, error)) ([][]byte, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("store: %s: %w", op, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("store: %s: limit must be positive, got %d", op, limit)
	}
	out := make([][]byte, 0, min(limit, 64))
	if after == math.MaxUint64 {
		return out, nil
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.prefix+dir+SeqKey(after+1),
		clientv3.WithRange(clientv3.GetPrefixRangeEnd(s.prefix+dir)), clientv3.WithLimit(int64(limit)))
	if err != nil {
		return nil, s.opErr(op, err)
	}
	for _, kv := range resp.Kvs {
		ev, err := decode(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %s: %w", op, kv.Key, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// LastSeq is the highest event sequence number written, cluster-wide.
func (s *Etcd) LastSeq(ctx context.Context) (uint64, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("store: last seq: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: last seq: %w", err)
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.prefix+etcdCounterKey)
	if err != nil {
		return 0, s.opErr("last seq", err)
	}
	c, err := decodeCounters(resp.Kvs)
	if err != nil {
		return 0, fmt.Errorf("store: last seq: %w", err)
	}
	return c.seq, nil
}

// Close ends the session (revoking its lease, so this node's ephemeral
// records vanish at once), every watch and the pruner, then the client.
// Records with a TTL stay until their leases end.
func (s *Etcd) Close() error {
	s.closeOnce.Do(func() {
		s.sessMu.Lock()
		s.closed.Store(true)
		sess := s.sess
		s.sessMu.Unlock()
		var errs []error
		if sess != nil {
			select {
			case <-sess.Done():
				// Already ended: its lease is gone or going.
			default:
				if err := sess.Close(); err != nil {
					errs = append(errs, fmt.Errorf("end session: %w", err))
				}
			}
		}
		s.cancel()
		s.wg.Wait()
		if err := s.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("store: close: %w", err)
		}
	})
	return s.closeErr
}
