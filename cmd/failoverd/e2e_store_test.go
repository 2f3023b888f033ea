package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// populatedDataDir runs failoverd on a new data dir, declares a few
// objects, stops it cleanly and returns the data dir.
func populatedDataDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	f := startFailoverd(t, dir)
	a := newRawAPI(f)
	for i := 0; i < 30; i++ {
		a.must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: fmt.Sprintf("t%02d", i), Site: "cloud"}, nil)
	}
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 60, nil, nil), nil)
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestE2EDamagedStoreRefusesToStart: failoverd started on a store file
// that is empty, cut short or garbled exits at once with one line naming
// the file and the way back — it never comes up as an empty control plane
// answering NXDOMAIN for every policy, and never panics. store check says
// the same, and the refused file is left as it was.
func TestE2EDamagedStoreRefusesToStart(t *testing.T) {
	needBins(t)
	boltOnly(t, "damages the store file")
	t.Parallel()
	good, err := os.ReadFile(filepath.Join(populatedDataDir(t), "failoverd.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"zero bytes", func([]byte) []byte { return nil }, "the file is empty (0 bytes)"},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "the file is cut short"},
		{"garbled pages", func(b []byte) []byte {
			out := bytes.Clone(b)
			for i := 8192; i < len(out); i += 3 {
				out[i] ^= 0xa5
			}
			return out
		}, "is damaged"},
		{"garbled meta pages", func(b []byte) []byte {
			out := bytes.Clone(b)
			for i := 0; i < 8192; i += 3 {
				out[i] ^= 0xa5
			}
			return out
		}, "not a readable bolt database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "failoverd.db")
			damaged := tc.damage(good)
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runBin(t, []string{"FAILOVERD_DEV_TOKEN=" + e2eToken}, "serve", "--dev", "--http-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--data-dir", dir)
			if code != 1 {
				t.Fatalf("serve on a damaged store: exit %d, want 1:\n%s", code, stderr)
			}
			if strings.Contains(stderr, "failoverd ready") || strings.Contains(stderr, "panic") {
				t.Fatalf("serve on a damaged store came up or panicked:\n%s", stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			for _, w := range []string{"failoverd: store: " + path + " is damaged", tc.want, "failoverd store restore BACKUP --data-dir " + dir, "failoverd store check --data-dir " + dir} {
				if !strings.Contains(last, w) {
					t.Errorf("the error line lacks %q:\n%s", w, last)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
				t.Error("the refused store file was changed")
			}
			code, stdout, stderr := runBin(t, nil, "store", "check", "--data-dir", dir)
			if code != 1 || !strings.Contains(stdout, path+": DAMAGED") || !strings.Contains(stdout, "failoverd store restore BACKUP --data-dir "+dir) {
				t.Errorf("store check: exit %d, want 1 and DAMAGED:\n%s%s", code, stdout, stderr)
			}
		})
	}
}

// TestE2EBackupWhileServingThenRestore: "failoverd store backup" takes a
// consistent snapshot through the API of a failoverd that keeps taking
// writes; "store restore" puts it into a new data dir, and a failoverd
// started there serves every object acknowledged before the backup began,
// with its audit log.
func TestE2EBackupWhileServingThenRestore(t *testing.T) {
	needBins(t)
	boltOnly(t, "backs up and restores the store file; an etcd cluster is backed up with an etcd snapshot")
	t.Parallel()
	src := filepath.Join(t.TempDir(), "data")
	f := startFailoverd(t, src)
	a := newRawAPI(f)
	for i := 0; i < 20; i++ {
		a.must(t, http.StatusCreated, http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: fmt.Sprintf("before-%02d", i), Site: "cloud"}, nil)
	}
	a.must(t, http.StatusCreated, http.MethodPost, "/v1/traffic-policies", twoSitePolicy("web", 60, nil, nil), nil)

	// Writers go on during the backup: creates and engage/release flips.
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		written atomic.Int64
	)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				resp, _, err := a.do(http.MethodPost, "/v1/burst-toggles", api.BurstToggle{Name: fmt.Sprintf("during-%d-%04d", w, i), Site: "cloud"}, nil)
				if err != nil || resp.StatusCode != http.StatusCreated {
					t.Errorf("write during backup: %v %v", err, resp)
					return
				}
				a.do(http.MethodPatch, "/v1/burst-toggles/before-00", map[string]bool{"engaged": i%2 == 0}, nil)
				written.Add(1)
			}
		}()
	}
	eventually(t, 10*time.Second, "writes under way", func() (bool, string) { return written.Load() > 5, "" })

	env := []string{"FAILOVER_ENDPOINT=" + f.URL, "FAILOVER_TOKEN=" + e2eToken, "FAILOVER_CA_CERT="}
	backup := filepath.Join(t.TempDir(), "nightly.db")
	code, stdout, stderr := runBin(t, env, "store", "backup", backup)
	stop.Store(true)
	wg.Wait()
	if code != 0 || !strings.Contains(stdout, "written to "+backup) || !strings.Contains(stdout, "checked OK") {
		t.Fatalf("store backup: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("%s(%d writes during the backup)", stdout, written.Load())
	if code, stdout, _ := runBin(t, nil, "store", "check", backup); code != 0 || !strings.Contains(stdout, backup+": OK") {
		t.Fatalf("store check of the backup: exit %d\n%s", code, stdout)
	}

	// Restoring into the data dir of a running failoverd is refused.
	if code, _, stderr := runBin(t, nil, "store", "restore", backup, "--data-dir", src); code != 1 || !strings.Contains(stderr, "stop failoverd before restoring") {
		t.Fatalf("restore into a running failoverd's data dir: exit %d\n%s", code, stderr)
	}

	dst := filepath.Join(t.TempDir(), "restored")
	code, stdout, stderr = runBin(t, nil, "store", "restore", backup, "--data-dir", dst)
	if code != 0 || !strings.Contains(stdout, "restored "+backup) {
		t.Fatalf("store restore: exit %d\n%s%s", code, stdout, stderr)
	}
	g := startFailoverd(t, dst)
	b := newRawAPI(g)
	for i := 0; i < 20; i++ {
		b.must(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/burst-toggles/before-%02d", i), nil, nil)
	}
	var d api.Decision
	b.must(t, http.StatusOK, http.MethodGet, "/v1/traffic-policies/web/decision", nil, &d)
	if ans, _ := dnsA(t, g.DNSAddr, "web.failover.internal."); ans == "NXDOMAIN" {
		t.Fatal("the restored failoverd answers NXDOMAIN for web")
	}
	// Whatever the backup caught of the concurrent writes is whole: every
	// toggle it holds has its audit event.
	var toggles api.List[api.BurstToggle]
	b.must(t, http.StatusOK, http.MethodGet, "/v1/burst-toggles", nil, &toggles)
	code, stdout, stderr = runBin(t, []string{"FAILOVER_ENDPOINT=" + g.URL, "FAILOVER_TOKEN=" + e2eToken, "FAILOVER_CA_CERT="}, "events", "--audit")
	if code != 0 {
		t.Fatalf("events --audit: exit %d\n%s", code, stderr)
	}
	for _, tg := range toggles.Items {
		if !strings.Contains(stdout, "create burst-toggles/"+tg.Name+" by dev-admin") {
			t.Errorf("the restored audit log lacks the create of %s", tg.Name)
		}
	}
	t.Logf("the backup holds %d toggles (20 from before it, %d created during it)", len(toggles.Items), len(toggles.Items)-20)

	// Offline backup of a stopped failoverd, and the refusal while it runs.
	if code, _, stderr := runBin(t, nil, "store", "backup", filepath.Join(t.TempDir(), "x.db"), "--data-dir", dst); code != 1 || !strings.Contains(stderr, "in use by another failoverd") {
		t.Fatalf("offline backup of a running failoverd: exit %d\n%s", code, stderr)
	}
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	offline := filepath.Join(t.TempDir(), "offline.db")
	if code, stdout, stderr := runBin(t, nil, "store", "backup", offline, "--data-dir", dst); code != 0 || !strings.Contains(stdout, "checked OK") {
		t.Fatalf("offline backup: exit %d\n%s%s", code, stdout, stderr)
	}
	// Restoring over an existing store keeps the one it replaces.
	code, stdout, _ = runBin(t, nil, "store", "restore", offline, "--data-dir", dst)
	if code != 0 || !strings.Contains(stdout, "the store it replaced is kept as failoverd.db.before-restore-") {
		t.Fatalf("restore over a store: exit %d\n%s", code, stdout)
	}
	kept, _ := filepath.Glob(filepath.Join(dst, "failoverd.db.before-restore-*"))
	if len(kept) != 1 {
		t.Fatalf("kept stores: %v", kept)
	}
}
