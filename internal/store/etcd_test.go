package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/launch"
	"github.com/hatopo/terraform-provider-failover/internal/store"
	"github.com/hatopo/terraform-provider-failover/internal/store/storetest"
)

// One three-member etcd cluster on loopback serves every etcd test of this
// package: each test gets a prefix of its own, so none sees another's data.
// Tests that kill members start a cluster of their own.
var shared struct {
	once sync.Once
	c    *launch.EtcdCluster
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.c.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedEtcd returns the shared cluster, starting it on first use; without
// an etcd binary the test is skipped (or fails where etcd is required).
func sharedEtcd(t testing.TB) *launch.EtcdCluster {
	t.Helper()
	bin := launch.EtcdForTest(t)
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "failover-store-etcd-")
		if shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.c, shared.err = launch.StartEtcdCluster(ctx, launch.EtcdOptions{Bin: bin, Dir: shared.dir})
	})
	if shared.err != nil {
		t.Fatalf("etcd cluster: %v", shared.err)
	}
	return shared.c
}

// testPrefix is a prefix no other test uses.
func testPrefix(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return "/test/" + name + "-" + hex.EncodeToString(b[:]) + "/"
}

// openEtcd opens a store on c under prefix and closes it when the test ends.
func openEtcd(t testing.TB, c *launch.EtcdCluster, prefix string, opts store.EtcdOptions) *store.Etcd {
	t.Helper()
	opts.Endpoints, opts.Prefix = c.Endpoints(), prefix
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 2 * time.Second
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = 10 * time.Second // the shared machine can be slow
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.OpenEtcd(ctx, opts)
	if err != nil {
		t.Fatalf("OpenEtcd: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestEtcdContract runs the Store contract suite against a real
// three-member etcd cluster, with a second client on the same prefix as
// the peer node.
func TestEtcdContract(t *testing.T) {
	c := sharedEtcd(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openEtcd(t, c, testPrefix(t), store.EtcdOptions{})
	}, storetest.Peer(func(t *testing.T, s store.Store) store.Store {
		return openEtcd(t, c, s.(*store.Etcd).Prefix(), store.EtcdOptions{})
	}), storetest.Compact(func(t *testing.T, s store.Store) {
		cli := store.EtcdClient(s.(*store.Etcd))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := cli.Get(ctx, "compact-probe")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.Compact(ctx, resp.Header.Revision); err != nil {
			t.Fatal(err)
		}
	}))
}

func TestOpenEtcdRefuses(t *testing.T) {
	tests := []struct {
		name string
		opts store.EtcdOptions
		want string
	}{
		{name: "no endpoints", opts: store.EtcdOptions{}, want: "no endpoints"},
		{name: "empty endpoint", opts: store.EtcdOptions{Endpoints: []string{"http://127.0.0.1:2379", " "}}, want: "empty endpoint"},
		{name: "prefix without slash", opts: store.EtcdOptions{Endpoints: []string{"http://127.0.0.1:2379"}, Prefix: "/failover"}, want: "must end with '/'"},
		{name: "cert without key", opts: store.EtcdOptions{Endpoints: []string{"http://127.0.0.1:2379"}, CertFile: "c.pem"}, want: "both its certificate and its key"},
		{name: "missing CA file", opts: store.EtcdOptions{Endpoints: []string{"https://127.0.0.1:2379"}, CAFile: "/nonexistent/ca.pem"}, want: "--etcd-ca"},
		{name: "nobody listening", opts: store.EtcdOptions{Endpoints: []string{"http://127.0.0.1:1"}, DialTimeout: 500 * time.Millisecond}, want: "answered within 500ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.OpenEtcd(context.Background(), tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("OpenEtcd succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// A reader that waits until it has applied the revision Load returned must
// get there even when the revisions since its last change touched nothing
// it watches — here another prefix of the same etcd (the store's own keys,
// such as an election candidate's, are the same case). The watch reports
// how far it has come; before, a new leader waited for such a revision
// until someone happened to write under its prefix.
func TestEtcdWatchReportsProgress(t *testing.T) {
	ec := sharedEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := openEtcd(t, ec, testPrefix(t), store.EtcdOptions{})
	other := openEtcd(t, ec, testPrefix(t), store.EtcdOptions{})
	rev0, _, err := a.Load(ctx, "things")
	if err != nil {
		t.Fatal(err)
	}
	ch := a.Watch(ctx, rev0)
	if _, err := other.Commit(ctx, store.Batch{Puts: []store.KV{{Bucket: "things", Key: "x", Value: []byte("1")}}}); err != nil {
		t.Fatal(err)
	}
	rev1, _, err := a.Load(ctx, "things")
	if err != nil {
		t.Fatal(err)
	}
	if rev1 <= rev0 {
		t.Fatalf("the other prefix's write did not move the revision: %d → %d", rev0, rev1)
	}
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("watch closed")
			}
			if ev.Err != nil || len(ev.Changes) > 0 {
				t.Fatalf("the watch of one prefix reported rev %d: %v, %+v", ev.Rev, ev.Err, ev.Changes)
			}
			if ev.Rev >= rev1 {
				return // progress past the other prefix's write
			}
		case <-ctx.Done():
			t.Fatalf("no progress to revision %d (Load's) within the deadline", rev1)
		}
	}
}

// TestEtcdBatchIDAppliesOnce: a batch committed again under the ID of one
// that landed (the retry after a lost answer, store.ErrOutcomeUnknown) is
// not applied a second time — neither its puts nor its events — and gets
// the first commit's sequence numbers; another ID is a new batch.
func TestEtcdBatchIDAppliesOnce(t *testing.T) {
	s := openEtcd(t, sharedEtcd(t), testPrefix(t), store.EtcdOptions{})
	ctx := context.Background()
	event := func(msg string) []func(uint64) []byte {
		return []func(uint64) []byte{func(seq uint64) []byte { return []byte(msg) }}
	}
	batch := func(id, value string) store.Batch {
		return store.Batch{ID: id, Puts: []store.KV{{Bucket: "checks", Key: "k", Value: []byte(value)}}, Events: event("event " + value)}
	}
	first, err := s.Commit(ctx, batch("retry-1", "first"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Commit(ctx, batch("retry-1", "second"))
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Seqs) != 1 || again.Seqs[0] != first.Seqs[0] || again.Rev != first.Rev {
		t.Fatalf("retry under the same ID: %+v, want the first commit's %+v", again, first)
	}
	if v, err := s.Get(ctx, "checks", "k"); err != nil || string(v) != "first" {
		t.Fatalf("value after the retry: %q (%v), want the first commit's", v, err)
	}
	other, err := s.Commit(ctx, batch("retry-2", "third"))
	if err != nil || len(other.Seqs) != 1 || other.Seqs[0] != first.Seqs[0]+1 {
		t.Fatalf("another ID: %+v (%v), want the next sequence number", other, err)
	}
	evs, err := s.Events(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || string(evs[0]) != "event first" || string(evs[1]) != "event third" {
		t.Fatalf("events %q, want the first and the third once each", evs)
	}
}
