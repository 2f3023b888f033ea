package launch

import (
	"context"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestEtcdCluster drives a real three-member cluster through the losses the
// multi-site control plane must ride out: the leader crashes (quorum holds,
// writes go on), a second member hangs (quorum lost, writes fail rather than
// pretend), it comes back (writes resume), the crashed member restarts and
// catches up.
func TestEtcdCluster(t *testing.T) {
	bin := EtcdForTest(t)
	// A variable etcd would read as a flag: the members must not see it
	// (an invalid value makes etcd refuse to start).
	t.Setenv("ETCD_SNAPSHOT_COUNT", "not-a-number")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	started := time.Now()
	c, err := StartEtcdCluster(ctx, EtcdOptions{Bin: bin, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	t.Logf("3 members ready in %s", time.Since(started).Round(time.Millisecond))
	if got := len(c.Endpoints()); got != 3 {
		t.Fatalf("Endpoints() = %d URLs, want 3", got)
	}
	for i, m := range c.Members {
		if want := "http://127.0.0." + string(rune('1'+i)) + ":"; !strings.HasPrefix(m.ClientURL, want) {
			t.Errorf("member %s client URL %s, want it on its own address %s…", m.Name, m.ClientURL, want)
		}
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	// put writes key=val with the conditional Txn the store uses: only if
	// the key is still at revision rev (0: absent).
	put := func(timeout time.Duration, val string, rev int64) (*clientv3.TxnResponse, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision("k"), "=", rev)).
			Then(clientv3.OpPut("k", val)).
			Commit()
	}
	// mustPut retries as a store must: the client does not retry a write
	// itself, and a write cut off by a leader's loss ("request timed out,
	// possibly due to previous leader failure") may or may not have been
	// committed. The revision condition makes the retry safe, and a failed
	// comparison is resolved by reading back whether the first try landed.
	mustPut := func(step, val string, rev int64) int64 {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			resp, err := put(2*time.Second, val, rev)
			switch {
			case err == nil && resp.Succeeded:
				return resp.Header.Revision
			case err == nil:
				got, err := cli.Get(ctx, "k")
				if err == nil && len(got.Kvs) == 1 && string(got.Kvs[0].Value) == val {
					return got.Kvs[0].ModRevision
				}
				t.Fatalf("%s: txn at revision %d lost to another write: %v %v", step, rev, got, err)
			case time.Now().After(deadline):
				t.Fatalf("%s: %v\n%s", step, err, c.Logs())
			}
			t.Logf("%s: retrying after %v", step, err)
		}
	}

	rev := mustPut("all members up", "v1", 0)
	if resp, err := put(10*time.Second, "stale", 0); err != nil || resp.Succeeded {
		t.Fatalf("txn on a stale revision: succeeded=%v err=%v, want a failed comparison", resp != nil && resp.Succeeded, err)
	}

	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader.Kill()
	rev = mustPut("leader "+leader.Name+" killed", "v2", rev)

	var hung *EtcdMember
	for _, m := range c.Members {
		if m != leader {
			hung = m
			break
		}
	}
	if err := hung.Pause(); err != nil {
		t.Fatal(err)
	}
	if resp, err := put(2*time.Second, "no-quorum", rev); err == nil {
		t.Fatalf("write with 1 of 3 members answering succeeded (%v); want an error", resp.Succeeded)
	}
	if err := hung.Resume(); err != nil {
		t.Fatal(err)
	}
	// A write that timed out is not a write that failed: the leader may
	// hold it in its log and commit it once the quorum is back, at any
	// moment until a later entry commits (raft commits in log order). So
	// commit one on another key, then read. The revision condition still
	// lets at most one of such writes land.
	for {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := cli.Put(sctx, "sync", hung.Name+" resumed")
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no write after %s resumed: %v\n%s", hung.Name, err, c.Logs())
		}
	}
	got, err := cli.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if v := string(got.Kvs[0].Value); v != "v2" && v != "no-quorum" {
		t.Fatalf("after resume k=%q, want v2 or the timed-out no-quorum", v)
	} else if v == "no-quorum" {
		t.Logf("the write that timed out without quorum was committed once %s resumed", hung.Name)
	}
	rev = mustPut(hung.Name+" resumed", "v3", got.Kvs[0].ModRevision)

	if err := leader.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, c.Logs())
	}
	// Read from the restarted member alone: it must have caught up.
	only, err := clientv3.New(clientv3.Config{Endpoints: []string{leader.ClientURL}, DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer only.Close()
	got, err = only.Get(ctx, "k", clientv3.WithSerializable())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "v3" || got.Kvs[0].ModRevision != rev {
		t.Fatalf("restarted member %s reads %v, want k=v3 at revision %d", leader.Name, got.Kvs, rev)
	}

	// A clean stop exits 0; Close then has nothing left to do for it.
	if err := hung.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

func TestStartEtcdClusterRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    EtcdOptions
		want string
	}{
		{"no binary", EtcdOptions{Dir: t.TempDir()}, "Bin and EtcdOptions.Dir are required"},
		{"no dir", EtcdOptions{Bin: "etcd"}, "Bin and EtcdOptions.Dir are required"},
		{"negative members", EtcdOptions{Bin: "etcd", Dir: t.TempDir(), Members: -1}, "Members is -1"},
		{"too many members", EtcdOptions{Bin: "etcd", Dir: t.TempDir(), Members: 255}, "Members is 255"},
		{"missing binary", EtcdOptions{Bin: "/nonexistent/etcd", Dir: t.TempDir(), Members: 1}, "/nonexistent/etcd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := StartEtcdCluster(context.Background(), tc.o)
			if err == nil {
				c.Close()
				t.Fatal("started; want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
