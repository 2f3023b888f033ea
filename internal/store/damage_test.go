package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// populated builds a store with objects, runtime state, idempotency
// records, events and audit events, closes it and returns its bytes: the
// raw material the damage tests cut and garble.
func populated(t testing.TB) []byte {
	t.Helper()
	s, path := openTest(t, BoltOptions{})
	for i := 0; i < 40; i++ {
		commit(t, s, Batch{
			Puts:   []KV{put(hc, fmt.Sprintf("check-%02d", i), strings.Repeat("v", 300)), put(BucketState, fmt.Sprintf("health/check-%02d/local", i), `{"state":"healthy"}`), idem(fmt.Sprintf("ci/key-%02d", i), `{"status":201}`)},
			Events: []func(uint64) []byte{event("health")},
			Audit:  []func(uint64) []byte{event("audit")},
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawBolt writes a bolt file at path with fn's transaction, bypassing
// OpenBolt: how a foreign or older file looks.
func rawBolt(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// withStore opens a healthy store at path, changes it with fn through the
// raw bolt handle, and closes it: damage that bolt itself considers valid.
func withStore(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// patchPages applies fn to a copy of a store file, with its meta page.
func patchPages(t *testing.T, b []byte, fn func(t *testing.T, b []byte, m boltMeta)) []byte {
	t.Helper()
	out := bytes.Clone(b)
	m, err := readMeta(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	fn(t, out, m)
	return out
}

// loopBranch makes the first branch page's first child the page itself:
// a cursor would descend forever.
func loopBranch(t *testing.T, b []byte, m boltMeta) {
	// Every branch page, not the first one found: the first may be a freed
	// copy left by an earlier transaction, outside the live tree, and the
	// store would rightly open.
	ps := uint64(m.pageSize)
	patched := 0
	for id := uint64(2); id < m.hwm; id++ {
		p := b[id*ps:]
		if ne.Uint64(p) == id && ne.Uint16(p[8:]) == branchPageFlag {
			ne.PutUint64(p[pageHeaderSize+8:], id)
			patched++
		}
	}
	if patched == 0 {
		t.Fatal("the store has no branch page")
	}
}

// freeInUse lists the root page in the freelist.
func freeInUse(t *testing.T, b []byte, m boltMeta) {
	p := b[m.freelist*uint64(m.pageSize):]
	ne.PutUint16(p[10:], 1)
	ne.PutUint64(p[pageHeaderSize:], m.root)
}

func garble(b []byte, from, to int) []byte {
	out := bytes.Clone(b)
	for i := from; i < min(to, len(out)); i++ {
		out[i] ^= byte(0x5a + i*31)
	}
	return out
}

// TestOpenBoltRefusesDamage: a store file that is empty, cut short,
// garbled, foreign or from a newer version is refused with one line that
// names the file and the way back — never opened as an empty database,
// never a panic — and the refused file is left exactly as it was.
func TestOpenBoltRefusesDamage(t *testing.T) {
	good := populated(t)
	tests := []struct {
		name string
		// file writes the damaged file at path (bytes, or via bolt).
		bytes func() []byte
		bolt  func(t *testing.T, path string)
		want  string // in the error and in CheckBolt's problems
	}{
		{name: "zero bytes", bytes: func() []byte { return nil }, want: "the file is empty (0 bytes)"},
		{name: "cut to half", bytes: func() []byte { return good[:len(good)/2] }, want: "the file is cut short"},
		{name: "cut to two pages", bytes: func() []byte { return good[:8192] }, want: "the file is cut short"},
		{name: "cut inside the first page", bytes: func() []byte { return good[:100] }, want: "the file is cut short"},
		{name: "cut inside the first meta", bytes: func() []byte { return good[:50] }, want: "not a readable bolt database"},
		{name: "meta pages garbled", bytes: func() []byte { return garble(good, 0, 8192) }, want: "not a readable bolt database"},
		{name: "data pages garbled", bytes: func() []byte { return garble(good, 8192, len(good)) }, want: ""}, // whatever bbolt meets first
		{name: "branch page pointing at itself", bytes: func() []byte { return patchPages(t, good, loopBranch) }, want: "the page tree has a loop"},
		{name: "page in use listed as free", bytes: func() []byte { return patchPages(t, good, freeInUse) }, want: "is in use and also listed as free"},
		{name: "random bytes", bytes: func() []byte { return garble(make([]byte, 65536), 0, 65536) }, want: "not a readable bolt database"},
		{name: "text file", bytes: func() []byte { return []byte("this is not a database\n") }, want: "not a readable bolt database"},
		{name: "foreign bolt file", bolt: func(t *testing.T, path string) {
			rawBolt(t, path, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err })
		}, want: "no failoverd format marker"},
		{name: "empty bolt file", bolt: func(t *testing.T, path string) {
			rawBolt(t, path, func(tx *bolt.Tx) error { return nil })
		}, want: "no failoverd format marker"},
		{name: "marker garbled", bolt: func(t *testing.T, path string) {
			withStore(t, path, func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucketMeta)).Put([]byte(markerKey), []byte("{")) })
		}, want: "format marker"},
		{name: "required bucket missing", bolt: func(t *testing.T, path string) {
			withStore(t, path, func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(BucketEvents)) })
		}, want: `bucket "events" is missing`},
		{name: "audit record garbled", bolt: func(t *testing.T, path string) {
			withStore(t, path, func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucketAudit)).Put(seqKey(7), []byte("x")) })
		}, want: `bucket "_audit"`},
		{name: "revision garbled", bolt: func(t *testing.T, path string) {
			withStore(t, path, func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucketMeta)).Put([]byte(revKey), []byte("x")) })
		}, want: "the store's revision is 1 bytes"},
		{name: "expiring record garbled", bolt: func(t *testing.T, path string) {
			withStore(t, path, func(tx *bolt.Tx) error {
				if err := tx.Bucket([]byte(bucketExpiring)).Put([]byte(BucketIdempotency), []byte{}); err != nil {
					return err
				}
				return tx.Bucket([]byte(BucketIdempotency)).Put([]byte("k"), []byte("raw"))
			})
		}, want: `bucket "idempotency", key "k"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "failoverd.db")
			if tc.bytes != nil {
				if err := os.WriteFile(path, tc.bytes(), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				tc.bolt(t, path)
			}
			before, _ := os.ReadFile(path)

			s, err := OpenBolt(path, BoltOptions{Timeout: 100 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatal("OpenBolt accepted the file")
			}
			msg := err.Error()
			for _, w := range []string{tc.want, path, "failoverd store restore BACKUP --data-dir " + dir, "failoverd store check --data-dir " + dir} {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("error is not ErrDamaged: %v", err)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line:\n%s", msg)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("refusing the file changed it")
			}
			// The check subcommand's view of the same file agrees.
			rep, err := CheckBolt(path, 100*time.Millisecond)
			if err != nil {
				t.Fatalf("CheckBolt: %v", err)
			}
			if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "; "), tc.want) {
				t.Errorf("CheckBolt problems = %q, want one with %q", rep.Problems, tc.want)
			}
		})
	}
}

// TestOpenBoltRefusesNewerFormat: a store of a newer version is not
// damaged, but this version would misread it: refused, saying why.
func TestOpenBoltRefusesNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "failoverd.db")
	withStore(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(markerKey), encodeMarker(marker{Format: formatVersion + 1, CreatedAt: time.Now()}))
	})
	want := fmt.Sprintf("%s was written by a newer failoverd (store format %d; this version reads up to %d)", path, formatVersion+1, formatVersion)
	if s, err := OpenBolt(path, BoltOptions{}); err == nil || !strings.Contains(err.Error(), want) || errors.Is(err, ErrDamaged) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("OpenBolt = %v, want %q", err, want)
	}
	if _, err := CheckBolt(path, 0); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("CheckBolt = %v, want %q", err, want)
	}
}

func TestOpenBoltCreatesNewStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	path := filepath.Join(dir, "failoverd.db")
	before := time.Now().Add(-time.Second)
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "failoverd.db" {
		t.Fatalf("data dir holds %v, want only failoverd.db (no temporary file left)", entries)
	}
	rep, err := CheckBolt(path, 0)
	if err != nil || !rep.OK() {
		t.Fatalf("CheckBolt of a new store = (%+v, %v)", rep, err)
	}
	if rep.Format != formatVersion || rep.CreatedAt.Before(before) || !rep.PageCheck {
		t.Fatalf("report = %+v, want format %d created now, page-checked", rep, formatVersion)
	}
	// A new store is empty but not "unexpectedly" so: it opens again.
	s, err = OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatalf("reopening a new empty store: %v", err)
	}
	s.Close()
}

// TestOpenBoltUpgradesFormat0: a store written before the format marker
// existed is recognised by its layout and upgraded in place; its
// idempotency records keep their remaining 24 hours.
func TestOpenBoltUpgradesFormat0(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "failoverd.db")
	now := time.Now()
	legacy := func(created time.Time, payload string) []byte {
		return append(append([]byte{legacyIdemVersion}, binaryStamp(stamp(created))...), payload...)
	}
	rawBolt(t, path, func(tx *bolt.Tx) error {
		for _, name := range []string{BucketIdempotency, legacyBucketIdempotencyIndex, BucketState, BucketEvents, hc} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		ev := tx.Bucket([]byte(BucketEvents))
		for i := 0; i < 3; i++ {
			seq, _ := ev.NextSequence()
			if err := ev.Put(seqKey(seq), []byte(fmt.Sprintf("old#%d", seq))); err != nil {
				return err
			}
		}
		idem := tx.Bucket([]byte(BucketIdempotency))
		if err := idem.Put([]byte("ci/fresh"), legacy(now.Add(-time.Hour), "r-fresh")); err != nil {
			return err
		}
		if err := idem.Put([]byte("ci/stale"), legacy(now.Add(-25*time.Hour), "r-stale")); err != nil {
			return err
		}
		return tx.Bucket([]byte(hc)).Put([]byte("web"), []byte(`{"name":"web"}`))
	})
	rep, err := CheckBolt(path, 0)
	if err != nil || !rep.OK() || rep.Format != 0 {
		t.Fatalf("CheckBolt of a format-0 store = (%+v, %v), want OK format 0", rep, err)
	}

	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatalf("OpenBolt of a format-0 store: %v", err)
	}
	if got, err := s.Get(ctx, BucketIdempotency, "ci/fresh"); err != nil || string(got) != "r-fresh" {
		t.Fatalf("fresh record after upgrade = (%q, %v)", got, err)
	}
	if _, err := s.Get(ctx, BucketIdempotency, "ci/stale"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a record past its 24 h is visible after upgrade: %v", err)
	}
	clock := &fakeClock{now: now.Add(23*time.Hour + time.Minute)}
	s.now = clock.Now
	if _, err := s.Get(ctx, BucketIdempotency, "ci/fresh"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("fresh record outlived its original 24 h: %v", err)
	}
	if got, _ := s.Get(ctx, hc, "web"); string(got) != `{"name":"web"}` {
		t.Fatalf("object after upgrade = %q", got)
	}
	if seqs := commit(t, s, Batch{Events: []func(uint64) []byte{event("new")}}); seqs[0] != 4 {
		t.Fatalf("first seq after upgrade = %d, want 4", seqs[0])
	}
	s.Close()
	rep, err = CheckBolt(path, 0)
	if err != nil || !rep.OK() || rep.Format != formatVersion {
		t.Fatalf("CheckBolt after upgrade = (%+v, %v)", rep, err)
	}
	if _, ok := rep.Keys[legacyBucketIdempotencyIndex]; ok {
		t.Error("format-0 index bucket left behind")
	}
}

func binaryStamp(v uint64) []byte { return seqKey(v) }

// TestBoltDamageWhileOpen: damage that appears under a running store (a
// failing disk, a stray write) makes calls fail with ErrDamaged instead of
// crashing the process — including a file cut short, which faults on the
// memory map — and the first damage is sticky, so nothing writes into a
// damaged file afterwards.
func TestBoltDamageWhileOpen(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, size int64)
	}{
		{name: "file cut short", damage: func(t *testing.T, path string, size int64) {
			if err := os.Truncate(path, 8192); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "data pages overwritten", damage: func(t *testing.T, path string, size int64) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, int(size)-8192), 8192); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "failoverd.db")
			if err := os.WriteFile(path, populated(t), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := OpenBolt(path, BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(path)
			tc.damage(t, path, fi.Size())

			_, err = s.List(ctx, hc)
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) {
				t.Fatalf("List on a damaged file = %v, want ErrDamaged naming %s", err, path)
			}
			// Sticky: every call fails the same way, writes included.
			calls := map[string]func() error{
				"Get":         func() error { _, err := s.Get(ctx, hc, "check-01"); return err },
				"Events":      func() error { _, err := s.Events(ctx, 0, 10); return err },
				"AuditEvents": func() error { _, err := s.AuditEvents(ctx, 0, 10); return err },
				"LastSeq":     func() error { _, err := s.LastSeq(ctx); return err },
				"Commit":      func() error { _, err := s.Commit(ctx, Batch{Puts: []KV{put(hc, "x", "1")}}); return err },
				"Backup": func() error {
					return s.Backup(ctx, func(int64) (io.Writer, error) { return io.Discard, nil })
				},
			}
			for name, call := range calls {
				if err := call(); !errors.Is(err, ErrDamaged) {
					t.Errorf("%s after damage = %v, want ErrDamaged", name, err)
				}
			}
			done := make(chan struct{})
			go func() { s.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(closeWait + 5*time.Second):
				t.Fatal("Close of a damaged store hung")
			}
		})
	}
}

func TestCheckBoltReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "failoverd.db")
	if err := os.WriteFile(path, populated(t), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := CheckBolt(path, 0)
	if err != nil || !rep.OK() {
		t.Fatalf("CheckBolt = (%+v, %v)", rep, err)
	}
	if rep.Keys[hc] != 40 || rep.Keys[BucketIdempotency] != 40 || rep.Audit != 40 || rep.FirstSeq != 1 || rep.LastSeq != 80 || !rep.PageCheck {
		t.Fatalf("report = %+v", rep)
	}
	// In use by a failoverd: the check says so instead of waiting.
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := CheckBolt(path, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "in use by another failoverd") {
		t.Fatalf("CheckBolt of a store in use = %v", err)
	}
	if _, err := CheckBolt(filepath.Join(t.TempDir(), "none.db"), 0); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("CheckBolt of a missing file = %v", err)
	}
}

// BenchmarkVerify measures what refusing a damaged store costs at every
// open, on a store the size a busy failoverd reaches: 2,000 objects, a full
// event log (100,000 events of ~400 bytes), 20,000 audit events and 5,000
// idempotency records. Each part is reported per MiB of file, which is how
// DefaultCheckAtOpenBytes was chosen.
func BenchmarkVerify(b *testing.B) {
	path := filepath.Join(b.TempDir(), "failoverd.db")
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ev := []byte(strings.Repeat("x", 400))
	for i := 0; i < 100; i++ {
		batch := Batch{}
		for j := 0; j < 1000; j++ {
			batch.Events = append(batch.Events, func(uint64) []byte { return ev })
		}
		for j := 0; j < 200; j++ {
			batch.Audit = append(batch.Audit, func(uint64) []byte { return ev })
		}
		for j := 0; j < 20; j++ {
			batch.Puts = append(batch.Puts, put(hc, fmt.Sprintf("c-%d-%d", i, j), strings.Repeat("v", 600)))
		}
		for j := 0; j < 50; j++ {
			batch.Puts = append(batch.Puts, idem(fmt.Sprintf("k-%d-%d", i, j), strings.Repeat("r", 300)))
		}
		if _, err := s.Commit(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	fi, _ := os.Stat(path)
	mib := float64(fi.Size()) / (1 << 20)
	b.Logf("store file: %.1f MiB", mib)
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"pages", func() error { return checkPagesOf(path, fi.Size()) }},
		{"walk", func() error {
			_, err := inspect(path, time.Second, func(int64) bool { return false })
			return err
		}},
		{"walk+page-check", func() error {
			_, err := inspect(path, time.Second, func(int64) bool { return true })
			return err
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// CPU time as well as wall time: on a shared machine the wall
			// time is mostly waiting for a core.
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if err := tc.run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/mib, "ms/MiB")
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N)/mib, "cpu-ms/MiB")
		})
	}
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
